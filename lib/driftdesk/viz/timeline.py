"""Releases, incidents and calendar days on one timeline (the Overview's figure).

``result`` is an Overview.
"""

from __future__ import annotations

import datetime as dt
import html

import plotly.graph_objects as go
import polars as pl

from driftdesk.viz.common import empty_figure, label_lanes, plain, plains

SEVERITY_COLORS = {"P0": "#7f0000", "P1": "#d62728", "P2": "#ff7f0e", "P3": "#bcbd22"}
RELEASE_COLOR = "#1f77b4"
LAYER_ROWS = ("service", "data", "model", "business", "llm")
PLOT_PX = 900  # about the plot's width on a 1440 px screen, for placing release labels without overlap


def timeline_figure(result) -> go.Figure:
    """Incidents as bars on one row per layer, releases as markers on their own row, the chosen day shaded."""
    events = result.events
    span_start, span_end = result.span.start, result.span.end
    if not events.height:
        return empty_figure(f"No release, incident or calendar day between {span_start.date().isoformat()} and "
                            f"{result.day.isoformat()}.")
    fig = go.Figure()
    rows = ["releases", *[f"incident · {layer}" for layer in LAYER_ROWS]]
    # every row named even when nothing happened on it (a category axis without data falls back to numbers)
    fig.add_trace(go.Scatter(x=[span_start] * len(rows), y=rows, mode="markers", marker={"opacity": 0},
                             showlegend=False, hoverinfo="skip"))

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
            text=plains(part["name"].to_list()),
            textposition="auto",
            customdata=list(zip(plains(part["name"].to_list()), part["start"].to_list(), part["end"].to_list(),
                                plains(part["detail"].fill_null("").to_list()))),
            hovertemplate="<b>%{customdata[0]}</b> " + severity + "<br>%{customdata[1]} → %{customdata[2]}"
                          "<br>%{customdata[3]}<extra></extra>",
        ))

    releases = events.filter(pl.col("kind") == "release")
    if releases.height:
        names = releases["name"].to_list()
        fig.add_trace(go.Scatter(
            x=releases["start"].to_list(), y=["releases"] * releases.height, mode="markers",
            marker={"symbol": "diamond", "size": 11, "color": RELEASE_COLOR}, name="release",
            text=plains(names),
            customdata=list(zip(plains(releases["group"].fill_null("").to_list()),
                                plains(releases["detail"].fill_null("").to_list()))),
            hovertemplate="<b>%{text}</b> (%{customdata[0]})<br>%{x}<br>%{customdata[1]}<extra></extra>",
        ))
        span = (span_end - span_start).total_seconds()
        where = [(t - span_start).total_seconds() / span for t in releases["start"].to_list()]
        for t, name, lane in zip(releases["start"].to_list(), names, label_lanes(where, names, width_px=PLOT_PX)):
            if lane is not None:  # labels that would overlap stay in the hover
                fig.add_annotation(x=t, y="releases", text=html.escape(name), showarrow=False, xanchor="left",
                                   yanchor="bottom", yshift=8 + 13 * lane, font={"size": 10, "color": "#333"})

    for row in events.filter(pl.col("kind") == "calendar").iter_rows(named=True):
        fig.add_vrect(x0=row["start"], x1=row["end"], fillcolor="#9e9e9e", opacity=0.15, line_width=0,
                      annotation_text=plain(row["name"]), annotation_position="bottom left",
                      annotation_font={"size": 9, "color": "#616161"})
    fig.add_vrect(x0=result.current.start, x1=result.current.end, fillcolor="#2ca02c", opacity=0.15, line_width=0)
    for name, color in (("the day shown (shaded)", "rgba(44, 160, 44, 0.35)"),
                        ("calendar day, not drift (shaded)", "rgba(158, 158, 158, 0.35)")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker={"symbol": "square", "size": 12, "color": color}))

    fig.update_layout(
        barmode="overlay",
        height=400,
        margin={"l": 10, "r": 10, "t": 80, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        xaxis={"type": "date", "range": [span_start, span_end + dt.timedelta(hours=6)], "title": None},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(rows)), "title": None},
        title={"text": f"Releases and incidents, {span_start.date().isoformat()} to {result.day.isoformat()}",
               "font": {"size": 14}},
    )
    return fig
