"""From rows to a regular time grid, checking what statsmodels' STL would silently get wrong.

STL needs equally spaced values with no gaps and no NaN. Here each series is checked and put on a grid:
duplicate timestamps and irregular spacing are errors (with a few offending rows, and a hint when they
look like a daylight-saving change in local-time input); missing steps and null values are kept as NaN on
the grid (filled later for fitting, never scored); long gaps are reported as data breaks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk.errors import DriftdeskError

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
MAX_EXAMPLES = 5


class SeasonalityError(DriftdeskError):
    """A series cannot be decomposed as given: names the column, the rule and a few offending rows."""


@dataclass(frozen=True)
class Grid:
    """One series on a regular grid: position i is start + i * step; NaN where a step has no finite value."""

    start: dt.datetime
    step: dt.timedelta
    values: np.ndarray  # float, length n, NaN = missing / null / non-finite
    row_pos: np.ndarray  # grid position of every input row (input order)
    n_rows: int

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def present(self) -> np.ndarray:
        return np.isfinite(self.values)

    def timestamps(self) -> np.ndarray:
        step_us = int(self.step / dt.timedelta(microseconds=1))
        return np.datetime64(self.start, "us") + np.arange(self.n) * np.timedelta64(step_us, "us")


def describe_step(step: dt.timedelta) -> str:
    if step % DAY == dt.timedelta(0):
        d = step // DAY
        return "daily" if d == 1 else f"every {d} days"
    if step % HOUR == dt.timedelta(0):
        h = step // HOUR
        return "hourly" if h == 1 else f"every {h} hours"
    minutes = step.total_seconds() / 60
    return f"every {minutes:g} minutes"


def default_periods(step: dt.timedelta) -> tuple[int, ...]:
    """Daily and weekly cycles in steps for sub-daily data (hourly: 24, 168); weekly (7) for daily data."""
    if step <= dt.timedelta(0):
        return ()
    if step < DAY:
        per_day = DAY / step
        if per_day != int(per_day):
            return ()
        return (int(per_day), int(per_day) * 7)
    if step == DAY:
        return (7,)
    if step == WEEK:
        return (52,)
    return ()


def period_words(period: int, step: dt.timedelta) -> str:
    span = step * period
    if span == DAY:
        return "daily"
    if span == WEEK:
        return "weekly"
    if span % DAY == dt.timedelta(0):
        return f"{span // DAY}-day"
    return f"{period}-step"


def span_words(steps: int, step: dt.timedelta) -> str:
    span = step * steps
    if span >= DAY and span % DAY == dt.timedelta(0):
        d = span // DAY
        return f"{d} day" + ("s" if d != 1 else "")
    if span >= DAY:
        return f"{span / DAY:.1f} days"
    h = span / HOUR
    return f"{h:g} hour" + ("s" if h != 1 else "")


def _fmt_ts(value) -> str:
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").astype(dt.datetime)
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else str(value)


def timestamp_expr(frame: pl.DataFrame, ts: str, *, source: str = "input") -> pl.Expr:
    """The ts column as naive UTC Datetime('us'): offsets converted, naive treated as UTC, text parsed."""
    if ts not in frame.columns:
        raise SeasonalityError(f"{source}: no column {ts!r} for the timestamps; columns are {', '.join(frame.columns[:20])}")
    dtype = frame.schema[ts]
    col = pl.col(ts)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            return col.dt.convert_time_zone("UTC").dt.replace_time_zone(None).dt.cast_time_unit("us")
        return col.dt.cast_time_unit("us")
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us"))
    if dtype.is_numeric():
        from driftdesk.contract import EPOCH_RULE, epoch_expr, epoch_unit

        unit = epoch_unit(frame[ts])
        if unit is None:
            ex = ", ".join(repr(x) for x in frame[ts].head(MAX_EXAMPLES).to_list())
            raise SeasonalityError(f"{source}: column {ts!r}: {EPOCH_RULE}, e.g. {ex}")
        return epoch_expr(ts, unit)
    if dtype == pl.String:
        from driftdesk.contract import _parse_text_ts

        parsed, _, blank = _parse_text_ts(ts)
        check = frame.select(parsed.alias("p"), blank.alias("b"), col).with_row_index("row", offset=1)
        bad = check.filter(pl.col("p").is_null() & ~pl.col("b"))
        if bad.height:
            ex = "; ".join(f"row {r['row']}: {r[ts]!r}" for r in bad.head(MAX_EXAMPLES).to_dicts())
            raise SeasonalityError(f"{source}: column {ts!r}: cannot read {bad.height} timestamps as ISO 8601, e.g. {ex}")
        return parsed
    raise SeasonalityError(f"{source}: column {ts!r} has type {dtype}, expected timestamps (datetime or ISO 8601 text)")


def value_expr(frame: pl.DataFrame, value: str, *, source: str = "input") -> pl.Expr:
    """The value column as Float64; text that is not a number is an error naming rows."""
    if value not in frame.columns:
        raise SeasonalityError(f"{source}: no column {value!r} for the values; columns are {', '.join(frame.columns[:20])}")
    dtype = frame.schema[value]
    if dtype.is_numeric() or dtype == pl.Boolean:
        return pl.col(value).cast(pl.Float64)
    if dtype == pl.String:
        parsed = pl.col(value).str.strip_chars().cast(pl.Float64, strict=False)
        bad = frame.with_row_index("row", offset=1).filter(parsed.is_null() & pl.col(value).is_not_null()
                                                           & (pl.col(value).str.strip_chars() != ""))
        if bad.height:
            ex = "; ".join(f"row {r['row']}: {r[value]!r}" for r in bad.head(MAX_EXAMPLES).to_dicts())
            raise SeasonalityError(f"{source}: column {value!r}: {bad.height} values are not numbers, e.g. {ex}")
        return parsed
    if dtype == pl.Null:
        return pl.col(value).cast(pl.Float64)
    raise SeasonalityError(f"{source}: column {value!r} has type {dtype}, expected numbers")


def _dst_hint(ts_sorted: np.ndarray) -> str:
    """A hint when duplicates or gaps sit at 01:00-03:00 on a spring/autumn Sunday: local time with DST."""
    for value in ts_sorted[:MAX_EXAMPLES]:
        d = value.astype("datetime64[us]").astype(dt.datetime)
        if d.weekday() == 6 and d.month in (3, 4, 10, 11) and 0 <= d.hour <= 3:
            return (" This looks like local time across a daylight-saving change: give timestamps in UTC or with "
                    "their offset (e.g. 2026-10-25T02:00+02:00).")
    return ""


def _calendar_hint(diffs_us: np.ndarray) -> str:
    """A hint when the steps are calendar months, quarters or years: those differ in length, and the grid is fixed."""
    days = diffs_us / 86_400e6
    for low, high, what in ((28, 31, "months"), (89, 92, "quarters"), (365, 366, "years")):
        if ((days >= low) & (days <= high)).all():
            return (f" The steps look like calendar {what}, which differ in length: the seasonality module needs a "
                    f"fixed step (hours, days or weeks), so use daily or weekly data for this series.")
    return ""


def infer_step(ts_sorted: np.ndarray, *, ts: str, source: str, label: str = "") -> dt.timedelta:
    """The sampling interval: the most common spacing; every spacing must be a whole multiple of it."""
    diffs = np.diff(ts_sorted.astype("datetime64[us]").astype(np.int64))
    where = f"{source}: column {ts!r}{label}"
    if len(diffs) == 0:
        raise SeasonalityError(f"{where}: a single timestamp, cannot tell the sampling interval")
    dup = np.flatnonzero(diffs == 0)
    if len(dup):
        times = ts_sorted[dup]
        ex = ", ".join(sorted({_fmt_ts(t) for t in times[:MAX_EXAMPLES]}))
        raise SeasonalityError(f"{where}: {len(dup)} duplicate timestamps (one value per step is needed), e.g. {ex}."
                               + _dst_hint(times))
    values, counts = np.unique(diffs, return_counts=True)
    step_us = int(values[np.argmax(counts)])
    off = np.flatnonzero(diffs % step_us != 0)
    if len(off):
        ex = ", ".join(f"{_fmt_ts(ts_sorted[i])} -> {_fmt_ts(ts_sorted[i + 1])}" for i in off[:MAX_EXAMPLES])
        step = dt.timedelta(microseconds=step_us)
        raise SeasonalityError(f"{where}: irregular spacing: most steps are {describe_step(step)} but {len(off)} "
                               f"are not a whole multiple of it, e.g. {ex}. Aggregate to a regular grid first."
                               + (_calendar_hint(diffs) or _dst_hint(ts_sorted[off])))
    return dt.timedelta(microseconds=step_us)


def to_grid(ts_values: np.ndarray, values: np.ndarray, *, ts: str, source: str, label: str = "",
            step: dt.timedelta | None = None) -> Grid:
    """Put one series (numpy datetime64 timestamps, float values in input order) on its regular grid."""
    ts_values = np.asarray(ts_values).astype("datetime64[us]")
    if np.isnat(ts_values).any():
        rows = np.flatnonzero(np.isnat(ts_values))[:MAX_EXAMPLES] + 1
        raise SeasonalityError(f"{source}: column {ts!r}{label}: {int(np.isnat(ts_values).sum())} empty timestamps, "
                               f"e.g. rows {', '.join(map(str, rows))}")
    order = np.argsort(ts_values, kind="stable")
    ts_sorted = ts_values[order]
    if step is None:
        step = infer_step(ts_sorted, ts=ts, source=source, label=label)
    step_us = np.int64(step / dt.timedelta(microseconds=1))
    start = ts_sorted[0]
    pos = ((ts_values - start).astype(np.int64) // step_us).astype(np.int64)
    n = int(pos.max()) + 1 if len(pos) else 0
    grid = np.full(n, np.nan)
    v = np.asarray(values, dtype=float)
    v = np.where(np.isfinite(v), v, np.nan)
    grid[pos] = v
    return Grid(start.astype(dt.datetime), step, grid, pos, len(pos))


def gaps(grid: Grid, *, min_steps: int = 1) -> list[tuple[int, int]]:
    """Runs of missing grid positions [a, b) of at least min_steps."""
    missing = ~grid.present
    if not missing.any():
        return []
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops) if b - a >= min_steps]


def usable_periods(n: int, periods: Sequence[int]) -> tuple[int, ...]:
    """Periods with at least two whole cycles in n steps (STL cannot separate a cycle seen once)."""
    return tuple(p for p in sorted(periods) if p >= 2 and n >= 2 * p)
