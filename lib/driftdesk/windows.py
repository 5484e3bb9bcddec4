"""Time windows: a current window and the baselines it is compared with.

A window is [start, end) in naive UTC. Baselines keep the current window's hours of day (day over day)
and days of week (week over week), so Monday morning is compared with Monday morning. The kind of baseline
(``BASELINE_KINDS``) is what code, the CLI, JSON and URLs name; ``baseline_label`` words it for people.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl

from driftdesk.bounds import MAX_DAYS, WINDOW_DAYS, check_day, check_moment
from driftdesk.engine.budget import collect
from driftdesk.errors import WindowError

MAX_WINDOW_DAYS = MAX_DAYS  # the longest window a control or an option may ask for (driftdesk.bounds)


def parse_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 timestamp as naive UTC; an offset is converted, no offset means UTC."""
    raw = text.strip()
    try:
        value = dt.datetime.fromisoformat(raw.replace("z", "Z"))
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        raise WindowError(f"cannot read {raw[:40]!r} as an ISO 8601 timestamp (e.g. 2026-10-05T00:00)") from exc
    return check_moment(value, what="a timestamp", error=WindowError)


@dataclass(frozen=True, order=True)
class Window:
    """[start, end) in naive UTC."""

    start: dt.datetime
    end: dt.datetime
    label: str = ""

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            check_moment(moment, what="a window's start and end", error=WindowError)
        if self.end <= self.start:
            raise WindowError(f"window end {self.end.isoformat()} must be after its start {self.start.isoformat()}")

    @classmethod
    def parse(cls, text: str, label: str = "") -> Window:
        """Parse 'A/B', an ISO 8601 interval of UTC timestamps (start included, end excluded).

        An offset is converted to UTC; a time without one is taken as UTC.

        >>> Window.parse("2026-10-05T00:00/2026-10-06T00:00").duration
        datetime.timedelta(days=1)
        >>> Window.parse("2026-10-05T02:00+02:00/2026-10-05T12:00Z").iso()
        '2026-10-05T00:00:00/2026-10-05T12:00:00'
        """
        if not isinstance(text, str) or text.count("/") != 1:
            raise WindowError(f"window {text!r} must be 'START/END', e.g. 2026-10-05T00:00/2026-10-06T00:00")
        a, b = text.split("/")
        return cls(parse_timestamp(a), parse_timestamp(b), label)

    @classmethod
    def day(cls, day: dt.date, label: str = "current") -> Window:
        """One whole UTC day, [day 00:00, next day 00:00).

        >>> import datetime as dt
        >>> Window.day(dt.date(2026, 10, 8)).iso()
        '2026-10-08T00:00:00/2026-10-09T00:00:00'
        """
        return cls.ending(day, days=1, label=label)

    @classmethod
    def ending(cls, last_day: dt.date, *, days: int, label: str = "current") -> Window:
        """The ``days`` whole UTC days ending with ``last_day`` (included).

        >>> import datetime as dt
        >>> Window.ending(dt.date(2026, 10, 8), days=7).iso()
        '2026-10-02T00:00:00/2026-10-09T00:00:00'
        """
        WINDOW_DAYS.check(days, error=WindowError)
        last_day = check_day(last_day, what="a window's last day", error=WindowError)
        stop = dt.datetime.combine(last_day, dt.time()) + dt.timedelta(days=1)
        return cls(stop - dt.timedelta(days=days), stop, label)

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start

    def shift(self, delta: dt.timedelta, label: str = "") -> Window:
        try:
            return Window(self.start + delta, self.end + delta, label or self.label)
        except OverflowError as exc:
            raise WindowError(f"the window {self.iso()} moved by {delta} leaves the calendar") from exc

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
    """The same weekday and hours one week earlier.

    >>> week_over_week(Window.parse("2026-10-08T09:00/2026-10-08T17:00")).iso()
    '2026-10-01T09:00:00/2026-10-01T17:00:00'
    """
    return current.shift(-dt.timedelta(days=7), "week_over_week")


def previous_period(current: Window) -> Window:
    """The window of the same length right before the current one."""
    return current.shift(-current.duration, "previous_period")


def latest_day(ts_max: dt.datetime) -> Window:
    """The last whole UTC day that ends at or before the hour after ts_max."""
    end = (ts_max + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    day_end = end.replace(hour=0)
    return Window(day_end - dt.timedelta(days=1), day_end, "current")


def as_window(value: Window | str, label: str = "") -> Window:
    """A Window from a Window or an 'A/B' text, so functions accept either."""
    return value if isinstance(value, Window) else Window.parse(value, label)


def rows_in_window(lf: pl.LazyFrame, window: Window, *, ts: str = "ts", name: str = "", source: str = "data") -> pl.LazyFrame:
    """The rows inside a window; an empty window is a WindowError naming the window and the data's span."""
    sub = lf.filter(window.contains(ts))
    if sub.select(pl.len()).pipe(collect).item() == 0:
        a, b = lf.select(pl.col(ts).min().alias("a"), pl.col(ts).max().alias("b")).pipe(collect).row(0)
        raise WindowError(f"{source}: the {name or window.label or 'selected'} window {window.iso()} has no rows; "
                          f"the data spans {a.isoformat() if a else '?'} to {b.isoformat() if b else '?'}")
    return sub


# --------------------------------------------------------------------------- several baselines at once

BASELINE_KINDS = ("day_over_day", "week_over_week", "previous_period", "custom", "training", "last_release", "pinned")
# known-good kinds: they stay on the state before a change however long the change lasts
KNOWN_GOOD_KINDS = ("last_release", "pinned")
# how each kind of baseline is written for people (legends, captions, sentences); code, CLI, JSON and URLs use the kind
BASELINE_LABELS: dict[str, str] = {
    "day_over_day": "day over day",
    "week_over_week": "week over week",
    "previous_period": "previous period",
    "custom": "custom range",
    "training": "training reference",
    "last_release": "last release before this one",
    "pinned": "pinned reference",
}


def baseline_label(kind: str) -> str:
    """The words for a baseline kind ('week_over_week' -> 'week over week'); other labels with spaces for '_'."""
    return BASELINE_LABELS.get(kind, kind.replace("_", " "))


def custom(text_or_window: str | Window, label: str = "custom") -> Window:
    """A custom baseline range, 'A/B' or a Window."""
    w = text_or_window if isinstance(text_or_window, Window) else Window.parse(text_or_window)
    return Window(w.start, w.end, label)


def training_reference(text_or_window: str | Window) -> Window:
    """The period the model was trained on, as a baseline labelled 'training'."""
    return custom(text_or_window, "training")


def pinned_reference(text_or_window: str | Window) -> Window:
    """A reference window the team pinned as known good, as a baseline labelled 'pinned'."""
    return custom(text_or_window, "pinned")


def last_release(current: Window, releases: pl.DataFrame | None, *, component: str | None = None,
                 ts: str = "ts") -> Window:
    """Known-good baseline: the current window moved back by whole weeks until it ends before the release live at
    its end took traffic ("the last release before this one").

    The release is the latest row of the releases table (of ``component``, if given) that starts before the
    current window ends. Whole weeks keep the hours and the weekdays, so Monday morning is still compared with a
    Monday morning, and a break that lasts for weeks is still compared with the state before it instead of with
    itself a week earlier.

    >>> import datetime as dt, polars as pl
    >>> rel = pl.DataFrame({"ts": [dt.datetime(2026, 10, 7)], "release_id": ["model-v2.0-full"]})
    >>> last_release(Window.parse("2026-10-20T00:00/2026-10-21T00:00"), rel).iso()
    '2026-10-06T00:00:00/2026-10-07T00:00:00'
    """
    if releases is None or releases.height == 0 or ts not in releases.columns:
        raise WindowError("the last-release baseline needs a releases table (ts, release_id, component)")
    rows = releases.filter(pl.col(ts) < current.end)
    if component is not None:
        if "component" not in releases.columns:
            raise WindowError(f"the releases table has no component column to pick {component!r} releases from")
        rows = rows.filter(pl.col("component") == component)
    if rows.height == 0:
        what = f"{component} release" if component else "release"
        raise WindowError(f"no {what} starts before {current.end.isoformat()}: there is no last release to compare with")
    started = rows[ts].max()
    weeks = math.ceil((current.end - started) / dt.timedelta(weeks=1))
    return current.shift(-dt.timedelta(weeks=max(weeks, 1)), "last_release")


def baselines_for(current: Window, *, kinds: tuple[str, ...] = ("day_over_day", "week_over_week"),
                  custom_range: str | Window | None = None, training: str | Window | None = None,
                  releases: pl.DataFrame | None = None, pinned: str | Window | None = None) -> list[Window]:
    """Every requested baseline of a current window, in a stable order (labels are the kinds).

    ``releases`` (the releases table) places a ``last_release`` baseline, ``pinned`` ('A/B') a ``pinned`` one.
    """
    unknown = [k for k in kinds if k not in BASELINE_KINDS]
    if unknown:
        raise WindowError(f"unknown baseline kind(s) {unknown}; kinds are {list(BASELINE_KINDS)}")
    out: list[Window] = []
    makers = {"day_over_day": day_over_day, "week_over_week": week_over_week, "previous_period": previous_period}
    for k in kinds:
        if k in makers:
            out.append(makers[k](current))
    if "custom" in kinds or custom_range is not None:
        if custom_range is None:
            raise WindowError("a custom baseline needs a range 'START/END'")
        out.append(custom(custom_range))
    if "training" in kinds or training is not None:
        if training is None:
            raise WindowError("a training baseline needs a range 'START/END'")
        out.append(training_reference(training))
    if "last_release" in kinds:
        out.append(last_release(current, releases))
    if "pinned" in kinds or pinned is not None:
        if pinned is None:
            raise WindowError("a pinned baseline needs a range 'START/END'")
        out.append(pinned_reference(pinned))
    return out


def is_calendar_aligned(current: Window, baseline: Window) -> bool:
    """True when the baseline is the current window moved by whole days (same hours) or whole weeks."""
    delta = current.start - baseline.start
    return baseline.duration == current.duration and delta % dt.timedelta(days=1) == dt.timedelta(0)


def aligned_rows(current: Window, baseline: Window, column: str | pl.Expr = "ts") -> pl.Expr:
    """Rows of a baseline that share the current window's hours of day (and weekdays, if it spans under a week).

    A custom or training baseline spans whole weeks while the current window may be one morning: keeping only
    the same hours (and weekdays) compares Monday morning with Monday mornings, not with Saturday nights.
    """
    col = pl.col(column) if isinstance(column, str) else column
    pred = baseline.contains(col)
    if current.duration < dt.timedelta(days=1):
        hours = sorted({(current.start + dt.timedelta(hours=h)).hour
                        for h in range(max(1, math.ceil(current.duration / dt.timedelta(hours=1))))})
        pred = pred & col.dt.hour().is_in(hours)
    if current.duration < dt.timedelta(days=7):
        days = sorted({(current.start + dt.timedelta(days=d)).isoweekday()
                       for d in range(max(1, math.ceil(current.duration / dt.timedelta(days=1))))})
        pred = pred & col.dt.weekday().is_in(days)
    return pred


def overlap(a: Window, b: Window) -> dt.timedelta:
    """How long two windows share (zero when they do not meet).

    >>> overlap(Window.parse("2026-10-05T00:00/2026-11-02T00:00"), Window.parse("2026-09-28T00:00/2026-10-26T00:00"))
    datetime.timedelta(days=21)
    """
    return max(dt.timedelta(0), min(a.end, b.end) - max(a.start, b.start))


def _span_words(span: dt.timedelta) -> str:
    days = span / dt.timedelta(days=1)
    if days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    hours = span / dt.timedelta(hours=1)
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def overlap_note(current: Window, baseline: Window) -> str | None:
    """A sentence when the baseline overlaps the current window (None when they do not): an overlapping baseline
    shares rows with what it is compared with, so a change shows smaller than it is.

    >>> overlap_note(Window.parse("2026-10-05T00:00/2026-11-02T00:00"), Window.parse("2026-09-28T00:00/2026-10-26T00:00"))
    'the baseline overlaps the current window by 21 of its 28 days: shared rows make a change look smaller'
    """
    shared = overlap(current, baseline)
    if shared <= dt.timedelta(0):
        return None
    whole_days = shared % dt.timedelta(days=1) == dt.timedelta(0) and current.duration % dt.timedelta(days=1) == dt.timedelta(0)
    size = (f"{shared.days} of its {_span_words(current.duration)}" if whole_days
            else f"{_span_words(shared)} of its {_span_words(current.duration)}")
    return f"the baseline overlaps the current window by {size}: shared rows make a change look smaller"


def comparison_words(baseline: Window, current: Window) -> str:
    """How the baseline relates to the current window, for a sentence: "week over week", "day over day", "against the
    previous period", "against the baseline"; an overlapping baseline is named as such, never "week over week".

    >>> comparison_words(Window.parse("2026-09-28T00:00/2026-10-26T00:00"), Window.parse("2026-10-05T00:00/2026-11-02T00:00"))
    'against an overlapping baseline (21 of 28 days shared)'
    """
    lag = current.start - baseline.start
    same_length = baseline.duration == current.duration
    shared = overlap(current, baseline)
    if shared > dt.timedelta(0):
        whole = shared % dt.timedelta(days=1) == dt.timedelta(0) and current.duration % dt.timedelta(days=1) == dt.timedelta(0)
        size = f"{shared.days} of {_span_words(current.duration)}" if whole else _span_words(shared)
        return f"against an overlapping baseline ({size} shared)"
    if same_length and lag == dt.timedelta(days=7):
        return "week over week"
    if same_length and lag == dt.timedelta(days=1):
        return "day over day"
    if same_length and lag == baseline.duration:
        return "against the previous period"
    return "against the baseline"


def day_range(frame: pl.DataFrame | pl.LazyFrame, *, ts: str = "ts") -> tuple[dt.date, dt.date] | None:
    """The first and last UTC day with rows (None for a frame without timestamps): the bounds of a day picker."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    lo, hi = lf.select(pl.col(ts).min().alias("lo"), pl.col(ts).max().alias("hi")).pipe(collect).row(0)
    if lo is None or hi is None:
        return None
    return lo.date(), hi.date()
