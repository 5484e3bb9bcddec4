"""LLM figures: a metric per group over time with releases marked, baseline vs current, golden-set results.

``result`` is an LlmResult.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl

from driftdesk.format import axis_format
from driftdesk.metrics import find_metric
from driftdesk.viz.common import label_lanes, plain, plains

PLOT_PX = 470  # about the trend chart's width on a 1440 px screen (half the page), for placing release labels

def _label(metric: str) -> str:
    found = find_metric(metric, table="llm_calls")
    return found.label if found else metric


def _unit(metric: str) -> str:
    found = find_metric(metric, table="llm_calls")
    return found.unit if found else "score"


def trend_figure(series: pl.DataFrame, metric: str, *, group: str | None = None, releases: pl.DataFrame | None = None,
                 shade: tuple | None = None) -> go.Figure:
    """One line per group; releases as dotted vertical lines; an optional (start, end) window shaded."""
    fig = go.Figure()
    groups = series[group].unique(maintain_order=True).to_list() if group else [None]
    for g in groups:
        part = series.filter(pl.col(group) == g) if group else series
        fig.add_trace(go.Scatter(x=part["ts"].to_list(), y=part[metric].to_list(), mode="lines+markers",
                                 marker={"size": 4}, name=plain(g) if g is not None else "all calls"))
    if shade is not None:
        fig.add_vrect(x0=shade[0], x1=shade[1], fillcolor="#1f77b4", opacity=0.08, line_width=0,
                      annotation_text="current", annotation_position="top left")
    lanes = 0
    if releases is not None and releases.height and series.height:
        lo, hi = series["ts"].min(), series["ts"].max()
        span = max((hi - lo).total_seconds(), 1.0)
        ids = releases["release_id"].to_list()
        where = [(t - lo).total_seconds() / span for t in releases["ts"].to_list()]
        placed = label_lanes(where, ids, width_px=PLOT_PX, lanes=3, char_px=5.5)
        for t, name, lane in zip(releases["ts"].to_list(), ids, placed):
            fig.add_vline(x=t, line_dash="dot", line_color="#7f7f7f")
            if lane is not None:  # a label with no room stays in the hover of the release's marker
                fig.add_annotation(x=t, y=1.0, yref="paper", text=html.escape(name), showarrow=False, xanchor="left",
                                   yanchor="bottom", yshift=2 + 12 * lane, font={"size": 9, "color": "#555"})
        lanes = max((p + 1 for p in placed if p is not None), default=0)
        fig.add_trace(go.Scatter(x=releases["ts"].to_list(), y=[None] * releases.height, mode="markers",
                                 name="release (dotted line)", marker={"symbol": "line-ns", "size": 12,
                                                                       "line": {"color": "#7f7f7f", "width": 1}},
                                 text=plains(ids), hovertemplate="release %{text}<br>%{x}<extra></extra>"))
    fig.update_layout(title=f"{_label(metric)} per day", height=360 + 12 * lanes,
                      margin={"t": 60 + 12 * lanes, "b": 30, "l": 10, "r": 10},
                      legend={"orientation": "h", "y": -0.15}, yaxis=axis_format(_unit(metric)))
    return fig


def comparison_figure(result, metric: str) -> go.Figure:
    """Baseline vs current bars per group for one metric."""
    cmp = result.comparison
    fig = go.Figure()
    if cmp is None:
        g = result.groups
        names = [plain(", ".join(str(r[c]) for c in result.by)) or "all" for r in g.iter_rows(named=True)]
        fig.add_trace(go.Bar(x=names, y=g[metric].to_list(), name=_label(metric)))
    else:
        part = cmp.filter(pl.col("metric") == metric)
        names = [plain(", ".join(str(r[c]) for c in result.by)) or "all" for r in part.iter_rows(named=True)]
        fig.add_trace(go.Bar(x=names, y=part["baseline"].to_list(), name="baseline", marker_color="#9ecae1"))
        fig.add_trace(go.Bar(x=names, y=part["current"].to_list(), name="current", marker_color="#1f77b4"))
    fig.update_layout(barmode="group", title=f"{_label(metric)}: baseline vs current", height=340,
                      margin={"t": 50, "b": 30, "l": 10, "r": 10}, yaxis=axis_format(_unit(metric)))
    return fig


def _wrap_id(text: str, width: int = 12) -> str:
    """A long id on several lines (plotly's <br>), broken after dashes, each line at most about ``width``."""
    parts = str(text).split("-")
    lines, line = [], parts[0]
    for part in parts[1:]:
        if len(line) + 1 + len(part) > width:
            lines.append(line + "-")
            line = part
        else:
            line += "-" + part
    lines.append(line)
    return "<br>".join(lines)


def golden_figure(golden: pl.DataFrame) -> go.Figure:
    """Pass rate and recall@k per release candidate."""
    fig = go.Figure()
    x = plains(golden["release_id"].to_list())
    fig.add_trace(go.Bar(x=x, y=golden["pass_rate"].to_list(), name="pass rate (median over repeats)"))
    if "recall_at_k_mean" in golden.columns:
        fig.add_trace(go.Bar(x=x, y=golden["recall_at_k_mean"].to_list(), name="recall@k"))
    # release ids are long (llm-provider-m-2026-09): horizontal tick labels, wrapped at dashes, and the legend
    # above the plot, where it cannot sit on them
    fig.update_xaxes(tickangle=0, ticktext=[_wrap_id(r) for r in x], tickvals=x)
    fig.update_layout(barmode="group", title="Golden set per release candidate", height=360,
                      yaxis={"tickformat": ".0%", "range": [0, 1]}, margin={"t": 80, "b": 30, "l": 10, "r": 10},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    return fig


def golden_kind_figure(comparison) -> go.Figure:
    """Pass rate per case kind, baseline release beside the candidate (a GoldenComparison)."""
    kinds = comparison.by_kind
    x = plains(kinds["case_kind"].to_list())
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=kinds["pass_rate_baseline"].to_list(), name=f"baseline: {plain(comparison.baseline)}",
                         marker_color="#9ecae1"))
    fig.add_trace(go.Bar(x=x, y=kinds["pass_rate_candidate"].to_list(), name=f"candidate: {plain(comparison.candidate)}",
                         marker_color="#1f77b4", text=[f"{n} to fail" if n else "" for n in
                                                       kinds["flips_to_fail"].to_list()], textposition="outside",
                         textfont={"size": 11}, constraintext="none", cliponaxis=False))
    fig.update_layout(barmode="group", title="Golden pass rate per case kind", height=400,
                      yaxis={"tickformat": ".0%", "range": [0, 1.1]}, margin={"t": 50, "b": 30, "l": 10, "r": 10},
                      legend={"orientation": "h", "y": -0.2, "yanchor": "top", "x": 0})
    return fig


def output_drift_figure(drift) -> go.Figure:
    """Mean output tokens and refusal rate per group, baseline beside current (an OutputDrift)."""
    from plotly.subplots import make_subplots

    table = drift.table
    names = plains(table[drift.by].to_list()) if drift.by else ["all calls"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("output tokens per call", "refusal rate"))
    for side, color in (("baseline", "#9ecae1"), ("current", "#1f77b4")):
        label = drift.baseline_label if side == "baseline" else drift.current_label
        fig.add_trace(go.Bar(x=names, y=table[f"tokens_mean_{side}"].to_list(), name=label, marker_color=color,
                             legendgroup=side), row=1, col=1)
        fig.add_trace(go.Bar(x=names, y=table[f"refusal_rate_{side}"].to_list(), name=label, marker_color=color,
                             legendgroup=side, showlegend=False), row=1, col=2)
    fig.update_yaxes(tickformat=".1%", row=1, col=2)
    fig.update_layout(barmode="group", height=340, title="Output drift", margin={"t": 70, "b": 30, "l": 10, "r": 10},
                      legend={"orientation": "h", "y": -0.15})
    return fig
