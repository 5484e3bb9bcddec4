"""From rows to a regular time grid, checking what statsmodels' STL would silently get wrong.

STL needs equally spaced values with no gaps and no NaN. Here each series is put on a grid, and what that took
is counted (``GridNotes``): rows that repeat a timestamp (a clock change, a double scrape) are combined into one
value per step (``duplicates``: mean, sum, first or last); a series whose spacing is not a whole multiple of one
step (sensors that report every 5 minutes, give or take) is put on a regular grid at its typical step (the median
spacing rounded to a round step), values combined within each step and empty steps left as gaps. Missing steps and
null values are NaN on the grid (filled later for fitting, never scored); long gaps are reported as data breaks.
``strict=True`` refuses duplicates and irregular spacing instead (with a few offending rows, and a hint when they
look like a daylight-saving change in local-time input).

Counts (events per step) are combined by the same rule, and whether a series holds counts is judged on its rows
before combining (``Grid.whole``): the mean of two rows of one step, 3 and 4, is 3.5 and still a count. The
regridded step is the rows' typical spacing, so each row counts about one step's events: jitter puts two rows in
one step and leaves the next empty, a gap. Their mean is the step's count; their sum would hold two steps' events
in one (a point near +100% beside a gap, and a level biased up, as gaps are not zeros). ``duplicates="sum"`` is
for rows that split one step's events between them (shards of one counter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk.errors import DriftdeskError
from driftdesk.seasonality.scales import is_counts

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
MAX_EXAMPLES = 5


class SeasonalityError(DriftdeskError):
    """A series cannot be decomposed as given: names the column, the rule and a few offending rows."""


DUPLICATE_RULES = ("mean", "sum", "first", "last")
# a grid holds at most this many steps per distinct timestamp (and MAX_GRID in all): a series whose steps vary by
# orders of magnitude is put on a coarser grid rather than on millions of empty steps
MAX_STEPS_PER_ROW, MAX_GRID = 50, 2_000_000
# calendar months, quarters and years differ in length: such a series is put on a grid of their mean length, each
# row at its nearest position (so the n-th month is the n-th step), and said so
CALENDAR_STEPS = {"months": dt.timedelta(days=30.436875), "quarters": dt.timedelta(days=91.310625),
                  "years": dt.timedelta(days=365.2425)}
ROUND_STEPS = tuple(dt.timedelta(seconds=s) for s in (
    1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400,
    7 * 86400))


@dataclass(frozen=True)
class GridNotes:
    """What putting one series on its grid took: rows combined because they repeat a timestamp, and whether the
    series was regridded from irregular spacing (its typical step, rows off that step, steps left empty)."""

    rule: str = "mean"
    duplicate_rows: int = 0  # rows that repeat an earlier row's timestamp (combined into its step)
    duplicate_examples: tuple[str, ...] = ()
    regridded: bool = False
    off_step_rows: int = 0  # rows whose spacing from the previous one was no whole multiple of the grid step
    combined_rows: int = 0  # rows that share a step with another (after regridding), combined by ``rule``
    empty_steps: int = 0
    calendar: str = ""  # "months", "quarters" or "years": one step per calendar unit

    def sentences(self, step: dt.timedelta) -> list[str]:
        out = []
        if self.calendar:
            out.append(f"calendar {self.calendar} taken as steps of {step / DAY:g} days, each row at its nearest step")
        if self.duplicate_rows:
            ex = ", ".join(self.duplicate_examples)
            out.append(f"{self.duplicate_rows} row{'s' if self.duplicate_rows != 1 else ''} with a repeated "
                       f"timestamp combined ({self.rule}), e.g. {ex}")
        if self.regridded and not self.calendar:
            out.append(f"irregular spacing put on a regular grid ({describe_step(step)}; {self.off_step_rows} rows off the "
                       f"step; {self.combined_rows} rows combined ({self.rule}) within a step; "
                       f"{self.empty_steps} empty steps left as gaps)")
        return out


@dataclass(frozen=True)
class Grid:
    """One series on a regular grid: position i is start + i * step; NaN where a step has no finite value. A
    regridded step is stamped at its end and holds the rows after the step before it, so its value is known at its
    stamp; ``known_pos`` is then, per row, the last step complete at the row's own time (its step, if the row
    is the step's end; the one before otherwise; -1 before the first), which is all the causal mode may show on
    that row."""

    start: dt.datetime
    step: dt.timedelta
    values: np.ndarray  # float, length n, NaN = missing / null / non-finite
    row_pos: np.ndarray  # grid position of every input row (input order)
    n_rows: int
    notes: GridNotes = GridNotes()
    known_pos: np.ndarray | None = None  # per row (input order); None: every row is its step's end (row_pos)
    # per step: every finite row combined into it was a non-negative whole number (True for a step without rows),
    # so whether a series holds counts is judged on its rows, not on their means
    whole: np.ndarray | None = None

    def known_positions(self) -> np.ndarray:
        return self.row_pos if self.known_pos is None else self.known_pos

    def holds_counts(self, steps: int) -> bool:
        """Its first ``steps`` steps hold a value and every row in them is a non-negative whole number (events
        counted per step): judged on the rows, so the mean of two counts (3.5) leaves a series of counts counts."""
        head = self.values[:steps]
        if self.whole is None:
            return is_counts(head)
        return bool(np.isfinite(head).any() and self.whole[:steps].all())

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
    for what, length in CALENDAR_STEPS.items():
        if step == length:
            return {"months": "monthly", "quarters": "quarterly", "years": "yearly"}[what]
    if step % DAY == dt.timedelta(0):
        d = step // DAY
        return "daily" if d == 1 else f"every {d} days"
    if step % HOUR == dt.timedelta(0):
        h = step // HOUR
        return "hourly" if h == 1 else f"every {h} hours"
    if step < dt.timedelta(minutes=1):
        return f"every {step.total_seconds():g} seconds"
    minutes = step.total_seconds() / 60
    return "every minute" if minutes == 1 else f"every {minutes:g} minutes"


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
    if step == CALENDAR_STEPS["months"]:
        return (12,)
    if step == CALENDAR_STEPS["quarters"]:
        return (4,)
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


def _calendar_unit(diffs_us: np.ndarray) -> str:
    """'months', 'quarters' or 'years' when every step is one of those (they differ in length), else ''."""
    days = diffs_us / 86_400e6
    for low, high, what in ((28, 31, "months"), (89, 92, "quarters"), (365, 366, "years")):
        if ((days >= low) & (days <= high)).all():
            return what
    return ""


def _calendar_hint(diffs_us: np.ndarray) -> str:
    """A hint when the steps are calendar months, quarters or years: those differ in length."""
    what = _calendar_unit(diffs_us)
    if not what:
        return ""
    return (f" The steps look like calendar {what}, which differ in length: leave strict off to take each as one "
            f"step of {CALENDAR_STEPS[what] / DAY:g} days, or use daily or weekly data for this series.")


def _examples(ts_sorted: np.ndarray, idx: np.ndarray) -> tuple[str, ...]:
    return tuple(sorted({_fmt_ts(t) for t in ts_sorted[idx[:MAX_EXAMPLES]]}))


def round_step(spacing_us: float) -> dt.timedelta:
    """The round step (1 s, 5 s, ..., 1, 5, 15 minutes, 1 hour, ..., a day, a week) nearest a typical spacing."""
    us = np.array([r / dt.timedelta(microseconds=1) for r in ROUND_STEPS])
    return ROUND_STEPS[int(np.argmin(np.abs(np.log(us / max(spacing_us, 1.0)))))]


def infer_step(ts_sorted: np.ndarray, *, ts: str, source: str, label: str = "",
               strict: bool = True) -> tuple[dt.timedelta, bool]:
    """(the sampling interval, whether the series must be regridded). Regular: the most common spacing between
    distinct timestamps, every spacing a whole multiple of it. Calendar months, quarters or years: their mean
    length. Otherwise the median spacing rounded to a round step (``strict``: an error naming a few rows).
    Duplicates are for the caller (``to_grid``)."""
    diffs = np.diff(ts_sorted.astype("datetime64[us]").astype(np.int64))
    where = f"{source}: column {ts!r}{label}"
    if len(diffs) == 0:
        raise SeasonalityError(f"{where}: a single timestamp, cannot tell the sampling interval")
    positive = diffs[diffs > 0]
    if positive.size == 0:
        raise SeasonalityError(f"{where}: every row has the same timestamp, cannot tell the sampling interval")
    values, counts = np.unique(positive, return_counts=True)
    step_us = int(values[np.argmax(counts)])
    off = np.flatnonzero((diffs > 0) & (diffs % step_us != 0))
    if not len(off):
        return dt.timedelta(microseconds=step_us), False
    unit = _calendar_unit(positive)
    if unit and not strict:
        return CALENDAR_STEPS[unit], True
    if strict:
        ex = ", ".join(f"{_fmt_ts(ts_sorted[i])} -> {_fmt_ts(ts_sorted[i + 1])}" for i in off[:MAX_EXAMPLES])
        step = dt.timedelta(microseconds=step_us)
        raise SeasonalityError(f"{where}: irregular spacing: most steps are {describe_step(step)} but {len(off)} "
                               f"are not a whole multiple of it, e.g. {ex}. Aggregate to a regular grid first, or "
                               "leave strict off to have it regridded at its typical step."
                               + (_calendar_hint(positive) or _dst_hint(ts_sorted[off])))
    return round_step(float(np.median(positive))), True


def _combine(pos: np.ndarray, values: np.ndarray, n: int, rule: str) -> np.ndarray:
    """One value per grid step from the rows in it (``pos`` in time order): mean, sum, first or last of the
    finite values; NaN where a step has none."""
    ok = np.isfinite(values)
    out = np.full(n, np.nan)
    if rule in ("mean", "sum"):
        total = np.bincount(pos[ok], weights=values[ok], minlength=n)
        count = np.bincount(pos[ok], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(count > 0, total / count if rule == "mean" else total, np.nan)
        return out
    p, v = pos[ok], values[ok]
    if rule == "last":
        p, v = p[::-1], v[::-1]
    first = np.unique(p, return_index=True)[1]
    out[p[first]] = v[first]
    return out


def _whole_steps(pos: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per step: no finite row in it is negative or fractional."""
    ok = np.isfinite(values)
    bad = ok & ((values < 0) | (values != np.round(values)))
    return np.bincount(pos[bad], minlength=n)[:n] == 0


def to_grid(ts_values: np.ndarray, values: np.ndarray, *, ts: str, source: str, label: str = "",
            step: dt.timedelta | None = None, duplicates: str = "mean", strict: bool = False) -> Grid:
    """Put one series (numpy datetime64 timestamps, float values in input order) on its regular grid: rows that
    repeat a timestamp combined by ``duplicates``, irregular spacing regridded at the typical step (both counted
    in ``Grid.notes``); ``strict`` refuses either instead."""
    if duplicates not in DUPLICATE_RULES:
        raise SeasonalityError(f"{source}: duplicates={duplicates!r}: choose one of {', '.join(DUPLICATE_RULES)}")
    ts_values = np.asarray(ts_values).astype("datetime64[us]")
    if np.isnat(ts_values).any():
        rows = np.flatnonzero(np.isnat(ts_values))[:MAX_EXAMPLES] + 1
        raise SeasonalityError(f"{source}: column {ts!r}{label}: {int(np.isnat(ts_values).sum())} empty timestamps, "
                               f"e.g. rows {', '.join(map(str, rows))}")
    order = np.argsort(ts_values, kind="stable")
    ts_sorted = ts_values[order]
    where = f"{source}: column {ts!r}{label}"
    repeated = np.flatnonzero(np.diff(ts_sorted.astype(np.int64)) == 0) + 1
    if len(repeated) and strict:
        raise SeasonalityError(f"{where}: {len(repeated)} duplicate timestamps (one value per step is needed), e.g. "
                               f"{', '.join(_examples(ts_sorted, repeated))}. Pass duplicates=mean|sum|first|last "
                               "(--duplicates) to combine them." + _dst_hint(ts_sorted[repeated]))
    regrid = False
    if step is None:
        step, regrid = infer_step(ts_sorted, ts=ts, source=source, label=label, strict=strict)
    start = ts_sorted[0]
    step_us = int(step / dt.timedelta(microseconds=1))
    span = int((ts_sorted[-1] - start).astype(np.int64))
    distinct = len(ts_sorted) - len(repeated)
    limit = min(MAX_GRID, MAX_STEPS_PER_ROW * max(distinct, 2))
    if span // step_us + 1 > limit:
        if strict:
            raise SeasonalityError(f"{where}: steps vary by orders of magnitude: a regular grid ({describe_step(step)}) over "
                                   f"{span_words(span // step_us, step)} would hold {span // step_us + 1:,} steps for "
                                   f"{distinct:,} timestamps; aggregate to a coarser step first")
        coarser = [r for r in ROUND_STEPS if span // int(r / dt.timedelta(microseconds=1)) + 1 <= limit]
        step = coarser[0] if coarser else ROUND_STEPS[-1]
        step_us, regrid = int(step / dt.timedelta(microseconds=1)), True
    unit = next((u for u, length in CALENDAR_STEPS.items() if step == length), "") if regrid else ""
    known = None
    if regrid and not unit:
        # round steps (whole multiples since the epoch, so series of one kind line up), each stamped at its end and
        # holding the rows in (end - step, end]: a step's value is known at its stamp, never before
        start = np.datetime64(-(-int(start.astype(np.int64)) // step_us) * step_us, "us")
        rel = (ts_values - start).astype(np.int64)
        pos, known = -(-rel // step_us), rel // step_us
    elif unit:  # the n-th month (quarter, year) is the n-th step
        pos = np.round((ts_values - start).astype(np.int64) / step_us).astype(np.int64)
    else:
        pos = ((ts_values - start).astype(np.int64) // step_us).astype(np.int64)
    n = int(pos.max()) + 1 if len(pos) else 0
    v = np.asarray(values, dtype=float)
    v = np.where(np.isfinite(v), v, np.nan)
    grid = _combine(pos[order], v[order], n, duplicates)
    per_step = np.bincount(pos, minlength=n)
    off = 0
    if regrid:
        d = np.diff(ts_sorted.astype(np.int64))
        off = int(((d > 0) & (d % step_us != 0)).sum())
    notes = GridNotes(
        rule=duplicates, duplicate_rows=len(repeated), duplicate_examples=_examples(ts_sorted, repeated),
        regridded=regrid, off_step_rows=off,
        combined_rows=int((per_step[per_step > 1] - 1).sum()) - len(repeated) if regrid else 0,
        empty_steps=int((per_step == 0).sum()) if regrid else 0, calendar=unit)
    return Grid(start.astype(dt.datetime), step, grid, pos, len(pos), notes, known, _whole_steps(pos, v, n))


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
