"""From a frame of rows to checked series on regular grids: the columns, the periods that fit each series, the
series that are empty, too short or constant (a verdict, not an exception), the calendar mask, and the groups
of equal grids that share one linear STL operator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk.bounds import PERIOD_STEPS
from driftdesk.seasonality.calendar import CalendarDay, calendar_mask
from driftdesk.seasonality.config import DetectConfig, warmup_steps
from driftdesk.seasonality.grid import (
    HOUR,
    Grid,
    SeasonalityError,
    default_periods,
    describe_step,
    period_words,
    span_words,
    timestamp_expr,
    to_grid,
    value_expr,
)
from driftdesk.seasonality.result import RESULT_COLUMNS
from driftdesk.seasonality.verdicts import too_short_sentence
from driftdesk.segments import by_columns

Frame = pl.DataFrame | pl.LazyFrame


@dataclass
class PreparedSeries:
    """One series of the input: its key (values of the ``by`` columns), its input rows and its grid, the
    periods it is fitted with, or the reason it is not (``special``: status and sentence)."""

    key: dict
    rows: np.ndarray  # row ids in the input
    grid: Grid | None  # the series on its own grid: every input row has a position on it
    periods: tuple[int, ...] = ()  # in steps of ``model``
    dropped: tuple[str, ...] = ()
    special: tuple[str, str] | None = None
    calendar: np.ndarray | None = None  # on ``model``
    log_offset: float = 0.0
    model: Grid | None = None  # the grid the model is fitted on: ``grid``, or its hourly means for finer data
    per_model_step: int = 1  # steps of ``grid`` in one step of ``model``
    level_only: bool = False  # no seasonal period: a robust level model
    declared_counts: bool | None = None  # DetectConfig.counts when not "auto"

    def model_grid(self) -> Grid:
        return self.model if self.model is not None else self.grid

    @property
    def counts(self) -> bool:
        """The series holds counts, judged on the rows of its warm-up before they were combined into steps (a
        later value cannot change how earlier points were judged, as for the log scale); or as declared
        (``DetectConfig.counts``)."""
        if self.declared_counts is not None:
            return self.declared_counts
        head = warmup_steps(self.periods, self.model_grid().step) * self.per_model_step
        return self.grid.holds_counts(head)


def as_frame(frame: Frame) -> pl.DataFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if isinstance(frame, pl.DataFrame):
        return frame
    raise SeasonalityError(f"expected a polars DataFrame or LazyFrame, got {type(frame).__name__}")


def period_list(periods, *, source: str) -> tuple[int, ...] | None:
    """Explicit periods (one int or several) sorted and checked; None for the defaults of the sampling interval."""
    if periods is None:
        return None
    periods = tuple(sorted({int(p) for p in ([periods] if isinstance(periods, int) else periods)}))
    bad = [p for p in periods if p < 2]
    if bad:
        raise SeasonalityError(f"{source}: --period must be at least 2 steps, got {bad[0]}")
    for p in periods:
        PERIOD_STEPS.check(p, where=f"{source}: --period", error=SeasonalityError)
    return periods


def prepare_series(frame: Frame, *, ts: str, value: str, by, periods, source: str,
                   calendar: Sequence[CalendarDay], scope: Mapping[str, object], causal: bool = False,
                   duplicates: str = "mean", strict: bool = False,
                   ) -> tuple[pl.DataFrame, list[PreparedSeries], tuple]:
    """(rows with ``__row``, the by columns, ``__ts`` and ``__v``; one PreparedSeries per key; the by columns)."""
    df = as_frame(frame)
    by = by_columns(by, df.columns)
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise SeasonalityError(f"{source}: no column {missing[0]!r} to split series by; columns are {', '.join(df.columns[:20])}")
    if value == ts or value in by:
        raise SeasonalityError(f"{source}: the value column {value!r} is also the timestamp or a split column")
    clash = [c for c in by if c in RESULT_COLUMNS]
    if clash:
        raise SeasonalityError(f"{source}: the split column {clash[0]!r} has the name of a column of the result "
                               f"(its {', '.join(sorted(RESULT_COLUMNS))}): rename it, e.g. {clash[0]}_")
    periods = period_list(periods, source=source)
    base = df.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"),
        *[pl.col(c) for c in by],
        timestamp_expr(df, ts, source=source).alias("__ts"),
        value_expr(df, value, source=source).alias("__v"),
    )
    groups = base.partition_by(list(by), maintain_order=True, as_dict=False) if by else [base]
    series = []
    for g in groups:
        key = {c: g[c][0] for c in by}
        s = PreparedSeries(key, g["__row"].to_numpy(), None)
        series.append(s)
        vals = g["__v"].to_numpy().astype(float)
        if g.height == 0 or not np.isfinite(vals).any():
            s.special = ("empty", f"no values: all {g.height} rows are null or not finite")
            continue
        stamps = g["__ts"].to_numpy()
        if g.height == 1 or (not strict and g["__ts"].n_unique() == 1):
            what = "one row" if g.height == 1 else f"all {g.height} rows share one timestamp"
            s.special = ("too_short", f"{what}: too short to tell the sampling interval or any seasonality")
            continue
        label = "" if not by else " (series " + ", ".join(f"{c}={key[c]}" for c in by) + ")"
        s.grid = to_grid(stamps, vals, ts=ts, source=source, label=label, duplicates=duplicates, strict=strict)
        wanted = _model_grid(s, periods, causal=causal)
        _choose_periods(s, wanted, explicit=periods is not None, causal=causal)
        finite = s.grid.values[s.grid.present]
        if s.special is None and np.ptp(finite) == 0:
            s.special = ("constant", f"constant at {finite[0]:g}: no seasonality or drift to find")
        s.calendar = calendar_mask(s.model_grid(), calendar, {**dict(scope), **key})
    return base, series, by


def _model_grid(s: PreparedSeries, periods: tuple[int, ...] | None, *, causal: bool) -> tuple[int, ...]:
    """Data finer than hourly (1 to 30 minutes) is modelled on hourly means: the drift tests and the seasonal
    fit need hours, not minutes, and a 4-week window of 5-minute steps would be 12 times as long (its operator
    144 times as large). Points are scored at full resolution against the hourly model later. Returns the
    periods wanted, in model steps (explicit periods in the data's steps are divided down when they can be).
    In causal mode an hour the data ends inside of is not over: it has no mean yet."""
    grid = s.grid
    k = HOUR // grid.step if grid.step < HOUR and HOUR % grid.step == dt.timedelta(0) else 1
    if k > 1 and (periods is None or all(p % k == 0 for p in periods)):
        s.per_model_step = k
        s.model = hourly_means(grid, k, unfinished=causal and grid.n % k != 0)
        return default_periods(HOUR) if periods is None else tuple(p // k for p in periods)
    return default_periods(grid.step) if periods is None else periods


def hourly_means(grid: Grid, k: int, *, unfinished: bool = False) -> Grid:
    """The means of each run of k steps (an hour) that has at least half its values; NaN otherwise, and for the
    last hour when it is ``unfinished`` (the data ends inside it)."""
    n = -(-grid.n // k)
    vals = np.full(n * k, np.nan)
    vals[:grid.n] = grid.values
    blocks = vals.reshape(n, k)
    count = np.isfinite(blocks).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(count * 2 >= k, np.nansum(blocks, axis=1) / np.maximum(count, 1), np.nan)
    if unfinished:
        means[-1] = np.nan
    known = None if grid.known_pos is None else (grid.known_pos + 1) // k - 1  # the last hour complete at a row
    return Grid(grid.start, grid.step * k, means, grid.row_pos // k, grid.n_rows, grid.notes, known)


MIN_LEVEL_POINTS = 8  # a level model needs a handful of values before it can tell one off


def _choose_periods(s: PreparedSeries, wanted: tuple[int, ...], *, explicit: bool, causal: bool) -> None:
    """The periods series ``s`` is fitted with. Asked for explicitly, a period that two cycles of do not fit in
    makes the series too short. Otherwise: in causal mode every default period, each joining the model once two
    of its cycles have been seen (the model at t may not depend on how much data comes after t); in batch mode
    those two cycles of fit in. With no period at all (none fits, or none for this sampling interval) a robust
    level model (median and MAD), if there are a handful of values."""
    grid = s.model_grid()
    fits = tuple(p for p in wanted if grid.n >= 2 * p)
    if explicit and len(fits) < len(wanted):
        p = max(x for x in wanted if x not in fits)
        s.special = ("too_short", too_short_sentence(p, grid.step, grid.n))
        return
    s.periods = wanted if causal else fits
    s.dropped = tuple(f"{period_words(p, grid.step)} seasonality not separated: need "
                      f"{span_words(2 * p, grid.step)}, have {span_words(grid.n, grid.step)}"
                      for p in wanted if p not in fits)
    if not wanted:
        s.dropped = (f"no default seasonal period for data sampled {describe_step(grid.step)} (pass the periods "
                     "explicitly, --period N): judged against a robust level",)
    if not s.periods or not fits:
        if int(grid.present.sum()) < MIN_LEVEL_POINTS:
            why = (too_short_sentence(min(wanted), grid.step, grid.n) if wanted else
                   f"{int(grid.present.sum())} values")
            s.special = ("too_short", f"{why}; fewer than {MIN_LEVEL_POINTS} values for a level model")
            return
        if not causal or not wanted:
            s.periods, s.level_only = (), True
            if wanted:
                s.dropped = (too_short_sentence(min(wanted), grid.step, grid.n) + ": judged against a robust level",)


def group_series(series: Sequence[PreparedSeries], config: DetectConfig) -> dict[tuple, list[PreparedSeries]]:
    """Series to fit, grouped by equal grid, periods and working scale: (start, step, n, periods, scale) ->
    members (``scales``).

    Strictly positive metrics (volumes, rates, CPA, latency) are modelled on the log scale: seasonality and
    shifts are multiplicative there, and a doubling is the same shift at the peak and at night. Decided on the
    warm-up only, so the causal mode stays causal; log(max(y, 0) + c), c a thousandth of the warm-up's median,
    so a later zero (an outage) stays visible. Counts finer than the model's step (events per 5 minutes) are
    modelled on the square-root scale instead: their points are judged on it (``fine``), their hourly means are
    mostly counting noise, whose width grows as the square root of the level (the log scale would make the
    quiet hours the noisiest), and the model's scores and its points' then agree."""
    groups: dict[tuple, list[PreparedSeries]] = {}
    for s in series:
        if s.special is not None:
            continue
        s.declared_counts = None if config.counts == "auto" else bool(config.counts)
        head = s.model_grid().values[:warmup_steps(s.periods, s.model_grid().step)]
        head = head[np.isfinite(head)]
        use_log = head.size > 0 and (config.log is True or (config.log == "auto" and bool((head > 0).all())))
        s.log_offset = 1e-3 * float(np.median(np.abs(head))) if use_log else 0.0
        scale = "log" if use_log else "linear"
        if config.log == "auto" and s.per_model_step > 1 and s.counts:
            scale, s.log_offset = "sqrt", 0.0
        grid = s.model_grid()
        groups.setdefault((grid.start, grid.step, grid.n, s.periods, scale), []).append(s)
    return groups
