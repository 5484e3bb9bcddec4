"""Business impact figures: a waterfall of mix and rate effects, a heat map of segments, the spend shift.

``result`` is an ImpactResult.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl

from driftdesk.format import axis_format, axis_scale, difference_unit, format_difference, format_value, unit_words
from driftdesk.metrics import get_metric
from driftdesk.viz.common import distinct, empty_figure, plain, short_label, short_labels

BASELINE_COLOR = "#7f7f7f"
CURRENT_COLOR = "#d62728"
UP, DOWN = "#d62728", "#2ca02c"


def _label(metric: str) -> str:
    return get_metric(metric, "kpis").label


def _unit(metric: str) -> str:
    return get_metric(metric, "kpis").unit


def _higher_is_better(metric: str) -> bool:
    return get_metric(metric, "kpis").direction == "higher_is_better"


def _name(row: dict, by) -> str:
    return " ".join(f"{c}={row[c]}" for c in by)


def effects_frame(result, top: int = 8) -> pl.DataFrame:
    """The largest mix and rate effects (one row each), the rest summed as "other segments"."""
    rows = []
    for row in result.segments.iter_rows(named=True):
        for kind in ("mix", "rate"):
            value = row[f"{kind}_effect"]
            if value is not None:
                rows.append({"segment": _name(row, result.by), "kind": kind, "effect": value})
    frame = pl.DataFrame(rows, schema={"segment": pl.String, "kind": pl.String, "effect": pl.Float64})
    frame = frame.sort(pl.col("effect").abs(), descending=True)
    head, rest = frame.head(top), frame.slice(top)
    if rest.height:
        head = pl.concat([head, pl.DataFrame({"segment": [f"{rest['segment'].n_unique()} other segments"],
                                              "kind": ["mix + rate"], "effect": [rest["effect"].sum()]})])
    return head


def impact_waterfall(result, top: int = 8) -> go.Figure:
    """From the baseline value to the current one, one step per large mix or rate effect; every label written as
    the sentence and the table write it (the metric's own format, effects as signed differences)."""
    t = result.total
    label, unit = _label(result.metric), _unit(result.metric)
    metric = get_metric(result.metric, "kpis")
    fig = go.Figure()
    if t["change"] is None:
        return empty_figure(f"{label} cannot be compared: {t['note']}.")
    eff = effects_frame(result, top)
    good_up = _higher_is_better(result.metric)
    names = [f"{s} ({k})" for s, k in zip(eff["segment"], eff["kind"])]
    x = ["baseline", *distinct([f"{short_label(s, lines=2)}<br>({k})" for s, k in zip(eff["segment"], eff["kind"])]),
         "current"]
    y = [t["baseline"], *eff["effect"].to_list(), t["current"]]
    text = [metric.format(t["baseline"]), *[format_difference(v, unit) for v in eff["effect"]], metric.format(t["current"])]
    fig.add_trace(go.Waterfall(
        x=x, y=y, measure=["absolute"] + ["relative"] * eff.height + ["total"],
        increasing={"marker": {"color": DOWN if good_up else UP}},
        decreasing={"marker": {"color": UP if good_up else DOWN}},
        totals={"marker": {"color": BASELINE_COLOR}},
        text=text, textposition="outside", textfont={"size": 11}, constraintext="none", cliponaxis=False,
        connector={"line": {"color": "#bbb"}},
        customdata=[f"{label}, baseline window", *[html.escape(n) for n in names], f"{label}, current window"],
        hovertemplate="%{customdata}<br>%{text}<extra></extra>",
    ))
    low = min(t["baseline"], t["current"])
    high = max(t["baseline"], t["current"])
    run, lo, hi = t["baseline"], low, high
    for v in eff["effect"]:
        run += v
        lo, hi = min(lo, run), max(hi, run)
    pad = (hi - lo) * 0.25 or abs(hi) * 0.05 or 1.0
    fig.update_layout(title=f"{label}: mix and rate effects by segment",
                      yaxis={"title": f"{label} ({unit_words(unit)})", "range": [lo - pad, hi + pad],
                             **axis_format(unit, extent=(lo - pad, hi + pad))},
                      showlegend=False, height=480, margin={"t": 60, "l": 70, "r": 20, "b": 130})
    return fig


def segment_heatmap(result, value: str = "contribution") -> go.Figure:
    """Segments on a grid (first `by` column down, second across): each cell's contribution to the change in the
    metric's own unit (as the waterfall and the table write it), with the segment's own relative change."""
    seg = result.segments
    unit = difference_unit(_unit(result.metric))
    if seg.is_empty() or not result.total["baseline"] or result.total["change"] is None:
        return empty_figure("No change to split: the metric has no value in one of the windows.")
    fig = go.Figure()
    rows_col = result.by[0]
    cols_col = result.by[1] if len(result.by) > 1 else None
    data = seg.with_columns(
        pl.col(value).alias("effect"),
        pl.when(pl.col("baseline") > 0).then(pl.col("current") / pl.col("baseline") - 1).alias("own"),
    )
    if len(result.by) > 2:  # more than two columns: sum the rest away for the grid
        data = data.group_by([rows_col, cols_col]).agg(pl.col("effect").sum(), pl.lit(None, pl.Float64).alias("own"))
    ys = sorted(data[rows_col].cast(pl.String).unique().to_list())
    xs = sorted(data[cols_col].cast(pl.String).unique().to_list()) if cols_col else [_label(result.metric)]
    z = [[None] * len(xs) for _ in ys]
    text = [[""] * len(xs) for _ in ys]
    scale = axis_scale(unit)
    for row in data.iter_rows(named=True):
        i = ys.index(str(row[rows_col]))
        j = xs.index(str(row[cols_col])) if cols_col else 0
        z[i][j] = None if row["effect"] is None else row["effect"] * scale
        own = row["own"]
        text[i][j] = format_difference(row["effect"], _unit(result.metric)) + (
            f"<br>own {format_value(own, 'change')}" if own is not None else "")
    bound = max((abs(v) for r in z for v in r if v is not None), default=1.0) or 1.0
    good_up = _higher_is_better(result.metric)
    colors = [[0, DOWN], [0.5, "#f7f7f7"], [1, UP]] if not good_up else [[0, UP], [0.5, "#f7f7f7"], [1, DOWN]]
    crowded = len(xs) > 8 or len(xs) * len(ys) > 120  # cell labels would overlap: the hover keeps them
    fig.add_trace(go.Heatmap(z=z, x=short_labels(xs, lines=2), y=short_labels(ys, lines=2),
                             text=text, texttemplate="" if crowded else "%{text}", colorscale=colors, zmin=-bound,
                             zmax=bound,
                             colorbar={"title": {"text": unit_words(unit)}, **axis_format(unit, extent=(-bound, bound))},
                             hovertemplate=f"{plain(rows_col)}=%{{y}}" + (f" {plain(cols_col)}=%{{x}}" if cols_col else "")
                             + "<br>%{text}<extra></extra>"))
    fig.update_layout(title=f"Contribution to the {_label(result.metric)} change",
                      height=max(300, 60 * len(ys) + 120), margin={"t": 60, "l": 110, "r": 20, "b": 40},
                      xaxis_title=plain(cols_col or ""), yaxis_title=plain(rows_col))
    return fig


def spend_shift_bars(result) -> go.Figure:
    """Share of spend per segment, baseline vs current (spend reallocation)."""
    seg = result.segments.sort("spend_share_current", descending=True, nulls_last=True)
    names = [_name(r, result.by) for r in seg.iter_rows(named=True)]
    fig = go.Figure()
    if not names:
        return empty_figure("No spend in either window.")
    for name, color in (("baseline", BASELINE_COLOR), ("current", CURRENT_COLOR)):
        shares = seg[f"spend_share_{name}"].to_list()
        fig.add_trace(go.Bar(y=short_labels(names, width=24, lines=2), x=shares, name=name,
                             orientation="h", marker_color=color,
                             customdata=[[html.escape(n), format_value(v, "rate")] for n, v in zip(names, shares)],
                             hovertemplate=f"%{{customdata[0]}}<br>{name}: %{{customdata[1]}} of spend<extra></extra>"))
    fig.update_layout(barmode="group", title="Share of spend by segment", xaxis={"title": "share of spend", "tickformat": ".0%"},
                      yaxis={"autorange": "reversed"}, height=max(300, 26 * len(names) + 120),
                      margin={"t": 50, "l": 140, "r": 20, "b": 40})
    return fig
