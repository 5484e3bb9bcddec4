"""Drift: a day against the previous day and the same weekday last week (or a custom range), per column and segment.

URL parameters (bad values fall back to defaults): table (decisions | kpis | llm_calls), day (YYYY-MM-DD),
baselines (day_over_day, week_over_week, custom, last_release, pinned), custom (the custom range START/END), pinned
(the pinned reference window START/END), column, by (a segment column or "(none)"), vs (the baseline whose
distribution is drawn), statistic (of the history chart), weight (what a kpis row counts for: impressions, clicks,
spend or rows).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from driftdesk.drift.view import DRIFT_TABLES, drift_segments, drift_weights
from driftdesk.errors import DriftdeskError
from driftdesk.windows import Window, day_range
from ui import params
from ui.data import current_source
from ui.loaders import current_dataset, drift_view_of
from ui.pickers import day_input, example_window
from ui.render import md, render_drift, show_error

BASELINES = ("day_over_day", "week_over_week", "custom", "last_release", "pinned")
STATISTICS = ("effect", "psi", "js", "ks", "null_rate_change", "wasserstein_norm")
NO_SEGMENT = "(none)"

st.title("Drift")
st.caption("Did the inputs or the scores shift, and is it real? The day is compared with the same hours a day "
           "earlier and a week earlier; a shift both agree on is real, one only yesterday shows is the calendar. "
           "Outcomes (label, revenue) arrive late, so they are judged on the Calibration page, not here.")
source = current_source()
dataset = current_dataset(source)
if dataset is None:
    st.stop()
tables = [t for t in DRIFT_TABLES if t in dataset]
if not tables:
    st.info("No decisions, kpis or llm_calls table in this data: nothing to compare. Add one on the Data page.")
    st.stop()

c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
table: str = c1.selectbox("Table", tables, key=params.TABLE, bind="query-params")
days = day_range(dataset[table].frame)
if days is None:
    st.info(f"The {table} table has no rows.")
    st.stop()
day: dt.date = day_input(c2, "Current day (UTC)", first=days[0], last=days[1], value=days[1], key=params.DAY)
kinds = c3.multiselect("Baselines", BASELINES, default=["day_over_day", "week_over_week"], key=params.BASELINES,
                       bind="query-params",  # no format_func: the URL keeps the kinds themselves
                       help="Day over day and week over week keep the same hours and weekday; a custom range is "
                            "filtered to the current day's weekday.")
custom = c4.text_input("Custom baseline range (START/END, UTC)", key=params.CUSTOM, bind="query-params",
                       placeholder=example_window(day), disabled="custom" not in kinds)
pinned = c4.text_input("Pinned reference (START/END, UTC)", key=params.PINNED, bind="query-params",
                       placeholder=example_window(day), disabled="pinned" not in kinds,
                       help="A known-good window; last_release places one before the release live on the day.")
if not kinds:
    st.info("Choose at least one baseline.")
    st.stop()
for kind, text in (("custom", custom), ("pinned", pinned)):
    if kind in kinds:
        try:
            Window.parse(text or "")
        except DriftdeskError as exc:
            st.warning(f"{kind.capitalize()} baseline: {md(exc)}")
            st.stop()

d1, d2, d3, d4 = st.columns(4)
by: str = d2.selectbox("Segment drill-down by", [NO_SEGMENT, *drift_segments(dataset, table)], key=params.BY,
                       bind="query-params")
vs: str = d3.selectbox("Distribution against", [k for k in BASELINES if k in kinds], key=params.VS,
                       bind="query-params")
statistic: str = d4.selectbox("History statistic", STATISTICS, key=params.STATISTIC, bind="query-params")
weights = drift_weights(dataset, table)
weight: str = (st.selectbox("Each row counts by", weights, key=params.WEIGHT, bind="query-params",
                            help="A kpis row is an hour of a segment: weighting it by its traffic shows a segment "
                                 "whose share of impressions moved even when its number of rows did not.")
               if len(weights) > 1 else weights[0])

try:  # every column, most severe first: the one drawn by default is the one most worth a look
    view = drift_view_of(source, table=table, day=day, vs=kinds, custom=custom if "custom" in kinds else None,
                         by=None, pinned=pinned if "pinned" in kinds else None, weight=weight)
    column: str = d1.selectbox("Column", view.columns_by_severity, key=params.COLUMN, bind="query-params",
                               help="Most severe first.")
    if by != NO_SEGMENT:
        view = drift_view_of(source, table=table, day=day, vs=kinds, custom=custom if "custom" in kinds else None,
                             by=by, pinned=pinned if "pinned" in kinds else None, weight=weight, column=column)
except DriftdeskError as exc:
    show_error(exc)
    st.stop()
render_drift(view, column=column, vs=vs, statistic=statistic)
