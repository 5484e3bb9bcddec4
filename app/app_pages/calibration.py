"""Calibration: do the scores still mean what they say? Baseline vs current reliability, ECE, Brier, segments.

URL parameters (all optional, bad values fall back to defaults): end (last day of the current window,
YYYY-MM-DD), days (current window length), vs (week_over_week | previous_period | day_over_day | last_release |
pinned), pinned (the pinned reference window START/END), by (segment column), segment (the value of that column whose reliability diagram is shown; by default the one whose ECE rose
most), bins, strategy (uniform | quantile), delay (label delay in days).
"""

from __future__ import annotations

import streamlit as st

from driftdesk.calibration import calibration_segment_columns, default_calibration_by
from driftdesk.errors import DriftdeskError
from driftdesk.segments import segment_values
from driftdesk.windows import day_range
from ui import params
from ui.data import current_source
from ui.loaders import calibration_view_of, require_table
from ui.pickers import window_controls
from ui.render import render_calibration, show_error

BIN_CHOICES = (5, 10, 15, 20)
DELAY_CHOICES = (0, 1, 2, 3, 7)
NO_SEGMENT = "(none)"

st.title("Calibration")
st.caption("A model can keep its ranking and still misprice every bid. Do predicted probabilities match what "
           "happened? Only labels that have arrived count.")
source = current_source()
_, table = require_table(source, "decisions", "No decisions table loaded: calibration needs scored rows with a score "
                         "and a label. Add a decisions file on the Data page.")
if not table.has("label"):
    st.info("The decisions table has no label column: calibration needs outcomes (0/1). Map one on the Data page.")
    st.stop()
days = day_range(table.frame)
if days is None:
    st.info("The decisions table has no rows.")
    st.stop()
columns = calibration_segment_columns(table)
default_by = default_calibration_by(columns)

windows = window_controls(*days, st.columns(3))
c4, c5, c6, c7, c8 = st.columns(5)
by: str = c4.selectbox("Per segment", [NO_SEGMENT, *columns], index=columns.index(default_by) + 1 if default_by else 0,
                       key=params.BY, bind="query-params")
segment: str | None = c5.selectbox(
    "Segment shown alone", segment_values(table.frame, by) if by != NO_SEGMENT else [], index=None,
    placeholder="largest ECE rise", key=params.SEGMENT, bind="query-params", disabled=by == NO_SEGMENT,
    help="The value of the segment column whose reliability diagram is drawn (under Per segment); by default the "
         "one whose ECE rose most.")
bins: int = c6.selectbox("Bins", BIN_CHOICES, index=BIN_CHOICES.index(10), key=params.BINS, bind="query-params")
strategy: str = c7.selectbox("Bin edges", ("uniform", "quantile"), key=params.STRATEGY, bind="query-params",
                             help="quantile: equal-count bins from the baseline's scores, shared by both windows")
delay: int = c8.selectbox("Label delay (days)", DELAY_CHOICES, key=params.DELAY, bind="query-params",
                          help="Count only labels at least this old (before the newest row): late outcomes are not yet in.")

try:
    view = calibration_view_of(source, end=windows.end, days=windows.days, vs=windows.vs,
                               by=None if by == NO_SEGMENT else by, segment=segment, bins=bins, strategy=strategy,
                               delay=delay, pinned=windows.pinned)
except DriftdeskError as exc:
    show_error(exc)
    st.stop()
render_calibration(view)
