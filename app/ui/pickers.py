"""Window controls shared by the pages that compare a current window with a baseline.

One place for the end day, the window length and the baseline choice, so every page words them the same way and
binds them to the same URL parameters (``end``, ``days``, ``vs``: ui/params.py). A bad URL value falls back to the
default, as with every bound widget. The baseline choice is the kind of baseline (``week_over_week``, as in code,
the CLI and JSON): a bound selectbox writes the option it shows into the URL, so the options are the kinds
themselves and the help words each one. The library builds the windows from these choices; a known-good
baseline (``last_release``, ``pinned``) is placed by the library too, the pinned window typed into the URL's
``pinned``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.windows import KNOWN_GOOD_KINDS, Window, baseline_label
from ui import params
from ui.carry import arrival_day
from ui.render.text import md

DAY_CHOICES = (1, 3, 5, 7, 14, 28)
DEFAULT_DAYS = 7
BASELINE_KINDS = ("week_over_week", "previous_period", "day_over_day", *KNOWN_GOOD_KINDS)
BASELINE_HELP = ("week_over_week: the same days one week earlier; previous_period: the window of the same length "
                 "right before; day_over_day: the same hours one day earlier; last_release: the same days, whole weeks "
                 "back, before the release live at the window's end (known good); pinned: a reference window you pin")
FIXED_BASELINE_HELP = "The baseline is the window of the same length right before it."


@dataclass(frozen=True)
class WindowChoice:
    """What the controls chose: the current window's last day and length, the kind of baseline (``vs``), and the
    pinned window's text when ``vs`` is ``pinned``."""

    end: dt.date
    days: int
    vs: str = "previous_period"
    pinned: str | None = None


def window_controls(first: dt.date, last: dt.date, slots: Sequence, *, vs: bool = True,
                    day_choices: Sequence[int] = DAY_CHOICES) -> WindowChoice:
    """Draw the end day, window length and (with ``vs``) baseline controls into ``slots`` (e.g. columns), in order.

    ``first`` and ``last`` bound the end day (the data's first and last day; the default is ``last``). Without
    ``vs`` there is no baseline control (pass two slots): the baseline is the previous period of the same length.
    """
    if len(slots) != (3 if vs else 2):
        raise ValueError(f"window_controls needs {3 if vs else 2} slots, got {len(slots)}")
    default_days, default_vs = default_windows(first, last, day_choices)
    end = day_input(slots[0], "Window ends on (UTC)", first=first, last=last, value=last, key=params.END,
                    help="The last day of the current window, included in it.")
    days: int = slots[1].selectbox("Window length (days)", day_choices, index=list(day_choices).index(default_days),
                                   key=params.DAYS, bind="query-params", help=None if vs else FIXED_BASELINE_HELP)
    kind = "previous_period"
    if vs:
        kind = slots[2].selectbox("Compared with", BASELINE_KINDS, index=BASELINE_KINDS.index(default_vs),
                                  key=params.VS, bind="query-params", help=BASELINE_HELP)
    pinned = pinned_control(slots[2], day=end) if kind == "pinned" else None
    return WindowChoice(end, days, kind, pinned)


def default_windows(first: dt.date, last: dt.date, day_choices: Sequence[int] = DAY_CHOICES) -> tuple[int, str]:
    """The window length and baseline a page opens with: a week against the week before when the data spans both,
    else the longest length whose window and the one right before it fit the data (a short export still compares
    two windows instead of opening on an empty baseline)."""
    span = (last - first).days + 1
    fits = [d for d in day_choices if d <= DEFAULT_DAYS and 2 * d <= span]
    days = max(fits) if fits else min(day_choices)
    return days, "week_over_week" if span >= days + 7 else "previous_period"


def day_input(slot, label: str, *, first: dt.date, last: dt.date, value: dt.date, key: str,
              help: str | None = None) -> dt.date:
    """A page's day control, bound to the URL under ``key``: on arrival from another page it shows the day chosen
    there (ui/carry.py) when this page's data has it, else ``value``."""
    carried = arrival_day(key, first, last)  # its state is set: no default beside it (Streamlit warns of both)
    return slot.date_input(label, value=None if carried else value, min_value=first, max_value=last, key=key,
                           bind="query-params", format="YYYY-MM-DD", help=help)


def example_window(day: dt.date) -> str:
    """The week before ``day`` as START/END text: an example of a window that lies in the data shown, whoever's."""
    return f"{(day - dt.timedelta(days=7)).isoformat()}T00:00/{day.isoformat()}T00:00"


def pinned_control(slot, *, day: dt.date, label: str = "Pinned reference (START/END, UTC)") -> str:
    """The pinned reference window typed into ``slot`` (bound to the URL as ``pinned``; the example shown is the
    week before ``day``); text that is not a window is a message on the page, and the page stops."""
    text = slot.text_input(label, key=params.PINNED, bind="query-params", placeholder=example_window(day),
                           help="A window you know was good; a break that lasts for weeks still shows against it.")
    try:
        Window.parse(text or "")
    except DriftdeskError as exc:
        st.warning(f"Baseline {baseline_label('pinned')}: {md(exc)}")
        st.stop()
    return text
