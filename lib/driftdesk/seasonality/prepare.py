"""From a frame of rows to checked series on regular grids: the columns, the periods that fit each series, the
series that are empty, too short or constant (a verdict, not an exception), the calendar mask, and the groups
of equal grids that share one linear STL operator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk.seasonality.calendar import CalendarDay, calendar_mask
from driftdesk.seasonality.config import DetectConfig, warmup_steps
from driftdesk.seasonality.grid import (
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
from driftdesk.seasonality.verdicts import too_short_sentence
from driftdesk.segments import by_columns

Frame = pl.DataFrame | pl.LazyFrame


@dataclass
class PreparedSeries:
    """One series of the input: its key (values of the ``by`` columns), its input rows and its grid, the
    periods it is fitted with, or the reason it is not (``special``: status and sentence)."""

    key: dict
    rows: np.ndarray  # row ids in the input
    grid: Grid | None
    periods: tuple[int, ...] = ()
    dropped: tuple[str, ...] = ()
    special: tuple[str, str] | None = None
    calendar: np.ndarray | None = None
    log_offset: float = 0.0


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
    return periods


def prepare_series(frame: Frame, *, ts: str, value: str, by, periods, source: str,
                   calendar: Sequence[CalendarDay], scope: Mapping[str, object],
                   causal: bool = False) -> tuple[pl.DataFrame, list[PreparedSeries], tuple]:
    """(rows with ``__row``, the by columns, ``__ts`` and ``__v``; one PreparedSeries per key; the by columns)."""
    df = as_frame(frame)
    by = by_columns(by, df.columns)
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise SeasonalityError(f"{source}: no column {missing[0]!r} to split series by; columns are {', '.join(df.columns[:20])}")
    if value == ts or value in by:
        raise SeasonalityError(f"{source}: the value column {value!r} is also the timestamp or a split column")
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
        if g.height == 1:
            s.special = ("too_short", "one row: too short to tell the sampling interval or any seasonality")
            continue
        label = "" if not by else " (series " + ", ".join(f"{c}={key[c]}" for c in by) + ")"
        s.grid = to_grid(g["__ts"].to_numpy(), vals, ts=ts, source=source, label=label)
        _choose_periods(s, periods, causal=causal)
        finite = s.grid.values[s.grid.present]
        if s.special is None and np.ptp(finite) == 0:
            s.special = ("constant", f"constant at {finite[0]:g}: no seasonality or drift to find")
        s.calendar = calendar_mask(s.grid, calendar, {**dict(scope), **key})
    return base, series, by


def _choose_periods(s: PreparedSeries, periods: tuple[int, ...] | None, *, causal: bool) -> None:
    """The periods series ``s`` is fitted with: those asked for (or the defaults) that two cycles of fit in it.
    Asked for explicitly, or causal (the model may not depend on how much data comes later), a period that
    does not fit makes the series too short instead of being dropped."""
    grid = s.grid
    wanted = periods if periods is not None else default_periods(grid.step)
    fits = tuple(p for p in wanted if grid.n >= 2 * p)
    if (periods is not None or causal) and len(fits) < len(wanted):
        p = max(x for x in wanted if x not in fits)
        s.special = ("too_short", too_short_sentence(p, grid.step, grid.n))
    elif not wanted:
        s.special = ("too_short", f"no default seasonal period for data sampled {describe_step(grid.step)}; "
                                  "pass the periods explicitly (--period N)")
    elif not fits:
        s.special = ("too_short", too_short_sentence(min(wanted), grid.step, grid.n))
    else:
        s.periods = fits
        s.dropped = tuple(f"{period_words(p, grid.step)} seasonality not separated: need "
                          f"{span_words(2 * p, grid.step)}, have {span_words(grid.n, grid.step)}"
                          for p in wanted if p not in fits)


def group_series(series: Sequence[PreparedSeries], config: DetectConfig) -> dict[tuple, list[PreparedSeries]]:
    """Series to fit, grouped by equal grid, periods and scale: (start, step, n, periods, log) -> members.

    Strictly positive metrics (volumes, rates, CPA, latency) are modelled on the log scale: seasonality and
    shifts are multiplicative there, and a doubling is the same shift at the peak and at night. Decided on the
    warm-up only, so the causal mode stays causal; log(max(y, 0) + c), c a thousandth of the warm-up's median,
    so a later zero (an outage) stays visible."""
    groups: dict[tuple, list[PreparedSeries]] = {}
    for s in series:
        if s.special is not None:
            continue
        head = s.grid.values[:warmup_steps(s.periods)]
        head = head[np.isfinite(head)]
        use_log = head.size > 0 and (config.log is True or (config.log == "auto" and bool((head > 0).all())))
        s.log_offset = 1e-3 * float(np.median(np.abs(head))) if use_log else 0.0
        groups.setdefault((s.grid.start, s.grid.step, s.grid.n, s.periods, use_log), []).append(s)
    return groups
