"""Metric series per segment from contract tables: counts, ratios of sums (CR, CPA, ...), means, null rates.

Everything is one polars group-by per call: rows -> (ts bucket, segment) aggregates -> metric. Ratios are
ratios of sums, never means of per-row ratios; a zero denominator gives a null (a missing step), never inf.
A point with less volume than the metric's registered minimum (``Metric.min_count``: thirty conversions behind
a CPA, a thousand clicks behind a conversion rate) is not enough data: its value is null too, so a thin hour is
a missing reading rather than a -100% anomaly. ``thin_points`` lists them.

Metric names are read by the registry (``driftdesk.metrics``): a registered name (``cpa``, ``cr``, ``ctr``,
``roas``, ``conversions``, ``latency_p99_ms`` ...), ``sum:COL``, ``mean:COL``, ``max:COL``, ``null_rate:COL``,
``rate:NUM/DEN`` (sum NUM / sum DEN), or a bare column name (summed when it is a count or an amount, averaged
otherwise, e.g. ``queue_depth``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from driftdesk import engine
from driftdesk.bounds import CATEGORIES_SHOWN, check_every
from driftdesk.engine.budget import collect
from driftdesk.format import format_value
from driftdesk.metrics import Metric, metric_expr, resolve_metric
from driftdesk.seasonality.grid import SeasonalityError
from driftdesk.segments import by_columns, segment_values

Frame = pl.DataFrame | pl.LazyFrame


def series_metric(frame: Frame, metric: str) -> Metric:
    """The metric a name stands for on this frame (see the module docstring); a SeasonalityError if unknown."""
    return resolve_metric(metric, columns=list(engine.schema(frame)), context="seasonality", error=SeasonalityError)


def metric_series(frame: Frame, metric: str, *, ts: str = "ts", by: str | Sequence[str] | None = None,
                  where: Mapping[str, object] | None = None, every: str | None = None) -> pl.DataFrame:
    """ts, by..., value: one metric per time bucket (``every``, e.g. '1h' or '1d'; default the data's own
    timestamps) and segment, optionally filtered to one segment (``where={'geo': 'DE'}``). ``frame`` may be a
    Spark table (``driftdesk.engine.spark``): the points are then reduced there."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    columns = list(engine.schema(lf))
    by = list(by_columns(by, columns))
    for c in [ts, *by, *(where or {})]:
        if c not in columns:
            raise SeasonalityError(f"no column {c!r}; the table has {', '.join(columns)}")
    m = series_metric(lf, metric)
    out = _points(lf, m, ts=ts, by=by, where=where, every=every)
    enough = pl.col("__volume").is_null() | (pl.col("__volume") >= m.min_count[1]) if m.min_count else pl.lit(True)
    return out.with_columns(pl.when(enough).then(pl.col("value").cast(pl.Float64).fill_nan(None))
                            .alias("value")).select("ts", *by, "value")


def metric_series_of(frame: Frame, metrics: Sequence[str], *, ts: str = "ts",
                     by: str | Sequence[str] | None = None) -> dict[str, pl.DataFrame]:
    """``metric_series(frame, metric, by=by)`` of several metrics, per metric: of a table in memory in one
    group-by (its groups are found once, every metric's aggregate is computed over the same rows of each group:
    the same numbers as one call per metric); of a table read from files or on Spark, one call per metric."""
    if not isinstance(frame, pl.DataFrame) or len(metrics) < 2:
        return {name: metric_series(frame, name, ts=ts, by=by) for name in metrics}
    columns = frame.columns
    by = list(by_columns(by, columns))
    for c in [ts, *by]:
        if c not in columns:
            raise SeasonalityError(f"no column {c!r}; the table has {', '.join(columns)}")
    described = {name: series_metric(frame, name) for name in metrics}
    aggs = []
    for i, m in enumerate(described.values()):
        volume = m.min_count[0] if m.min_count and m.min_count[0] in columns else None
        aggs += [metric_expr(m).alias(f"__value{i}"),
                 (pl.col(volume).cast(pl.Float64).sum() if volume else pl.lit(None, pl.Float64)).alias(f"__volume{i}")]
    points = frame.lazy().group_by([pl.col(ts).alias("ts"), *by]).agg(aggs).sort([*by, "ts"]).pipe(collect)
    out = {}
    for i, (name, m) in enumerate(described.items()):
        value, volume = pl.col(f"__value{i}"), pl.col(f"__volume{i}")
        enough = volume.is_null() | (volume >= m.min_count[1]) if m.min_count else pl.lit(True)
        out[name] = points.select("ts", *by, pl.when(enough).then(value.cast(pl.Float64).fill_nan(None)).alias("value"))
    return out


def _points(lf: pl.LazyFrame, m, *, ts: str, by: list[str], where: Mapping[str, object] | None,
            every: str | None) -> pl.DataFrame:
    """ts, by..., value and (when the metric has a minimum count whose column the table has) __volume."""
    if engine.is_spark(lf):
        from driftdesk.engine.spark.aggregate import metric_points

        volume = m.min_count[0] if m.min_count and m.min_count[0] in engine.schema(lf) else None
        return metric_points(lf, m, ts=ts, by=by, where=where, every=every and check_every(every),
                             volume=volume).sort([*by, "ts"])
    for c, v in (where or {}).items():
        lf = lf.filter(pl.col(c).cast(pl.String) == str(v))
    key = pl.col(ts).dt.truncate(check_every(every)).alias("ts") if every else pl.col(ts).alias("ts")
    aggs = [metric_expr(m).alias("value")]
    if m.min_count and m.min_count[0] in lf.collect_schema().names():
        aggs.append(pl.col(m.min_count[0]).cast(pl.Float64).sum().alias("__volume"))
    else:
        aggs.append(pl.lit(None, pl.Float64).alias("__volume"))
    return lf.group_by([key, *by]).agg(aggs).sort([*by, "ts"]).pipe(collect)  # streaming on a scan


def thin_points(frame: Frame, metric: str, *, ts: str = "ts", by: str | Sequence[str] | None = None,
                where: Mapping[str, object] | None = None, every: str | None = None) -> pl.DataFrame:
    """ts, by..., volume of the points below the metric's minimum count (none when it has no minimum)."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    by = list(by_columns(by, list(engine.schema(lf))))
    m = series_metric(lf, metric)
    out = _points(lf, m, ts=ts, by=by, where=where, every=every)
    if not m.min_count:
        return out.select("ts", *by, pl.col("__volume").alias("volume")).clear()
    return out.filter(pl.col("__volume") < m.min_count[1]).select("ts", *by, pl.col("__volume").alias("volume"))


def segment_options(frame: Frame, columns: Sequence[str], *, max_values: int = CATEGORIES_SHOWN) -> list[str]:
    """'All traffic' and one 'col=value' per value of each segment column: the page's segment picker."""
    options = ["All traffic"]
    for c in columns:
        options += [f"{c}={v}" for v in segment_values(frame, c, max_values=max_values)]
    return options


def parse_segment(option: str | None) -> dict[str, str]:
    """'geo=DE' -> {'geo': 'DE'}; 'All traffic' or '' -> {} (several parts joined by ',' are allowed)."""
    if not option or option == "All traffic":
        return {}
    out = {}
    for part in option.split(","):
        if "=" not in part:
            raise SeasonalityError(f"segment {option!r}: write COLUMN=VALUE, e.g. geo=DE")
        c, v = part.split("=", 1)
        out[c.strip()] = v.strip()
    return out


@dataclass(frozen=True)
class LowVolume:
    """Points of one series below the metric's minimum count (``column`` summing to less than ``least``)."""

    thin: int
    total: int
    column: str
    least: float

    @property
    def mostly(self) -> bool:
        """At least half the points are too thin to read: the series says little either way."""
        return self.total > 0 and self.thin * 2 >= self.total

    @property
    def sentence(self) -> str:
        return (f"{format_value(self.thin, 'count')} of {format_value(self.total, 'count')} points have fewer than "
                f"{format_value(self.least, 'count')} {self.column} behind them and are left out.")


def low_volume(frame: Frame, metric: str, *, by: str | Sequence[str] | None = None,
               where: Mapping[str, object] | None = None, every: str | None = None) -> LowVolume | None:
    """How many points of the series (per ``every`` and segment of ``by``) are below the metric's minimum count
    (None when none are)."""
    m = series_metric(frame, metric)
    if not m.min_count:
        return None
    thin = thin_points(frame, metric, by=by, where=where, every=every).height
    if not thin:
        return None
    total = metric_series(frame, m.min_count[0], by=by, where=where, every=every).height
    return LowVolume(thin, total, *m.min_count)
