"""Seasonality: is it drift, or is it just Monday? One metric of one segment split into trend, seasonal and
residual, with flagged points, drift events shaded, the day-over-day / week-over-week view and a verdict.

URL parameters (all optional, bad values fall back to defaults): table (kpis | service), metric (cpa, cr,
conversions, latency_p99_ms, ...), segment ("All traffic" or COLUMN=VALUE, e.g. geo=DE), mode (batch | causal),
day (the day compared with the day before and the week before, YYYY-MM-DD).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.seasonality.view import (
    MODES,
    seasonality_days,
    seasonality_metrics,
    seasonality_tables,
    segment_columns,
    unsplittable_columns,
)
from ui import params
from ui.data import current_source
from ui.loaders import current_dataset, seasonality_segments_of, seasonality_view_of, segment_verdicts_of
from ui.pickers import day_input
from ui.render import md, render_seasonality, render_segment_verdicts, show_error

st.title("Seasonality")
st.caption("Is it drift, or is it just Monday? Each series is split into a trend, a repeating daily and weekly "
           "pattern and a residual. One-off spikes are **anomalies**; a level shift or a trend change the calendar "
           "does not explain is **drift**. Days in the calendar table (holidays, promotions) are calendar, not drift.")
source = current_source()
dataset = current_dataset(source)
if dataset is None:
    st.stop()
tables = seasonality_tables(dataset)
if not tables:
    st.info("No kpis or service table loaded: this page needs an hourly table. Add one on the Data page.")
    st.stop()

c1, c2, c3, c4, c5 = st.columns([1, 2, 2, 1, 1])
table: str = c1.selectbox("Table", tables, key=params.TABLE, bind="query-params")
metrics = seasonality_metrics(dataset, table)
days = seasonality_days(dataset, table)
if not metrics or days is None:
    st.info(f"The {table} table has no rows, or none of the columns a metric needs.")
    st.stop()
metric: str = c2.selectbox("Metric", metrics, key=params.METRIC, bind="query-params",
                           help="cr = conversions / clicks, cpa = spend / conversions, ctr = clicks / impressions, "
                           "roas = revenue / spend: ratios of sums per hour, never means of ratios.")
segment: str = c3.selectbox("Segment", seasonality_segments_of(source, table), key=params.SEGMENT, bind="query-params",
                            help="All traffic, or one value of one segment column.")
mode: str = c4.selectbox("Mode", MODES, key=params.MODE, bind="query-params",
                         help="batch: the whole history at once, for exploring. causal: every flag uses only earlier "
                         "data, the way a gate would have seen it.")
day: dt.date = day_input(c5, "Day to compare (UTC)", first=days[0], last=days[1], value=days[1], key=params.DAY,
                         help="Compared hour by hour with the day before and the same weekday a week before.")

try:
    view = seasonality_view_of(source, table=table, metric=metric, segment=segment, mode=mode, day=day)
except DriftdeskError as exc:
    show_error(exc)
    st.stop()
if view.series.height == 0:
    st.info(f"No rows for {md(segment)}.")
    st.stop()
render_seasonality(view)

columns = segment_columns(dataset, table)
st.markdown("##### Every segment")
st.caption(f"The same metric for every value of {md(', '.join(columns))}: which segments drift, which only repeat "
           "their calendar.")
unsplittable = unsplittable_columns(dataset, table)
if unsplittable:
    st.caption(f"Not split by {md(', '.join(unsplittable))}: the seasonality results have a column of that name.")
render_segment_verdicts(segment_verdicts_of(source, table=table, metric=metric, mode=mode, columns=columns))
