"""Figures for gates: a backtest's alerts on a timeline with incidents shaded, sweep trade-off curves, a check.

``result`` is a BacktestResult or a CheckResult, ``sweep`` a SweepResult.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

CAUGHT = "rgba(44, 160, 44, 0.16)"
MISSED = "rgba(214, 39, 40, 0.16)"
TRUE_ALERT = "#2ca02c"
FALSE_ALERT = "#d62728"
ACTION_SYMBOLS = {"rollback": "x", "pause_for_review": "diamond", "notify": "circle"}


def backtest_timeline(result) -> go.Figure:
    """One row per gate; each alert a marker (green: inside an incident window, red: a false alarm); incidents
    shaded (green caught, red missed) and labelled with their id."""
    fig = go.Figure()
    gates = [g.name for g in result.policy.gates]
    alerts = result.alerts
    for matched, color, label in ((True, TRUE_ALERT, "alert inside an incident"), (False, FALSE_ALERT, "false alarm")):
        part = alerts.filter(pl.col("matched") == matched) if alerts.height else alerts
        fig.add_trace(go.Scatter(
            x=part["ts"].to_list(), y=part["gate"].to_list(), mode="markers", name=label,
            marker={"color": color, "size": 11, "line": {"width": 1, "color": "white"},
                    "symbol": [ACTION_SYMBOLS.get(a, "circle") for a in part["action"].to_list()]},
            customdata=list(zip(part["segment"].to_list(), part["value"].to_list(), part["threshold"].to_list(),
                                part["action"].to_list(), part["incident_ids"].to_list())),
            hovertemplate="%{x}<br>%{y} · %{customdata[0]}<br>value %{customdata[1]:.4g} "
                          "(threshold %{customdata[2]:.4g})<br>action: %{customdata[3]}<br>"
                          "incident: %{customdata[4]}<extra></extra>",
        ))
    for row in result.incidents.iter_rows(named=True):
        end = row["end"] if row["end"] > row["start"] else row["start"] + (result.span_end - result.span_start) / 400
        fig.add_vrect(x0=row["start"], x1=end, fillcolor=CAUGHT if row["caught"] else MISSED, line_width=0,
                      layer="below", annotation_text=row["incident_id"], annotation_position="top left",
                      annotation_font_size=10)
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(gates)), title=None)
    fig.update_xaxes(range=[result.span_start, result.span_end], title=None)
    fig.update_layout(height=max(260, 60 + 38 * len(gates)), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.12}, hovermode="closest",
                      title={"text": "Alerts (shape: action) and incidents (green caught, red missed)",
                             "font": {"size": 13}})
    return fig


def _mark(fig: go.Figure, sweep, point: dict | None, label: str, color: str, symbol: str) -> None:
    if not point:
        return
    frame = sweep.frame.filter(pl.col("consecutive") == point["consecutive"])
    if frame.height == 0:
        return
    nearest = frame.with_columns((pl.col("threshold") - point["threshold"]).abs().alias("d")).sort("d").row(0, named=True)
    for col, x in ((1, nearest["alerts_per_week"]), (2, nearest["median_delay_hours"])):
        if x is None or nearest["recall"] is None:
            continue
        fig.add_trace(go.Scatter(
            x=[x], y=[nearest["recall"]], mode="markers",
            marker={"size": 15, "color": color, "symbol": symbol, "line": {"width": 2, "color": "black"}},
            name=f"{label}: threshold {point['threshold']:g}, {point['consecutive']} in a row",
            showlegend=col == 1, legendgroup=label,
        ), row=1, col=col)


def sweep_figure(sweep) -> go.Figure:
    """Recall against alerts per week and against median delay, one curve per consecutive-breach count."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("recall vs alerts per week", "recall vs median delay"),
                        horizontal_spacing=0.08)
    for k in sorted(sweep.frame["consecutive"].unique().to_list()):
        part = sweep.frame.filter(pl.col("consecutive") == k).sort("threshold")
        hover = "threshold %{customdata:.4g}<br>recall %{y:.2f}<br>%{x:.2f}<extra>" + f"{k} in a row</extra>"
        fig.add_trace(go.Scatter(x=part["alerts_per_week"].to_list(), y=part["recall"].to_list(),
                                 customdata=part["threshold"].to_list(), mode="lines+markers",
                                 name=f"{k} in a row", legendgroup=f"k{k}", hovertemplate=hover,
                                 line_shape="hv"), row=1, col=1)
        delay = part.filter(pl.col("median_delay_hours").is_not_null())
        fig.add_trace(go.Scatter(x=delay["median_delay_hours"].to_list(), y=delay["recall"].to_list(),
                                 customdata=delay["threshold"].to_list(), mode="markers", name=f"{k} in a row",
                                 legendgroup=f"k{k}", showlegend=False, hovertemplate=hover), row=1, col=2)
    if sweep.current and sweep.proposed and sweep.current == sweep.proposed:
        _mark(fig, sweep, sweep.proposed, "current = proposed", "#ffbf00", "star")
    else:
        _mark(fig, sweep, sweep.current, "current", "#7f7f7f", "square")
        _mark(fig, sweep, sweep.proposed, "proposed", "#ffbf00", "star")
    ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 168]
    fig.update_xaxes(title_text="alerts per week (log scale)", type="log", tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks], row=1, col=1)
    fig.update_xaxes(title_text="median detection delay (hours)", row=1, col=2)
    fig.update_yaxes(title_text="recall (share of incidents caught)", range=[-0.05, 1.1], row=1, col=1)
    fig.update_yaxes(range=[-0.05, 1.1], row=1, col=2)
    scope = "whole policy" if sweep.with_other_gates else "this gate alone"
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      title={"text": f"Sweep of {sweep.gate} ({sweep.metric}, {scope})", "font": {"size": 13}},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def check_figure(result) -> go.Figure:
    """Each gate's value beside its threshold, coloured by pass (green) or fail (red)."""
    g = result.gates.filter(pl.col("value").is_not_null())
    colors = [TRUE_ALERT if p else FALSE_ALERT for p in g["passed"].to_list()]
    fig = go.Figure(go.Bar(x=g["name"].to_list(), y=g["value"].to_list(), marker_color=colors, name="value"))
    fig.add_trace(go.Scatter(x=g["name"].to_list(), y=g["threshold"].to_list(), mode="markers", name="threshold",
                             marker={"symbol": "line-ew-open", "size": 30, "color": "black"}))
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      title={"text": f"Release gate: {'passed' if result.passed else 'failed'}", "font": {"size": 13}})
    return fig
