"""Metric series per segment from contract tables: counts, ratios of sums (CR, CPA, ...), means, null rates.

Everything is one polars group-by per call: rows -> (ts bucket, segment) aggregates -> metric. Ratios are
ratios of sums, never means of per-row ratios; a zero denominator gives a null (a missing step), never inf.

Metric names: a name from ``METRICS`` (``cpa``, ``cr``, ``ctr``, ``cpc``, ``roas``, ``conversions``, ...),
``sum:COL``, ``mean:COL``, ``max:COL``, ``null_rate:COL``, ``rate:NUM/DEN`` (sum NUM / sum DEN), or a bare
column name (summed when it is a count or an amount, averaged otherwise, e.g. ``latency_p99_ms``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from driftdesk.seasonality.grid import SeasonalityError
from driftdesk.segments import by_columns

Frame = pl.DataFrame | pl.LazyFrame

METRICS: dict[str, tuple[str, ...]] = {
    "impressions": ("sum", "impressions"),
    "clicks": ("sum", "clicks"),
    "conversions": ("sum", "conversions"),
    "spend": ("sum", "spend"),
    "revenue": ("sum", "revenue"),
    "ctr": ("rate", "clicks", "impressions"),
    "cr": ("rate", "conversions", "clicks"),
    "cpa": ("rate", "spend", "conversions"),
    "cpc": ("rate", "spend", "clicks"),
    "roas": ("rate", "revenue", "spend"),
}
METRIC_LABELS = {
    "impressions": "Impressions", "clicks": "Clicks", "conversions": "Conversions", "spend": "Spend",
    "revenue": "Revenue", "ctr": "CTR (clicks / impressions)", "cr": "Conversion rate (conversions / clicks)",
    "cpa": "CPA (spend / conversions)", "cpc": "CPC (spend / clicks)", "roas": "ROAS (revenue / spend)",
}
SUMMABLE = ("impressions", "clicks", "conversions", "spend", "revenue", "requests", "errors", "timeouts", "cost",
            "calls", "input_tokens", "output_tokens", "tokens")


def parse_metric(metric: str, columns: Sequence[str]) -> tuple[str, ...]:
    """('sum', col) / ('mean', col) / ('max', col) / ('null_rate', col) / ('rate', num, den)."""
    name = metric.strip()
    if name in METRICS:
        spec = METRICS[name]
    elif ":" in name:
        how, arg = name.split(":", 1)
        if how == "rate":
            if "/" not in arg:
                raise SeasonalityError(f"metric {metric!r}: write rate:NUMERATOR/DENOMINATOR, e.g. rate:clicks/impressions")
            num, den = (a.strip() for a in arg.split("/", 1))
            spec = ("rate", num, den)
        elif how in ("sum", "mean", "max", "null_rate"):
            spec = (how, arg.strip())
        else:
            raise SeasonalityError(f"metric {metric!r}: unknown aggregation {how!r}; use sum, mean, max, null_rate or rate")
    elif name in columns:
        spec = ("sum" if name in SUMMABLE else "mean", name)
    else:
        raise SeasonalityError(f"unknown metric {metric!r}: use one of {', '.join(METRICS)}, a column name, "
                               f"or sum:/mean:/max:/null_rate:COL, rate:NUM/DEN")
    missing = [c for c in spec[1:] if c not in columns]
    if missing:
        raise SeasonalityError(f"metric {metric!r} needs the column {missing[0]!r}; the table has {', '.join(columns)}")
    return spec


def _agg(spec: tuple[str, ...]) -> pl.Expr:
    how = spec[0]
    if how == "rate":
        num, den = pl.col(spec[1]).cast(pl.Float64).sum(), pl.col(spec[2]).cast(pl.Float64).sum()
        return pl.when(den != 0).then(num / den).otherwise(None)
    col = pl.col(spec[1])
    if how == "null_rate":
        return col.is_null().mean().cast(pl.Float64)
    col = col.cast(pl.Float64)
    return {"sum": col.sum(), "mean": col.mean(), "max": col.max()}[how]


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
    spec = parse_metric(metric, columns)
    for c, v in (where or {}).items():
        lf = lf.filter(pl.col(c).cast(pl.String) == str(v))
    key = pl.col(ts).dt.truncate(every).alias("ts") if every else pl.col(ts).alias("ts")
    out = lf.group_by([key, *by]).agg(_agg(spec).alias("value")).sort([*by, "ts"]).collect()
    return out.with_columns(pl.col("value").fill_nan(None)).select("ts", *by, "value")


def segment_options(frame: Frame, columns: Sequence[str], *, max_values: int = 50) -> list[str]:
    """'All traffic' and one 'col=value' per value of each segment column: the page's segment picker."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    options = ["All traffic"]
    for c in columns:
        values = lf.select(pl.col(c).cast(pl.String).unique().sort()).collect()[c].drop_nulls().to_list()
        options += [f"{c}={v}" for v in values[:max_values]]
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
