"""Timestamps read as UTC: text with or without an offset, and numeric Unix epochs told apart by size.

Inside driftdesk every timestamp is a naive ``Datetime("us")`` in UTC. The contract and the seasonality module read
timestamps through these expressions, and the table proposal uses them to recognise a timestamp column.
"""

from __future__ import annotations

import polars as pl

_TZ_SUFFIX = r"(Z|z|[+-]\d{2}:?\d{2})$"
_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def parse_text_timestamps(col: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(parsed UTC naive datetime, has-offset flag, is-blank flag) for a text timestamp column."""
    s = (
        pl.col(col).cast(pl.String).str.strip_chars()
        .str.replace(r"\s*(?:UTC|GMT)$", "Z")  # BigQuery-style "2026-10-05 13:00:00 UTC"
        .str.replace(r"(\d)\s+([+-]\d{2}:?\d{2})$", "${1}${2}")  # "13:00:00 +0000"
        .str.replace(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([+-]\d{2})$", "${1}${2}:00")  # Postgres "13:00:00+00"
        .str.replace(r"(T?\d{2}:\d{2}:\d{2}),(\d+)", "${1}.${2}")  # ISO 8601's decimal comma: "13:00:04,588"
    )
    has_tz = s.str.contains(_TZ_SUFFIX)
    normal = s.str.replace(r"[Zz]$", "+00:00").str.replace(r"([+-]\d{2})(\d{2})$", "${1}:${2}")
    with_tz = pl.coalesce(
        [normal.str.strptime(pl.Datetime("us", "UTC"), f + "%:z", strict=False) for f in _FORMATS[:-1]]
    ).dt.replace_time_zone(None)
    naive = pl.coalesce([s.str.strptime(pl.Datetime("us"), f, strict=False) for f in _FORMATS])
    parsed = pl.when(has_tz).then(with_tz).otherwise(naive)
    blank = s.is_null() | (s == "")
    return parsed, has_tz, blank


# Unix epoch numbers by magnitude: 1973-03-03 to 2286-11-20 in seconds, milliseconds, microseconds or nanoseconds.
# A number between two ranges (1e10 seconds is already the year 2286) fits none: it is refused, never guessed.
_EPOCH_UNITS = ((1e8, 1e10, "s"), (1e11, 1e13, "ms"), (1e14, 1e16, "us"), (1e17, 1e19, "ns"))
EPOCH_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
EPOCH_RULE = ("numeric timestamps are read as Unix epoch time (UTC) in seconds (1e8 to 1e10), milliseconds, "
              "microseconds or nanoseconds (the same range times 1e3, 1e6, 1e9), told apart by size: 1973-03-03 to "
              "2286-11-20; these are not all in one of those ranges")


def epoch_unit(values: pl.Series) -> str | None:
    """The epoch unit every non-null value of a numeric timestamp column fits, or None (then it is no epoch)."""
    finite = values.cast(pl.Float64).drop_nulls()
    finite = finite.filter(finite.is_finite())
    if finite.is_empty():
        return None
    lo, hi = float(finite.min()), float(finite.max())
    return next((unit for a, b, unit in _EPOCH_UNITS if a <= lo and hi < b), None)


def likely_epoch_range(values: pl.Series) -> tuple[str, float, float] | None:
    """(unit, low, high) of the epoch range the column's median falls in, or None: when most values are epoch times
    of one unit, the others are out of range (named row by row) rather than the column being no timestamp."""
    finite = values.cast(pl.Float64).drop_nulls()
    finite = finite.filter(finite.is_finite())
    if finite.is_empty():
        return None
    middle = float(finite.median())
    return next(((unit, a, b) for a, b, unit in _EPOCH_UNITS if a <= middle < b), None)


def epoch_expr(col: str, unit: str) -> pl.Expr:
    """A numeric epoch column as naive UTC Datetime('us')."""
    scale = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}[unit]
    return (pl.col(col).cast(pl.Float64) * scale).round(0).cast(pl.Int64).cast(pl.Datetime("us"))
