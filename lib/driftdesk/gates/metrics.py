"""Gate metrics as additive hourly components per segment, so a gate can be replayed over all of history.

A metric is computed once per (table, segment, hour) as a few *additive* components (sums and counts), e.g.
``null_rate:ctr_7d`` keeps (nulls, rows) and ``cpa`` keeps (spend, conversions). Any window's value is then a
ratio of window sums (CPA is a ratio of sums, never a mean of hourly ratios), so a gate can be evaluated over
every window of history with cumulative sums, and thresholds swept with numpy broadcasting. This is also the
scale seam: the components are the aggregate table a warehouse could produce.

What a metric is (its table, columns, aggregation) comes from the registry, ``driftdesk.metrics``; a gate can
watch every registered metric that is a ratio of window sums (ratios, rates, means, weighted means), the
golden-set metrics (release checks, among them the cases that flipped between two releases), ``ece``, and the
column families ``null_rate:<column>``, ``psi:<column>``, ``share:<column>``, ``seasonality_flag:<metric>`` and
``budget_burn:<column>`` (the column's sum per hour; the engine turns it into the share of a day's budget spent).

Kinds:

- ``level``: a value from one window (null rate, CPA, p99 latency); compare it ``absolute`` or against a baseline.
- ``change``: ``<level>_change`` is the same level, but the gate must compare it with a baseline window.
- ``distance``: a value from two windows (PSI of a column's distribution) or two releases (golden cases that
  flipped: ``paired``); a baseline comparison is required.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import polars as pl

from driftdesk import engine
from driftdesk.business import kpi_table
from driftdesk.calendars import effective_calendar
from driftdesk.calibration import bin_aggregates, bin_edges
from driftdesk.engine.budget import collect
from driftdesk.errors import PolicyError
from driftdesk.metrics import METRICS, Metric, MetricRef, find_metric, is_missing, parse_metric, success_expr
from driftdesk.stats import calibration_errors, psi_from_counts, quantile_edges

Kind = Literal["level", "change", "distance"]
HOUR = dt.timedelta(hours=1)
ECE_BINS = 10
PSI_NUMERIC_BINS = 10
PSI_REFERENCE_HOURS = 7 * 24  # numeric PSI bins: deciles of the first week of history (a training reference)
GOLDEN_COLUMNS = {  # golden metric -> its column in driftdesk.llm.golden_summary
    "golden_pass_rate": "pass_rate", "golden_recall_at_k": "recall_at_k_mean", "golden_ndcg": "ndcg_mean",
    "golden_score": "score_mean",
}


def _ratio(components: np.ndarray) -> np.ndarray:
    num, den = components[..., 0], components[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _ece(components: np.ndarray) -> np.ndarray:
    """Expected calibration error from per-bin components laid out as (counts, score sums, label sums)."""
    k = components.shape[-1] // 3
    return calibration_errors(components[..., :k], components[..., k:2 * k], components[..., 2 * k:])["ece"]


@dataclass(frozen=True)
class MetricSpec:
    """A metric as a gate reads it, with its argument if it takes one (``null_rate`` + ``ctr_7d``)."""

    family: str
    table: str | None  # None: the first table that has the column
    kind: Kind
    doc: str
    sample_doc: str
    default_by: tuple[str, ...] = ()
    needs_arg: bool = False
    needs_by: bool = False
    arg: str | None = None
    change: bool = False  # spelled <family>_change
    note: str | None = None  # a deprecation note when written by an old name
    paired: bool = False  # compares the same golden cases in two releases

    @property
    def canonical(self) -> str:
        return MetricRef(self.family, self.arg, self.change).canonical

    @property
    def level_kind(self) -> Kind:
        return "change" if self.change else self.kind


def _gateable(metric: Metric) -> bool:
    return metric.additive or metric.aggregation in ("per_case", "paired", "binned")


def _registry_spec(metric: Metric) -> MetricSpec:
    doc = metric.doc + ("; a release check, not replayed on history" if metric.table == "golden_runs" else "")
    paired = metric.aggregation == "paired"
    return MetricSpec(metric.name, metric.table, "distance" if paired else "level", doc,
                      "paired cases" if paired else metric.sample, metric.default_by, paired=paired)


_FAMILIES: dict[str, MetricSpec] = {
    "null_rate": MetricSpec("null_rate", None, "level", "share of rows where the column is null (or NaN)", "rows",
                            needs_arg=True),
    "psi": MetricSpec("psi", None, "distance",
                      "population stability index of the column, current vs baseline window (categories for text, "
                      "deciles of the first week for numbers, nulls as their own bin)", "rows", needs_arg=True),
    "share": MetricSpec("share", "kpis", "level", "the segment's share of the total of a KPI column (e.g. spend)",
                        "total of the column", needs_arg=True, needs_by=True),
    "seasonality_flag": MetricSpec(
        "seasonality_flag", None, "level",
        "share of hours the seasonality module's causal mode flags <metric> as anomaly or drift (a flag at an hour "
        "uses only data up to it; calendar days are calendar, not drift)", "flagged hours", needs_arg=True),
    "budget_burn": MetricSpec(
        "budget_burn", None, "level",
        "share of the day's budget spent: the column's sum since 00:00 UTC over the gate's daily budget (per segment "
        "value); evaluated every hour, so an 80% threshold warns before the money is gone", "column total",
        needs_arg=True),
}


def metric_catalog() -> list[MetricSpec]:
    """Every metric a gate can watch, for docs, the app's picker and error messages."""
    named = {m.name: _registry_spec(m) for m in METRICS if _gateable(m)}  # one per name: a gate reads it by name
    return sorted([*named.values(), *_FAMILIES.values()], key=lambda m: m.family)


def metric_names() -> list[str]:
    """Names as written in a policy (``<family>:<column>`` for those taking a column)."""
    return [m.family + (":<column>" if m.needs_arg else "") for m in metric_catalog()]


def gate_metric(name: str, *, context: str = "gate") -> MetricSpec:
    """A metric name (as in a policy) as the gate spec behind it; an unknown name is a PolicyError."""
    ref = parse_metric(name, context=context, families=tuple(_FAMILIES), error=PolicyError)
    if ref.is_family:
        spec = _FAMILIES[ref.name]
        if ref.change and spec.kind == "distance":
            raise PolicyError(f"{context}: {ref.name} already compares two windows; write {ref.name}:<column>, not "
                              f"{ref.name}_change")
        if ref.name == "seasonality_flag":
            inner = gate_metric(ref.arg, context=context)
            if inner.kind == "distance" or inner.family == "seasonality_flag":
                raise PolicyError(f"{context}: seasonality_flag needs a level metric such as cpa or "
                                  f"null_rate:<column>, got {ref.arg!r}")
            return replace(spec, table=inner.table, default_by=inner.default_by, needs_by=inner.needs_by,
                           arg=inner.canonical, change=ref.change, note=inner.note)
        return replace(spec, arg=ref.arg, change=ref.change)
    metric = find_metric(ref.name, additive=True) or next(
        (m for m in METRICS if m.name == ref.name and _gateable(m)), None)
    if metric is None:
        raise PolicyError(f"{context}: metric {ref.name} is not a ratio of window sums, so a gate cannot replay it; "
                          f"gate metrics are {', '.join(metric_names())}")
    return replace(_registry_spec(metric), change=ref.change, note=ref.deprecation)


def _spec(metric: str | MetricSpec, context: str) -> MetricSpec:
    return gate_metric(metric, context=context) if isinstance(metric, str) else metric


def required_columns(spec: MetricSpec) -> tuple[str, ...]:
    """The columns a metric reads (besides ts and the segment columns)."""
    if spec.family == "seasonality_flag":
        return required_columns(gate_metric(spec.arg))
    if spec.family in _FAMILIES:
        return (spec.arg,) if spec.arg else ()
    metric = find_metric(spec.family, table=spec.table)
    if metric.table == "golden_runs":
        return ("case_id", *metric.columns)
    return metric.columns


def is_budget(metric: str) -> bool:
    """Whether a gate metric is a daily budget burn (the engine windows it from 00:00 UTC, not over `window`)."""
    return metric.startswith("budget_burn:")


# --------------------------------------------------------------------------- hourly components


@dataclass(frozen=True)
class MetricComponents:
    """Additive hourly components of one metric per segment, on a regular grid starting at `start`.

    `components[s, t, k]` is component k of segment s in hour [start + t h, start + (t+1) h).
    """

    metric: MetricSpec
    segments: tuple[str, ...]
    keys: pl.DataFrame
    start: dt.datetime
    components: np.ndarray
    level: Callable[[np.ndarray], np.ndarray] | None
    distance: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    sample: Callable[[np.ndarray], np.ndarray]
    valid_from: int = 0  # first hour index whose end may carry an evaluation (PSI reference period)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hours(self) -> int:
        return int(self.components.shape[1])

    @property
    def end(self) -> dt.datetime:
        return self.start + self.hours * HOUR

    def hour_ends(self) -> np.ndarray:
        """The time each hour's data is complete: start + (t + 1) h, as numpy datetime64[us]."""
        base = np.datetime64(self.start, "us")
        return base + (np.arange(1, self.hours + 1) * np.timedelta64(1, "h")).astype("timedelta64[us]")


def _table_for(ds, spec: MetricSpec, context: str):
    """The contract table a metric reads; for column metrics, the first table having the column."""
    if spec.table is not None:
        table = ds.get(spec.table)
        if table is None:
            raise PolicyError(f"{context}: metric {spec.canonical} needs the {spec.table} table, which the data lacks")
        return table
    for name in ("decisions", "kpis", "llm_calls", "service"):
        table = ds.get(name)
        if table is not None and spec.arg in _columns(table):
            return table
    raise PolicyError(f"{context}: no table has the column {spec.arg!r} that metric {spec.canonical} reads")


def _columns(table) -> list[str]:
    """A table's columns, whichever engine holds its rows (in memory, a lazy scan, Spark)."""
    return list(engine.schema(table.frame))


def _on_spark():
    """The Spark side of the series (``engine.spark.series``), imported only when a table is on Spark."""
    from driftdesk.engine.spark import series

    return series


def _frame_for(table, by: tuple[str, ...], filt, context: str):
    """The table's rows, with the gate's filter: a LazyFrame, or a Spark table when the rows are on Spark."""
    cols = _columns(table)
    for c in (*by, *(c for c, _ in filt)):
        if c not in cols:
            raise PolicyError(f"{context}: column {c!r} is not in the {table.name} table; it has {cols}")
    if engine.is_spark(table.frame):
        return _on_spark().where_in(table.frame, filt)
    lf = table.frame.lazy()
    for c, values in filt:
        lf = lf.filter(pl.col(c).cast(pl.String).is_in(list(values)))
    return lf


def _grid(table) -> tuple[dt.datetime, int]:
    from driftdesk.windows import span as time_span

    if "ts" not in _columns(table):
        raise PolicyError(f"{table.source}: the {table.name} table has no timestamps, so its metrics are release "
                          "checks (driftdesk gates check), not replayed on history")
    span = time_span(table.frame, "ts")
    if span[0] is None:
        raise PolicyError(f"{table.source}: the {table.name} table has no timestamps")
    start = span[0].replace(minute=0, second=0, microsecond=0)
    hours = int((span[1] - start) // HOUR) + 1
    return start, hours


def _segment_index(rows: pl.DataFrame, by: tuple[str, ...]) -> tuple[pl.DataFrame, tuple[str, ...], np.ndarray]:
    """The segments of `by` in the rows (keys, labels like ``geo=DE``) and each row's segment index."""
    if not by:
        return pl.DataFrame(), ("all",), np.zeros(rows.height, dtype=np.int64)
    keys = rows.select(by).unique().sort(by)
    labels = tuple(", ".join(f"{c}={v}" for c, v in zip(by, row)) for row in keys.iter_rows())
    idx = rows.join(keys.with_row_index("__s"), on=list(by), how="left", nulls_equal=True,
                    maintain_order="left")["__s"].to_numpy()
    return keys, labels, idx


def _dense(hourly: pl.DataFrame, by: tuple[str, ...], names: list[str], start: dt.datetime,
           hours: int) -> tuple[pl.DataFrame, tuple[str, ...], np.ndarray]:
    """Scatter (hour, by..., components) rows into a dense (segments, hours, components) array."""
    keys, labels, idx = _segment_index(hourly, by)
    out = np.zeros((len(labels), hours, len(names)), dtype=np.float64)
    if hourly.height:
        t = ((hourly["__hour"].to_numpy().astype("datetime64[us]") - np.datetime64(start, "us"))
             // np.timedelta64(1, "h")).astype(np.int64)
        out[idx, t, :] = np.nan_to_num(hourly.select(names).to_numpy().astype(np.float64))
    return keys, labels, out


def _aggregate(rows, by: tuple[str, ...], aggs: list[pl.Expr], on_spark: Callable) -> pl.DataFrame:
    """(__hour, by..., sums) per hour and segment: ``aggs`` on polars; on Spark the sums of the per-row values
    ``on_spark(engine.spark.series)`` names (the same values, so the same sums)."""
    if engine.is_spark(rows):
        series = _on_spark()
        return series.hourly(rows, by, on_spark(series))
    hour = pl.col("ts").dt.truncate("1h").alias("__hour")
    return rows.group_by([hour, *[pl.col(b).cast(pl.String) for b in by]]).agg(aggs).pipe(collect)


def metric_components(ds, metric: str | MetricSpec, *, by: tuple[str, ...] | None = None,
                      filter: tuple[tuple[str, tuple[str, ...]], ...] = (), context: str = "gate",
                      reference: pl.DataFrame | None = None) -> MetricComponents:
    """Hourly additive components of a metric per segment of `by` (None: the metric's default segmentation).

    `ds` is a driftdesk Dataset (or anything with ``.get(table_name)`` returning a contract Table); `context`
    starts every error message (e.g. "gate 2 ('cpa_by_geo')"). `reference` (PSI only): a frame whose whole
    column sets the numeric bins and adds its categories, so two files can be compared on the same bins (the
    release gate); without it the first week of history does.
    """
    spec = _spec(metric, context)
    by = spec.default_by if by is None else tuple(by)
    if spec.needs_by and not by:
        raise PolicyError(f"{context}: metric {spec.canonical} is a share of a total, so it needs by = [<segment column>]")
    if spec.family == "seasonality_flag":
        return _seasonality_flags(ds, spec, by, filter, context)
    table = _table_for(ds, spec, context)
    if spec.paired:
        return _golden_pairs(table, spec, by, filter, context, reference)
    if spec.family in GOLDEN_COLUMNS:
        return _golden(table, spec, by, filter, context)
    part = _Part(spec, table, by, _frame_for(table, by, filter, context), *_grid(table), context)
    missing = [c for c in required_columns(spec) if c not in _columns(table)]
    if missing:
        raise PolicyError(f"{context}: metric {spec.canonical} needs column(s) {missing} in the {table.name} table")
    if spec.family == "psi":
        return _psi(part, reference)
    build = {"null_rate": _null_rate, "share": _share, "ece": _ece_bins, "budget_burn": _hourly_sum}.get(
        spec.family, _registry_ratio)
    return build(part)


@dataclass(frozen=True)
class _Part:
    """What every component builder reads: the spec, its table, the segments, the filtered rows and the grid."""

    spec: MetricSpec
    table: object
    by: tuple[str, ...]
    rows: object  # a LazyFrame, or a Spark table
    start: dt.datetime
    hours: int
    context: str

    def dense(self, hourly: pl.DataFrame, names: list[str]) -> tuple[pl.DataFrame, tuple[str, ...], np.ndarray]:
        return _dense(hourly, self.by, names, self.start, self.hours)

    def ratio_of(self, hourly: pl.DataFrame, *, notes: tuple[str, ...] = ()) -> MetricComponents:
        """A (num, den) series whose level is num / den and whose sample is den."""
        keys, labels, comps = self.dense(hourly, ["num", "den"])
        return MetricComponents(self.spec, labels, keys, self.start, comps, _ratio, None, lambda c: c[..., 1],
                                notes=notes)


def _registry_ratio(part: _Part) -> MetricComponents:
    """A registered ratio, rate, mean or weighted mean as hourly (numerator, denominator) sums."""
    metric = find_metric(part.spec.family, table=part.spec.table)
    if metric.table == "kpis":  # the business module's ratio-of-sums series, per hour
        num_col, den_col = metric.columns
        hourly = kpi_table(part.rows, by=part.by, every="1h", source=part.table.source).rename({"ts": "__hour"})
        return part.ratio_of(hourly.select("__hour", *part.by, pl.col(f"{num_col}_sum").alias("num"),
                                           pl.col(f"{den_col}_sum").alias("den")))
    num, den = _parts(metric)
    ok = num.is_not_null() & ~num.is_nan()  # a row whose numerator is missing does not count in the denominator
    return part.ratio_of(_aggregate(part.rows, part.by, [pl.when(ok).then(num).otherwise(0.0).sum().alias("num"),
                                                         pl.when(ok).then(den).otherwise(0.0).sum().alias("den")],
                                    lambda s: s.ratio_parts(metric)))


def _parts(metric: Metric) -> tuple[pl.Expr, pl.Expr]:
    """Per-row numerator and denominator whose window sums give the metric."""
    cols = [pl.col(c).cast(pl.Float64) for c in metric.columns]
    one = pl.lit(1.0)
    if metric.aggregation == "ratio":
        return cols[0], cols[1]
    if metric.aggregation == "weighted_mean":
        return cols[0] * cols[1], cols[1]
    if metric.aggregation == "rate":
        flag = pl.col(metric.columns[0]).cast(pl.Boolean)
        return (~flag if metric.negate else flag).cast(pl.Float64), one
    if metric.aggregation == "per_success":
        return cols[0], success_expr(metric).cast(pl.Float64)
    return cols[0], one  # mean


def _null_rate(part: _Part) -> MetricComponents:
    column = part.spec.arg
    is_float = engine.schema(part.table.frame)[column].is_float()
    null = is_missing(column)
    return part.ratio_of(_aggregate(part.rows, part.by, [null.cast(pl.Float64).sum().alias("num"),
                                                         pl.len().cast(pl.Float64).alias("den")],
                                    lambda s: s.null_parts(column, is_float)))


def _hourly_sum(part: _Part) -> MetricComponents:
    """The column's sum per hour (one component): the engine adds it up from midnight for a budget burn."""
    column = pl.col(part.spec.arg).cast(pl.Float64)
    hourly = _aggregate(part.rows, part.by, [column.sum().alias("total")],
                        lambda s: s.column_value(part.spec.arg, "total"))
    keys, labels, comps = part.dense(hourly, ["total"])
    return MetricComponents(part.spec, labels, keys, part.start, comps, lambda c: c[..., 0], None, lambda c: c[..., 0])


def _share(part: _Part) -> MetricComponents:
    hourly = _aggregate(part.rows, part.by, [pl.col(part.spec.arg).cast(pl.Float64).sum().alias("part")],
                        lambda s: s.column_value(part.spec.arg, "part"))
    keys, labels, share = part.dense(hourly, ["part"])
    total = share.sum(axis=0, keepdims=True)
    comps = np.concatenate([share, np.broadcast_to(total, share.shape)], axis=-1)
    return MetricComponents(part.spec, labels, keys, part.start, comps, _ratio, None, lambda c: c[..., 1])


def _ece_bins(part: _Part) -> MetricComponents:
    edges = bin_edges(None, bins=ECE_BINS)
    if engine.is_spark(part.rows):
        series = _on_spark()
        agg = bin_aggregates(series.with_hour(series.labelled(part.rows)), edges=edges, group=["__hour", *part.by])
    else:
        labelled = part.rows.filter(pl.col("label").is_not_null() & pl.col("score").is_not_null())
        agg = bin_aggregates(labelled, edges=edges, group=[pl.col("ts").dt.truncate("1h").alias("__hour"), *part.by])
    wide = agg.pivot(on="bin", index=["__hour", *part.by], values=["count", "score_sum", "positives"])
    names = [f"{stat}_{i}" for stat in ("count", "score_sum", "positives") for i in range(ECE_BINS)]
    wide = wide.with_columns(*[pl.lit(0.0).alias(n) for n in names if n not in wide.columns])
    keys, labels, comps = part.dense(wide, names)
    return MetricComponents(part.spec, labels, keys, part.start, comps, _ece, None,
                            lambda c: c[..., :ECE_BINS].sum(axis=-1),
                            notes=("labels that have not matured (null) are left out",))


def _psi(part: _Part, reference) -> MetricComponents:
    """Hourly bin counts of a column: categories for text, the reference's deciles for numbers."""
    column = part.spec.arg
    if reference is not None and column not in engine.schema(reference):
        raise PolicyError(f"{part.context}: the baseline has no column {column!r}")
    categories, edges, valid_from, notes = _psi_bins(part, reference)
    if engine.is_spark(part.rows):
        hourly = _on_spark().bin_counts(part.rows, part.by, column, edges)
    else:
        x = pl.col(column).cast(pl.Float64)
        if edges is None:
            rows, bin_expr = part.rows.filter(pl.col(column).is_not_null()), pl.col(column).cast(pl.String)
        else:
            rows = part.rows.filter(x.is_finite())
            bin_expr = pl.sum_horizontal([(x > float(e)).cast(pl.Int64) for e in edges]) if edges.size else pl.lit(0)
        hourly = (rows.with_columns(bin_expr.alias("__bin"))
                  .group_by([pl.col("ts").dt.truncate("1h").alias("__hour"),
                             *[pl.col(c).cast(pl.String) for c in part.by], "__bin"])
                  .agg(pl.len().cast(pl.Float64).alias("n")).pipe(collect))
    names = [f"b{i}" for i in range(len(categories))]
    if hourly.height:
        mapping = pl.DataFrame({"__bin": pl.Series(categories).cast(hourly["__bin"].dtype), "__name": names})
        wide = hourly.join(mapping, on="__bin").pivot(on="__name", index=["__hour", *part.by], values="n")
        wide = wide.with_columns(*[pl.lit(0.0).alias(n) for n in names if n not in wide.columns]).fill_null(0.0)
    else:
        wide = pl.DataFrame(schema={"__hour": pl.Datetime("us"), **{c: pl.String for c in part.by},
                                    **{n: pl.Float64 for n in names}})
    keys, labels, comps = part.dense(wide, names)
    return MetricComponents(part.spec, labels, keys, part.start, comps, None, psi_from_counts,
                            lambda c: c.sum(axis=-1), valid_from=valid_from, notes=notes)


def _psi_bins(part: _Part, reference) -> tuple[list, np.ndarray | None, int, tuple[str, ...]]:
    """(the bins, the numeric edges or None for text, first hour that may be evaluated, notes) for psi:<column>."""
    column, frame = part.spec.arg, part.table.frame
    if not engine.schema(frame)[column].is_numeric():
        seen = distinct_texts(frame, column) + (distinct_texts(reference, column) if reference is not None else [])
        return sorted(set(seen)), None, 0, ()
    if reference is None:
        ref = _finite_sorted(frame, column, before=part.start + PSI_REFERENCE_HOURS * HOUR)
        valid_from, notes = PSI_REFERENCE_HOURS, ("numeric bins: deciles of the first week of history; evaluations "
                                                  "start after it",)
    else:
        ref, valid_from, notes = _finite_sorted(reference, column, before=None), 0, ()
    if ref.size == 0:
        raise PolicyError(f"{part.context}: psi:{column} has no finite values in its reference to set the bins")
    edges = quantile_edges(ref, PSI_NUMERIC_BINS)
    return list(range(edges.size + 1)), edges, valid_from, notes


def distinct_texts(frame, column: str) -> list[str]:
    """The distinct non-null values of a column as text (the categories of a text PSI)."""
    if engine.is_spark(frame):
        return _on_spark().texts(frame, column)
    values = engine.lazy(frame).select(pl.col(column).drop_nulls().cast(pl.String).unique()).pipe(collect)
    return values[column].to_list()


def _finite_sorted(frame, column: str, *, before: dt.datetime | None) -> np.ndarray:
    """A numeric column's finite values, sorted (of the rows before ``before``): what sets a numeric PSI's bins."""
    if engine.is_spark(frame):
        return _on_spark().finite_values(frame, column, before=before)
    x = pl.col(column).cast(pl.Float64)
    lf = engine.lazy(frame)
    if before is not None:
        lf = lf.filter(pl.col("ts") < before)
    return lf.filter(x.is_finite()).select(x.sort()).pipe(collect)[column].to_numpy()


RELEASE_START = dt.datetime(1970, 1, 1)  # golden runs have no time: one nominal hour holds them all


def _golden(table, spec: MetricSpec, by: tuple[str, ...], filt, context: str) -> MetricComponents:
    """Golden-set metrics from driftdesk.llm.golden_summary, as (value x cases, cases) per segment."""
    from driftdesk.golden import golden_summary

    lf = _frame_for(table, by, filt, context)
    column = GOLDEN_COLUMNS[spec.family]
    group = list(by) or ["__all"]
    frame = lf.with_columns(pl.lit("all").alias("__all")) if not by else lf
    summary = golden_summary(frame.collect(), by=group)
    if column not in summary.columns:
        raise PolicyError(f"{context}: metric {spec.canonical} needs the column behind {column} in the golden runs")
    summary = summary.with_columns((pl.col(column) * pl.col("cases")).alias("num"),
                                   pl.col("cases").cast(pl.Float64).alias("den"), pl.lit(RELEASE_START).alias("__hour"))
    keys, labels, comps = _dense(summary.select("__hour", *by, "num", "den"), by, ["num", "den"], RELEASE_START, 1)
    return MetricComponents(spec, labels, keys, RELEASE_START, comps, _ratio, None, lambda c: c[..., 1],
                        notes=("golden runs: one value per release (no time)",))


def _flips(baseline: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Cases passing in the baseline and failing in the current release, from (passed..., present...) components."""
    k = baseline.shape[-1] // 2
    both = (baseline[..., k:] > 0) & (current[..., k:] > 0)
    return (both & (baseline[..., :k] > 0) & (current[..., :k] == 0)).sum(axis=-1).astype(np.float64)


def _golden_pairs(table, spec: MetricSpec, by: tuple[str, ...], filt, context: str,
                  reference: pl.DataFrame | None) -> MetricComponents:
    """Per segment, each golden case's verdict and presence (driftdesk.golden.case_verdicts) over the cases of this
    release and of the ``reference`` release (so both sides of a check lay the cases out alike)."""
    from driftdesk.golden import case_verdicts

    if reference is None:
        raise PolicyError(f"{context}: {spec.canonical} compares two releases: it needs a baseline release")
    own = case_verdicts(_frame_for(table, by, filt, context), by=list(by), kind_column=None).collect()
    ref = reference.lazy()
    for c, values in filt:
        if c in reference.columns:
            ref = ref.filter(pl.col(c).cast(pl.String).is_in(list(values)))
    cases = sorted(set(own["case_id"].to_list()) | set(ref.select("case_id").collect()["case_id"].to_list()))
    j = own["case_id"].replace_strict(cases, list(range(len(cases))), return_dtype=pl.Int64).to_numpy()
    keys, labels, idx = _segment_index(own, by)
    comps = np.zeros((len(labels), 1, 2 * len(cases)), dtype=np.float64)  # (passed per case, present per case)
    comps[idx, 0, j] = own["passed"].cast(pl.Float64).to_numpy()
    comps[idx, 0, len(cases) + j] = 1.0
    return MetricComponents(spec, labels, keys, RELEASE_START, comps, None, _flips,
                            lambda c: (c[..., c.shape[-1] // 2:] > 0).sum(axis=-1).astype(np.float64),
                            notes=("golden cases compared one by one between two releases (no time)",))


def _seasonality_flags(ds, spec: MetricSpec, by: tuple[str, ...], filt, context: str) -> MetricComponents:
    """Hourly values of the inner metric per segment, flagged by the seasonality module's causal mode."""
    from driftdesk.seasonality import causal_flags

    inner = metric_components(ds, spec.arg, by=by, filter=filt, context=context)
    values = inner.level(inner.components)  # (S, T): the hourly level (a ratio of that hour's sums)
    ts = inner.start + np.arange(inner.hours) * HOUR
    frame = pl.DataFrame({"ts": np.tile(np.array(ts, dtype="datetime64[us]"), len(inner.segments)),
                          "__segment": np.repeat(np.array(inner.segments, dtype=object), inner.hours).astype(str),
                          "value": values.ravel()})
    flags = causal_flags(frame, ts="ts", value="value", by=["__segment"],
                         calendar=effective_calendar(ds).for_series())
    flags = flags.with_columns(
        pl.col("flag").is_in(["anomaly", "drift"]).cast(pl.Float64).alias("num"),
        pl.col("flag").is_not_null().cast(pl.Float64).alias("den"),
        pl.col("ts").alias("__hour"),
    )
    comps = np.zeros((len(inner.segments), inner.hours, 2))
    s_idx = {s: i for i, s in enumerate(inner.segments)}
    si = np.array([s_idx[s] for s in flags["__segment"].to_list()], dtype=np.int64)
    ti = ((flags["__hour"].to_numpy().astype("datetime64[us]") - np.datetime64(inner.start, "us"))
          // np.timedelta64(1, "h")).astype(np.int64)
    comps[si, ti, 0] = flags["num"].to_numpy()
    comps[si, ti, 1] = flags["den"].to_numpy()
    return MetricComponents(spec, inner.segments, inner.keys, inner.start, comps, _ratio, None, lambda c: c[..., 1],
                        notes=("flags from driftdesk.seasonality (causal mode)",))


# --------------------------------------------------------------------------- what a dataset offers (for forms)


def available_metrics(ds) -> list[str]:
    """Concrete metric names the dataset can compute, for pickers: ratios whose columns exist, and the
    column metrics for every feature / KPI column."""
    out: list[str] = []
    for spec in metric_catalog():
        if spec.needs_arg:
            if spec.family == "seasonality_flag":
                kpis = ds.get("kpis")
                out += [f"seasonality_flag:{m}" for m in ("cpa", "cr", "roas") if kpis is not None]
            elif spec.family == "budget_burn":
                continue  # a budget gate needs its budget, which a picker does not ask for
            elif spec.family == "share":
                kpis = ds.get("kpis")
                out += [f"share:{c}" for c in ("spend", "conversions", "clicks", "impressions", "revenue")
                        if kpis is not None and c in _columns(kpis)]
            else:
                for name in ("decisions", "kpis", "llm_calls"):
                    t = ds.get(name)
                    if t is None:
                        continue
                    cols = list(t.features) if name == "decisions" else [
                        c for c in _columns(t) if c != "ts" and c not in t.segments]
                    if name == "decisions" and spec.family == "psi":
                        cols = [*t.segments, *cols]  # the traffic mix over a segment column, e.g. psi:geo
                    out += [f"{spec.family}:{c}" for c in cols]
            continue
        table = ds.get(spec.table) if spec.table else None
        if table is not None and all(c in _columns(table) for c in required_columns(spec)):
            out.append(spec.family)
    return list(dict.fromkeys(out))


def segment_columns(ds, metric: str) -> list[str]:
    """Columns a metric can be split by: the text columns of the table it reads (not its own column)."""
    spec = gate_metric(metric)
    try:
        table = _table_for(ds, spec, "metric")
    except PolicyError:
        return []
    schema = engine.schema(table.frame)
    return [c for c in schema
            if c not in ("ts", spec.arg, "release_id") and schema[c] == pl.String]


def gate_problem(ds, gate) -> str | None:
    """Why the data cannot evaluate ``gate`` (a table or column it reads is missing), or None. Reads no rows."""
    context = f"gate {gate.name!r}"
    try:
        spec = gate_metric(gate.metric, context=context)
        inner = gate_metric(spec.arg, context=context) if spec.family == "seasonality_flag" else spec
        table = _table_for(ds, inner, context)
    except PolicyError as exc:
        return str(exc)
    by = inner.default_by if gate.by is None else gate.by
    wanted = [*required_columns(inner), *by, *(c for c, _ in gate.filter)]
    missing = [c for c in dict.fromkeys(wanted) if c not in _columns(table)]
    if missing:
        return f"{context}: the {table.name} table has no column {', '.join(repr(c) for c in missing)}"
    return None
