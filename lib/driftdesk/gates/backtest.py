"""Replay a gate policy on history (no look-ahead), match its alerts to the incident log, and sweep thresholds.

Matching rules (the same for the policy, its reference points and every point of a sweep):

- An alert at time ``a`` matches an incident when ``start <= a <= end + grace`` (grace from the policy,
  24 h by default, because a gate over a 24 h window needs time to see a change). An incident without an end
  is treated as a point at its start. Matching is by time only: an incident's segment text is shown but not
  required to equal the alert's segment, because the incident log is free text written by people.
- An incident is *caught* when at least one alert matches it; its delay is the first matching alert's time
  minus the incident's start, in hours (an alert fires at an hour end, so the best possible delay for an
  incident starting on the hour is one evaluation step).
- Overlapping incidents are allowed: an alert inside both windows catches both and counts once as a true
  alert. The result notes every overlap.
- precision = alerts matching any incident / all alerts; recall = caught / incidents inside the replayed span;
  alerts per week = alerts / (span hours / 168); median delay over caught incidents.
- Undefined figures are None with a reason: no alerts -> precision undefined; no incidents table, or an empty one ->
  precision and recall undefined (every alert would be unlabelled, not false). Everything else (the alerts, alerts
  per week, the timeline, sweeps of alerts per week against the threshold) needs no incidents and is reported.
- Incidents entirely outside the replayed span are listed with ``in_history = false`` and left out of recall.

Reference points: "never fire" (no alerts: recall 0, precision undefined) and "always fire" (an alert at every
hour end of the span: recall 1, the smallest possible delays, 168 alerts per week) are always computed beside
the policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

import numpy as np
import polars as pl

from driftdesk.errors import PolicyError
from driftdesk.gates.engine import GateValues, breaches, fires, gate_values, run_lengths
from driftdesk.gates.metrics import HOUR, metric_components
from driftdesk.gates.policy import Gate, Policy
from driftdesk.jsonsafe import jsonable

US_PER_HOUR = 3_600_000_000
NO_INCIDENTS_TABLE = ("there is no incidents table: precision, recall and detection delays need a log of known "
                      "incidents (a file with start and end times beside the data); alerts per week, the timeline "
                      "and the sweeps need none")
ALERT_SCHEMA = {
    "ts": pl.Datetime("us"), "gate": pl.String, "metric": pl.String, "segment": pl.String, "value": pl.Float64,
    "threshold": pl.Float64, "action": pl.String,
}


# --------------------------------------------------------------------------- incidents


@dataclass(frozen=True)
class Incidents:
    """The incident log as arrays: ids, start and end (+ grace) as datetime64[us], plus the original rows.

    ``present``: whether the data has an incidents table at all (an empty one is present).
    """

    frame: pl.DataFrame
    notes: tuple[str, ...] = ()
    present: bool = True

    @property
    def starts(self) -> np.ndarray:
        return self.frame["start"].to_numpy().astype("datetime64[us]")

    @property
    def ends(self) -> np.ndarray:
        return self.frame["end"].to_numpy().astype("datetime64[us]")

    def __len__(self) -> int:
        return self.frame.height


def prepare_incidents(frame: pl.DataFrame | None) -> Incidents:
    """Normalise an incidents table (contract roles start, end, ...): ids, a missing end = the start, sorted.

    Overlapping incidents are kept and noted.
    """
    cols = {"incident_id": pl.String, "start": pl.Datetime("us"), "end": pl.Datetime("us"), "layer": pl.String,
            "severity": pl.String, "segment": pl.String, "cause": pl.String}
    if frame is None:
        return Incidents(pl.DataFrame(schema=cols), (NO_INCIDENTS_TABLE,), present=False)
    if frame.height == 0:
        return Incidents(pl.DataFrame(schema=cols), ("the incident table is empty",))
    if "start" not in frame.columns:
        raise PolicyError(f"the incident table needs a start column; it has {frame.columns}")
    df = frame.with_row_index("__i", offset=1)
    exprs = [
        (pl.col("incident_id").cast(pl.String) if "incident_id" in df.columns else pl.lit(None, pl.String))
        .fill_null(pl.format("#{}", pl.col("__i"))).alias("incident_id"),
        pl.col("start").cast(pl.Datetime("us")),
        (pl.col("end").cast(pl.Datetime("us")) if "end" in df.columns else pl.lit(None, pl.Datetime("us")))
        .fill_null(pl.col("start").cast(pl.Datetime("us"))).alias("end"),
    ]
    exprs += [(pl.col(c).cast(pl.String) if c in df.columns else pl.lit(None, pl.String)).alias(c)
              for c in ("layer", "severity", "segment", "cause")]
    out = df.select(exprs).sort("start", "incident_id")
    bad = out.filter(pl.col("end") < pl.col("start"))
    if bad.height:
        ex = ", ".join(bad["incident_id"].head(5).to_list())
        raise PolicyError(f"incidents: end before start in {bad.height} row(s), e.g. {ex}")
    notes = []
    rows = out.select("incident_id", "start", "end").rows()
    for i, (a_id, _a_start, a_end) in enumerate(rows):
        for b_id, b_start, _b_end in rows[i + 1:]:
            if b_start > a_end:
                break
            if b_start < a_end:
                notes.append(f"incidents {a_id} and {b_id} overlap: an alert inside both catches both")
    return Incidents(out, tuple(notes))


# --------------------------------------------------------------------------- scoring


def _median_rows(x: np.ndarray) -> np.ndarray:
    """Row-wise median ignoring NaN; NaN for a row with no finite value (no RuntimeWarning)."""
    s = np.sort(x, axis=-1)  # NaN sorts last
    n = np.isfinite(s).sum(axis=-1)
    lo = np.clip((n - 1) // 2, 0, None)
    hi = np.clip(n // 2, 0, None)
    take = lambda i: np.take_along_axis(s, i[..., None], axis=-1)[..., 0]  # noqa: E731
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, (take(lo) + take(hi)) / 2.0, np.nan) if s.shape[-1] else np.full(s.shape[:-1], np.nan)


def _mean_rows(x: np.ndarray) -> np.ndarray:
    """Row-wise mean ignoring NaN; NaN for a row with no finite value (no RuntimeWarning)."""
    ok = np.isfinite(x)
    n = ok.sum(axis=-1)
    total = np.where(ok, x, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


@dataclass(frozen=True)
class Score:
    """Figures of one set of alert times against the incident log."""

    alerts: int
    matched_alerts: int
    precision: float | None
    recall: float | None
    alerts_per_week: float
    median_delay_hours: float | None
    first_alert: list  # per incident: datetime or None
    delay_hours: list  # per incident: float or None
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return jsonable({
            "alerts": self.alerts, "matched_alerts": self.matched_alerts, "precision": self.precision,
            "recall": self.recall, "alerts_per_week": self.alerts_per_week,
            "median_delay_hours": self.median_delay_hours, "reasons": self.reasons,
        })


def incident_windows(inc: Incidents, grace_hours: float) -> tuple[np.ndarray, np.ndarray]:
    grace = np.timedelta64(int(grace_hours * US_PER_HOUR), "us")
    return inc.starts, inc.ends + grace


def in_history(inc: Incidents, span: tuple[dt.datetime, dt.datetime], grace_hours: float) -> np.ndarray:
    lo, hi = incident_windows(inc, grace_hours)
    return (lo < np.datetime64(span[1], "us")) & (hi >= np.datetime64(span[0], "us"))


def score_alert_times(times: np.ndarray, inc: Incidents, *, span: tuple[dt.datetime, dt.datetime],
                      grace_hours: float) -> Score:
    """Precision, recall, alerts per week and delays of alerts at `times` (datetime64[us]); see the module rules."""
    times = np.sort(np.asarray(times, dtype="datetime64[us]"))
    lo, hi = incident_windows(inc, grace_hours)
    inside = (times[:, None] >= lo[None, :]) & (times[:, None] <= hi[None, :])  # (A, I)
    weeks = (span[1] - span[0]) / dt.timedelta(weeks=1)
    n = int(times.size)
    matched = int(inside.any(axis=1).sum()) if len(inc) else 0
    hist = in_history(inc, span, grace_hours)
    first, delays = [], []
    for i in range(len(inc)):
        hits = times[inside[:, i]]
        if hits.size:
            first.append(hits[0].item())
            delays.append(float((hits[0] - lo[i]) / np.timedelta64(1, "h")))
        else:
            first.append(None)
            delays.append(None)
    reasons: dict[str, str] = {}
    if len(inc) == 0 and not inc.present:
        precision = recall = None
        reasons["precision"] = "there is no incidents table, so no alert can be judged true or false"
        reasons["recall"] = "recall needs an incidents table (a log of known incidents with start and end times)"
    elif len(inc) == 0:
        precision = recall = None
        reasons["precision"] = "no incidents are labelled, so no alert can be judged true or false"
        reasons["recall"] = "no incidents are labelled"
    else:
        precision = matched / n if n else None
        if not n:
            reasons["precision"] = "no alerts were raised"
        n_hist = int(hist.sum())
        caught = sum(1 for i in range(len(inc)) if hist[i] and delays[i] is not None)
        recall = caught / n_hist if n_hist else None
        if not n_hist:
            reasons["recall"] = "no incident falls inside the replayed span"
    caught_delays = [d for i, d in enumerate(delays) if d is not None and hist[i]]
    median = float(np.median(caught_delays)) if caught_delays else None
    if median is None:
        reasons["median_delay_hours"] = "no incident was caught" if len(inc) else "there are no incidents to catch"
    return Score(n, matched, precision, recall, n / weeks if weeks > 0 else float("nan"), median, first, delays,
                 reasons)


# --------------------------------------------------------------------------- backtest


@dataclass(frozen=True)
class BacktestResult:
    """What a policy would have done on history: its alerts, each incident caught or missed, and the figures."""

    policy: Policy
    alerts: pl.DataFrame
    incidents: pl.DataFrame
    span_start: dt.datetime
    span_end: dt.datetime
    grace_hours: float
    score: Score
    references: dict[str, Score]
    per_gate: pl.DataFrame
    notes: tuple[str, ...] = ()
    has_incident_log: bool = True  # False when the data has no incidents table (recall cannot be measured)

    @property
    def precision(self) -> float | None:
        return self.score.precision

    @property
    def recall(self) -> float | None:
        return self.score.recall

    @property
    def alerts_per_week(self) -> float:
        return self.score.alerts_per_week

    @property
    def median_delay_hours(self) -> float | None:
        return self.score.median_delay_hours

    def summary(self) -> pl.DataFrame:
        """The policy beside the never-fire and always-fire references, one row each."""
        rows = [{"policy": name, **{k: v for k, v in s.to_dict().items() if k != "reasons"}}
                for name, s in (("candidate: " + self.policy.name, self.score), *self.references.items())]
        return pl.DataFrame(rows, schema={"policy": pl.String, "alerts": pl.Int64, "matched_alerts": pl.Int64,
                                          "precision": pl.Float64, "recall": pl.Float64,
                                          "alerts_per_week": pl.Float64, "median_delay_hours": pl.Float64})

    def to_frame(self) -> pl.DataFrame:
        return self.incidents

    def to_dict(self) -> dict:
        return jsonable({
            "policy": self.policy.name,
            "span": {"start": self.span_start, "end": self.span_end,
                     "weeks": (self.span_end - self.span_start) / dt.timedelta(weeks=1)},
            "grace_hours": self.grace_hours,
            "alerts": self.alerts,
            "incidents": self.incidents,
            "precision": self.score.precision,
            "recall": self.score.recall,
            "alerts_per_week": self.score.alerts_per_week,
            "median_delay_hours": self.score.median_delay_hours,
            "reasons": self.score.reasons,
            "references": {name: s.to_dict() for name, s in self.references.items()},
            "gates": self.per_gate,
            "notes": list(self.notes),
        })

    def to_figure(self):
        from driftdesk.viz.gates import backtest_timeline

        return backtest_timeline(self)

    def _repr_html_(self) -> str:
        caught = int(self.incidents["caught"].sum()) if self.incidents.height else 0
        return (f"<h4>Backtest of {self.policy.name}</h4><p>{self.score.alerts} alerts "
                f"({self.score.alerts_per_week:.1f}/week), {caught} of {self.incidents.height} incidents caught</p>"
                + self.summary()._repr_html_() + self.incidents._repr_html_())


def gate_alerts(gv: GateValues, *, threshold: float | None = None, consecutive: int | None = None) -> pl.DataFrame:
    """The alerts of one gate (optionally at another threshold or run length) as a frame."""
    g = gv.gate
    thr = g.threshold if threshold is None else threshold
    k = g.consecutive if consecutive is None else consecutive
    f = fires(breaches(gv.values, gv.valid, np.array([thr]), g.direction)[0], k)
    s_idx, e_idx = np.nonzero(f)
    return pl.DataFrame({
        "ts": gv.times[e_idx].astype("datetime64[us]"),
        "gate": [g.name] * s_idx.size,
        "metric": [g.metric] * s_idx.size,
        "segment": [gv.series.segments[i] for i in s_idx],
        "value": gv.values[s_idx, e_idx],
        "threshold": np.full(s_idx.size, float(thr)),
        "action": [g.action] * s_idx.size,
    }, schema=ALERT_SCHEMA)


def values_key(gate: Gate) -> Gate:
    """The gate with everything its values do not depend on set to one value (name, threshold, direction, breaches in
    a row, action, on_fail): two gates with the same key have the same values, so a cache keyed by it serves every
    threshold of a gate. Its metric, segments, filter, comparison, change, window, step, baseline, minimum sample and
    budget stay."""
    return replace(gate, name="values", threshold=0.0, direction="above", consecutive=1, action="notify",
                   on_fail="block")


def gate_values_of(ds, gate: Gate, *, context: str = "gate") -> GateValues:
    """One gate's values over history, from the rows (the expensive part: its metric's hourly components)."""
    series = metric_components(ds, gate.metric, by=gate.by, filter=gate.filter, context=context)
    return gate_values(series, gate)


ValuesOf = Callable[..., GateValues]  # (values_key(gate), context=...) -> the gate's values


def policy_values(ds, policy: Policy, *, progress: Callable[[float, str], None] | None = None,
                  values_of: ValuesOf | None = None) -> list[GateValues]:
    """Every replayable gate's values over history (the expensive part, computed once and reused by sweeps).

    Release checks (comparison "release", golden-set metrics) are left out: they have no history to replay.
    ``values_of(key, context=...)`` gives the values of a gate's ``values_key`` when a caller keeps them (the app
    caches them, so a threshold change recomputes nothing; ``context`` starts its error messages); by default they
    are computed here.
    """
    out = []
    for i, g in enumerate(policy.gates):
        if g.release_only:  # golden-set and candidate-vs-baseline checks have no history to replay
            continue
        if progress:
            progress(i / len(policy.gates), f"computing {g.metric} for gate {g.name}")
        context = f"gate {i + 1} ({g.name!r})"
        values = (values_of or partial(gate_values_of, ds))(values_key(g), context=context)
        out.append(replace(values, gate=g))
    if progress:
        progress(1.0, "matching alerts to incidents")
    return out


def _span(values: Sequence[GateValues]) -> tuple[dt.datetime, dt.datetime]:
    return min(v.series.start for v in values), max(v.series.end for v in values)


def always_fire_times(span: tuple[dt.datetime, dt.datetime]) -> np.ndarray:
    hours = int((span[1] - span[0]) // HOUR)
    return np.datetime64(span[0], "us") + (np.arange(1, hours + 1) * np.timedelta64(1, "h")).astype("timedelta64[us]")


def load_history(folder, *, engine: str | None = None) -> tuple[object, pl.DataFrame | None]:
    """A data folder for a backtest: every contract table but the incident log, and the log itself.

    The log is read on its own so that a header-only (empty) incidents file is a reportable state (precision
    undefined) rather than a contract failure of the whole folder. Tables are read whole, or with ``engine`` the
    row-level ones by that engine (``driftdesk.engine.dataset``: scanned lazily past the memory budget, or on
    Spark), for readers that reduce them on any engine (the gates' metric series).
    """
    from pathlib import Path

    from driftdesk.contract import TABLES, find_table_file, load_dataset, load_table
    from driftdesk.engine.dataset import load_dataset_on
    from driftdesk.io import scan_table

    folder = Path(folder)
    wanted = [t for t in TABLES if t != "incidents"]
    ds = load_dataset(folder, tables=wanted) if engine is None else load_dataset_on(folder, engine, tables=wanted)
    found = find_table_file(folder, "incidents")
    if found is None:
        return ds, None
    path, mapping = found
    if scan_table(path).head(1).collect().height == 0:
        return ds, pl.DataFrame()
    return ds, load_table(path, "incidents", mapping=mapping).frame


def incidents_of(ds) -> pl.DataFrame | None:
    table = ds.get("incidents") if ds is not None else None
    return table.frame if table is not None else None


def backtest_policy(ds, policy: Policy, *, incidents: pl.DataFrame | None = None, grace_hours: float | None = None,
                    values: list[GateValues] | None = None,
                    progress: Callable[[float, str], None] | None = None) -> BacktestResult:
    """Replay `policy` on the dataset's history and score its alerts against the incident log.

    `incidents` defaults to the dataset's incidents table; `values` lets a caller reuse computed gate values.
    """
    grace = float(policy.grace_hours if grace_hours is None else grace_hours)
    values = values if values is not None else policy_values(ds, policy, progress=progress)
    inc = prepare_incidents(incidents if incidents is not None else incidents_of(ds))
    if not values:
        raise PolicyError(f"policy {policy.name!r} has only release checks ({', '.join(g.name for g in policy.gates)}); "
                          "there is nothing to replay on history: use `driftdesk gates check`")
    span = _span(values)
    alerts = pl.concat([gate_alerts(v) for v in values]).sort("ts", "gate", "segment")
    score = score_alert_times(alerts["ts"].to_numpy(), inc, span=span, grace_hours=grace)
    never = score_alert_times(np.array([], dtype="datetime64[us]"), inc, span=span, grace_hours=grace)
    always = score_alert_times(always_fire_times(span), inc, span=span, grace_hours=grace)
    lo, hi = incident_windows(inc, grace)
    t = alerts["ts"].to_numpy().astype("datetime64[us]")
    inside = (t[:, None] >= lo[None, :]) & (t[:, None] <= hi[None, :])
    ids = inc.frame["incident_id"].to_list()
    alerts = alerts.with_columns(
        pl.Series("matched", inside.any(axis=1) if len(inc) else np.zeros(len(t), bool)),
        pl.Series("incident_ids", [", ".join(ids[j] for j in np.nonzero(r)[0]) for r in inside], dtype=pl.String),
    )
    hist = in_history(inc, span, grace)
    caught_by = []
    for i in range(len(inc)):
        first = score.first_alert[i]
        hit = alerts.filter((pl.col("ts") == first) & pl.col("incident_ids").str.contains(ids[i], literal=True)) \
            if first is not None else alerts.head(0)
        caught_by.append(", ".join(sorted(set(hit["gate"].to_list()))) or None)
    incidents_frame = inc.frame.with_columns(
        pl.Series("in_history", hist if len(inc) else np.zeros(0, bool), dtype=pl.Boolean),
        pl.Series("caught", [d is not None for d in score.delay_hours], dtype=pl.Boolean),
        pl.Series("delay_hours", score.delay_hours, dtype=pl.Float64),
        pl.Series("first_alert", score.first_alert, dtype=pl.Datetime("us")),
        pl.Series("caught_by", caught_by, dtype=pl.String),
    )
    per_gate = (alerts.group_by("gate").agg(pl.len().alias("alerts"), pl.col("matched").sum().alias("matched_alerts"))
                if alerts.height else pl.DataFrame(schema={"gate": pl.String, "alerts": pl.UInt32,
                                                           "matched_alerts": pl.UInt32}))
    per_gate = (pl.DataFrame({"gate": [g.name for g in policy.gates], "metric": [g.metric for g in policy.gates],
                              "action": [g.action for g in policy.gates]})
                .join(per_gate, on="gate", how="left").with_columns(pl.col("alerts", "matched_alerts").fill_null(0)))
    notes = [*policy.notes, *inc.notes]
    notes += [f"{g.name}: a release check ({g.metric}), not replayed on history" for g in policy.gates if g.release_only]
    for v in values:
        notes += [f"{v.gate.name}: {n}" for n in v.series.notes]
    outside = inc.frame.filter(~pl.Series(hist, dtype=pl.Boolean))["incident_id"].to_list() if len(inc) else []
    if outside:
        notes.append(f"incident(s) {', '.join(outside)} lie outside the replayed span and are left out of recall")
    return BacktestResult(policy, alerts, incidents_frame, span[0], span[1], grace, score,
                          {"never fire": never, "always fire": always}, per_gate, tuple(notes), inc.present)


# --------------------------------------------------------------------------- sweep


@dataclass(frozen=True)
class SweepResult:
    """Figures of a policy as one gate's threshold and consecutive-breach count vary (the others held fixed)."""

    gate: str
    metric: str
    direction: str
    frame: pl.DataFrame  # threshold, consecutive, alerts, alerts_per_week, precision, recall, median_delay_hours
    current: dict | None
    proposed: dict | None
    with_other_gates: bool
    current_label: str = "current"  # what the marked current values are (e.g. "adopted starter v2")
    unit: str = "score"  # how a threshold reads (driftdesk.format units): "change" for a relative change, ...
    has_incident_log: bool = True  # False: no recall, so the sweep is read as alerts per week against the threshold

    def point(self, threshold: float, consecutive: int) -> dict | None:
        rows = self.frame.filter((pl.col("threshold") == threshold) & (pl.col("consecutive") == consecutive))
        return rows.row(0, named=True) if rows.height else None

    def to_frame(self) -> pl.DataFrame:
        return self.frame

    def to_dict(self) -> dict:
        return jsonable({"gate": self.gate, "metric": self.metric, "direction": self.direction,
                         "with_other_gates": self.with_other_gates, "current": self.current,
                         "current_label": self.current_label, "proposed": self.proposed, "unit": self.unit,
                         "points": self.frame})

    def to_figure(self):
        from driftdesk.viz.gates import sweep_figure

        return sweep_figure(self)

    def _repr_html_(self) -> str:
        return f"<h4>Sweep of gate {self.gate} ({self.metric})</h4>" + self.frame._repr_html_()


def default_thresholds(gv: GateValues, *, n: int = 60) -> np.ndarray:
    """Thresholds over the observed values, from loud to silent: quantiles packed towards the extreme end
    (where useful thresholds live), one just past the extreme (no alerts), and the gate's own."""
    v = gv.values[gv.valid]
    if gv.gate.direction == "either":
        v = np.abs(v)
    if v.size == 0:
        return np.array([gv.gate.threshold])
    tail = np.geomspace(0.5, 1e-4, n)
    if gv.gate.direction == "below":
        qs = np.quantile(v, tail)
        beyond = v.min() - 1e-9 - 0.05 * abs(v.min())
    else:
        qs = np.quantile(v, 1 - tail)
        beyond = v.max() + 1e-9 + 0.05 * abs(v.max())
    return np.unique(np.concatenate([qs, [beyond, gv.gate.threshold]]))


def _breach_scale(gv: GateValues, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and thresholds turned so that a breach is always `x > t` (invalid evaluations: -inf)."""
    d = gv.gate.direction
    x = {"above": gv.values, "below": -gv.values, "either": np.abs(gv.values)}[d]
    t = -thresholds if d == "below" else thresholds
    return np.where(gv.valid, x, -np.inf), t


def _fire_intervals(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each evaluation, the thresholds t at which an alert fires there: lo <= t < hi.

    A run of breaches (x > t) reaches exactly k at j when the k values ending at j all exceed t (t < their
    minimum, hi) and the value before them does not (t >= x[j - k], lo; -inf at the start of history).
    """
    e = x.shape[-1]
    hi = np.full(x.shape, -np.inf)
    if e >= k:
        hi[..., k - 1:] = np.lib.stride_tricks.sliding_window_view(x, k, axis=-1).min(axis=-1)
    lo = np.full(x.shape, -np.inf)
    if e > k:
        lo[..., k:] = x[..., :-k]
    return lo, hi


def _count_containing(lo: np.ndarray, hi: np.ndarray, t: np.ndarray) -> np.ndarray:
    """How many intervals [lo, hi) contain each t: #(lo <= t) - #(hi <= t) over the non-empty ones."""
    keep = lo < hi
    lo_s, hi_s = np.sort(lo[keep]), np.sort(hi[keep])
    return np.searchsorted(lo_s, t, side="right") - np.searchsorted(hi_s, t, side="right")


def _first_fire_delays(fire_at, t_eval: np.ndarray, win: np.ndarray, start: np.ndarray, m: int) -> np.ndarray:
    """(M, I) hours from each incident's start to the first alert inside its window (NaN: none)."""
    delays = np.full((m, win.shape[0]), np.nan)
    for i in range(win.shape[0]):
        cols = np.nonzero(win[i])[0]
        if cols.size == 0:
            continue
        hit = fire_at(cols)  # (M, |cols|): any segment fires there
        has = hit.any(axis=1)
        first = t_eval[cols][np.argmax(hit, axis=1)]
        delays[has, i] = (first[has] - start[i]) / np.timedelta64(1, "h")
    return delays


def sweep_arrays(gv: GateValues, thresholds: np.ndarray, consecutive: Sequence[int], inc: Incidents, *,
                 span: tuple[dt.datetime, dt.datetime], grace_hours: float, others: Score | None = None,
                 method: Literal["intervals", "broadcast"] = "intervals") -> pl.DataFrame:
    """Every threshold x run length at once; the matching rules are the module docstring's.

    ``intervals`` (default): each evaluation fires for an interval of thresholds (see _fire_intervals), so the
    alert count at every threshold is two searchsorted calls over those intervals, whatever the number of
    thresholds; only incident windows are expanded per threshold, to find first alerts. ``broadcast``: breach
    masks for all thresholds at once (M x segments x evaluations) and run lengths from cumulative sums, the
    direct way, kept as an independent reference. `others` is the score of the policy's other gates, whose
    alerts are added to every point.
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    m = thresholds.size
    start, end = incident_windows(inc, grace_hours)
    t_eval = gv.times.astype("datetime64[us]")
    win = (t_eval[None, :] >= start[:, None]) & (t_eval[None, :] <= end[:, None])  # (I, E)
    any_win = win.any(axis=0) if len(inc) else np.zeros(t_eval.size, bool)
    hist = in_history(inc, span, grace_hours)
    weeks = (span[1] - span[0]) / dt.timedelta(weeks=1)
    x, t = _breach_scale(gv, thresholds)
    runs = run_lengths(breaches(gv.values, gv.valid, thresholds, gv.gate.direction)) if method == "broadcast" else None
    other_first = np.array([np.datetime64(v, "us") if v is not None else np.datetime64("NaT", "us")
                            for v in (others.first_alert if others else [None] * len(inc))], dtype="datetime64[us]")
    frames = []
    for k in consecutive:
        if runs is not None:
            f = runs == k
            alerts = f.sum(axis=(1, 2))
            matched = (f & any_win).sum(axis=(1, 2))
            f_any = f.any(axis=1)
            delays = _first_fire_delays(lambda cols, f_any=f_any: f_any[:, cols], t_eval, win, start, m)
        else:
            lo, hi = _fire_intervals(x, k)
            alerts = _count_containing(lo, hi, t)
            matched = _count_containing(lo[:, any_win], hi[:, any_win], t)

            def fire_at(cols, lo=lo, hi=hi):
                tt = t[:, None, None]
                return ((lo[None, :, cols] <= tt) & (tt < hi[None, :, cols])).any(axis=1)

            delays = _first_fire_delays(fire_at, t_eval, win, start, m)
        alerts = alerts + (others.alerts if others else 0)
        matched = matched + (others.matched_alerts if others else 0)
        for i in range(len(inc)):  # the other gates' first alerts, when earlier
            if not np.isnat(other_first[i]):
                d = (other_first[i] - start[i]) / np.timedelta64(1, "h")
                delays[:, i] = np.where(np.isnan(delays[:, i]) | (d < delays[:, i]), d, delays[:, i])
        caught = np.isfinite(delays[:, hist]).sum(axis=1) if len(inc) else np.zeros(m, int)
        n_hist = int(hist.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where((alerts > 0) & (len(inc) > 0), matched / np.maximum(alerts, 1), np.nan)
            recall = caught / n_hist if n_hist else np.full(m, np.nan)
        frames.append(pl.DataFrame({
            "threshold": thresholds, "consecutive": np.full(m, k, dtype=np.int64), "alerts": alerts.astype(np.int64),
            "alerts_per_week": alerts / weeks, "precision": precision, "recall": recall,
            "median_delay_hours": _median_rows(np.where(hist[None, :], delays, np.nan)),
            "mean_delay_hours": _mean_rows(np.where(hist[None, :], delays, np.nan)),
            "incidents_caught": caught.astype(np.int64),
        }))
    return pl.concat(frames).with_columns(
        pl.col("precision", "recall", "median_delay_hours", "mean_delay_hours").fill_nan(None))


def sweep_gate(ds, policy: Policy, gate: str, *, thresholds: Sequence[float] | None = None,
               consecutive: Sequence[int] | None = None, current: dict | None = None, incidents=None,
               with_other_gates: bool = True, values: list[GateValues] | None = None,
               current_label: str = "current") -> SweepResult:
    """Vary one gate's threshold (and consecutive breaches) and score the whole policy at each point.

    `current` marks the adopted values ({"threshold", "consecutive"}; `current_label` says whose); the policy's
    own values are the proposal.
    """
    target = policy.gate(gate)
    if target.release_only:
        raise PolicyError(f"gate {gate!r} is a release check: a sweep replays history, which it does not have")
    values = values if values is not None else policy_values(ds, policy)
    idx = [v.gate.name for v in values].index(gate)
    gv = values[idx]
    inc = prepare_incidents(incidents if incidents is not None else incidents_of(ds))
    span = _span(values)
    others = None
    if with_other_gates and len(values) > 1:
        other_alerts = [gate_alerts(v) for i, v in enumerate(values) if i != idx]
        times = pl.concat(other_alerts)["ts"].to_numpy()
        others = score_alert_times(times, inc, span=span, grace_hours=policy.grace_hours)
    ths = np.asarray(thresholds, dtype=np.float64) if thresholds is not None else default_thresholds(gv)
    if thresholds is None and current is not None and current.get("threshold") is not None:
        ths = np.unique(np.append(ths, float(current["threshold"])))  # the marked current values lie on the curve
    marked = {int(current["consecutive"])} if current and current.get("consecutive") else set()
    ks = sorted(set(consecutive)) if consecutive else sorted({1, 2, 3, target.consecutive, *marked})
    frame = sweep_arrays(gv, ths, ks, inc, span=span, grace_hours=policy.grace_hours, others=others)
    proposed = {"threshold": target.threshold, "consecutive": target.consecutive}
    return SweepResult(target.name, target.metric, target.direction, frame, current, proposed,
                       with_other_gates and len(values) > 1, current_label, threshold_unit(target), inc.present)


def threshold_unit(gate: Gate) -> str:
    """How a gate's threshold reads (a unit of driftdesk.format): a relative change as "change", a difference or a
    level of a rate or share as "pp" / "rate", anything else as a plain score."""
    from driftdesk.gates.metrics import gate_metric
    from driftdesk.metrics import find_metric

    spec = gate_metric(gate.metric)
    if gate.comparison != "absolute" and gate.change == "relative" and spec.kind != "distance" and not gate.is_budget:
        return "change"
    metric = find_metric(spec.family) if spec.family not in ("null_rate", "share", "budget_burn", "psi") else None
    is_rate = spec.family in ("null_rate", "share", "budget_burn", "seasonality_flag") or (
        metric is not None and metric.unit == "rate")
    if not is_rate or spec.kind == "distance":
        return "score"
    return "pp" if gate.comparison != "absolute" else "rate"
