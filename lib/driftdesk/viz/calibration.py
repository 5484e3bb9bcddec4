"""Calibration figures: reliability diagrams with interval bands and bin counts, score quantiles, segment ECE.

``result`` is a CalibrationResult, ``comparison`` a CalibrationComparison.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from driftdesk.format import format_value
from driftdesk.viz.common import empty_figure, plain, short_labels

BASELINE_COLOR = "#7f7f7f"
CURRENT_COLOR = "#d62728"
BAND = {"baseline": "rgba(127, 127, 127, 0.18)", "current": "rgba(214, 39, 40, 0.15)"}


def _curve(fig: go.Figure, bins: pl.DataFrame, name: str, color: str, band: str) -> None:
    """Observed rate against mean score with its interval as a shaded band; empty bins leave a gap."""
    part = bins.filter(pl.col("count") > 0).sort("mean_score")
    x = part["mean_score"].to_list()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=part["ci_high"].to_list() + part["ci_low"].to_list()[::-1],
                             mode="lines", fill="toself", fillcolor=band, line={"width": 0}, hoverinfo="skip",
                             name=f"{name} interval", legendgroup=name, showlegend=False))
    fig.add_trace(go.Scatter(
        x=x, y=part["observed_rate"].to_list(), mode="lines+markers", name=name, legendgroup=name,
        line={"color": color}, marker={"size": 7},
        customdata=list(zip(part["count"].to_list(), part["lower"].to_list(), part["upper"].to_list(),
                            part["ci_low"].to_list(), part["ci_high"].to_list())),
        hovertemplate=("bin %{customdata[1]:.3f}–%{customdata[2]:.3f}<br>mean score %{x:.3f}<br>"
                       "observed %{y:.3f} (%{customdata[3]:.3f}–%{customdata[4]:.3f})<br>n=%{customdata[0]:,}"
                       f"<extra>{name}</extra>"),
    ))


def _counts(fig: go.Figure, bins: pl.DataFrame, name: str, color: str) -> None:
    mid = ((bins["lower"] + bins["upper"]) / 2).to_list()
    width = (bins["upper"] - bins["lower"]).to_list()
    fig.add_trace(go.Bar(x=mid, y=bins["count"].to_list(), width=width, name=f"{name} rows", marker_color=color,
                         opacity=0.55, legendgroup=name, showlegend=False,
                         hovertemplate=f"{name}: %{{y:,}} rows<extra></extra>", xaxis="x2", yaxis="y2"))


def _frame(title: str) -> go.Figure:
    """The curve above, the rows per bin below, on one x axis (laid out directly: plotly's make_subplots costs more
    than the rest of the figure)."""
    layout = {
        "title": title, "barmode": "overlay", "height": 560, "margin": {"t": 60, "l": 60, "r": 20, "b": 50},
        "legend": {"orientation": "h", "y": 1.08, "x": 0},
        "xaxis": {"domain": [0, 1], "anchor": "y", "matches": "x2", "showticklabels": False, "range": [0, 1]},
        "yaxis": {"domain": [0.3, 1], "anchor": "x", "title": {"text": "observed rate"}, "range": [0, 1]},
        "xaxis2": {"domain": [0, 1], "anchor": "y2", "range": [0, 1],
                   "title": {"text": "predicted probability (mean score in bin)"}},
        "yaxis2": {"domain": [0, 0.26], "anchor": "x2", "title": {"text": "rows per bin"}},
    }
    return go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#444"},
                                name="perfectly calibrated", hoverinfo="skip"), layout=layout)


def _title(label: str, m: dict) -> str:
    if m["ece"] is None:
        return f"{label}: no labelled rows"
    return (f"{label}: ECE {format_value(m['ece'], 'score')}, Brier {format_value(m['brier'], 'score')}, "
            f"n={format_value(m['n'], 'count')}")


def reliability_diagram(result) -> go.Figure:
    """One reliability curve with its interval band, and the rows in every bin (empty ones show as zero)."""
    fig = _frame(_title("Reliability", result.metrics))
    _curve(fig, result.bins, "scores", CURRENT_COLOR, BAND["current"])
    _counts(fig, result.bins, "scores", CURRENT_COLOR)
    return fig


def reliability_comparison(comparison) -> go.Figure:
    """Baseline and current reliability curves on the same bins, with bands and bin counts below."""
    b, c = comparison.baseline.metrics, comparison.current.metrics
    title = "Reliability: baseline vs current"
    if b["ece"] is not None and c["ece"] is not None:
        title += f" (ECE {format_value(b['ece'], 'score')} → {format_value(c['ece'], 'score')})"
    fig = _frame(title)
    for name, res, color in (("baseline", comparison.baseline, BASELINE_COLOR), ("current", comparison.current, CURRENT_COLOR)):
        _curve(fig, res.bins, name, color, BAND[name])
        _counts(fig, res.bins, name, color)
    return fig


def quantile_comparison(comparison) -> go.Figure:
    """Score quantiles per window: a collapse toward the mean shows as the current line flattening."""
    q = comparison.quantiles
    cols = [c for c in q.columns if c.startswith("q") and c[1:].isdigit()]
    levels = [int(c[1:]) / 100 for c in cols]
    fig = go.Figure()
    for row in q.iter_rows(named=True):
        color = BASELINE_COLOR if row["window"] == "baseline" else CURRENT_COLOR
        fig.add_trace(go.Scatter(x=levels, y=[row[c] for c in cols], mode="lines+markers", name=row["window"],
                                 line={"color": color},
                                 hovertemplate=f"{row['window']}: q%{{x:.2f}} = %{{y:.4f}}<extra></extra>"))
    ratio = comparison.std_ratio
    fig.update_layout(title="Score quantiles" + (f" (std ratio current/baseline {format_value(ratio, 'ratio')})"
                                                 if ratio is not None else ""),
                      xaxis_title="quantile", yaxis_title="score", height=360, margin={"t": 50, "l": 60, "r": 20, "b": 40})
    return fig


def segment_ece_bars(comparison) -> go.Figure:
    """ECE per segment, baseline vs current."""
    seg = comparison.segments
    fig = go.Figure()
    if seg.is_empty():
        return empty_figure("Choose a segment column to compare calibration per segment.")
    names = [" ".join(str(r[c]) for c in comparison.by) for r in seg.iter_rows(named=True)]
    # a segment new in the current window is compared with all baseline traffic: its baseline bar is hatched
    replaced = [ref not in (None, "same segment") for ref in
                (seg["reference"] if "reference" in seg.columns else pl.Series([None] * seg.height)).to_list()]
    for name, color in (("baseline", BASELINE_COLOR), ("current", CURRENT_COLOR)):
        values = seg[f"ece_{name}"].to_list()
        sizes = seg[f"n_{name}"].to_list()
        what = [f"{name} ECE {format_value(v, 'score')} (n={format_value(n, 'count')})"
                + ("<br>all baseline traffic, which it replaced" if new and name == "baseline" else "")
                for v, n, new in zip(values, sizes, replaced)]
        label = name + (" (hatched: all baseline traffic, for a segment new in the current window)"
                        if name == "baseline" and any(replaced) else "")
        fig.add_trace(go.Bar(x=short_labels(names, lines=2), y=values, name=label, marker_color=color,
                             marker_pattern_shape=["/" if new and name == "baseline" else "" for new in replaced],
                             customdata=what, hovertemplate="%{x}<br>%{customdata}<extra></extra>"))
    fig.update_layout(barmode="group", title="ECE per segment", yaxis_title="ECE", height=380,
                      margin={"t": 50, "l": 60, "r": 20, "b": 40},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"})
    return fig


def calibration_over_time(series: pl.DataFrame, *, by: str | None = None, windows: dict | None = None,
                          metric: str = "ece") -> go.Figure:
    """A calibration metric per time bucket (one line per segment), with the compared windows shaded.

    ``series`` is ``calibration_series(...)``'s frame; ``windows`` maps a name to a Window.
    """
    fig = go.Figure()
    if series.is_empty():
        return empty_figure("No labelled rows in this data yet: labels arrive late.")
    groups = series.partition_by(by, as_dict=True, maintain_order=True) if by else {("all",): series}
    for key, part in groups.items():
        name = plain(key[0] if isinstance(key, tuple) else key)
        part = part.sort("ts")
        fig.add_trace(go.Scatter(x=part["ts"].to_list(), y=part[metric].to_list(), mode="lines+markers", name=name,
                                 marker={"size": 4}, customdata=part["n"].to_list(),
                                 hovertemplate=f"{name}<br>%{{x|%Y-%m-%d}}: {metric.upper()} %{{y:.4f}} "
                                 "(n=%{customdata:,})<extra></extra>"))
    bands = (windows or {}).items()  # each window shaded as Figure.add_vrect shades it, as the layout's own shapes
    fig.update_layout(title=f"{metric.upper()} per day", yaxis_title=metric.upper(), height=360,
                      margin={"t": 50, "l": 60, "r": 20, "b": 40}, legend={"orientation": "h", "y": -0.15},
                      shapes=[{"type": "rect", "x0": w.start, "x1": w.end, "xref": "x", "y0": 0, "y1": 1,
                               "yref": "y domain", "fillcolor": BAND.get(name, "rgba(31, 119, 180, 0.12)"),
                               "line": {"width": 0}} for name, w in bands],
                      annotations=[{"text": name, "x": w.start, "xref": "x", "y": 1, "yref": "y domain",
                                    "xanchor": "left", "yanchor": "top", "showarrow": False} for name, w in bands])
    return fig
