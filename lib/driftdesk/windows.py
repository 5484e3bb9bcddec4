"""Time windows: a current window and the baselines it is compared with.

A window is [start, end) in naive UTC. Baselines keep the current window's hours of day (day over day)
and days of week (week over week), so Monday morning is compared with Monday morning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from driftdesk.errors import WindowError


def parse_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 timestamp as naive UTC; an offset is converted, no offset means UTC."""
    raw = text.strip()
    try:
        value = dt.datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError as exc:
        raise WindowError(f"cannot read {raw!r} as an ISO 8601 timestamp (e.g. 2026-10-05T00:00)") from exc
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


@dataclass(frozen=True, order=True)
class Window:
    """[start, end) in naive UTC."""

    start: dt.datetime
    end: dt.datetime
    label: str = ""

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise WindowError(f"window end {self.end.isoformat()} must be after its start {self.start.isoformat()}")

    @classmethod
    def parse(cls, text: str, label: str = "") -> Window:
        """Parse 'A/B', an ISO 8601 interval of UTC timestamps (start included, end excluded)."""
        if not isinstance(text, str) or text.count("/") != 1:
            raise WindowError(f"window {text!r} must be 'START/END', e.g. 2026-10-05T00:00/2026-10-06T00:00")
        a, b = text.split("/")
        return cls(parse_timestamp(a), parse_timestamp(b), label)

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start

    def shift(self, delta: dt.timedelta, label: str = "") -> Window:
        return Window(self.start + delta, self.end + delta, label or self.label)

    def contains(self, column: str | pl.Expr = "ts") -> pl.Expr:
        """A polars predicate selecting rows inside the window."""
        col = pl.col(column) if isinstance(column, str) else column
        return (col >= self.start) & (col < self.end)

    def iso(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    def to_dict(self) -> dict:
        return {"label": self.label, "start": self.start.isoformat() + "Z", "end": self.end.isoformat() + "Z"}


def day_over_day(current: Window) -> Window:
    """The same hours one day earlier."""
    return current.shift(-dt.timedelta(days=1), "day_over_day")


def week_over_week(current: Window) -> Window:
    """The same weekday and hours one week earlier."""
    return current.shift(-dt.timedelta(days=7), "week_over_week")


def previous_period(current: Window) -> Window:
    """The window of the same length right before the current one."""
    return current.shift(-current.duration, "previous_period")


def latest_day(ts_max: dt.datetime) -> Window:
    """The last whole UTC day that ends at or before the hour after ts_max."""
    end = (ts_max + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    day_end = end.replace(hour=0)
    return Window(day_end - dt.timedelta(days=1), day_end, "current")
