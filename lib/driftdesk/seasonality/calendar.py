"""Calendar days (holidays, promotions): days that are calendar, not drift. Read from a frame or a list of
dates, and turned into a mask over one series' grid, limited to the series a day's segment names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk.seasonality.grid import Grid, SeasonalityError

CalendarInput = pl.DataFrame | Iterable | None


@dataclass(frozen=True)
class CalendarDay:
    """A holiday or promotion day (UTC date); ``segment`` like {'geo': 'US'} limits it to matching series."""

    date: dt.date
    segment: tuple[tuple[str, str], ...] = ()

    def applies_to(self, key: Mapping[str, object]) -> bool:
        return all(str(key[c]) == v for c, v in self.segment if c in key)


def _parse_segment(text) -> tuple[tuple[str, str], ...]:
    if text is None:
        return ()
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    out = []
    for p in parts:
        if "=" in p:
            c, v = p.split("=", 1)
            out.append((c.strip(), v.strip()))
    return tuple(out)


def calendar_days(calendar: CalendarInput) -> tuple[CalendarDay, ...]:
    """Normalise a calendar: a frame with ``date`` (and optional ``segment``), or a list of dates / ISO strings."""
    if calendar is None:
        return ()
    if isinstance(calendar, pl.LazyFrame):
        calendar = calendar.collect()
    if isinstance(calendar, pl.DataFrame):
        if "date" not in calendar.columns:
            raise SeasonalityError(f"calendar: needs a 'date' column; it has {', '.join(calendar.columns)}")
        dates = calendar["date"]
        if dates.dtype == pl.String:
            dates = dates.str.slice(0, 10).str.to_date(strict=False)
        elif isinstance(dates.dtype, pl.Datetime):
            dates = dates.dt.date()
        segs = calendar["segment"].to_list() if "segment" in calendar.columns else [None] * calendar.height
        return tuple(CalendarDay(d, _parse_segment(s)) for d, s in zip(dates.to_list(), segs) if d is not None)
    out = []
    for item in calendar:
        if isinstance(item, CalendarDay):
            out.append(item)
        elif isinstance(item, dt.datetime):
            out.append(CalendarDay(item.date()))
        elif isinstance(item, dt.date):
            out.append(CalendarDay(item))
        else:
            try:
                out.append(CalendarDay(dt.date.fromisoformat(str(item).strip()[:10])))
            except ValueError as exc:
                raise SeasonalityError(f"calendar: cannot read {item!r} as a date (YYYY-MM-DD)") from exc
    return tuple(out)


def calendar_mask(grid: Grid, days: Sequence[CalendarDay], key: Mapping[str, object]) -> np.ndarray:
    """The grid steps on a calendar day that applies to the series named by ``key``."""
    if not days:
        return np.zeros(grid.n, dtype=bool)
    wanted = sorted({d.date for d in days if d.applies_to(key)})
    if not wanted:
        return np.zeros(grid.n, dtype=bool)
    stamps = grid.timestamps().astype("datetime64[D]")
    return np.isin(stamps, np.array(wanted, dtype="datetime64[D]"))
