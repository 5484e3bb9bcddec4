"""A day's budget burn: the spend so far against the budget and its alert share, and the projection to the day's end."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from driftdesk.format import axis_format, format_value


def burn_figure(burn, group: str | None = None) -> go.Figure:
    """Cumulative spend since 00:00 UTC per group (one group, or all), the budget, its alert share, and a dashed
    line at the current pace from ``as_of`` to the projected exhaustion or the day's end."""
    fig = go.Figure()
    day_end = dt.datetime.combine(burn.day, dt.time()) + dt.timedelta(days=1)
    rows = burn.groups if group is None else burn.groups.filter(pl.col("group") == group)
    for r in rows.iter_rows(named=True):
        part = burn.hourly.filter(pl.col("group") == r["group"])
        fig.add_trace(go.Scatter(x=part["ts"].to_list(), y=part["spent"].to_list(), mode="lines+markers",
                                 marker={"size": 4}, name=f"{r['group']}: spent"))
        end = r["projected_exhaustion"] or day_end
        if burn.as_of < day_end and r["rate_per_hour"] > 0:
            y_end = r["budget"] if r["projected_exhaustion"] else r["projected_day_spend"]
            fig.add_trace(go.Scatter(x=[burn.as_of, end], y=[r["spent"], y_end], mode="lines",
                                     line={"dash": "dash"}, name=f"{r['group']}: at the current pace"))
        fig.add_hline(y=r["budget"], line_color="#d62728", annotation_text=f"{r['group']} budget",
                      annotation_position="top left")
        fig.add_hline(y=r["budget"] * burn.alert_share, line_dash="dot", line_color="#ff7f0e",
                      annotation_text=format_value(burn.alert_share, "rate"), annotation_position="bottom left")
        for moment, label in ((r["alert_at"], "alert"), (r["exhausted_at"] or r["projected_exhaustion"], "runs out")):
            if moment is not None:
                fig.add_vline(x=moment, line_dash="dot", line_color="#7f7f7f")
                fig.add_annotation(x=moment, y=1.0, yref="paper", text=label, showarrow=False, yanchor="bottom",
                                   font={"size": 10})
    fig.update_layout(title=f"Budget burn on {burn.day} (UTC), as of {burn.as_of:%H:%M}", height=360,
                      margin={"t": 60, "b": 30, "l": 10, "r": 10}, legend={"orientation": "h", "y": -0.15},
                      xaxis={"range": [dt.datetime.combine(burn.day, dt.time()), day_end]},
                      yaxis={**axis_format("usd"), "rangemode": "tozero"})
    return fig
