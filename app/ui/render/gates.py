"""The Gates page's results: the backtest's figures beside the reference points, the timeline, each incident caught
or missed, the alerts, and one gate's threshold sweep."""

from __future__ import annotations

import streamlit as st

from driftdesk.format import format_value
from driftdesk.gates.view import GatesView
from ui.render.text import md, table

SUMMARY_UNITS = {"alerts": "count", "matched_alerts": "count", "precision": "rate", "recall": "rate",
                 "alerts_per_week": "ratio", "median_delay_hours": "count"}
SWEEP_UNITS = {"threshold": "score", "consecutive": "count", "alerts": "count", "alerts_per_week": "ratio",
               "precision": "rate", "recall": "rate", "median_delay_hours": "count", "mean_delay_hours": "count"}


def _hours(value: float | None) -> str:
    return format_value(value, "count") + ("" if value is None else " h")


def render_backtest(view: GatesView) -> None:
    """What the policy would have done on history: figures, timeline, incidents, alerts."""
    result = view.backtest
    caught, in_history = view.caught
    cols = st.columns(4)
    cols[0].metric("Incidents caught (recall)", f"{format_value(caught, 'count')} of {format_value(in_history, 'count')}",
                   help=f"Recall {format_value(result.recall, 'rate')}: share of labelled incidents with at least one "
                        f"alert inside [start, end + {format_value(result.grace_hours, 'count')} h].")
    cols[1].metric("Precision", format_value(result.precision, "rate"), help=md(result.score.reasons.get(
        "precision", "Share of alerts that fell inside an incident window.")))
    cols[2].metric("Alerts per week", format_value(result.alerts_per_week, "ratio"),
                   help=f"{format_value(result.score.alerts, 'count')} alerts over "
                        f"{format_value((result.span_end - result.span_start).days, 'count')} days.")
    cols[3].metric("Median detection delay", _hours(result.median_delay_hours),
                   help=md(result.score.reasons.get("median_delay_hours", "From incident start to its first alert.")))
    for reason in result.score.reasons.values():
        st.info(md(reason))
    st.caption("Reference points: the same figures if the policy never fired, and if it fired every hour.")
    table(result.summary(), units=SUMMARY_UNITS, column_config={
        "alerts_per_week": st.column_config.NumberColumn("alerts / week"),
        "median_delay_hours": st.column_config.NumberColumn("median delay (h)")})
    st.plotly_chart(result.to_figure(), width="stretch", key="gates_timeline")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Incidents: caught or missed**")
        table(view.incidents(), units={"delay_hours": "count"},
              column_config={"delay_hours": st.column_config.NumberColumn("delay (h)")})
    with right:
        st.markdown("**Alerts per gate**")
        table(result.per_gate, units={"alerts": "count", "matched_alerts": "count"})
    with st.expander(f"All {format_value(result.alerts.height, 'count')} alerts"):
        table(result.alerts, units={"value": "score", "threshold": "score"})
    for note in result.notes:
        st.caption(f"Note: {md(note)}")


def render_sweep(view: GatesView) -> None:
    """One gate's threshold swept, or why it cannot be (a release check has no history)."""
    gate = view.gate
    if view.sweep is None:
        st.info(f"{md(gate.name)} is a release check ({md(gate.metric)}, {md(gate.comparison)}): it compares a "
                "candidate with a baseline in `driftdesk gates check`, so there is no history to sweep it on.")
        return
    st.caption("Each point is the whole policy with this gate's threshold (and breaches in a row) changed. "
               "'current' is the adopted (or default) value, 'proposed' the one in the form.")
    st.plotly_chart(view.sweep.to_figure(), width="stretch", key="gates_sweep")
    with st.expander("Sweep points"):
        table(view.sweep.frame, units=SWEEP_UNITS)
