"""Releases, incidents and calendar days on one timeline (the Overview's figure).

``result`` is an Overview.
"""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

SEVERITY_COLORS = {"P0": "#7f0000", "P1": "#d62728", "P2": "#ff7f0e", "P3": "#bcbd22"}
RELEASE_COLOR = "#1f77b4"
LAYER_ROWS = ("service", "data", "model", "business", "llm")


def timeline_figure(result) -> go.Figure:
    """Incidents as bars on one row per layer, releases as markers on their own row, the chosen day shaded."""
    events = result.events
    span_start, span_end = result.span.start, result.span.end
    fig = go.Figure()
    rows = ["releases", *[f"incident · {layer}" for layer in LAYER_ROWS]]

    incidents = events.filter(pl.col("kind") == "incident")
    for severity in sorted(incidents["severity"].fill_null("-").unique().to_list()):
        part = incidents.filter(pl.col("severity").fill_null("-") == severity)
        starts = [max(s, span_start) for s in part["start"].to_list()]
        ends = [min(e if e is not None else span_end, span_end) for e in part["end"].to_list()]
        fig.add_trace(go.Bar(
            orientation="h",
            base=starts,
            x=[max((e - s).total_seconds() * 1000, 3_600_000) for s, e in zip(starts, ends)],
            y=[f"incident · {g}" if g else "incident · other" for g in part["group"].to_list()],
            marker_color=SEVERITY_COLORS.get(severity, "#7f7f7f"),
            name=f"incident {severity}",
            text=part["name"].to_list(),
            textposition="auto",
            customdata=list(zip(part["name"].to_list(), part["start"].to_list(), part["end"].to_list(),
                                part["detail"].fill_null("").to_list())),
            hovertemplate="<b>%{customdata[0]}</b> " + severity + "<br>%{customdata[1]} → %{customdata[2]}"
                          "<br>%{customdata[3]}<extra></extra>",
        ))

    releases = events.filter(pl.col("kind") == "release")
    if releases.height:
        fig.add_trace(go.Scatter(
            x=releases["start"].to_list(),
            y=["releases"] * releases.height,
            mode="markers+text",
            marker={"symbol": "diamond", "size": 11, "color": RELEASE_COLOR},
            text=releases["name"].to_list(),
            textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(releases.height)],
            textfont={"size": 10},
            name="release",
            customdata=list(zip(releases["group"].fill_null("").to_list(), releases["detail"].fill_null("").to_list())),
            hovertemplate="<b>%{text}</b> (%{customdata[0]})<br>%{x}<br>%{customdata[1]}<extra></extra>",
        ))

    for row in events.filter(pl.col("kind") == "calendar").iter_rows(named=True):
        fig.add_vrect(x0=row["start"], x1=row["end"], fillcolor="#9e9e9e", opacity=0.15, line_width=0,
                      annotation_text=row["name"], annotation_position="bottom left",
                      annotation_font={"size": 9, "color": "#616161"})
    fig.add_vrect(x0=result.current.start, x1=result.current.end, fillcolor="#2ca02c", opacity=0.15, line_width=0,
                  annotation_text=f"{result.day.isoformat()} (shown)", annotation_position="top right",
                  annotation_font={"size": 10, "color": "#2ca02c"})

    fig.update_layout(
        barmode="overlay",
        height=360,
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        xaxis={"type": "date", "range": [span_start, span_end + dt.timedelta(hours=6)], "title": None},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(rows)), "title": None},
        title={"text": f"Releases and incidents, {span_start.date().isoformat()} to {result.day.isoformat()}",
               "font": {"size": 14}},
    )
    if not events.height:
        fig.add_annotation(text="no releases, incidents or calendar days in this span", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
    return fig
