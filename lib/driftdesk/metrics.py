"""The metric registry: what each metric is, written once and read by every face.

One ``Metric`` per metric: its name, label, the table and columns it reads, how rows aggregate into one value
(a ratio of sums, a rate, a mean, a percentile, a sum, a count), which direction is bad, its unit and so its
display format. The Overview, Seasonality, Gates, Segments & impact and the LLM page all read these entries;
adding a metric is adding one entry to ``METRICS``. Thresholds are not here: they are policy (the Overview's
checks, a gate policy).

Names are unique within a table. Two tables may measure the same thing under the same name (``latency_p99_ms``
of the scoring service and of the LLM calls); the table tells them apart, and a gate, which replays only
metrics that are ratios of window sums, reads the service's.

Besides named metrics, a name can take a column (or a metric): ``null_rate:<column>``, ``psi:<column>``,
``share:<column>``, ``seasonality_flag:<metric>``, ``sum:`` / ``mean:`` / ``max:<column>``, ``rate:NUM/DEN``
(see ``FAMILIES``); and any level can be written ``<name>_change`` to compare it with a baseline window.
``parse_metric`` reads that grammar once for every face. An old name (``RENAMED``) still works, with a
one-line deprecation note, and gives exactly the same result.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl
import polars.selectors as cs

from driftdesk.errors import DriftdeskError
from driftdesk.format import format_value

Aggregation = Literal["ratio", "rate", "mean", "weighted_mean", "percentile", "sum", "count", "max", "null_rate",
                      "per_success", "per_case", "paired", "binned"]
Direction = Literal["higher_is_worse", "higher_is_better", "either"]
Unit = Literal["usd", "rate", "ms", "count", "ratio", "score", "tokens"]

log = logging.getLogger("driftdesk")


@dataclass(frozen=True)
class Metric:
    """One metric. ``columns`` depends on ``aggregation``:

    - ``ratio``: (numerator, denominator), sum / sum over the rows (null when the denominator sums to 0);
    - ``weighted_mean``: (value, weight), sum(value x weight) / sum(weight);
    - ``rate``: (flag,), the share of rows where the boolean flag is true (false with ``negate``);
    - ``mean``, ``percentile`` (at ``quantile``, linear interpolation), ``sum``, ``max``: (column,);
    - ``null_rate``: (column,), the share of rows where the column is missing (null, or NaN in a float column:
      ``is_missing``);
    - ``count``: (), the number of rows;
    - ``per_success``: (value, ok flag, fail flag, ...), the value summed over all rows / the rows that succeeded:
      the ok flag true and every fail flag false (a null flag does not count against a row);
    - ``per_case``: (column,), per golden case the median over repeats (for a pass flag: passed when at least
      half the repeats pass), then the mean over cases;
    - ``paired``: (column,), per golden case the majority verdict in a candidate release against the same case in
      a baseline release (the cases that flipped); it needs both releases, so it is a release check only;
    - ``binned``: (score, label), computed from per-bin sums (the expected calibration error).

    ``min_count`` is the one low-volume rule: below that sum of a count column, one point of the metric (an hour
    of a segment in a series, a segment in a window) is "not enough data" rather than a reading. A conversion
    rate on five clicks is 0% or 20% by chance, and an hour with one conversion makes CPA jump sevenfold: read
    as a series, both look like -100% or +600% anomalies. For a ratio the column is its denominator (clicks for
    CR and CPC, impressions for CTR, conversions for CPA, so a collapse of the numerator, say conversions to zero
    on a busy hour, is still read); for ROAS it is conversions, whose few events carry its revenue. Each minimum
    puts about thirty events behind a reading at a typical rate, so a count's relative error stays near
    1/sqrt(30), about 18%, and a zero is no longer a plausible outcome (P = e^-30): thirty conversions (CPA,
    ROAS), thirty clicks (CPC), a thousand clicks (CR, at a 3% conversion rate) and a thousand impressions (CTR,
    at a 3% click-through rate). The impact view flags a segment below it as "too few conversions"; the
    seasonality series leave such hours out as not enough data.
    """

    name: str
    label: str
    table: str
    aggregation: Aggregation
    columns: tuple[str, ...]
    direction: Direction
    unit: Unit
    doc: str
    quantile: float | None = None
    negate: bool = False
    default_by: tuple[str, ...] = ()  # the segment columns it is usually read per (a gate's default)
    min_count: tuple[str, float] | None = None  # (count column, least sum) a point needs to be read; see below

    @property
    def additive(self) -> bool:
        """Whether any window's value is a ratio of window sums of hourly parts (what a gate can replay)."""
        return self.aggregation in ("ratio", "rate", "mean", "weighted_mean", "per_success")

    @property
    def may_count_events(self) -> bool:
        """Whether a point of it can be a count of events (rows, or a sum of a count column): a ratio, mean, share
        or quantile in whole units (latency in milliseconds) is a measurement, never a count."""
        return self.aggregation in ("count", "sum")

    @property
    def sample(self) -> str:
        """What the metric's sample size counts (a gate's ``min_sample``)."""
        if self.aggregation in ("ratio", "weighted_mean"):
            return self.columns[1]
        if self.aggregation == "per_success":
            return "successful calls"
        if self.table == "golden_runs":
            return "golden cases"
        if self.aggregation == "binned":
            return "labelled rows"
        return "calls" if self.table == "llm_calls" else "rows"

    def format(self, value: float | None) -> str:
        return format_value(value, self.unit)


# a successful LLM call: (value summed, the flag that must be true, the flags that must be false)
SUCCESS_COLUMNS: tuple[str, ...] = ("cost", "validator_ok", "refusal", "error")

# What "p99 latency over a window" is when the service table holds one p99 per hour (the Overview, gates and
# seasonality all read it so). Hourly percentiles do not merge into the window's own: that lies somewhere between
# the lowest and the highest hourly p99. The request-weighted mean stays comparable between windows of any length,
# where the worst hour grows with the number of hours (a two-hour window would read as a fall against a week), and
# it is a ratio of window sums, so a gate replays it.
LATENCY_DOC = ("p{q} latency over the window: the hourly p{q}s averaged with each hour weighted by its requests (the "
               "p{q} of the hour a typical request was served in; the window's own p{q} lies between the lowest and "
               "highest hourly p{q})")


def _ratio(name, label, table, num, den, direction, unit, doc, by=(), least=None) -> Metric:
    return Metric(name, label, table, "ratio", (num, den), direction, unit, doc, default_by=by, min_count=least)


def _sum(name, label, table, column, direction, unit) -> Metric:
    return Metric(name, label, table, "sum", (column,), direction, unit, f"sum of {column}")


def _percentile(name, label, column, q) -> Metric:
    return Metric(name, label, "llm_calls", "percentile", (column,), "higher_is_worse", "ms",
                  f"{round(100 * q)}th percentile of {column} over the calls", quantile=q)


def _golden(name, label, column, unit, doc) -> Metric:
    return Metric(name, label, "golden_runs", "per_case", (column,), "higher_is_better", unit,
                  doc + " (per case the median over repeats, then the mean over cases); a release check")


METRICS: tuple[Metric, ...] = (
    # kpis: hour x segment sums along the funnel, and ratios of them
    _sum("impressions", "impressions", "kpis", "impressions", "higher_is_better", "count"),
    _sum("clicks", "clicks", "kpis", "clicks", "higher_is_better", "count"),
    _sum("conversions", "conversions", "kpis", "conversions", "higher_is_better", "count"),
    _sum("spend", "spend", "kpis", "spend", "either", "usd"),
    _sum("revenue", "revenue", "kpis", "revenue", "higher_is_better", "usd"),
    _ratio("ctr", "click-through rate", "kpis", "clicks", "impressions", "higher_is_better", "rate",
           "click-through rate: clicks / impressions", least=("impressions", 1000.0)),
    _ratio("cr", "conversion rate (per click)", "kpis", "conversions", "clicks", "higher_is_better", "rate",
           "conversion rate: conversions / clicks", least=("clicks", 1000.0)),
    _ratio("cpa", "CPA", "kpis", "spend", "conversions", "higher_is_worse", "usd",
           "cost per acquisition: spend / conversions", least=("conversions", 30.0)),
    _ratio("cpc", "CPC", "kpis", "spend", "clicks", "higher_is_worse", "usd", "cost per click: spend / clicks",
           least=("clicks", 30.0)),
    _ratio("roas", "ROAS", "kpis", "revenue", "spend", "higher_is_better", "ratio", "return on ad spend: revenue / spend",
           least=("conversions", 30.0)),
    # service: hour x service rows
    _sum("requests", "requests", "service", "requests", "either", "count"),
    _ratio("error_rate", "error rate", "service", "errors", "requests", "higher_is_worse", "rate",
           "errors / requests", ("service",)),
    _ratio("timeout_rate", "timeout rate", "service", "timeouts", "requests", "higher_is_worse", "rate",
           "timeouts / requests", ("service",)),
    # a window's p95 / p99 from hourly rows: see LATENCY_DOC
    *(Metric(f"latency_p{q}_ms", f"p{q} latency", "service", "weighted_mean", (f"latency_p{q}_ms", "requests"),
             "higher_is_worse", "ms", LATENCY_DOC.format(q=q), default_by=("service",)) for q in (50, 95, 99)),
    # decisions: one scored request each
    Metric("rows", "scored rows", "decisions", "count", (), "either", "count", "number of scored rows"),
    Metric("score_mean", "score mean", "decisions", "mean", ("score",), "either", "score", "mean score"),
    Metric("decision_rate", "positive decision rate", "decisions", "mean", ("decision",), "either", "rate",
           "share of rows with a positive decision"),
    _ratio("observed_to_predicted", "outcome rate / mean score", "decisions", "label", "score", "either", "ratio",
           "calibration in the large: outcomes / sum of scores over labelled rows (1 when the scores are right on "
           "average; a row without a label counts in neither)"),
    Metric("ece", "expected calibration error", "decisions", "binned", ("score", "label"), "higher_is_worse", "score",
           "expected calibration error of score vs label (10 equal-width bins, labelled rows)"),
    # llm_calls: one LLM call each
    Metric("calls", "calls", "llm_calls", "count", (), "either", "count", "number of LLM calls"),
    Metric("validator_failure_rate", "validator failure rate", "llm_calls", "rate", ("validator_ok",), "higher_is_worse",
           "rate", "share of LLM calls whose output failed the validator", negate=True, default_by=("model",)),
    Metric("refusal_rate", "refusal rate", "llm_calls", "rate", ("refusal",), "higher_is_worse", "rate",
           "share of LLM calls refused", default_by=("feature",)),
    Metric("llm_error_rate", "error rate", "llm_calls", "rate", ("error",), "higher_is_worse", "rate",
           "share of LLM calls that errored", default_by=("model",)),
    _percentile("latency_p50_ms", "p50 latency", "latency_ms", 0.50),
    _percentile("latency_p95_ms", "p95 latency", "latency_ms", 0.95),
    _percentile("latency_p99_ms", "p99 latency", "latency_ms", 0.99),
    _percentile("ttft_p50_ms", "p50 time to first token", "ttft_ms", 0.50),
    _percentile("ttft_p95_ms", "p95 time to first token", "ttft_ms", 0.95),
    Metric("tokens_in_mean", "input tokens per call", "llm_calls", "mean", ("input_tokens",), "higher_is_worse",
           "tokens", "mean input tokens per LLM call", default_by=("feature",)),
    Metric("tokens_out_mean", "output tokens per call", "llm_calls", "mean", ("output_tokens",), "higher_is_worse",
           "tokens", "mean output tokens per LLM call", default_by=("feature",)),
    _sum("cost_total", "total cost", "llm_calls", "cost", "higher_is_worse", "usd"),
    Metric("cost_per_call", "cost per call", "llm_calls", "mean", ("cost",), "higher_is_worse", "usd",
           "LLM cost per call", default_by=("feature",)),
    Metric("judge_score_mean", "judge score", "llm_calls", "mean", ("judge_score",), "higher_is_better", "score",
           "mean judge score of LLM calls", default_by=("feature",)),
    Metric("cost_per_success", "cost per successful call", "llm_calls", "per_success", SUCCESS_COLUMNS,
           "higher_is_worse", "usd", "LLM cost / successful calls (validator ok, no refusal, no error): what one "
           "usable answer costs, failed calls included", default_by=("feature",)),
    # golden_runs: golden-set case x repeat x candidate release
    _golden("golden_pass_rate", "golden pass rate", "passed", "rate", "share of golden cases that pass"),
    _golden("golden_recall_at_k", "golden recall@k", "recall_at_k", "score", "mean recall@k over golden cases"),
    _golden("golden_ndcg", "golden nDCG", "ndcg", "score", "mean nDCG over golden cases"),
    _golden("golden_score", "golden score", "score", "score", "mean golden-case score"),
    Metric("golden_flips_to_fail", "golden cases flipped to fail", "golden_runs", "paired", ("passed",),
           "higher_is_worse", "count", "golden cases that pass in the baseline release and fail in the candidate "
           "(each side's majority over repeats); a release check"),
)

# old name -> current name: still accepted everywhere, with a one-line deprecation note
RENAMED: dict[str, str] = {"output_tokens_mean": "tokens_out_mean"}

# names that take an argument: family -> (what it is, what the argument is)
FAMILIES: dict[str, tuple[str, str]] = {
    "null_rate": ("share of rows where the column is missing (null, or NaN in a float column)", "column"),
    "psi": ("population stability index of the column, current vs baseline window", "column"),
    "share": ("the segment's share of the total of a column (e.g. spend)", "column"),
    "seasonality_flag": ("share of hours the seasonality module flags the metric as anomaly or drift", "metric"),
    "sum": ("the column's sum", "column"),
    "mean": ("the column's mean", "column"),
    "max": ("the column's maximum", "column"),
    "rate": ("sum of a numerator column / sum of a denominator column", "NUM/DEN"),
    "budget_burn": ("share of the day's budget spent: the column's sum since 00:00 UTC / a gate's daily budget",
                    "column"),
}

# columns that are counts or amounts: a bare column name of these is summed, any other is averaged
SUMMABLE_COLUMNS: tuple[str, ...] = (
    "impressions", "clicks", "conversions", "spend", "revenue", "requests", "errors", "timeouts", "cost", "calls",
    "input_tokens", "output_tokens", "tokens",
)

_BAD: dict[str, str] = {"higher_is_worse": "up", "higher_is_better": "down", "either": "both"}


def bad_direction(metric: Metric) -> str:
    """The direction of a change that is bad news: up, down or both."""
    return _BAD[metric.direction]


def metrics_named(name: str) -> list[Metric]:
    """Every registered metric of that name (one per table that has it)."""
    return [m for m in METRICS if m.name == name]


def find_metric(name: str, *, table: str | None = None, columns: Sequence[str] | None = None,
                additive: bool = False) -> Metric | None:
    """The metric of that name on ``table`` (or readable from ``columns``, or replayable by a gate with
    ``additive``); the first registered when several fit. None when there is none."""
    for m in metrics_named(RENAMED.get(name, name)):
        if table is not None and m.table != table:
            continue
        if columns is not None and not all(c in columns for c in m.columns):
            continue
        if additive and not m.additive:
            continue
        return m
    return None


def get_metric(name: str, table: str | None = None) -> Metric:
    """The registered metric (see ``find_metric``); an unknown name is a DriftdeskError listing the known ones."""
    found = find_metric(name, table=table)
    if found is None:
        where = f" on the {table} table" if table else ""
        known = sorted({m.name for m in METRICS if table is None or m.table == table})
        raise DriftdeskError(f"unknown metric {name!r}{where}; known metrics are {', '.join(known)}")
    return found


def metrics_for(table: str) -> list[Metric]:
    return [m for m in METRICS if m.table == table]


# --------------------------------------------------------------------------- expressions


def is_missing(column: str) -> pl.Expr:
    """Per row, whether the column's value is missing: null, or NaN in a float column (any column type).

    Every null rate (the registry's ``null_rate``, the Overview's, a gate's, the quality checks') counts with it.
    A NaN is how pandas, numpy and many exports write "no value", and the contract reads it as missing on load: for
    a marketer watching a feed, a NaN feature is an empty one, so a null rate that skipped it would say the feed
    is whole when it is not. An infinity is a value, not a gap (the contract refuses it as not finite), and the
    text "NaN" in a text column is text.
    """
    return pl.any_horizontal(pl.col(column).is_null(), (cs.by_name(column) & cs.float()).is_nan())


def known_sum(expr: pl.Expr) -> pl.Expr:
    """The sum of a column, null when its rows have values but none is known (all null): a cost nobody recorded is
    unknown, not 0. No rows at all still sum to 0 (nothing happened)."""
    return pl.when((expr.count() == 0) & (pl.len() > 0)).then(None).otherwise(expr.sum())


def metric_expr(metric: Metric) -> pl.Expr:
    """The metric over the rows of one window or group, as one polars aggregation.

    Ratios are ratios of sums, null when the denominator sums to 0 (never inf); a rate ignores rows where its
    flag is null. Columns are cast to float64 before they are reduced, whatever their own type: a float32 sum
    keeps about seven significant digits (past $100 million it steps by $8, so the cents added to it are lost).
    ``per_case`` and ``binned`` metrics need more than one pass: ``driftdesk.llm.golden_summary`` and
    ``driftdesk.calibration`` compute them.
    """
    agg = metric.aggregation
    cols = [pl.col(c).cast(pl.Float64) for c in metric.columns]
    if agg == "ratio":
        num, den = known_sum(cols[0]), known_sum(cols[1])
        return pl.when(den != 0).then(num / den)
    if agg == "weighted_mean":
        den = known_sum(cols[1])
        return pl.when(den != 0).then(known_sum(cols[0] * cols[1]) / den)
    if agg == "rate":
        share = pl.col(metric.columns[0]).cast(pl.Float64).mean()
        return 1.0 - share if metric.negate else share
    if agg == "null_rate":
        return is_missing(metric.columns[0]).mean().cast(pl.Float64)
    if agg == "per_success":
        den = success_expr(metric).cast(pl.Float64).sum()
        return pl.when(den != 0).then(known_sum(cols[0]) / den)
    if agg == "percentile":
        return cols[0].quantile(metric.quantile, "linear")
    if agg == "sum":
        return known_sum(cols[0])
    if agg in ("mean", "max"):
        return getattr(cols[0], agg)()
    if agg == "count":
        return pl.len()
    raise DriftdeskError(f"metric {metric.name} ({agg}) is not one aggregation over rows; "
                         + {"per_case": "use driftdesk.llm.golden_summary", "paired": "use driftdesk.llm.compare_golden"}
                         .get(agg, "use driftdesk.calibration"))


def success_expr(metric: Metric) -> pl.Expr:
    """Per row of a ``per_success`` metric: whether it succeeded (ok flag true, fail flags false; null flags pass)."""
    ok_flag, *fail_flags = metric.columns[1:]
    ok = pl.col(ok_flag).cast(pl.Boolean).fill_null(True)
    for flag in fail_flags:
        ok = ok & ~pl.col(flag).cast(pl.Boolean).fill_null(False)
    return ok


def sample_expr(metric: Metric) -> pl.Expr:
    """The metric's sample size over the same rows: the denominator's sum for a ratio, else the known values."""
    if metric.aggregation in ("ratio", "weighted_mean"):
        return pl.col(metric.columns[1]).cast(pl.Float64).sum()
    if metric.aggregation == "per_success":
        return success_expr(metric).sum()
    if metric.columns:
        return pl.col(metric.columns[0]).count()
    return pl.len()


# --------------------------------------------------------------------------- names as written


@dataclass(frozen=True)
class MetricRef:
    """A metric name as written in a policy, a URL or a call, read once: a registered name or a family with its
    argument, whether it is a change against a baseline, and the old name it was written as (if renamed)."""

    name: str
    arg: str | None = None
    change: bool = False
    renamed_from: str | None = None

    @property
    def canonical(self) -> str:
        text = self.name + ("_change" if self.change else "")
        return f"{text}:{self.arg}" if self.arg is not None else text

    @property
    def is_family(self) -> bool:
        return self.name in FAMILIES

    @property
    def deprecation(self) -> str | None:
        """The one-line note for a renamed metric (None when written by its current name)."""
        if self.renamed_from is None:
            return None
        return (f"metric {self.renamed_from!r} is deprecated and now called {self.name!r}; it still works and gives "
                "the same values")


def parse_metric(text: str, *, context: str = "metric", columns: Sequence[str] | None = None,
                 families: Sequence[str] | None = None, error: type[DriftdeskError] = DriftdeskError) -> MetricRef:
    """Read a metric name: ``cpa``, ``cpa_change``, ``null_rate:ctr_7d``, ``rate:clicks/impressions`` ...

    ``columns`` (the table's columns, when the caller has one) also accepts a bare column name, summed when it
    is a count or an amount (``SUMMABLE_COLUMNS``) and averaged otherwise. ``families`` limits the families
    the caller computes. A renamed metric is read as its new name and logged as deprecated (a line on stderr
    from the CLI); anything unknown is an ``error`` (a DriftdeskError) that starts with ``context`` and lists
    the known names.
    """
    if not isinstance(text, str) or not text.strip():
        raise error(f"{context}: a metric name is required, e.g. cpa or null_rate:ctr_7d")
    written = text.strip()
    head, sep, arg = written.partition(":")
    base, change = head, False
    if base not in RENAMED and not metrics_named(base) and base not in FAMILIES and base.endswith("_change"):
        base, change = base.removesuffix("_change"), True
    renamed_from = base if base in RENAMED else None
    base = RENAMED.get(base, base)
    allowed = FAMILIES if families is None else {f: FAMILIES[f] for f in families}
    if metrics_named(base):
        if sep:
            raise error(f"{context}: metric {base} takes no column, got {written!r}")
        ref = MetricRef(base, None, change, renamed_from)
    elif base in allowed:
        if not arg.strip():
            example = "clicks/impressions" if base == "rate" else "cpa" if base == "seasonality_flag" else "ctr_7d"
            raise error(f"{context}: metric {base} needs a {allowed[base][1]}, e.g. {base}:{example}")
        ref = MetricRef(base, arg.strip(), change, None)
        if base == "rate" and "/" not in ref.arg:
            raise error(f"{context}: write rate:NUMERATOR/DENOMINATOR, e.g. rate:clicks/impressions")
    elif columns is not None and written in columns:
        ref = MetricRef("sum" if written in SUMMABLE_COLUMNS else "mean", written)
    else:
        known = sorted({m.name for m in METRICS}) + [f"{f}:<{a}>" for f, (_, a) in allowed.items()]
        hint = ", or a column of the table" if columns is not None else ""
        raise error(f"{context}: unknown metric {written!r}; known metrics are {', '.join(known)}{hint} "
                             "(add _change to a level to compare it with a baseline, e.g. cpa_change)")
    if ref.deprecation:
        log.warning("%s: %s", context, ref.deprecation)
    return ref


_COLUMN_AGGREGATIONS: dict[str, Aggregation] = {"sum": "sum", "mean": "mean", "max": "max", "null_rate": "null_rate",
                                                "rate": "ratio"}


def resolve_metric(text: str, *, columns: Sequence[str], table: str | None = None, context: str = "metric",
                   error: type[DriftdeskError] = DriftdeskError) -> Metric:
    """A metric name as the Metric to compute on a table with these ``columns``.

    A registered name gives the registered metric whose columns the table has (so ``latency_p99_ms`` on the
    service table is the service's); ``sum:`` / ``mean:`` / ``max:`` / ``null_rate:<column>``,
    ``rate:NUM/DEN`` and a bare column name give an unregistered metric of that column. A missing column is an
    ``error`` naming it and the table's columns.
    """
    ref = parse_metric(text, context=context, columns=columns, families=tuple(_COLUMN_AGGREGATIONS), error=error)
    if ref.change:
        raise error(f"{context}: {text!r}: a change against a baseline is not a series; use {ref.name}")
    if not ref.is_family:
        found = find_metric(ref.name, table=table, columns=columns)
        needs = found.columns if found else next(m.columns for m in metrics_named(ref.name))
    else:
        needs = tuple(c.strip() for c in ref.arg.split("/", 1)) if ref.name == "rate" else (ref.arg,)
        found = Metric(ref.canonical, text.strip(), table or "", _COLUMN_AGGREGATIONS[ref.name], needs, "either",
                       "rate" if ref.name == "null_rate" else "ratio", FAMILIES[ref.name][0])
    missing = [c for c in needs if c not in columns]
    if missing or found is None:
        raise error(f"{context}: metric {text!r} needs the column {(missing or list(needs))[0]!r}; the table has "
                    f"{', '.join(columns)}")
    return found
