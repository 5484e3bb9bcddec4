"""The LLM page body: regressions in words, the per-version table, trend and comparison charts, budget, golden set."""

from __future__ import annotations

import polars as pl
import streamlit as st

from driftdesk.format import format_value
from driftdesk.llm import TABLE_METRICS, LlmView
from driftdesk.metrics import get_metric
from driftdesk.viz.llm import comparison_figure, golden_figure, trend_figure
from ui.render.text import md, table

GOLDEN_UNITS = {"cases": "count", "pass_rate": "rate", "repeats_min": "count", "score_mean": "score",
                "recall_at_k_mean": "score", "ndcg_mean": "score", "tokens_mean": "tokens", "latency_ms_median": "ms"}


def versions_table(view: LlmView) -> pl.DataFrame:
    """Per version, each metric's current value and its change against the baseline in one cell."""
    versions = view.versions()
    cells = {"group": versions["group"]}
    for name in TABLE_METRICS:
        metric = get_metric(name, "llm_calls")
        cells[metric.label] = [
            metric.format(value) + ("" if change is None else f"  ({format_value(change, 'change')})")
            for value, change in zip(versions[name].to_list(), versions[f"{name}_change"].to_list())]
    cells["compared with"] = versions["reference"].fill_null("")
    return pl.DataFrame(cells)


def render_llm(view: LlmView, *, metric: str) -> None:
    """The whole page body; ``metric`` is the one the trend chart draws."""
    cur, base = view.current, view.baseline
    st.markdown(f"**Current** {cur.start:%Y-%m-%d} → {cur.end:%Y-%m-%d} vs **baseline** "
                f"{base.start:%Y-%m-%d} → {base.end:%Y-%m-%d} (end excluded, UTC)")
    sentences = view.result.summary()
    if sentences:
        st.warning("**Regressions** (up more than 20%, and for rates unlikely to be noise: p < 0.01)\n\n"
                   + "\n".join(f"- {md(s)}" for s in sentences))
    else:
        st.success("No regression: no cost, latency or failure metric rose by more than 20% (significantly, for rates).")
    versions = versions_table(view)
    if versions.height:
        table(versions)
        st.caption("Each cell: the current window's value (change vs baseline). A version new in the current window "
                   "is compared with all baseline calls.")
    else:
        st.info("No LLM calls in the current window.")
    group = view.result.by[0] if view.result.by else None
    left, right = st.columns(2)
    left.plotly_chart(trend_figure(view.series, metric, group=group, releases=view.releases,
                                   shade=(cur.start, cur.end)), width="stretch")
    right.plotly_chart(comparison_figure(view.result, metric), width="stretch")
    if view.daily_cost is not None:
        st.markdown(md(view.budget_sentence))
        st.bar_chart(view.daily_cost, x="ts", y="cost_total")
    if view.golden is not None and view.golden.height:
        st.subheader("Golden set")
        g1, g2 = st.columns([3, 2])
        with g1:
            table(view.golden, units=GOLDEN_UNITS)
        g2.plotly_chart(golden_figure(view.golden), width="stretch")
    elif view.golden is None:
        st.caption("No golden_runs table: golden-set pass rates appear here when one is loaded.")
