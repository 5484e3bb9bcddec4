"""Figures for gates: a backtest's alerts on a timeline with incidents shaded, sweep trade-off curves, a check.

``result`` is a BacktestResult or a CheckResult, ``sweep`` a SweepResult.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from driftdesk.format import format_value
from driftdesk.viz.common import plain, plains

CAUGHT = "rgba(44, 160, 44, 0.16)"
MISSED = "rgba(214, 39, 40, 0.16)"
TRUE_ALERT = "#2ca02c"
FALSE_ALERT = "#d62728"
ACTION_SYMBOLS = {"rollback": "x", "pause_for_review": "diamond", "notify": "circle"}


ACTION_LABELS = {"rollback": "rollback", "pause_for_review": "pause for review", "notify": "notify"}
UNLABELLED = "#7f7f7f"
MAX_LABELS = 6  # threshold labels per sweep curve: enough to read it, few enough not to collide


def _shaded(result) -> tuple[list[dict], list[dict]]:
    """Each incident as a shaded band (green caught, red missed) with its id above: layout shapes and annotations,
    set at once (adding them one by one is slow)."""
    shapes, notes = [], []
    for row in result.incidents.iter_rows(named=True):
        end = row["end"] if row["end"] > row["start"] else row["start"] + (result.span_end - result.span_start) / 400
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": row["start"], "x1": end, "y0": 0, "y1": 1,
                       "fillcolor": CAUGHT if row["caught"] else MISSED, "line": {"width": 0}, "layer": "below"})
        notes.append({"x": row["start"], "y": 1, "xref": "x", "yref": "paper", "text": plain(row["incident_id"]),
                      "showarrow": False, "xanchor": "left", "yanchor": "bottom", "font": {"size": 10}})
    return shapes, notes


def backtest_timeline(result) -> go.Figure:
    """One row per gate; each alert a marker whose shape is the gate's action and whose colour says whether it fell
    inside an incident (green) or not (red: a false alarm; grey when there is no incident log to judge it);
    incidents shaded (green caught, red missed) and labelled with their id."""
    fig = go.Figure()
    gates = [g.name for g in result.policy.gates if not g.release_only]  # release checks have no history
    alerts = result.alerts
    judged = getattr(result, "has_incident_log", True)
    kinds = ((True, TRUE_ALERT, "inside an incident"), (False, FALSE_ALERT, "false alarm")) if judged else \
        ((False, UNLABELLED, "alert (no incident log to judge it)"),)
    for matched, color, label in kinds:
        part = alerts.filter(pl.col("matched") == matched) if alerts.height else alerts
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"colour: {label}", hoverinfo="skip",
                                 marker={"color": color, "size": 11, "symbol": "square"}))
        fig.add_trace(go.Scatter(
            x=part["ts"].to_list(), y=part["gate"].to_list(), mode="markers", name=label, showlegend=False,
            marker={"color": color, "size": 11, "line": {"width": 1, "color": "white"},
                    "symbol": [ACTION_SYMBOLS.get(a, "circle") for a in part["action"].to_list()]},
            customdata=list(zip(plains(part["segment"].to_list()), part["value"].to_list(), part["threshold"].to_list(),
                                part["action"].to_list(), plains(part["incident_ids"].to_list()))),
            hovertemplate="%{x}<br>%{y} · %{customdata[0]}<br>value %{customdata[1]:.4g} "
                          "(threshold %{customdata[2]:.4g})<br>action: %{customdata[3]}<br>"
                          "incident: %{customdata[4]}<extra></extra>",
        ))
    for action in dict.fromkeys(g.action for g in result.policy.gates if not g.release_only):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"shape: {ACTION_LABELS.get(action, action)}",
                                 marker={"color": UNLABELLED, "size": 11, "symbol": ACTION_SYMBOLS.get(action, "circle")},
                                 hoverinfo="skip"))
    shapes, notes = _shaded(result)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(reversed(gates)), title=None,
                     range=[-0.5, len(gates) - 0.5])  # every gate's row, also those that never fired
    fig.update_xaxes(type="date", range=[result.span_start, result.span_end], title=None)
    what = "incidents (green caught, red missed)" if judged else "no incident log"
    fig.update_layout(height=max(260, 60 + 38 * len(gates)), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.22}, hovermode="closest", shapes=shapes, annotations=notes,
                      title={"text": f"Alerts (shape: the gate's action; colour: inside an incident or not) and {what}",
                             "font": {"size": 13}})
    return fig


def _nearest(sweep, point: dict | None) -> dict | None:
    if not point:
        return None
    frame = sweep.frame.filter(pl.col("consecutive") == point["consecutive"])
    if frame.height == 0:
        return None
    return frame.with_columns((pl.col("threshold") - point["threshold"]).abs().alias("d")).sort("d").row(0, named=True)


def threshold_text(value: float, unit: str) -> str:
    """A threshold as it reads, precise enough to tell neighbouring sweep points apart (+2.40%, -10.0%, 0.2500)."""
    if unit == "change":
        return ("+" if value > 0 else "-" if value < 0 else "") + format_value(abs(value), "rate")
    return format_value(value, unit)


def _marks(sweep) -> list[tuple[dict, str, str, str]]:
    """(point, legend name, colour, symbol) of the adopted (current) and proposed values; the legend shows the
    marker's shape beside its name."""
    def name(who: str, point: dict) -> str:
        return f"{who}: threshold {threshold_text(point['threshold'], sweep.unit)}, {point['consecutive']} in a row"

    if sweep.current and sweep.proposed and sweep.current == sweep.proposed:
        return [(sweep.proposed, name(f"proposal = {sweep.current_label}", sweep.proposed), "#ffbf00", "star")]
    out = []
    if sweep.current:
        out.append((sweep.current, name(sweep.current_label, sweep.current), "#7f7f7f", "square"))
    if sweep.proposed:
        out.append((sweep.proposed, name("proposal", sweep.proposed), "#ffbf00", "star"))
    return out


def _labels(x: list, y: list, thresholds: list, unit: str, *, log_x: bool, near: list[float]) -> list[str]:
    """Threshold labels for points of a curve far enough apart on the plot not to collide (at most MAX_LABELS):
    points are taken from the thresholds ``near`` (the marked ones) outwards, and kept when no kept label is within
    a tenth of the plot's span."""
    pos = [(None if v is None or w is None or (log_x and v <= 0) else (math.log10(v) if log_x else v, w))
           for v, w in zip(x, y)]
    xs = [p[0] for p in pos if p is not None]
    span = ((max(xs) - min(xs)) or 1.0) if xs else 1.0
    kept: list[tuple[float, float]] = []
    text = [""] * len(x)
    order = sorted(range(len(x)), key=lambda i: min((abs(thresholds[i] - t) for t in near), default=0.0))
    for i in order:
        p = pos[i]
        if p is None or len(kept) >= MAX_LABELS:
            continue
        if all(((p[0] - q[0]) / span) ** 2 + (p[1] - q[1]) ** 2 >= 0.1 ** 2 for q in kept):
            kept.append(p)
            text[i] = threshold_text(thresholds[i], unit)
    return text


def sweep_figure(sweep) -> go.Figure:
    """Recall against alerts per week and against median delay, one curve per consecutive-breach count; the curve of
    the proposal's count labels its points with their thresholds, and the adopted and proposed values are marked.
    Without an incident log (no recall): alerts per week against the threshold."""
    if not sweep.has_incident_log or sweep.frame["recall"].drop_nulls().len() == 0:
        return _alerts_sweep(sweep)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("recall vs alerts per week", "recall vs median delay"),
                        horizontal_spacing=0.08)
    labelled = (sweep.proposed or {}).get("consecutive")
    marked = [p["threshold"] for p in (sweep.proposed, sweep.current) if p]
    for k in sorted(sweep.frame["consecutive"].unique().to_list()):
        part = sweep.frame.filter(pl.col("consecutive") == k).sort("threshold")
        hover = "threshold %{customdata}<br>recall %{y:.2f}<br>%{x:.2f}<extra>" + f"{k} in a row</extra>"
        name = f"{k} in a row" + (" (labels: its thresholds)" if k == labelled else "")
        for col, x in ((1, "alerts_per_week"), (2, "median_delay_hours")):
            points = part.filter(pl.col(x).is_not_null()) if col == 2 else part
            ts = points["threshold"].to_list()
            text = _labels(points[x].to_list(), points["recall"].to_list(), ts, sweep.unit, log_x=col == 1,
                           near=marked) if k == labelled else None
            fig.add_trace(go.Scatter(x=points[x].to_list(), y=points["recall"].to_list(),
                                     customdata=[threshold_text(t, sweep.unit) for t in ts],
                                     mode="lines+markers+text" if col == 1 else "markers+text", text=text,
                                     textposition="top center", textfont={"size": 10}, name=name,
                                     legendgroup=f"k{k}", showlegend=col == 1, hovertemplate=hover,
                                     line_shape="hv" if col == 1 else None), row=1, col=col)
    for point, name, color, symbol in _marks(sweep):
        nearest = _nearest(sweep, point)
        for col, x in ((1, "alerts_per_week"), (2, "median_delay_hours")):
            if nearest is None or nearest[x] is None or nearest["recall"] is None:
                continue
            fig.add_trace(go.Scatter(x=[nearest[x]], y=[nearest["recall"]], mode="markers", name=name,
                                     marker={"size": 16, "color": color, "symbol": symbol,
                                             "line": {"width": 2, "color": "black"}},
                                     showlegend=col == 1, legendgroup=name), row=1, col=col)
    ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 168]
    fig.update_xaxes(title_text="alerts per week (log scale)", type="log", tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks], row=1, col=1)
    fig.update_xaxes(title_text="median detection delay (hours)", row=1, col=2)
    fig.update_yaxes(title_text="recall (share of incidents caught)", range=[-0.05, 1.12], row=1, col=1)
    fig.update_yaxes(range=[-0.05, 1.12], row=1, col=2)
    scope = "whole policy" if sweep.with_other_gates else "this gate alone"
    fig.update_layout(height=440, margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      title={"text": f"Sweep of {sweep.gate} ({sweep.metric}, {scope})", "font": {"size": 13}},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def _alerts_sweep(sweep) -> go.Figure:
    """Alerts per week against the threshold, one curve per consecutive-breach count (no incidents: no recall)."""
    fig = go.Figure()
    for k in sorted(sweep.frame["consecutive"].unique().to_list()):
        part = sweep.frame.filter(pl.col("consecutive") == k).sort("threshold")
        fig.add_trace(go.Scatter(x=part["threshold"].to_list(), y=part["alerts_per_week"].to_list(),
                                 mode="lines+markers", name=f"{k} in a row", line_shape="hv",
                                 customdata=[threshold_text(t, sweep.unit) for t in part["threshold"].to_list()],
                                 hovertemplate="threshold %{customdata}<br>%{y:.2f} alerts per week<extra>"
                                               f"{k} in a row</extra>"))
    for point, name, color, symbol in _marks(sweep):
        nearest = _nearest(sweep, point)
        if nearest is not None:
            fig.add_trace(go.Scatter(x=[point["threshold"]], y=[nearest["alerts_per_week"]], mode="markers", name=name,
                                     marker={"size": 16, "color": color, "symbol": symbol,
                                             "line": {"width": 2, "color": "black"}}))
    scope = "whole policy" if sweep.with_other_gates else "this gate alone"
    fig.update_xaxes(title_text=f"threshold ({'relative change' if sweep.unit == 'change' else sweep.unit})",
                     tickformat="+.0%" if sweep.unit == "change" else ".1%" if sweep.unit in ("rate", "pp") else None)
    fig.update_yaxes(title_text="alerts per week")
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 60, "b": 10}, legend={"orientation": "h", "y": -0.25},
                      title={"text": f"Sweep of {sweep.gate} ({sweep.metric}, {scope}): alerts per week by threshold "
                                     "(recall needs an incidents table)", "font": {"size": 13}})
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
