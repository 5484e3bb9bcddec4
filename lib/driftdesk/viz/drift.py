"""Drift figures: baseline vs current distribution, a statistic's daily history, segments, quality checks.

``result`` is a DriftResult or a QualityResult, ``history`` a DriftHistory.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from driftdesk.format import format_value
from driftdesk.status import ALERT, NOT_ENOUGH_DATA, OK, WARN
from driftdesk.viz.common import empty_figure, plain, plains, short_labels
from driftdesk.windows import baseline_label

BASELINE_COLOR = "#7f7f7f"
CURRENT_COLOR = "#d62728"
STATUS_COLORS = {ALERT: "#d62728", WARN: "#ff7f0e", OK: "#2ca02c", NOT_ENOUGH_DATA: "#bbbbbb"}


def distribution_figure(result, column: str) -> go.Figure:
    """Baseline and current shares side by side: histogram bins (numeric) or categories.

    ``result`` is a DriftResult (read through its ``distributions`` and ``column()``).
    """
    part = result.distributions.filter(pl.col("column") == column).sort("bin")
    fig = go.Figure()
    if part.is_empty():
        return empty_figure(f"No values of {column} in either window.")
    numeric = part["lower"].null_count() == 0
    if numeric:  # a real x axis: bin centres, bars as wide as the bins
        x = (part["lower"] / 2 + part["upper"] / 2).to_list()
        width = (part["upper"] - part["lower"]).to_list()
        fig.add_trace(go.Bar(x=x, width=width, y=part["baseline_share"].to_list(), name="baseline",
                             marker_color=BASELINE_COLOR, opacity=0.6))
        fig.add_trace(go.Bar(x=x, width=width, y=part["current_share"].to_list(), name="current",
                             marker_color=CURRENT_COLOR, opacity=0.5))
    else:
        labels = plains(part["label"].to_list())
        fig.add_trace(go.Bar(x=labels, y=part["baseline_share"].to_list(), name="baseline", marker_color=BASELINE_COLOR))
        fig.add_trace(go.Bar(x=labels, y=part["current_share"].to_list(), name="current", marker_color=CURRENT_COLOR,
                             opacity=0.75))
    row = result.column(column)
    stats = [f"{k} {format_value(row[k], 'score')}" for k in ("psi", "ks", "wasserstein_norm", "js")
             if row.get(k) is not None]
    fig.update_layout(barmode="overlay" if numeric else "group", xaxis_title=plain(column),
                      title=f"{plain(column)}: {row['status']} — " + ", ".join(stats),
                      yaxis_title="share of rows", yaxis_tickformat=".0%", height=360, margin=dict(t=50, b=40),
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
    return fig


def history_figure(history, statistic: str = "severity", columns: list[str] | None = None) -> go.Figure:
    """One line per column: a statistic over recent days, status colour on each point (``history``: a
    DriftHistory, read through ``daily`` and ``vs``)."""
    daily = history.daily
    if statistic not in daily.columns:
        raise KeyError(f"no statistic {statistic!r} in the history; have {daily.columns}")
    cols = columns or daily["column"].unique(maintain_order=True).to_list()
    fig = go.Figure()
    for c in cols:
        part = daily.filter(pl.col("column") == c).sort("day")
        fig.add_trace(go.Scatter(x=part["day"].to_list(), y=part[statistic].to_list(), name=plain(c), mode="lines+markers",
                                 marker=dict(color=[STATUS_COLORS.get(s, "#999") for s in part["status"].to_list()],
                                             size=8),
                                 hovertext=plains(part["reasons"].to_list())))
    fig.update_layout(title=f"{statistic} per day vs {baseline_label(history.vs)}", height=320,
                      margin=dict(t=50, b=40), yaxis_title=statistic)
    return fig


def segment_figure(result, column: str, statistic: str = "severity") -> go.Figure:
    """Per segment of ``result.by`` (a DriftResult): the chosen statistic for one column, coloured by status."""
    if result.segments is None or result.by is None:
        raise ValueError("the result has no segments: compare with by=<segment column>")
    part = result.segments.filter(pl.col("column") == column).sort(statistic, descending=True, nulls_last=True)
    if part.is_empty():
        return empty_figure(f"No segment of {result.by} has rows of {column} in both windows.")
    fig = go.Figure(go.Bar(x=short_labels([str(v) for v in part[result.by].to_list()], lines=2),
                           y=part[statistic].to_list(),
                           marker_color=[STATUS_COLORS.get(s, "#999") for s in part["status"].to_list()],
                           hovertext=plains(part["reasons"].to_list())))
    fig.update_layout(title=f"{plain(column)} by {plain(result.by)}: {statistic}", height=300, margin=dict(t=50, b=40))
    return fig


def quality_figure(result) -> go.Figure:
    """Count of checks per kind and status (``result``: a QualityResult, read through ``checks`` and ``status``)."""
    counts = result.checks.group_by("check", "status").len().sort("check")
    fig = go.Figure()
    for status in (ALERT, WARN, OK):
        part = counts.filter(pl.col("status") == status)
        fig.add_trace(go.Bar(x=part["check"].to_list(), y=part["len"].to_list(), name=status,
                             marker_color=STATUS_COLORS.get(status)))
    fig.update_layout(barmode="stack", title=f"data quality: {result.status}", height=300)
    return fig
