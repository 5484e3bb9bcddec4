"""A starter policy for data driftdesk has not seen: gates generated from the tables and columns the data has, with
thresholds read from the data's own normal spread.

**Which gates** (each only where its table and columns exist; every one notifies, and the actions are chosen when
the policy is adopted):

- decisions: the null rate of every feature column, all traffic pooled, over 6 h, two evaluations in a row;
- kpis: CPA (rising), conversion rate and ROAS (falling) as a relative change week over week (day over day when
  the history is shorter than three weeks), over 24 h, per segment column of the table (all traffic pooled when it
  has none), three evaluations in a row;
- service: p99 latency, error rate and timeout rate per service, relative to the trailing 7 days (1 day on a
  history shorter than 10 days), over 2 h;
- llm_calls: the validator failure rate over 24 h, and output tokens and cost per call per feature relative to
  the trailing 7 days (1 day on a history shorter than 10 days);
- golden_runs: release checks against the baseline release (``driftdesk gates check``), which block: a pass rate
  more than 5% below the baseline's, recall@k or nDCG more than 10% below, and known-failure cases that flip from
  pass to fail.

**How a threshold is chosen.** Each gate is evaluated at every hour of history with its comparison and window, its
segments pooled. Its *normal spread* is the distance from the median value to the 95th percentile in the
direction the gate alerts (the 5th percentile for a falling metric). The threshold is the median plus twice the
spread, and at least ``MIN_MARGIN`` past the median, rounded away from the median to two significant digits::

    threshold = median + 2 x max(q95 - median, MIN_MARGIN / 2)

For a change against a baseline the median is about zero: a CPA whose week-over-week change stays within +8% on
95% of hours gets a gate at +16%. On normally distributed values q95 - median is 1.64 standard deviations, so the
threshold sits 3.3 standard deviations out, where about one evaluation in two thousand crosses by chance, before
the breaches-in-a-row rule thins that further. The 95th percentile is read past the hours spent in incidents (up
to 5% of history), which a maximum or a standard deviation would not be. The margin (5% for a relative change, 5
points for a rate) keeps a metric that barely moves, such as a null rate steady at 2%, from alerting on its first
wobble. Minimum samples come from the metric registry's low-volume rule where it counts the metric's denominator
(30 conversions behind a CPA, 1,000 clicks behind a conversion rate), else a fixed count per table.

Release checks have no history to read a spread from; they use the rule of thumb of driftdesk's sample policy.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import polars as pl

from driftdesk.errors import DriftdeskError
from driftdesk.gates.backtest import ValuesOf, gate_values_of, values_key
from driftdesk.gates.metrics import gate_metric, required_columns
from driftdesk.gates.policy import Gate, Policy, validate_policy
from driftdesk.jsonsafe import jsonable
from driftdesk.metrics import find_metric

STARTER_NAME = "starter"
QUANTILE = 0.95
FACTOR = 2.0
MIN_MARGIN = 0.05
MAX_FEATURES = 20  # null-rate gates; the rest are named in a note
MAX_SEGMENT_COLUMNS = 3  # per KPI
KPI_DIRECTIONS = {"cpa": "above", "cr": "below", "roas": "below"}
SERVICE_METRICS = ("latency_p99_ms", "error_rate", "timeout_rate")
LLM_CHANGES = ("tokens_out_mean", "cost_per_call")
MIN_SAMPLE = {"decisions": 100.0, "service": 1000.0, "llm_calls": 200.0}
GOLDEN_CHECKS = (("golden_pass_rate", -0.05), ("golden_recall_at_k", -0.1), ("golden_ndcg", -0.1))
THRESHOLD_SCHEMA = {"gate": pl.String, "metric": pl.String, "comparison": pl.String, "direction": pl.String,
                    "evaluations": pl.Int64, "median": pl.Float64, "quantile": pl.Float64, "threshold": pl.Float64,
                    "rule": pl.String}


@dataclass(frozen=True)
class StarterPolicy:
    """A policy generated from a dataset, with how each threshold was read from the data (``thresholds``: per gate
    the evaluations read, the median and the percentile in the alerting direction, the threshold and its rule)."""

    policy: Policy
    thresholds: pl.DataFrame
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pl.DataFrame:
        return self.thresholds

    def to_dict(self) -> dict:
        return jsonable({"policy": self.policy.to_dict(), "thresholds": self.thresholds, "notes": list(self.notes)})

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<h4>Starter policy: {len(self.policy.gates)} gates</h4>" + self.thresholds._repr_html_()
                + (f"<ul>{notes}</ul>" if notes else ""))


def _span_days(table) -> float:
    if "ts" not in table.frame.columns or table.frame.height == 0:
        return 0.0
    lo, hi = table.frame.select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")).row(0)
    return (hi - lo) / dt.timedelta(days=1) if lo is not None else 0.0


def _name(*parts: str) -> str:
    """A gate name from column names, which may hold any character: the rest becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", "_".join(parts)).strip("_") or "gate"


def _has(table, metric: str) -> bool:
    return table is not None and all(c in table.frame.columns for c in required_columns(gate_metric(metric)))


def _min_sample(metric: str) -> float:
    """The registry's low-volume rule when it counts the metric's own denominator (its sample), else none."""
    m = find_metric(metric)
    if m is not None and m.min_count is not None and m.aggregation == "ratio" and m.min_count[0] == m.columns[1]:
        return float(m.min_count[1])
    return 0.0


def _candidates(ds) -> tuple[list[Gate], list[str]]:
    """The gates the data can carry, thresholds not yet set, and notes on what was left out."""
    gates, notes = [], []
    decisions, kpis, service, llm = (ds.get(n) for n in ("decisions", "kpis", "service", "llm_calls"))
    if decisions is not None and decisions.features:
        features = list(decisions.features)
        if len(features) > MAX_FEATURES:
            notes.append(f"null-rate gates for the first {MAX_FEATURES} of {len(features)} feature columns; add "
                         f"others by hand ({', '.join(features[MAX_FEATURES:MAX_FEATURES + 5])}, ...)")
        gates += [Gate(_name("nulls", f), f"null_rate:{f}", 0.0, window_hours=6, consecutive=2, by=(),
                       min_sample=MIN_SAMPLE["decisions"]) for f in features[:MAX_FEATURES]]
    if kpis is not None:
        days = _span_days(kpis)
        comparison = "week_over_week" if days >= 21 else "day_over_day" if days >= 3 else None
        segments = list(kpis.segments[:MAX_SEGMENT_COLUMNS])
        if comparison is None:
            notes.append(f"kpis: {days:.1f} days of history are too few for a change against the day before; no KPI "
                         "gates")
        for metric, direction in KPI_DIRECTIONS.items():
            if comparison is None or not _has(kpis, metric):
                continue
            for by in [(s,) for s in segments] or [()]:
                gates.append(Gate(_name(metric, *(["by", *by] if by else [])), metric, 0.0, comparison=comparison,
                                  direction=direction, window_hours=24, consecutive=3, by=by,
                                  min_sample=_min_sample(metric)))
        if len(kpis.segments) > MAX_SEGMENT_COLUMNS:
            notes.append(f"kpis: gates per the first {MAX_SEGMENT_COLUMNS} segment columns "
                         f"({', '.join(segments)}); {', '.join(kpis.segments[MAX_SEGMENT_COLUMNS:])} left out")
    for table, metrics, by, window in ((service, SERVICE_METRICS, ("service",), 2), (llm, LLM_CHANGES, ("feature",), 24)):
        if table is None:
            continue
        days = _span_days(table)
        baseline_days = 7 if days >= 10 else 1 if days >= 2 else None
        if baseline_days is None:
            notes.append(f"{table.name}: {days:.1f} days of history are too few for a trailing baseline")
            continue
        for metric in metrics:
            if _has(table, metric):
                split = tuple(c for c in by if c in table.frame.columns)
                gates.append(Gate(_name(metric, *(["by", *split] if split else [])), metric, 0.0,
                                  comparison="trailing", baseline_days=baseline_days, window_hours=window,
                                  consecutive=1 if table is service else 3, by=split,
                                  min_sample=MIN_SAMPLE[table.name]))
    if llm is not None and _has(llm, "validator_failure_rate"):
        gates.append(Gate("validator_failures", "validator_failure_rate", 0.0, window_hours=24, consecutive=2, by=(),
                          min_sample=MIN_SAMPLE["llm_calls"]))
    return _unique(gates), notes


def _unique(gates: list[Gate]) -> list[Gate]:
    """Gate names made unique (two columns may read alike once their odd characters are replaced)."""
    seen: set[str] = set()
    out = []
    for gate in gates:
        name, n = gate.name, 1
        while name in seen:
            n += 1
            name = f"{gate.name}_{n}"
        seen.add(name)
        out.append(replace(gate, name=name))
    return out


def _golden_checks(ds) -> list[Gate]:
    golden = ds.get("golden_runs")
    if golden is None:
        return []
    checks = [Gate(metric, metric, threshold, action="rollback", comparison="release", direction="below", by=())
              for metric, threshold in GOLDEN_CHECKS if _has(golden, metric)]
    kinds = golden.frame["case_kind"].cast(pl.String) if "case_kind" in golden.frame.columns else None
    if kinds is not None and (kinds == "known_failure").any():
        checks.append(Gate("golden_known_failure_flips", "golden_flips_to_fail", 0.0, action="rollback",
                           comparison="release", by=(), filter=(("case_kind", ("known_failure",)),)))
    return checks


def _round_away(value: float, digits: int = 2) -> float:
    """Up to ``digits`` significant digits, rounded upwards (away from the median, in the alerting direction)."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)
    return round(math.ceil(value / step - 1e-9) * step, 12)


def spread_threshold(values: np.ndarray, direction: str, *, quantile: float = QUANTILE, factor: float = FACTOR,
                     margin: float = MIN_MARGIN) -> tuple[float, float, float]:
    """(threshold, median, percentile) of a gate's values by the module's rule; values may hold NaN (skipped).

    For ``direction="below"`` the values are turned (negated) so that the alerting side is always up, and the
    results are turned back: the percentile is then the lower one (1 - ``quantile``).
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise DriftdeskError("no evaluation of the gate has a value to read a spread from")
    sign = -1.0 if direction == "below" else 1.0
    x = sign * (np.abs(x) if direction == "either" else x)
    median, upper = float(np.median(x)), float(np.quantile(x, quantile))
    threshold = _round_away(median + factor * max(upper - median, margin / factor))
    return sign * threshold, sign * median, sign * upper


def starter_policy(ds, *, values_of: ValuesOf | None = None, name: str = STARTER_NAME) -> StarterPolicy:
    """A policy for ``ds`` built from its tables and columns, with thresholds from each gate's normal spread (see the
    module text). ``values_of`` gives gate values a caller keeps (as ``policy_values`` takes it)."""
    candidates, notes = _candidates(ds)
    compute = values_of or partial(gate_values_of, ds)
    gates, rows = [], []
    for gate in candidates:
        relative = gate.comparison != "absolute"
        try:
            values = compute(values_key(gate), context=f"starter gate {gate.name!r}")
            threshold, median, upper = spread_threshold(values.values[values.valid], gate.direction)
        except DriftdeskError as exc:
            notes.append(f"{gate.name}: left out ({exc})")
            continue
        gates.append(replace(gate, threshold=threshold))
        rows.append({"gate": gate.name, "metric": gate.metric, "comparison": gate.comparison,
                     "direction": gate.direction, "evaluations": int(values.valid.sum()), "median": median,
                     "quantile": upper, "threshold": threshold,
                     "rule": f"median {'change ' if relative else ''}+ {FACTOR:g} x (q{QUANTILE * 100:.0f} - median), "
                             f"at least {MIN_MARGIN:.0%}{'' if relative else ' points'} past the median"})
    for check in _golden_checks(ds):
        gates.append(check)
        rows.append({"gate": check.name, "metric": check.metric, "comparison": "release", "direction": check.direction,
                     "evaluations": None, "median": None, "quantile": None, "threshold": check.threshold,
                     "rule": "release check: the sample policy's rule of thumb (no history to read a spread from)"})
    if not gates:
        raise DriftdeskError("the data has no table a starter gate can watch (decisions with feature columns, kpis, "
                             "service, llm_calls or golden_runs)" + (f": {'; '.join(notes)}" if notes else ""))
    description = ("Generated from the data's tables and columns; each threshold is the median plus twice the "
                   f"distance to its {QUANTILE * 100:.0f}th percentile over history (driftdesk.gates.starter)")
    policy = validate_policy(Policy(gates=tuple(gates), name=name, description=description),
                             source="the starter policy")
    return StarterPolicy(policy, pl.DataFrame(rows, schema=THRESHOLD_SCHEMA), tuple(notes))
