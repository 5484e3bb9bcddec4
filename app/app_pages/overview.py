"""Overview: per layer, the chosen day against the same hours a day and a week earlier; releases and incidents.

URL parameters (bad values fall back to defaults): day (YYYY-MM-DD), span (timeline days), known_good (none |
last_release | pinned: a third baseline), pinned (the pinned reference window START/END), numbers (the open tab of
numbers), events (the events table expanded).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.overview import activity_range, default_day
from driftdesk.windows import KNOWN_GOOD_KINDS
from ui import params
from ui.data import current_source
from ui.loaders import current_dataset, overview_of
from ui.pickers import day_input, pinned_control
from ui.render import render_overview, show_error

SPANS = (7, 14, 28, 91)
NO_KNOWN_GOOD = "none"

st.title("Overview")
source = current_source()
dataset = current_dataset(source)
if dataset is None:
    st.stop()
bounds = activity_range(dataset)
if bounds is None:
    st.info("The loaded tables have no rows with timestamps yet: nothing to compare.")
    st.stop()
first, last = bounds[0].date(), bounds[1].date()

left, right, good_col = st.columns([1, 1, 2])
day: dt.date = day_input(left, "Day shown as latest (UTC)", first=first, last=last, value=default_day(dataset) or last,
                         key=params.DAY, help="Compared with the same hours one day and one week earlier. The URL "
                                              "keeps it.")
span: int = right.selectbox(
    "Timeline span (days before the day)", SPANS, index=SPANS.index(28), key=params.SPAN, bind="query-params",
)
known_good: str = good_col.selectbox(
    "Also against a known-good baseline", (NO_KNOWN_GOOD, *KNOWN_GOOD_KINDS), key=params.KNOWN_GOOD,
    bind="query-params", help="last_release: the same hours, whole weeks back, before the release live on the day; "
                              "pinned: a window you pin. A break that lasts for weeks still shows against it.")
pinned = pinned_control(good_col, day=day) if known_good == "pinned" else None
try:
    result = overview_of(source, day=day, span_days=span, known_good=None if known_good == NO_KNOWN_GOOD else known_good,
                         pinned=pinned)
except DriftdeskError as exc:
    show_error(exc)
    st.stop()
render_overview(result, source)
