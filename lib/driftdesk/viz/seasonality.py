"""Plotly figures for the seasonality module: decomposition panels with flags and drift events, DoD / WoW."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

FLAG_STYLE = {"anomaly": ("#d62728", "x", "anomaly"), "drift": ("#ff7f0e", "diamond", "drift")}
DRIFT_FILL = "rgba(255, 127, 14, 0.15)"
CALENDAR_FILL = "rgba(31, 119, 180, 0.08)"


def _shade_calendar(fig: go.Figure, points: pl.DataFrame, rows: int) -> None:
    if "calendar" not in points.columns:
        return
    days = points.filter(pl.col("calendar")).select(pl.col("ts").dt.date().unique().sort())["ts"].to_list()
    import datetime as dt

    for d in days:
        start = dt.datetime.combine(d, dt.time())
        fig.add_vrect(x0=start, x1=start + dt.timedelta(days=1), fillcolor=CALENDAR_FILL, line_width=0, layer="below",
                      row="all", col=1)


def seasonality_figure(result) -> go.Figure:
    """Observed (with the expected value), trend, seasonal and residual score panels for one series; flagged
    points marked; drift events shaded from their start to their end; calendar days shaded blue."""
    p = result.points.sort("ts")
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        subplot_titles=("observed and expected", "trend", "seasonal", "residual score (robust z)"))
    fig.add_trace(go.Scatter(x=p["ts"], y=p["value"], name="observed", mode="lines", line={"width": 1, "color": "#444"}),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=p["ts"], y=p["trend"] + p["seasonal"], name="expected (trend + seasonal)", mode="lines",
                             line={"width": 1, "color": "#1f77b4", "dash": "dot"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=p["ts"], y=p["trend"], name="trend", mode="lines", line={"color": "#2ca02c"}), row=2, col=1)
    fig.add_trace(go.Scatter(x=p["ts"], y=p["seasonal"], name="seasonal", mode="lines", line={"width": 1, "color": "#9467bd"}),
                  row=3, col=1)
    fig.add_trace(go.Scatter(x=p["ts"], y=p["score"], name="score", mode="lines", line={"width": 1, "color": "#7f7f7f"}),
                  row=4, col=1)
    for flag, (color, symbol, label) in FLAG_STYLE.items():
        hit = p.filter(pl.col("flag") == flag)
        if hit.height:
            fig.add_trace(go.Scatter(x=hit["ts"], y=hit["value"], mode="markers", name=label,
                                     marker={"color": color, "symbol": symbol, "size": 7}), row=1, col=1)
            fig.add_trace(go.Scatter(x=hit["ts"], y=hit["score"], mode="markers", name=label, showlegend=False,
                                     marker={"color": color, "symbol": symbol, "size": 6}), row=4, col=1)
    for e in result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"])).to_dicts():
        fig.add_vrect(x0=e["start"], x1=e["end"], fillcolor=DRIFT_FILL, line_width=0, layer="below", row="all", col=1)
    for e in result.events.filter(pl.col("kind") == "data_break").to_dicts():
        fig.add_vrect(x0=e["start"], x1=e["end"], fillcolor="rgba(127,127,127,0.25)", line_width=0, layer="below",
                      row="all", col=1)
    _shade_calendar(fig, p, 4)
    fig.update_layout(height=720, margin={"l": 40, "r": 10, "t": 40, "b": 30}, legend={"orientation": "h", "y": -0.06},
                      hovermode="x unified")
    return fig


def decomposition_figure(frame: pl.DataFrame, *, title: str = "") -> go.Figure:
    """A Decomposition's frame: observed, trend, each seasonal component, residual."""
    cols = ["observed", "trend", *[c for c in frame.columns if c.startswith("seasonal_")], "resid"]
    fig = make_subplots(rows=len(cols), cols=1, shared_xaxes=True, vertical_spacing=0.03, subplot_titles=cols)
    for i, c in enumerate(cols, start=1):
        fig.add_trace(go.Scatter(x=frame["ts"], y=frame[c], name=c, mode="lines", line={"width": 1}), row=i, col=1)
    fig.update_layout(height=170 * len(cols), title=title, showlegend=False, margin={"l": 40, "r": 10, "t": 50, "b": 30})
    return fig


def comparison_figure(comparison) -> go.Figure:
    """The chosen day hour by hour, beside the day before and the same weekday a week before."""
    f = comparison.frame
    fig = go.Figure()
    styles = {"current": ("#1f77b4", "solid", 2.5), "day_over_day": ("#ff7f0e", "dash", 1.5),
              "week_over_week": ("#2ca02c", "dot", 1.5)}
    names = {"current": f"{comparison.current.start:%a %d %b}", "day_over_day": "day before",
             "week_over_week": "same weekday, week before"}
    for col, (color, dash, width) in styles.items():
        fig.add_trace(go.Scatter(x=f["offset_hours"], y=f[col], name=names[col], mode="lines+markers",
                                 line={"color": color, "dash": dash, "width": width}, marker={"size": 4}))
    fig.update_layout(height=360, xaxis_title="hour of day (UTC)", margin={"l": 40, "r": 10, "t": 30, "b": 40},
                      legend={"orientation": "h", "y": -0.25}, hovermode="x unified")
    return fig
