"""The sidebar every page shares: which data is loaded (name, tables, time range)."""

from __future__ import annotations

import streamlit as st

from driftdesk.format import format_value
from driftdesk.overview import describe_range
from ui.data import source_label
from ui.loaders import summary_of, try_load
from ui.params import DATA
from ui.render.text import md


def render_sidebar(source: str) -> None:
    with st.sidebar:
        st.caption("Data loaded")
        st.markdown(f"**{md(source_label(source))}**")
        st.page_link("app_pages/data.py", label="Change or check the data", icon=":material/swap_horiz:",
                     query_params={DATA: source})
        dataset, _ = try_load(source)
        if dataset is None:
            st.markdown(":red[:material/error: cannot load: see the Data page]")
            return
        summary = summary_of(source)
        span = describe_range(summary)
        if span:
            st.markdown(f":material/date_range: {md(span)} (UTC)")
        st.markdown(":material/table: " + ", ".join(f"{md(t)} ({format_value(n, 'count')})"
                                                    for t, n in summary.select("table", "rows").iter_rows()))
