"""Figures for rollouts and incidents: the decision replayed over time beside each segment's change with its
interval, and an incident's timeline of alerts, releases and incidents.

``result`` is a RolloutResult or an IncidentView.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from driftdesk.viz.common import plain, plains

DECISION_COLORS = {"rollback": "#d62728", "pause_for_review": "#ff7f0e", "continue": "#2ca02c",
                   "not_enough_data": "#9e9e9e"}
VERDICT_COLORS = {"breach": "#d62728", "inconclusive": "#ff7f0e", "ok": "#2ca02c", "not_enough_data": "#9e9e9e"}
DECISION_ROWS = ("not_enough_data", "continue", "pause_for_review", "rollback")
SEVERITY_COLORS = {"P0": "#7f0000", "P1": "#d62728", "P2": "#ff7f0e", "P3": "#bcbd22"}


def rollout_figure(result, gate: str | None = None) -> go.Figure:
    """Left: the decision at each evaluation. Right: every segment's change under one gate (the deciding one by
    default) at the decision, with its interval and the gate's threshold."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.14,
                        subplot_titles=("Decision replayed over the rollout", "Candidate vs control at the decision"))
    tl = result.timeline
    fig.add_trace(go.Scatter(
        x=tl["ts"].to_list(), y=tl["decision"].to_list(), mode="markers+lines", line={"color": "#bbbbbb"},
        marker={"size": 10, "color": [DECISION_COLORS.get(d, "#777") for d in tl["decision"].to_list()]},
        text=plains(tl["segments"].to_list()), hovertemplate="%{x}<br>%{y}<br>%{text}<extra></extra>", showlegend=False,
    ), row=1, col=1)
    seg = result.segments
    gate = gate or _deciding_gate(result)
    part = seg.filter(pl.col("gate") == gate) if gate else seg.head(0)
    if part.height:
        fig.add_trace(go.Scatter(
            x=part["change"].to_list(), y=plains(part["segment"].to_list()), mode="markers", showlegend=False,
            marker={"size": 10, "color": [VERDICT_COLORS.get(v, "#777") for v in part["verdict"].to_list()]},
            error_x={"type": "data", "symmetric": False,
                     "array": [None if h is None or c is None else h - c
                               for c, h in zip(part["change"].to_list(), part["ci_high"].to_list())],
                     "arrayminus": [None if lo is None or c is None else c - lo
                                    for c, lo in zip(part["change"].to_list(), part["ci_low"].to_list())]},
            text=part["verdict"].to_list(), hovertemplate="%{y}: %{x:.3f} (%{text})<extra></extra>",
        ), row=1, col=2)
        threshold = part["threshold"][0]
        fig.add_vline(x=threshold, line={"dash": "dash", "color": "#d62728"}, row=1, col=2)
        fig.add_vline(x=0, line={"color": "#888"}, row=1, col=2)
        fig.update_xaxes(title_text=f"change of {part['metric'][0]} ({gate})", row=1, col=2)
    fig.update_yaxes(categoryorder="array", categoryarray=list(DECISION_ROWS), row=1, col=1)
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title=f"{plain(result.candidate)} vs {plain(result.control)}: {result.decision}")
    return fig


def _deciding_gate(result) -> str | None:
    row = result.timeline.filter(pl.col("ts") == result.decided_at) if result.decided_at else result.timeline.head(0)
    gates = row["gates"][0].split(", ") if row.height and row["gates"][0] else []
    if gates:
        return gates[0]
    return result.policy.gates[0].name if result.policy.gates else None


def incident_figure(view) -> go.Figure:
    """Alerts (one row per gate), releases and the incident on one timeline around the incident."""
    fig = go.Figure()
    inc = view.incident
    fig.add_vrect(x0=inc["start"], x1=inc["end"] or inc["start"], fillcolor=SEVERITY_COLORS.get(inc["severity"], "#999"),
                  opacity=0.15, line_width=0, annotation_text=plain(inc["incident_id"]), annotation_position="top left")
    alerts = view.alerts
    if alerts.height:
        fig.add_trace(go.Scatter(x=alerts["ts"].to_list(), y=[f"alert · {g}" for g in alerts["gate"].to_list()],
                                 mode="markers", name="alerts", marker={"size": 10, "color": "#d62728", "symbol": "x"},
                                 text=plains(alerts["segment"].to_list()),
                                 hovertemplate="%{x}<br>%{y}<br>%{text}<extra></extra>"))
    rel = view.releases
    if rel.height:
        fig.add_trace(go.Scatter(x=rel["ts"].to_list(), y=["releases"] * rel.height, mode="markers+text",
                                 name="releases", marker={"size": 12, "color": "#1f77b4", "symbol": "triangle-up"},
                                 text=plains(rel["release_id"].to_list()), textposition="top center"))
    if view.asked_at is not None:
        fig.add_vline(x=view.asked_at, line={"dash": "dot", "color": "#555"})
    fig.update_xaxes(range=[view.span.start, view.span.end])
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title=f"{plain(inc['incident_id'])}: alerts, releases and the incident")
    return fig
