"""driftdesk app: page config, navigation and the shared sidebar. Pages live in app_pages/.

To add a page: one `st.Page(...)` line in PAGES (url_path == the file's stem; the Overview is at the root and at
/overview). Old spellings of URL parameters
are rewritten before a page runs (`upgrade_query_params()`, see ui/params.py). The `data` URL parameter is
carried across pages by `carry_data_param()`, the chosen day by `carry_day()`; link to a page with
`st.page_link("app_pages/x.py", query_params={"data": current_source()})` if you want to keep more. An error no page
caught is shown on the page by `show_failure()` (ui/failures.py), never as a traceback. Money is formatted in the
data's currency (`currency` in its driftdesk.toml) for the whole run: `money_in(currency_of(source))`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

from driftdesk.format import money_in

APP_DIR = Path(__file__).resolve().parent
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

from ui.carry import carry_day  # noqa: E402
from ui.data import carry_data_param  # noqa: E402
from ui.failures import PAGE_FAILURES, show_failure  # noqa: E402
from ui.loaders import currency_of  # noqa: E402
from ui.params import upgrade_query_params  # noqa: E402
from ui.sidebar import render_sidebar  # noqa: E402

st.set_page_config(page_title="driftdesk", page_icon=":material/monitoring:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="home", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/table_chart:", url_path="data"),
    st.Page("app_pages/drift.py", title="Drift", icon=":material/difference:", url_path="drift"),
    st.Page("app_pages/calibration.py", title="Calibration", icon=":material/target:", url_path="calibration"),
    st.Page("app_pages/impact.py", title="Segments & impact", icon=":material/waterfall_chart:", url_path="impact"),
    st.Page("app_pages/seasonality.py", title="Seasonality", icon=":material/calendar_month:", url_path="seasonality"),
    st.Page("app_pages/llm.py", title="LLM", icon=":material/smart_toy:", url_path="llm"),
    st.Page("app_pages/gates.py", title="Gates", icon=":material/rule:", url_path="gates"),
    st.Page("app_pages/rollouts.py", title="Rollouts", icon=":material/call_split:", url_path="rollouts"),
    st.Page("app_pages/incidents.py", title="Incidents", icon=":material/emergency:", url_path="incidents"),
    # the Overview is served at the root; /overview, the path a reader types after seeing the others, opens it too
    st.Page("app_pages/overview.py", title="Overview", url_path="overview", visibility="hidden"),
]

page = st.navigation(PAGES)
try:  # every error becomes a message on the page (ui/failures.py); st.stop and st.rerun pass through
    upgrade_query_params()  # after navigation, so the rerun it may ask for stays on the page the link names
    source = carry_data_param()
    carry_day(page.url_path or "overview")
    with money_in(currency_of(source)):  # every amount on the page, in its sentences and charts: the data's currency
        try:
            render_sidebar(source)
        except PAGE_FAILURES as exc:  # the page still runs and says what is wrong with the data
            with st.sidebar:
                show_failure(exc, page="sidebar")
        page.run()
except PAGE_FAILURES as exc:
    show_failure(exc, page=page.url_path)
