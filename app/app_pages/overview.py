"""Overview: per layer, the chosen day against the same hours a day and a week earlier; releases and incidents."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.overview import activity_range, default_day
from driftdesk.windows import KNOWN_GOOD_KINDS
from ui import params
from ui.data import current_dataset, current_source
from ui.loaders import overview_of
from ui.render import render_overview

SPANS = (7, 14, 28, 91)

st.title("Overview")
dataset = current_dataset()
if dataset is None:
    st.stop()
bounds = activity_range(dataset)
if bounds is None:
    st.info("The loaded tables have no rows with timestamps yet: nothing to compare.")
    st.stop()
first, last = bounds[0].date(), bounds[1].date()
latest = default_day(dataset) or last

left, right, good_col = st.columns([1, 1, 2])
day: dt.date = left.date_input(
    "Day shown as latest (UTC)", value=latest, min_value=first, max_value=last, key=params.DATE, bind="query-params",
    format="YYYY-MM-DD", help="Compared with the same hours one day and one week earlier. The URL keeps it.",
)
span: int = right.selectbox(
    "Timeline span (days before the day)", SPANS, index=SPANS.index(28), key=params.SPAN, bind="query-params",
)
known_good = good_col.selectbox(
    "Also against a known-good baseline", ("none", *KNOWN_GOOD_KINDS), key=params.OV_KNOWN_GOOD, bind="query-params",
    help="last_release: the same hours, whole weeks back, before the release live on the day; pinned: a window you "
         "pin. A break that lasts for weeks still shows against it.")
pinned = (good_col.text_input("Pinned reference (START/END, UTC)", key=params.PINNED, bind="query-params",
                              placeholder="2026-09-28T00:00/2026-10-05T00:00") if known_good == "pinned" else None)
try:
    result = overview_of(current_source(), day=day, span_days=span,
                         known_good=None if known_good == "none" else known_good, pinned=pinned)
except DriftdeskError as exc:
    st.error(str(exc))
    st.stop()
render_overview(result)
