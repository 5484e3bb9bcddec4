"""Plotly figures for the seasonality module: decomposition panels with flags and drift events, DoD / WoW."""

from __future__ import annotations

import datetime as dt

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from driftdesk.viz.common import hold_flat_panel, in_panel, shade_spans, stacked_panels

FLAG_STYLE = {"anomaly": ("#d62728", "x", "anomaly"), "drift": ("#ff7f0e", "diamond", "drift")}
DRIFT_FILL = "rgba(255, 127, 14, 0.15)"
CALENDAR_FILL = "rgba(31, 119, 180, 0.08)"
BREAK_FILL = "rgba(127, 127, 127, 0.25)"
VARIANCE_LINE = "#9467bd"


DENSE = 720  # points above which a sub-daily series is drawn per day (a band), its hourly detail one click away
PANELS = ("observed", "trend", "seasonal", "score (robust z)")


def _calendar_spans(points: pl.DataFrame) -> list[tuple]:
    if "calendar" not in points.columns:
        return []
    days = points.filter(pl.col("calendar")).select(pl.col("ts").dt.date().unique().sort())["ts"].to_list()
    starts = [dt.datetime.combine(d, dt.time()) for d in days]
    return [(start, start + dt.timedelta(days=1), CALENDAR_FILL) for start in starts]


def _dense(p: pl.DataFrame) -> bool:
    """Whether the series is too dense to read point by point: many points, several a day."""
    if p.height <= DENSE:
        return False
    step = p["ts"].diff().drop_nulls().median()
    return step is not None and step < dt.timedelta(days=1)


def _daily(p: pl.DataFrame) -> pl.DataFrame:
    """Per day: the range and mean of each panel's value (the band drawn for a dense series)."""
    expected = pl.col("trend") + pl.col("seasonal")
    return p.group_by(pl.col("ts").dt.truncate("1d")).agg(
        *[agg(pl.col(c)).alias(f"{c}_{name}") for c in ("value", "seasonal") for name, agg in
          (("low", pl.Expr.min), ("high", pl.Expr.max), ("mean", pl.Expr.mean))],
        expected.mean().alias("expected_mean"), pl.col("trend").mean().alias("trend_mean"),
        pl.col("score").abs().max().alias("score_peak"),
    ).sort("ts")


def _band(fig: go.Figure, d: pl.DataFrame, column: str, name: str, color: str, fill: str, row: int) -> None:
    # arrays, not lists: plotly checks a list item by item
    x = d["ts"].to_numpy()
    fig.add_trace(in_panel(go.Scatter(x=np.concatenate([x, x[::-1]]),
                                      y=np.concatenate([d[f"{column}_high"].to_numpy(), d[f"{column}_low"].to_numpy()[::-1]]),
                                      fill="toself", fillcolor=fill, line={"width": 0}, hoverinfo="skip",
                                      name=f"{name}, daily range", legendgroup=name), row - 1))
    fig.add_trace(in_panel(go.Scatter(x=x, y=d[f"{column}_mean"].to_numpy(), mode="lines", name=f"{name}, daily mean",
                                      legendgroup=name, line={"width": 1.5, "color": color}), row - 1))


def seasonality_figure(result) -> go.Figure:
    """Observed (with the expected value), trend, seasonal and residual score panels for one series; flagged
    points marked; drift events shaded from their start to their end; calendar days shaded blue.

    A dense series (months of hourly or 5-minute points) is drawn per day: the observed and seasonal values as a
    daily band (range) with the daily mean, the score as its daily peak; the point-by-point observed line is in the
    legend, one click away, and zooming in shows it at full detail."""
    p = result.points.sort("ts")
    dense = _dense(p)
    fig = stacked_panels(list(PANELS), height=760, margin={"l": 60, "r": 10, "t": 20, "b": 30},
                         legend={"orientation": "h", "y": -0.07, "font": {"size": 11}}, hovermode="x unified")

    def line(panel: int, x, y, name: str, **style) -> None:
        fig.add_trace(in_panel(go.Scatter(x=x, y=y, name=name, mode="lines", **style), panel))

    dotted = {"line": {"width": 1, "color": "#1f77b4", "dash": "dot"}}
    if dense:
        d = _daily(p)
        _band(fig, d, "value", "observed", "#444", "rgba(68, 68, 68, 0.22)", 1)
        line(0, d["ts"], d["expected_mean"], "expected (trend + seasonal), daily mean", **dotted)
        line(0, p["ts"], p["value"], "observed, every point", visible="legendonly", line={"width": 1, "color": "#444"})
        line(1, d["ts"], d["trend_mean"], "trend", line={"color": "#2ca02c"})
        _band(fig, d, "seasonal", "seasonal", "#9467bd", "rgba(148, 103, 189, 0.25)", 3)
        line(3, d["ts"], d["score_peak"], "score, daily peak |z|", line={"width": 1, "color": "#7f7f7f"})
    else:
        line(0, p["ts"], p["value"], "observed", line={"width": 1, "color": "#444"})
        line(0, p["ts"], p["trend"] + p["seasonal"], "expected (trend + seasonal)", **dotted)
        line(1, p["ts"], p["trend"], "trend", line={"color": "#2ca02c"})
        line(2, p["ts"], p["seasonal"], "seasonal", line={"width": 1, "color": "#9467bd"})
        line(3, p["ts"], p["score"], "score", line={"width": 1, "color": "#7f7f7f"})
    for panel, values in enumerate((pl.concat([p["value"], p["trend"] + p["seasonal"]]), p["trend"], p["seasonal"],
                                    p["score"])):
        hold_flat_panel(fig, panel, values)
    for flag, (color, symbol, label) in FLAG_STYLE.items():
        hit = p.filter(pl.col("flag") == flag)
        if dense and flag == "drift":  # a drift run flags every hour of it: one marker per day reads better
            hit = hit.group_by(pl.col("ts").dt.truncate("1d")).agg(pl.col("value").mean(), pl.col("score").abs().max())
            label = "drift (a flagged day)"
        else:
            label = f"{label} (flagged point)"
        if hit.height:
            fig.add_trace(in_panel(go.Scatter(x=hit["ts"], y=hit["value"], mode="markers", name=label,
                                              marker={"color": color, "symbol": symbol, "size": 7}), 0))
            fig.add_trace(in_panel(go.Scatter(x=hit["ts"], y=hit["score"].abs() if dense else hit["score"],
                                              mode="markers", name=label, showlegend=False,
                                              marker={"color": color, "symbol": symbol, "size": 6}), 3))
    drift_events = result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"])).to_dicts()
    breaks = result.events.filter(pl.col("kind") == "data_break").to_dicts()
    shade_spans(fig, [(e["start"], e["end"], DRIFT_FILL) for e in drift_events]
                + [(e["start"], e["end"], BREAK_FILL) for e in breaks] + _calendar_spans(p))
    variance = result.events.filter(pl.col("kind") == "variance_change").to_dicts()
    for e in variance:  # where the noise's spread changed: a line where it was called, no span (it has no end)
        fig.add_vline(x=e["detected_at"], line={"color": VARIANCE_LINE, "dash": "dash", "width": 1.5}, row="all", col=1)
    shading = [("drift event (shaded)", DRIFT_FILL, bool(drift_events)), ("data break (shaded)", BREAK_FILL, bool(breaks)),
               ("variance change (dashed line)", VARIANCE_LINE, bool(variance)),
               ("calendar day (shaded)", CALENDAR_FILL.replace("0.08", "0.3"),
                "calendar" in p.columns and bool(p["calendar"].any()))]
    for name, color, present in shading:  # legend entries for the shaded spans, which have none of their own
        if present:
            fig.add_trace(in_panel(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                              marker={"symbol": "square", "size": 12, "color": color}), 0))
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
