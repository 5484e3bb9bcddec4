"""LLM: quality, latency and cost per prompt, model or index version; current window vs the one before it.

URL parameters (all optional, bad values fall back to defaults): by (model | prompt_version | index_version |
feature), end (last day of the current window, YYYY-MM-DD), days (its length; the baseline is the same length
right before), metric (of the trend chart), budget (daily budget in the data's currency, 0 = none), asof (the
hour of the last day the budget burn is read at, HH:00, or latest), golden_baseline and golden_candidate (the
golden releases compared case by case).
"""

from __future__ import annotations

import streamlit as st

from driftdesk.bounds import AMOUNT
from driftdesk.budget import AS_OF_CHOICES, as_of_hour
from driftdesk.errors import DriftdeskError
from driftdesk.llm import TREND_METRICS, golden_pair, golden_releases, llm_groupings
from driftdesk.windows import day_range
from ui import params
from ui.data import current_source
from ui.loaders import currency_of, llm_view_of, require_table
from ui.pickers import window_controls
from ui.render import render_llm, show_error

LENGTHS = (1, 2, 7, 14)
ALL_CALLS = "(all calls)"

st.title("LLM")
st.caption("Quality, latency and cost per version: is a new prompt, provider model or index worse, or just more expensive?")
source = current_source()
dataset, calls = require_table(source, "llm_calls", "No llm_calls table in this data. Add one on the Data page (one "
                               "row per LLM call: ts, model, prompt_version, latency_ms, output_tokens, cost, "
                               "validator_ok, ...).")
days = day_range(calls.frame)
if days is None:
    st.info("The llm_calls table has no rows.")
    st.stop()

c1, c2, c3, c4, c5 = st.columns(5)
by: str = c1.selectbox("Compare by", llm_groupings(calls.frame) or [ALL_CALLS], key=params.BY, bind="query-params")
windows = window_controls(*days, (c2, c3), vs=False, day_choices=LENGTHS)
metric: str = c4.selectbox("Trend metric", TREND_METRICS, key=params.METRIC, bind="query-params",
                           help="A metric name as in the CLI and gate policies (validator_failure_rate: share of "
                                "calls whose output failed the validator).")
budget: float = c5.number_input(f"Daily budget ({currency_of(source)})", min_value=float(AMOUNT.low),
                                max_value=float(AMOUNT.high), value=0.0, step=10.0, key=params.BUDGET,
                                bind="query-params",
                                help="Optional (0 = none). When set, the daily cost chart shows the budget burned.")
golden = golden_releases(dataset)
pair = golden_pair(dataset, days[1])
g1, g2, g3 = st.columns(3)
golden_baseline = golden_candidate = None
if pair is not None:
    golden_baseline = g1.selectbox("Golden baseline release", golden, index=golden.index(pair[0]),
                                   key=params.GOLDEN_BASELINE, bind="query-params",
                                   help="The golden-set release the candidate is compared with, case by case.")
    golden_candidate = g2.selectbox("Golden candidate release", golden, index=golden.index(pair[1]),
                                    key=params.GOLDEN_CANDIDATE, bind="query-params")
as_of: str = g3.selectbox("Budget read at (UTC, last day)", AS_OF_CHOICES, key=params.AS_OF, bind="query-params",
                          disabled=not budget, help="The hour of the window's last day at which the budget burn and "
                          "its projection are read (latest: the end of the day, or of the data).")

try:
    view = llm_view_of(source, by=None if by == ALL_CALLS else by, end=windows.end, days=windows.days,
                       budget_per_day=budget or None, golden_baseline=golden_baseline,
                       golden_candidate=golden_candidate, budget_as_of=as_of_hour(as_of))
except DriftdeskError as exc:
    show_error(exc)
    st.stop()
render_llm(view, metric=metric, source=source)
