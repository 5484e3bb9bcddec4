"""The LLM page body: regressions in words and the releases that introduced them, the per-version table, trend and
comparison charts, output drift, the budget burn with its projection, and the golden set case by case."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from driftdesk.budget import REASONS as BUDGET_REASONS
from driftdesk.format import format_value
from driftdesk.llm import TABLE_METRICS, LlmView
from driftdesk.metrics import get_metric
from driftdesk.viz.llm import comparison_figure, golden_figure, trend_figure
from ui import params
from ui.render.text import STATUS_BADGE, STATUS_WORD, md, table

GOLDEN_UNITS = {"cases": "count", "pass_rate": "rate", "repeats_min": "count", "score_mean": "score",
                "recall_at_k_mean": "score", "ndcg_mean": "score", "tokens_mean": "tokens", "latency_ms_median": "ms"}
KIND_UNITS = {"cases": "count", "pass_rate_baseline": "rate", "pass_rate_candidate": "rate", "change_pp": "pp",
              "flips_to_fail": "count", "flips_to_pass": "count"}
OUTPUT_UNITS = {"calls_baseline": "count", "calls_current": "count", "tokens_mean_baseline": "tokens",
                "tokens_mean_current": "tokens", "psi": "score", "ks": "score", "ks_pvalue": "p_value",
                "wasserstein": "tokens", "refusal_rate_baseline": "rate", "refusal_rate_current": "rate",
                "refusal_pvalue": "p_value", "repetition_baseline": "rate", "repetition_current": "rate"}


def versions_table(view: LlmView) -> pl.DataFrame:
    """Per version, each metric's current value and its change against the baseline in one cell."""
    versions = view.versions()
    cells = {"group": versions["group"]}
    for name in TABLE_METRICS:
        metric = get_metric(name, "llm_calls")
        cells[metric.label] = [
            metric.format(value) + ("" if change is None else f"  ({format_value(change, 'change')})")
            for value, change in zip(versions[name].to_list(), versions[f"{name}_change"].to_list())]
    if versions["reference"].drop_nulls().ne("same group").any():  # only when a version is new in the window
        cells["compared with"] = versions["reference"]
    return pl.DataFrame(cells)


def render_llm(view: LlmView, *, metric: str, source: str) -> None:
    """The whole page body; ``metric`` is the one the trend chart draws, ``source`` the data the links keep."""
    cur, base = view.current, view.baseline
    st.markdown(f"**Current** {cur.start:%Y-%m-%d} → {cur.end:%Y-%m-%d} vs **baseline** "
                f"{base.start:%Y-%m-%d} → {base.end:%Y-%m-%d} (end excluded, UTC)")
    sentences = view.result.summary()
    if sentences:
        st.warning("**Regressions** (up more than 20%, and for rates unlikely to be noise: p < 0.01)\n\n"
                   + "\n".join(f"- {md(s)}" for s in sentences))
        render_introduced_by(view, source)
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
    render_output_drift(view)
    render_budget(view)
    render_golden(view)


def render_introduced_by(view: LlmView, source: str) -> None:
    """Each regression with the release that introduced it, and a link to the LLM page on that release's first days."""
    regs = view.regressions
    if regs is None or not regs.height:
        return
    by = list(view.result.by)
    st.markdown("**Introduced by**")
    for row in regs.iter_rows(named=True):
        who = ", ".join(f"{c}={row[c]}" for c in by) or "all calls"
        if row["release_id"] is None:
            st.caption(md(f"{row['label']} for {who}: no release found that shipped it "
                          "(no matching version in the releases table, no new release id in these calls)"))
            continue
        shipped: dt.datetime = row["release_ts"]
        how = "shipped this version" if row["found_by"] == "version" else "first seen in these calls in the window"
        query = {params.DATA: source, params.END: (shipped.date() + dt.timedelta(days=1)).isoformat(),
                 params.DAYS: "2", params.METRIC: row["metric"]}
        if by:
            query[params.BY] = by[0]
        st.page_link("app_pages/llm.py", query_params=query, icon=":material/rocket_launch:",
                     label=md(f"{row['label']} for {who}: release {row['release_id']} "
                              f"({shipped:%Y-%m-%d %H:%M} UTC, {how}) — open its first two days"))


def render_output_drift(view: LlmView) -> None:
    drift = view.output
    if drift is None:
        return
    with st.expander(f"Output drift: length, refusals, repetitiveness · {STATUS_WORD.get(drift.status, drift.status)}",
                     expanded=drift.status in ("warn", "alert")):
        words = {c: pl.col(c).replace_strict(STATUS_WORD, default=pl.col(c))
                 for c in ("status", "tokens_status", "refusal_status")}
        table(drift.table.with_columns(**words).drop("tokens_reasons"), units=OUTPUT_UNITS)
        st.caption("Output tokens compared as any input column (PSI on the baseline's deciles confirmed by KS, "
                   "Wasserstein in tokens); refusal rate by a two-proportion z-test; repetitiveness: word 3-gram "
                   "overlap of each output with the previous one (needs an output_text column). "
                   + " ".join(md(n) for n in drift.notes))


def render_budget(view: LlmView) -> None:
    if view.daily_cost is None:
        return
    st.subheader("Budget")
    st.markdown(md(view.budget_sentence))
    burn = view.burn
    if burn is not None:
        left, right = st.columns([3, 2])
        left.plotly_chart(burn.to_figure(), width="stretch")
        with right:
            for row, sentence in zip(burn.groups.iter_rows(named=True), burn.sentences()):
                st.markdown(f"{STATUS_BADGE.get(row['status'], '')} {md(sentence)}")
                for code in row["reason_codes"]:
                    st.caption(md(BUDGET_REASONS[code]))
            st.caption(f"Burn rate over the last {format_value(burn.rate_hours, 'count')} hours before "
                       f"{burn.as_of:%H:%M} UTC; the alert fires when more than "
                       f"{format_value(burn.alert_share, 'rate')} of the day's budget is spent (a budget gate in a "
                       "policy replays it on history). " + " ".join(md(n) for n in burn.notes))
    st.bar_chart(view.daily_cost, x="ts", y="cost_total")


def render_golden(view: LlmView) -> None:
    if view.golden is None:
        st.caption("No golden_runs table: golden-set pass rates appear here when one is loaded.")
        return
    if not view.golden.height:
        return
    st.subheader("Golden set")
    g1, g2 = st.columns([3, 2])
    with g1:
        table(view.golden, units=GOLDEN_UNITS)
    g2.plotly_chart(golden_figure(view.golden), width="stretch")
    cmp = view.golden_comparison
    if cmp is None:
        return
    st.markdown(f"**{md(cmp.candidate)}** against **{md(cmp.baseline)}**, case by case: "
                f"{format_value(cmp.flips_to_fail, 'count')} case(s) flipped pass → fail, "
                f"{format_value(cmp.flips_to_pass, 'count')} fail → pass")
    for caveat in cmp.caveats:
        st.info(md(caveat))
    k1, k2 = st.columns([3, 2])
    with k1:
        table(cmp.by_kind, units=KIND_UNITS, column_config={
            "case_kind": "kind", "pass_rate_baseline": "pass (baseline)", "pass_rate_candidate": "pass (candidate)",
            "change_pp": "change", "flips_to_fail": "→ fail", "flips_to_pass": "→ pass"})
        if cmp.flips.height:
            table(cmp.flips, column_config={
                "case_kind": "kind", "passes_baseline": "passes (base)", "repeats_baseline": "repeats (base)",
                "passes_candidate": "passes (cand.)", "repeats_candidate": "repeats (cand.)",
                "agreeing_baseline": {"label": "agree (base)", "help": "repeats agreeing with the baseline's verdict"},
                "agreeing_candidate": {"label": "agree (cand.)",
                                       "help": "repeats agreeing with the candidate's verdict"}})
            st.caption("A case's verdict is the majority of its repeats; 'repeats agreeing' counts the repeats that "
                       "agree with it. Known failures that flip to fail block a release in the default policy.")
    k2.plotly_chart(cmp.to_figure(), width="stretch")
