"""Figures for rollouts and incidents: the decision replayed over time beside each segment's change with its
interval, and an incident's timeline of alerts, releases and incidents.

``result`` is a RolloutResult or an IncidentView.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from driftdesk.viz.common import plain, plains

DECISION_COLORS = {"rollback": "#d62728", "pause_for_review": "#ff7f0e", "continue": "#2ca02c",
                   "not_enough_data": "#9e9e9e"}
VERDICT_COLORS = {"breach": "#d62728", "inconclusive": "#ff7f0e", "ok": "#2ca02c", "not_enough_data": "#9e9e9e"}
DECISION_ROWS = ("not_enough_data", "continue", "pause_for_review", "rollback")
SEVERITY_COLORS = {"P0": "#7f0000", "P1": "#d62728", "P2": "#ff7f0e", "P3": "#bcbd22"}
# the two panels of the rollout figure: widths 0.45 and 0.55 of what a gap of 0.14 leaves
LEFT_PANEL, RIGHT_PANEL = (0.0, 0.86 * 0.45), (1 - 0.86 * 0.55, 1.0)


def rollout_figure(result, gate: str | None = None) -> go.Figure:
    """Left: the decision at each evaluation. Right: every segment's change under one gate (the deciding one by
    default) at the decision, with its interval and the gate's threshold. Laid out directly (two panels side by
    side, as make_subplots would place them: its layout cost more than the rest of the figure)."""
    tl = result.timeline
    traces = [go.Scatter(
        x=tl["ts"].to_list(), y=tl["decision"].to_list(), mode="markers+lines", line={"color": "#bbbbbb"},
        marker={"size": 10, "color": [DECISION_COLORS.get(d, "#777") for d in tl["decision"].to_list()]},
        text=plains(tl["segments"].to_list()), hovertemplate="%{x}<br>%{y}<br>%{text}<extra></extra>", showlegend=False,
        xaxis="x", yaxis="y")]
    seg = result.segments
    gate = gate or _deciding_gate(result)
    part = seg.filter(pl.col("gate") == gate) if gate else seg.head(0)
    right: dict = {"anchor": "y2", "domain": list(RIGHT_PANEL)}
    shapes: list[dict] = []
    if part.height:
        traces.append(go.Scatter(
            x=part["change"].to_list(), y=plains(part["segment"].to_list()), mode="markers", showlegend=False,
            marker={"size": 10, "color": [VERDICT_COLORS.get(v, "#777") for v in part["verdict"].to_list()]},
            error_x={"type": "data", "symmetric": False,
                     "array": [None if h is None or c is None else h - c
                               for c, h in zip(part["change"].to_list(), part["ci_high"].to_list())],
                     "arrayminus": [None if lo is None or c is None else c - lo
                                    for c, lo in zip(part["change"].to_list(), part["ci_low"].to_list())]},
            text=part["verdict"].to_list(), hovertemplate="%{y}: %{x:.3f} (%{text})<extra></extra>",
            xaxis="x2", yaxis="y2"))
        threshold = part["threshold"][0]
        shapes = [_vline(threshold, {"dash": "dash", "color": "#d62728"}, "x2", "y2"),
                  _vline(0, {"color": "#888"}, "x2", "y2")]
        right["title"] = {"text": f"change of {part['metric'][0]} ({gate})"}
    titles = ("Decision replayed over the rollout", "Candidate vs control at the decision")
    return go.Figure(data=traces, layout={
        "xaxis": {"anchor": "y", "domain": list(LEFT_PANEL)},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0], "categoryorder": "array", "categoryarray": list(DECISION_ROWS)},
        "xaxis2": right, "yaxis2": {"anchor": "x2", "domain": [0.0, 1.0]},
        "annotations": [{"text": text, "x": (lo + hi) / 2, "xref": "paper", "y": 1.0, "yref": "paper",
                         "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 16}}
                        for text, (lo, hi) in zip(titles, (LEFT_PANEL, RIGHT_PANEL))],
        "shapes": shapes, "height": 420, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "title": {"text": f"{plain(result.candidate)} vs {plain(result.control)}: {result.decision}"}})


def _vline(x, line: dict, xref: str, yref: str) -> dict:
    """A vertical line across a panel, as ``Figure.add_vline`` draws it."""
    return {"type": "line", "x0": x, "x1": x, "xref": xref, "y0": 0, "y1": 1, "yref": f"{yref} domain", "line": line}


def _deciding_gate(result) -> str | None:
    row = result.timeline.filter(pl.col("ts") == result.decided_at) if result.decided_at else result.timeline.head(0)
    gates = row["gates"][0].split(", ") if row.height and row["gates"][0] else []
    if gates:
        return gates[0]
    return result.policy.gates[0].name if result.policy.gates else None


def incident_figure(view) -> go.Figure:
    """Alerts (one row per gate), releases and the incident on one timeline around the incident (the incident's
    span and the moment asked about drawn as the layout's own shapes)."""
    inc = view.incident
    shapes = [{"type": "rect", "x0": inc["start"], "x1": inc["end"] or inc["start"], "xref": "x", "y0": 0, "y1": 1,
               "yref": "y domain", "fillcolor": SEVERITY_COLORS.get(inc["severity"], "#999"), "opacity": 0.15,
               "line": {"width": 0}}]
    annotations = [{"text": plain(inc["incident_id"]), "x": inc["start"], "xref": "x", "y": 1, "yref": "y domain",
                    "xanchor": "left", "yanchor": "top", "showarrow": False}]
    traces = []
    alerts = view.alerts
    if alerts.height:
        traces.append(go.Scatter(x=alerts["ts"].to_list(), y=[f"alert · {g}" for g in alerts["gate"].to_list()],
                                 mode="markers", name="alerts", marker={"size": 10, "color": "#d62728", "symbol": "x"},
                                 text=plains(alerts["segment"].to_list()),
                                 hovertemplate="%{x}<br>%{y}<br>%{text}<extra></extra>"))
    rel = view.releases
    if rel.height:
        traces.append(go.Scatter(x=rel["ts"].to_list(), y=["releases"] * rel.height, mode="markers+text",
                                 name="releases", marker={"size": 12, "color": "#1f77b4", "symbol": "triangle-up"},
                                 text=plains(rel["release_id"].to_list()), textposition="top center"))
    if view.asked_at is not None:
        shapes.append(_vline(view.asked_at, {"dash": "dot", "color": "#555"}, "x", "y"))
    return go.Figure(data=traces, layout={
        "shapes": shapes, "annotations": annotations, "xaxis": {"range": [view.span.start, view.span.end]},
        "height": 360, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "title": {"text": f"{plain(inc['incident_id'])}: alerts, releases and the incident"}})
