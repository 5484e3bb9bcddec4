"""Window controls shared by the pages that compare a current window with a baseline.

One place for the end day, the window length and the baseline choice, so every page words them the same way.
Each control is bound to the URL under the key the page passes (the names live in ui/params.py); a bad URL
value falls back to the default, as with every bound widget. The baseline choice is the kind of baseline
(``week_over_week``, as in code, the CLI and JSON): a bound selectbox writes the option it shows into the URL,
so the options are the kinds themselves and the help words each one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.windows import (
    KNOWN_GOOD_KINDS,
    Window,
    baseline_label,
    day_over_day,
    last_release,
    pinned_reference,
    previous_period,
    week_over_week,
)
from ui import params

DAY_CHOICES = (1, 3, 5, 7, 14, 28)
DEFAULT_DAYS = 7
BASELINES: dict[str, Callable[[Window], Window]] = {
    "week_over_week": week_over_week, "previous_period": previous_period, "day_over_day": day_over_day}
BASELINE_HELP = ("week_over_week: the same days one week earlier; previous_period: the window of the same length "
                 "right before; day_over_day: the same hours one day earlier; last_release: the same days, whole weeks "
                 "back, before the release live at the window's end (known good); pinned: a reference window you pin")
FIXED_BASELINE_HELP = "The baseline is the window of the same length right before it."


@dataclass(frozen=True)
class WindowChoice:
    """What the controls chose: the current window, the baseline it is compared with (of kind ``vs``), and the end
    day and length."""

    current: Window
    baseline: Window
    end: dt.date
    days: int
    vs: str = "previous_period"

    def describe(self) -> str:
        """Both windows to the hour, so the reader sees exactly what is compared."""
        c, b = self.current, self.baseline
        return (f"**Current** {c.start:%Y-%m-%d %H:%M} → {c.end:%Y-%m-%d %H:%M} · "
                f"**baseline** ({baseline_label(self.vs)}) {b.start:%Y-%m-%d %H:%M} → {b.end:%Y-%m-%d %H:%M} "
                "(UTC, end excluded)")


def current_window(end: dt.date, days: int) -> Window:
    """The ``days`` whole UTC days ending on ``end`` (inclusive)."""
    stop = dt.datetime.combine(end, dt.time()) + dt.timedelta(days=1)
    return Window(stop - dt.timedelta(days=days), stop, "current")


def window_controls(first: dt.date, last: dt.date, slots: Sequence, *, end_key: str = params.END,
                    days_key: str = params.DAYS, vs_key: str | None = params.VS,
                    day_choices: Sequence[int] = DAY_CHOICES) -> WindowChoice:
    """Draw the end day, window length and baseline controls into ``slots`` (e.g. columns), one each, in that order.

    ``first`` and ``last`` bound the end day (the data's first and last day; the default is ``last``). Without
    ``vs_key`` there is no baseline control (pass two slots): the baseline is the previous period of the same length.
    """
    if len(slots) != (3 if vs_key else 2):
        raise ValueError(f"window_controls needs {3 if vs_key else 2} slots, got {len(slots)}")
    end: dt.date = slots[0].date_input("Window ends on (UTC)", value=last, min_value=first, max_value=last,
                                       key=end_key, bind="query-params", format="YYYY-MM-DD",
                                       help="The last day of the current window, included in it.")
    days: int = slots[1].selectbox("Window length (days)", day_choices, index=list(day_choices).index(DEFAULT_DAYS),
                                   key=days_key, bind="query-params", help=None if vs_key else FIXED_BASELINE_HELP)
    vs = "previous_period"
    if vs_key:
        vs = slots[2].selectbox("Compared with", [*BASELINES, *KNOWN_GOOD_KINDS], key=vs_key, bind="query-params",
                                help=BASELINE_HELP)
    current = current_window(end, days)
    if vs in KNOWN_GOOD_KINDS:
        return WindowChoice(current, known_good_baseline(vs, current, slots[2]), end, days, vs)
    return WindowChoice(current, BASELINES[vs](current), end, days, vs)


def known_good_baseline(vs: str, current: Window, slot) -> Window:
    """The last-release baseline from the data's releases table, or the pinned window typed into ``slot`` (bound
    to the URL as ``pinned``); what cannot be placed is a message on the page, and the page stops."""
    from ui.data import current_dataset

    try:
        if vs == "pinned":
            text = slot.text_input("Pinned reference (START/END, UTC)", key=params.PINNED, bind="query-params",
                                   placeholder="2026-09-28T00:00/2026-10-05T00:00")
            return pinned_reference(text or "")
        dataset = current_dataset()
        releases = dataset.get("releases") if dataset is not None else None
        return last_release(current, releases.frame if releases is not None else None)
    except DriftdeskError as exc:
        st.warning(f"Baseline {baseline_label(vs)}: {exc}")
        st.stop()
        raise
