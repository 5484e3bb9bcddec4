"""The Seasonality page body: the verdict, the decomposition, one day against its baselines, the events, and every
segment's verdict."""

from __future__ import annotations

import streamlit as st

from driftdesk.seasonality.view import SeasonalityView, SegmentVerdicts
from ui.render.text import md, table

VERDICT_ICON = {"seasonal": ":material/check_circle:", "anomaly": ":material/bolt:", "drift": ":material/trending_up:",
                "data_break": ":material/link_off:", "variance_change": ":material/ssid_chart:", "too_short": ":material/hourglass_empty:",
                "constant": ":material/horizontal_rule:", "empty": ":material/block:"}


def render_seasonality(view: SeasonalityView) -> None:
    """The verdict, the day against its baselines (totals, then hour by hour beside the decomposition), the events."""
    st.subheader(f"{VERDICT_ICON.get(view.verdict['status'], '')} {md(view.headline)}", anchor="verdict")
    st.caption(md(view.details) + " Shaded orange: drift events; shaded blue: calendar days.")
    for col, (label, value, change) in zip(st.columns(3), view.day_totals()):
        col.metric(label, value, change, delta_color="off", border=True, height="stretch")
    if view.day_note:
        st.caption(md(view.day_note))
    left, right = st.columns([3, 2])
    with left:
        if view.decomposed:
            st.plotly_chart(view.to_figure(), width="stretch", key="decomposition")
        else:
            st.info(md(view.undrawn))
    with right:
        if view.hours_drawable:
            st.plotly_chart(view.comparison.to_figure(), width="stretch", key="comparison")
        st.caption("Day over day compares with yesterday's same hours; week over week with the same weekday, which "
                   "already carries the weekly pattern, so a gap only there is rarely 'just Monday'.")
    st.markdown("##### Events")
    events = view.result.events
    if events.height:
        table(events.select("start", "end", "kind", "direction", "magnitude", "detected_at", "score"),
              units={"magnitude": "change", "score": "ratio"})
    else:
        st.caption("No anomaly, drift or data break in this series.")


def render_segment_verdicts(verdicts: SegmentVerdicts) -> None:
    for column, message in verdicts.errors:
        st.warning(md(f"{column}: {message}"))
    if verdicts.verdicts.height:
        table(verdicts.shown())
