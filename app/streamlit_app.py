"""driftdesk app: page config, navigation and the shared sidebar. Pages live in app_pages/."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

APP_DIR = Path(__file__).resolve().parent
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

from ui.data import current_source, source_label  # noqa: E402

st.set_page_config(page_title="driftdesk", page_icon=":material/monitoring:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/table_chart:", url_path="data"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.caption("Data loaded")
    st.markdown(f"**{source_label(current_source())}**")
page.run()
