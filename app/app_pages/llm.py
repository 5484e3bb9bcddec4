"""LLM: quality, latency and cost per prompt, model or index version; current window vs the one before it."""

from __future__ import annotations

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.metrics import get_metric
from ui import params
from ui.data import current_source, require_table
from ui.loaders import llm_view_of
from ui.pickers import window_controls
from ui.render import render_llm

GROUPINGS = ("model", "prompt_version", "index_version", "feature")
LENGTHS = (1, 2, 7, 14)
TREND_METRICS = ("validator_failure_rate", "refusal_rate", "latency_p95_ms", "tokens_out_mean", "cost_total",
                 "cost_per_call", "judge_score_mean")

st.title("LLM")
st.caption("Quality, latency and cost per version: is a new prompt, provider model or index worse, or just more expensive?")
_, calls_table = require_table("llm_calls", "No llm_calls table in this data. Add one on the Data page (one row per "
                               "LLM call: ts, model, prompt_version, latency_ms, output_tokens, cost, validator_ok, ...).")
calls = calls_table.frame
groupings = [g for g in GROUPINGS if g in calls.columns] or ["(all calls)"]
first, last = calls["ts"].min().date(), calls["ts"].max().date()

c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1, 1])
by = c1.selectbox("Compare by", groupings, key=params.LLM_BY, bind="query-params")
windows = window_controls(first, last, (c2, c3), end_key=params.LLM_END, days_key=params.LLM_DAYS, vs_key=None,
                          day_choices=LENGTHS)
metric: str = c4.selectbox("Trend metric", TREND_METRICS, format_func=lambda m: get_metric(m, "llm_calls").label, key=params.LLM_METRIC,
                           bind="query-params")
budget = c5.number_input("Daily budget (USD)", min_value=0.0, value=0.0, step=10.0,
                         key=params.LLM_BUDGET, bind="query-params",
                         help="Optional (0 = none). When set, the daily cost chart shows the share of the budget burned.")

try:
    view = llm_view_of(current_source(), by=None if by == "(all calls)" else by, end_day=windows.end, days=windows.days,
                       budget_per_day=budget or None)
except DriftdeskError as exc:
    st.error(str(exc))
    st.stop()
render_llm(view, metric=metric, budget_per_day=budget or None)
if view.golden is None:
    st.caption("No golden_runs table: golden-set pass rates appear here when one is loaded.")
