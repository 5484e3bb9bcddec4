"""The chosen day goes with the reader from page to page.

Pages name the day their own way: ``day`` on the Overview, Drift and Seasonality (the day shown), ``end`` on
Calibration, Segments & impact and the LLM page (the last day of the window). Streamlit drops a URL parameter
bound to a widget of the page being left, so the entry script calls ``carry_day()`` before every page: it remembers
the day a page shows, and on arrival at a page whose URL has no day it holds the remembered one. The page's day
control (``ui.pickers.day_input``) then starts from it through ``arrival_day()`` when the page's data has that day,
and its URL binding writes it into the address bar, so the view is the one a shared link reopens. A link that
names a day (the Overview's cards do) wins over the carried one; a page without a day leaves it untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui.params import CONTROL_PARAMS, DAY_PARAMS

_DAY_KEY = "_driftdesk_day"
_PAGE_KEY = "_driftdesk_page"
_ARRIVAL_KEY = "_driftdesk_arrival_day"


def carry_day(page: str) -> None:
    """Remember the day of ``page`` (its url path), or hold the remembered day for it on arrival (``arrival_day``)."""
    name = DAY_PARAMS.get(page)
    arrived = st.session_state.get(_PAGE_KEY) != page
    st.session_state[_PAGE_KEY] = page
    st.session_state.pop(_ARRIVAL_KEY, None)
    if arrived:
        forget_other_pages_controls()
    if name is None:
        return
    shown = st.query_params.get(name)
    if not arrived:  # the same page again: its widget holds the day (from the URL on load, else the reader's pick)
        value = st.session_state.get(name)
        if isinstance(value, dt.date):
            st.session_state[_DAY_KEY] = value.isoformat()
        elif shown:
            st.session_state[_DAY_KEY] = shown
        return
    if shown:
        st.session_state[_DAY_KEY] = shown
    elif st.session_state.get(_DAY_KEY):
        st.session_state[_ARRIVAL_KEY] = (name, st.session_state[_DAY_KEY])


def forget_other_pages_controls() -> None:
    """Drop the values the controls of other pages left in the session. Pages share parameter names (``vs``, ``by``,
    ``metric``...) with different choices, and Streamlit keeps a bound control's value for the next control of the
    same name: Drift's ``vs=day_over_day`` would become the baseline of Segments & impact, a choice the reader never
    made there, and a link's own parameters would lose to the values a page had on an earlier visit. Without them
    a page's controls start from its URL, else its defaults; only the day is carried, on purpose (``carry_day``)."""
    for name in CONTROL_PARAMS:
        if name in st.session_state:
            del st.session_state[name]


def arrival_day(key: str, first: dt.date, last: dt.date) -> dt.date | None:
    """Before a page draws its day control ``key``: on arrival from another page, the carried day when it lies within
    [first, last], put into the control's state and the URL (else None: the control starts from its default)."""
    held = st.session_state.pop(_ARRIVAL_KEY, None)
    if held is None or held[0] != key:
        return None
    try:
        day = dt.date.fromisoformat(held[1])
    except ValueError:
        return None
    if not first <= day <= last:
        return None
    st.session_state[key] = day
    with contextlib.suppress(StreamlitAPIException):  # already bound this run: the control writes its own value
        st.query_params[key] = day.isoformat()
    return day
