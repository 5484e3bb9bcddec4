"""The chosen day goes with the reader from page to page.

Pages name the day their own way: ``day`` on the Overview, Drift and Seasonality (the day shown), ``end`` on
Calibration, Segments & impact and the LLM page (the last day of the window). Streamlit drops a URL parameter
bound to a widget of the page being left, so on arrival at a page without its day in the URL, ``carry_day()``
(called by the entry script before the page runs) writes the last chosen day into the URL under this page's name
and reruns once; the page's bound widget then reads it as from a shared link, and the address bar shows it. A
link that names a day (the Overview's cards do) wins over the carried one. A day outside a page's data falls back
to the page's default, as any bad URL value does.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui.params import DAY_PARAMS

_DAY_KEY = "_driftdesk_day"
_PAGE_KEY = "_driftdesk_page"


def carry_day(page: str) -> None:
    """Remember the day of ``page`` (its url path), or bring the remembered day to it on arrival."""
    name = DAY_PARAMS.get(page)
    arrived = st.session_state.get(_PAGE_KEY) != page
    st.session_state[_PAGE_KEY] = page
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
        return
    carried = st.session_state.get(_DAY_KEY)
    if not carried:
        return
    try:
        st.query_params[name] = carried
    except StreamlitAPIException:  # still bound to this page's widget: the widget's own value stands
        return
    st.rerun()
