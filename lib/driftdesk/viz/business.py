"""Business impact figures: a waterfall of mix and rate effects, a heat map of segments, the spend shift.

``result`` is an ImpactResult.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from driftdesk.metrics import get_metric

BASELINE_COLOR = "#7f7f7f"
CURRENT_COLOR = "#d62728"
UP, DOWN = "#d62728", "#2ca02c"


def _label(metric: str) -> str:
    return get_metric(metric, "kpis").label


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
    """From the baseline value to the current one, one step per large mix or rate effect."""
    t = result.total
    label = _label(result.metric)
    fig = go.Figure()
    if t["change"] is None:
        fig.add_annotation(text=f"{label} undefined: {t['note']}", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        return fig
    eff = effects_frame(result, top)
    good_up = _higher_is_better(result.metric)
    x = ["baseline"] + [f"{s}<br>({k})" for s, k in zip(eff["segment"], eff["kind"])] + ["current"]
    y = [t["baseline"], *eff["effect"].to_list(), t["current"]]
    fig.add_trace(go.Waterfall(
        x=x, y=y, measure=["absolute"] + ["relative"] * eff.height + ["total"],
        increasing={"marker": {"color": DOWN if good_up else UP}},
        decreasing={"marker": {"color": UP if good_up else DOWN}},
        totals={"marker": {"color": BASELINE_COLOR}},
        text=[f"{v:,.2f}" if i in (0, len(y) - 1) else f"{v:+.3f}" for i, v in enumerate(y)],
        textposition="outside", connector={"line": {"color": "#bbb"}},
    ))
    low = min(t["baseline"], t["current"])
    high = max(t["baseline"], t["current"])
    run, lo, hi = t["baseline"], low, high
    for v in eff["effect"]:
        run += v
        lo, hi = min(lo, run), max(hi, run)
    pad = (hi - lo) * 0.25 or abs(hi) * 0.05 or 1.0
    fig.update_layout(title=f"{label} {result.period}: mix and rate effects by segment",
                      yaxis={"title": label, "range": [lo - pad, hi + pad]}, showlegend=False, height=460,
                      margin={"t": 60, "l": 60, "r": 20, "b": 120})
    return fig


def segment_heatmap(result, value: str = "contribution") -> go.Figure:
    """Segments on a grid (first `by` column down, second across): each cell's contribution to the change in
    points of the baseline value, with the segment's own change in the label."""
    seg = result.segments
    fig = go.Figure()
    base = result.total["baseline"]
    if seg.is_empty() or not base or result.total["change"] is None:
        fig.add_annotation(text="nothing to compare", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        return fig
    rows_col = result.by[0]
    cols_col = result.by[1] if len(result.by) > 1 else None
    data = seg.with_columns(
        (100 * pl.col(value) / base).alias("points"),
        pl.when(pl.col("baseline") > 0).then(100 * (pl.col("current") / pl.col("baseline") - 1)).alias("pct"),
    )
    if len(result.by) > 2:  # more than two columns: sum the rest away for the grid
        data = data.group_by([rows_col, cols_col]).agg(pl.col("points").sum(), pl.lit(None, pl.Float64).alias("pct"))
    ys = sorted(data[rows_col].cast(pl.String).unique().to_list())
    xs = sorted(data[cols_col].cast(pl.String).unique().to_list()) if cols_col else [_label(result.metric)]
    z = [[None] * len(xs) for _ in ys]
    text = [[""] * len(xs) for _ in ys]
    for row in data.iter_rows(named=True):
        i = ys.index(str(row[rows_col]))
        j = xs.index(str(row[cols_col])) if cols_col else 0
        z[i][j] = row["points"]
        pct = row["pct"]
        text[i][j] = f"{row['points']:+.2f} pts" + (f"<br>{pct:+.0f}% own" if pct is not None else "")
    bound = max((abs(v) for r in z for v in r if v is not None), default=1.0) or 1.0
    good_up = _higher_is_better(result.metric)
    scale = [[0, DOWN], [0.5, "#f7f7f7"], [1, UP]] if not good_up else [[0, UP], [0.5, "#f7f7f7"], [1, DOWN]]
    fig.add_trace(go.Heatmap(z=z, x=xs, y=ys, text=text, texttemplate="%{text}", colorscale=scale, zmin=-bound, zmax=bound,
                             colorbar={"title": "points"},
                             hovertemplate=f"{rows_col}=%{{y}}" + (f" {cols_col}=%{{x}}" if cols_col else "")
                             + "<br>%{z:+.2f} points of the change<extra></extra>"))
    fig.update_layout(title=f"Contribution to the {_label(result.metric)} change (points)",
                      height=max(300, 60 * len(ys) + 120), margin={"t": 60, "l": 80, "r": 20, "b": 40},
                      xaxis_title=cols_col or "", yaxis_title=rows_col)
    return fig


def spend_shift_bars(result) -> go.Figure:
    """Share of spend per segment, baseline vs current (spend reallocation)."""
    seg = result.segments.sort("spend_share_current", descending=True, nulls_last=True)
    names = [_name(r, result.by) for r in seg.iter_rows(named=True)]
    fig = go.Figure()
    for name, color in (("baseline", BASELINE_COLOR), ("current", CURRENT_COLOR)):
        fig.add_trace(go.Bar(y=names, x=seg[f"spend_share_{name}"].to_list(), name=name, orientation="h",
                             marker_color=color, hovertemplate=f"%{{y}}<br>{name}: %{{x:.1%}} of spend<extra></extra>"))
    fig.update_layout(barmode="group", title="Share of spend by segment", xaxis={"title": "share of spend", "tickformat": ".0%"},
                      yaxis={"autorange": "reversed"}, height=max(300, 26 * len(names) + 120),
                      margin={"t": 50, "l": 140, "r": 20, "b": 40})
    return fig
