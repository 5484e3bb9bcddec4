"""Metric series per segment from contract tables: counts, ratios of sums (CR, CPA, ...), means, null rates.

Everything is one polars group-by per call: rows -> (ts bucket, segment) aggregates -> metric. Ratios are
ratios of sums, never means of per-row ratios; a zero denominator gives a null (a missing step), never inf.

Metric names are read by the registry (``driftdesk.metrics``): a registered name (``cpa``, ``cr``, ``ctr``,
``roas``, ``conversions``, ``latency_p99_ms`` ...), ``sum:COL``, ``mean:COL``, ``max:COL``, ``null_rate:COL``,
``rate:NUM/DEN`` (sum NUM / sum DEN), or a bare column name (summed when it is a count or an amount, averaged
otherwise, e.g. ``queue_depth``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from driftdesk.metrics import Metric, metric_expr, resolve_metric
from driftdesk.seasonality.grid import SeasonalityError
from driftdesk.segments import by_columns, segment_values

Frame = pl.DataFrame | pl.LazyFrame


def series_metric(frame: Frame, metric: str) -> Metric:
    """The metric a name stands for on this frame (see the module docstring); a SeasonalityError if unknown."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    return resolve_metric(metric, columns=list(lf.collect_schema().names()), context="seasonality",
                          error=SeasonalityError)


def metric_series(frame: Frame, metric: str, *, ts: str = "ts", by: str | Sequence[str] | None = None,
                  where: Mapping[str, object] | None = None, every: str | None = None) -> pl.DataFrame:
    """ts, by..., value: one metric per time bucket (``every``, e.g. '1h' or '1d'; default the data's own
    timestamps) and segment, optionally filtered to one segment (``where={'geo': 'DE'}``)."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    columns = list(lf.collect_schema().names())
    by = list(by_columns(by, columns))
    for c in [ts, *by, *(where or {})]:
        if c not in columns:
            raise SeasonalityError(f"no column {c!r}; the table has {', '.join(columns)}")
    value = metric_expr(series_metric(lf, metric))
    for c, v in (where or {}).items():
        lf = lf.filter(pl.col(c).cast(pl.String) == str(v))
    key = pl.col(ts).dt.truncate(every).alias("ts") if every else pl.col(ts).alias("ts")
    out = lf.group_by([key, *by]).agg(value.alias("value")).sort([*by, "ts"]).collect()
    return out.with_columns(pl.col("value").cast(pl.Float64).fill_nan(None)).select("ts", *by, "value")


def segment_options(frame: Frame, columns: Sequence[str], *, max_values: int = 50) -> list[str]:
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
