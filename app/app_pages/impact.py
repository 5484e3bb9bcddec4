"""Segments & impact: which segment moved CPA / ROAS / CR, by traffic mix or by its own rate, and where spend went.

URL parameters (all optional, bad values fall back to defaults): end (last day of the current window,
YYYY-MM-DD), days (current window length), vs (week_over_week | previous_period | day_over_day | last_release |
pinned), pinned (the pinned reference window START/END), metric
(cpa | roas | cr), by (one or more segment columns), min_conv (conversions below which a segment is flagged).
"""

from __future__ import annotations

import streamlit as st

from driftdesk.business import impact_metrics
from driftdesk.errors import DriftdeskError
from driftdesk.windows import day_range
from ui import params
from ui.data import current_source
from ui.loaders import impact_view_of, require_table
from ui.pickers import window_controls
from ui.render import render_impact, show_error

MIN_CONV_CHOICES = (0, 10, 30, 100)

st.title("Segments & impact")
st.caption("Did the global number move because traffic shifted between segments (mix) or because segments "
           "themselves got better or worse (rate)? The parts add up exactly to the change.")
source = current_source()
dataset, table = require_table(source, "kpis", "No kpis table loaded: this page needs spend and conversions per hour "
                               "and segment. Add a kpis file on the Data page.")
if not table.segments:
    st.info("The kpis table has no segment columns (geo, device, …): there is nothing to split the change by.")
    st.stop()
days = day_range(table.frame)
if days is None:
    st.info("The kpis table has no rows.")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
windows = window_controls(*days, (c1, c2, c3))
metric: str = c4.selectbox("Metric", impact_metrics(table), key=params.METRIC, bind="query-params",
                           help="cpa = spend / conversions, roas = revenue / spend, cr = conversions / clicks")
c5, c6 = st.columns([3, 1])
by: list[str] = c5.multiselect("Segment by", list(table.segments), default=[table.segments[0]], key=params.BY,
                               bind="query-params", help="One or two columns read best; the heat map uses the first two.")
min_conv: int = c6.selectbox("Flag segments under (conversions)", MIN_CONV_CHOICES, index=MIN_CONV_CHOICES.index(30),
                             key=params.MIN_CONV, bind="query-params")
if not by:
    st.info("Choose at least one segment column.")
    st.stop()

try:
    view = impact_view_of(source, end=windows.end, days=windows.days, vs=windows.vs, by=by, metric=metric,
                          min_conversions=min_conv, pinned=windows.pinned)
except DriftdeskError as exc:
    show_error(exc)
    st.stop()
render_impact(view)
