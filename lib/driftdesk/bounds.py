"""Every size a user controls, with its bound, in one place.

A shared link, a form, a CLI option or a file can ask for any size. These bounds keep each request to what one
machine answers in seconds: no ``OverflowError`` from a window of 10**20 days or a date in the year 9999, no
minutes spent on a million bins, no policy link that inflates to gigabytes, no page listing a million categories.
The library, the CLI and the pages read the bounds from here, and every message names the bound it enforces
("bins must be between 2 and 1,000, got 0"), so the user knows what to ask for instead.

>>> BINS.check(10)
10
>>> BINS.check(0)
Traceback (most recent call last):
...
driftdesk.errors.LimitError: bins must be between 1 and 1,000, got 0
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from driftdesk.errors import DriftdeskError, LimitError

MAX_DAYS = 3660  # ten years: the longest window, span, delay or duration any control may ask for


@dataclass(frozen=True)
class Bound:
    """An inclusive range ``low``..``high`` for one size, named as its message names it."""

    name: str
    low: int | float
    high: int | float
    unit: str = ""
    integer: bool = True

    def describe(self, kind: str = "") -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.name} must be {kind + ' ' if kind else ''}between {_num(self.low)} and {_num(self.high)}{unit}"

    def check(self, value: Any, *, where: str = "", error: type[DriftdeskError] = LimitError) -> Any:
        """``value`` if it is a number (a whole one when ``integer``) inside the bound, else ``error`` naming it."""
        prefix = f"{where}: " if where else ""
        kind = "a whole number" if self.integer else "a number"
        wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
        if wrong_type or self.integer and isinstance(value, float) and not value.is_integer():
            raise error(f"{prefix}{self.describe(kind)}, got {value!r}")
        if value != value or not self.low <= value <= self.high:  # NaN and the infinities fail too
            raise error(f"{prefix}{self.describe()}, got {_num(value)}")
        return int(value) if self.integer else value


def _num(value: int | float) -> str:
    """A bound or a value for a message: thousands separated, huge numbers in scientific notation."""
    if isinstance(value, float) and not (value == value and abs(value) != float("inf") and value.is_integer()):
        return f"{value:g}"
    return f"{value:.3g}" if abs(value) >= 1e15 else f"{int(value):,}"


# --------------------------------------------------------------------------- numbers of things

BINS = Bound("bins", 1, 1_000)  # calibration bins (the reliability curve)
DISTRIBUTION_BINS = Bound("distribution bins", 2, 1_000)  # the bars of a drawn distribution
WINDOW_DAYS = Bound("a window", 1, MAX_DAYS, "days")  # a current window's length
SPAN_DAYS = Bound("span", 1, MAX_DAYS, "days")  # the Overview's timeline
LABEL_DELAY_DAYS = Bound("the label delay", 0, MAX_DAYS, "days")
DURATION_HOURS = Bound("a duration", 1, MAX_DAYS * 24, "hours")  # a gate's window and step, a bucket ("every")
BASELINE_DAYS = Bound("baseline_days", 1, MAX_DAYS)
PERIOD_STEPS = Bound("a seasonal period", 2, 10_000, "steps")
CONSECUTIVE = Bound("consecutive", 1, 1_000)  # a gate's breaches in a row
GATES = Bound("the number of gates", 1, 100)  # in one policy
BY_COLUMNS = Bound("the number of segment columns", 0, 8)  # one ``by``
MIN_COUNT = Bound("a minimum count", 0, 1e15, integer=False)  # min_conversions, min_sample, min_rows
AMOUNT = Bound("an amount", 0, 1e15, integer=False)  # a daily budget, in the data's currency
SAMPLE_DAYS = Bound("--days", 14, MAX_DAYS)  # the sample's length: two weekly cycles at least
SAMPLE_SCALE = Bound("--scale", 1, 1_000)  # the sample's row multiplier
SEED = Bound("--seed", 0, 2**32 - 1)
CATEGORIES_SHOWN = 50  # values of one column listed in a picker, a chart or a table of categories

# --------------------------------------------------------------------------- dates

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)  # leaves room for any window and baseline without leaving polars' datetime range

# --------------------------------------------------------------------------- texts that expand

POLICY_LINK_CHARS = 16_384  # the ``policy`` URL parameter as sent (deflated JSON, base64url)
POLICY_INFLATED_BYTES = 262_144  # the same, inflated
NESTING_DEPTH = 8  # tables in tables in a policy link or a TOML file
TOML_BYTES = 1024**2  # driftdesk.toml, policy.toml, a manifest
TEXT_PARAM_CHARS = 1_000  # a free-text URL parameter (a window, a segment, a name)
UPLOAD_FILE_BYTES = 200 * 1024**2  # one uploaded file (Streamlit's own default upload limit)
UPLOAD_FILES = 20  # files in one upload


def check_day(value: Any, *, what: str = "day", error: type[DriftdeskError] = LimitError) -> dt.date:
    """A calendar day from a date, a datetime or 'YYYY-MM-DD', between FIRST_DAY and LAST_DAY."""
    if isinstance(value, dt.datetime):
        value = value.date()
    elif isinstance(value, str):
        text = value.strip()
        try:
            value = dt.date.fromisoformat(text) if len(text) <= 10 else dt.datetime.fromisoformat(text).date()
        except ValueError as exc:
            raise error(f"cannot read {text[:40]!r} as a {what} (expected YYYY-MM-DD, e.g. 2026-10-08)") from exc
    if not isinstance(value, dt.date):
        raise error(f"{what} must be a date (YYYY-MM-DD), got {type(value).__name__} {value!r}")
    if not FIRST_DAY <= value <= LAST_DAY:
        raise error(f"{what} must be between {FIRST_DAY} and {LAST_DAY}, got {value}")
    return value


def check_moment(value: dt.datetime, *, what: str = "timestamp",
                 error: type[DriftdeskError] = LimitError) -> dt.datetime:
    """A timestamp between FIRST_DAY and LAST_DAY (inclusive of the whole last day)."""
    if not dt.datetime.combine(FIRST_DAY, dt.time()) <= value < dt.datetime.combine(LAST_DAY, dt.time()) + dt.timedelta(days=1):
        raise error(f"{what} must be between {FIRST_DAY} and {LAST_DAY}, got {value.isoformat()}")
    return value


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_HOURS = {"m": 1 / 60, "min": 1 / 60, "h": 1, "d": 24, "w": 24 * 7}


def parse_duration(text: Any, *, what: str = "duration", minimum_hours: float = 1 / 60,
                   error: type[DriftdeskError] = LimitError) -> dt.timedelta:
    """'90m', '36h', '3d' or '2w' as a timedelta, at most MAX_DAYS long (a number of hours is read as hours)."""
    if isinstance(text, dt.timedelta):
        hours = text / dt.timedelta(hours=1)
    elif isinstance(text, int | float) and not isinstance(text, bool):
        hours = float(text)
    else:
        m = _DURATION.match(str(text))
        if not m:
            raise error(f"{what} {text!r} must look like '90m', '36h', '3d' or '1w'")
        hours = float(m.group(1)) * _UNIT_HOURS[m.group(2).lower()]
    if hours != hours or not minimum_hours <= hours <= MAX_DAYS * 24:
        low = "0" if minimum_hours == 0 else ("1 minute" if minimum_hours < 1 else f"{minimum_hours:g} hours")
        raise error(f"{what} must be between {low} and {MAX_DAYS:,} days, got {text!r}")
    return dt.timedelta(hours=hours)


_EVERY = re.compile(r"^(\d+)(m|h|d|w)$")


def check_every(every: Any, *, what: str = "every") -> str:
    """A time bucket for grouping ('15m', '1h', '1d', '1w'), between one minute and MAX_DAYS."""
    if not isinstance(every, str) or not _EVERY.match(every.strip()):
        raise LimitError(f"{what} must be a time bucket like '15m', '1h', '1d' or '1w', got {every!r}")
    parse_duration(every, what=what)
    return every.strip()


def check_text(value: Any, *, what: str, limit: int = TEXT_PARAM_CHARS) -> str:
    """A short text (a URL parameter, a name): at most ``limit`` characters, no NUL."""
    if not isinstance(value, str):
        raise LimitError(f"{what} must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise LimitError(f"{what} must be at most {limit:,} characters, got {len(value):,}")
    if "\x00" in value:
        raise LimitError(f"{what} must not contain a NUL character")
    return value


def check_depth(doc: Any, *, what: str, limit: int = NESTING_DEPTH) -> Any:
    """``doc`` (parsed JSON or TOML) if its tables and lists nest at most ``limit`` deep."""
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                raise LimitError(f"{what}: nested deeper than {limit} levels of tables and lists")
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return doc


def check_size(size: int, *, what: str, limit: int) -> int:
    """A number of bytes at most ``limit``."""
    if size > limit:
        raise LimitError(f"{what} is {_bytes(size)}; the limit is {_bytes(limit)}")
    return size


def _bytes(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


__all__ = [
    "AMOUNT", "BASELINE_DAYS", "BINS", "BY_COLUMNS", "CATEGORIES_SHOWN", "CONSECUTIVE", "DISTRIBUTION_BINS",
    "DURATION_HOURS", "FIRST_DAY", "GATES", "LABEL_DELAY_DAYS", "LAST_DAY", "MAX_DAYS", "MIN_COUNT", "NESTING_DEPTH",
    "PERIOD_STEPS", "POLICY_INFLATED_BYTES", "POLICY_LINK_CHARS", "SAMPLE_DAYS", "SAMPLE_SCALE", "SEED", "SPAN_DAYS",
    "TEXT_PARAM_CHARS", "TOML_BYTES", "UPLOAD_FILES", "UPLOAD_FILE_BYTES", "WINDOW_DAYS", "Bound", "check_day",
    "check_depth", "check_every", "check_moment", "check_size", "check_text", "parse_duration",
]
