"""Drift: a day against the previous day and the same weekday last week (or a custom range), per column and segment."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.windows import Window
from ui import params
from ui.data import current_dataset, current_source
from ui.drift_view import (
    TABLES,
    drift_columns,
    drift_view_of,
    render_column,
    render_consensus,
    render_quality,
    render_segments,
    render_table,
)

BASELINES = ("day_over_day", "week_over_week", "custom", "last_release", "pinned")
STATISTICS = ("effect", "psi", "js", "ks", "null_rate_change", "wasserstein_norm")

st.title("Drift")
st.caption("Did the inputs or the scores shift, and is it real? The day is compared with the same hours a day "
           "earlier and a week earlier; a shift both agree on is real, one only yesterday shows is the calendar. "
           "Outcomes (label, revenue) arrive late, so they are judged on the Calibration page, not here.")
dataset = current_dataset()
if dataset is None:
    st.stop()
tables = [t for t in TABLES if t in dataset]
if not tables:
    st.info("No decisions, kpis or llm_calls table in this data: nothing to compare. Add one on the Data page.")
    st.stop()

c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
table = c1.selectbox("Table", tables, key="drift_table", bind="query-params")
frame = dataset[table].frame
if frame.is_empty():
    st.info(f"The {table} table has no rows.")
    st.stop()
first, last = frame["ts"].min().date(), frame["ts"].max().date()
day: dt.date = c2.date_input("Current day (UTC)", value=last, min_value=first, max_value=last, key="drift_date",
                             bind="query-params", format="YYYY-MM-DD")
kinds = c3.multiselect("Baselines", BASELINES, default=["day_over_day", "week_over_week"], key="drift_baselines",
                       bind="query-params",  # no format_func: the URL keeps the option names themselves
                       help="Day over day and week over week keep the same hours and weekday; a custom range is "
                            "filtered to the current day's weekday.")
custom = c4.text_input("Custom baseline range (START/END, UTC)", key="drift_custom", bind="query-params",
                       placeholder="2026-08-03T00:00/2026-08-10T00:00", disabled="custom" not in kinds)
pinned = c4.text_input("Pinned reference (START/END, UTC)", key=params.PINNED, bind="query-params",
                       placeholder="2026-09-28T00:00/2026-10-05T00:00", disabled="pinned" not in kinds,
                       help="A known-good window; last_release places one before the release live on the day.")
if not kinds:
    st.info("Choose at least one baseline.")
    st.stop()
for kind, text in (("custom", custom), ("pinned", pinned)):
    if kind in kinds:
        try:
            Window.parse(text or "")
        except DriftdeskError as exc:
            st.warning(f"{kind.capitalize()} baseline: {exc}")
            st.stop()

columns = drift_columns(dataset, table)
segments = [s for s in dataset[table].segments if s in frame.columns]
d1, d2, d3, d4 = st.columns(4)
column = d1.selectbox("Column", columns, key="drift_column", bind="query-params")
by = d2.selectbox("Segment drill-down by", ["(none)", *segments], key="drift_by", bind="query-params")
vs = d3.selectbox("Distribution against", [k for k in BASELINES if k in kinds], key="drift_vs", bind="query-params")
statistic = d4.selectbox("History statistic", STATISTICS, key="drift_stat", bind="query-params")

try:
    with st.spinner("Comparing the day with its baselines…"):
        view = drift_view_of(current_source(), table=table, day=day, kinds=tuple(kinds),
                             custom=custom if "custom" in kinds else None, by=None if by == "(none)" else by,
                             pinned=pinned if "pinned" in kinds else None)
except DriftdeskError as exc:
    st.error(str(exc))
    st.stop()

render_consensus(view)
st.subheader("Columns by severity")
render_table(view)
st.subheader(f"{column}: baseline vs current")
render_column(view, column, vs, statistic)
st.subheader("Which segments carry the shift")
render_segments(view, column, vs)
with st.expander("Data quality (null-rate jumps, freshness, schema, ranges) vs week over week"):
    render_quality(view)
