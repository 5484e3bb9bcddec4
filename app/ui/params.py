"""Every URL parameter the app reads, in one place (the URL is the app's public interface: keep names stable).

One name per concept, the glossary's word (docs/glossary.md), on every page that has the concept: ``day`` for
the day a page is about, ``end`` and ``days`` for a window, ``vs`` for a baseline kind, ``by`` for segment
columns, ``table``, ``metric``, ``segment``, ``mode``. A page-specific name only where the concept is the page's
own. Widgets bound with ``bind="query-params"`` use their ``key`` as the parameter name, so the constants below
are also the widget keys. Add a line here for each parameter a new page introduces, and list it in the README.

Renaming a parameter or one of its values: add the old spelling to ``RENAMED_PARAMS`` / ``RENAMED_VALUES``.
``upgrade_query_params()`` (called by the entry script before any page runs) rewrites an old spelling in the URL
to today's and reruns, so a link shared before the rename opens the same view and the address bar shows the
new spelling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st
from streamlit.errors import StreamlitAPIException

DATA = "data"  # which data: "sample", a folder on the server, or "upload:<hash>"; carried across pages

# shared: the same word wherever the concept appears
DAY = "day"  # the day a page is about, YYYY-MM-DD (Overview, Drift, Seasonality)
END = "end"  # last day of the current window, YYYY-MM-DD (Calibration, Segments & impact, LLM)
DAYS = "days"  # current window length in days (Calibration, Segments & impact, LLM)
VS = "vs"  # a baseline kind, driftdesk.windows.BASELINE_KINDS (Calibration, Segments & impact; Drift: the one
# whose distribution is drawn)
BY = "by"  # segment column(s) an analysis is split by (Calibration: one or "(none)"; Segments & impact, Rollouts: one
# or more; Drift: one or "(none)"; LLM: the version column, or "(all calls)")
SEGMENT = "segment"  # the one segment shown on its own (Calibration: a value of `by`; Seasonality: COLUMN=VALUE)
TABLE = "table"  # which table (Data: the one being mapped; Drift, Seasonality: the one analysed)
METRIC = "metric"  # a registered metric name, driftdesk.metrics (Segments & impact, Seasonality, LLM's trend)
MODE = "mode"  # Seasonality: batch | causal
# the parameter each page keeps its day in (url path -> name); the chosen day is carried between them (ui/carry.py)
DAY_PARAMS: dict[str, str] = {"overview": DAY, "drift": DAY, "seasonality": DAY, "calibration": END, "impact": END,
                              "llm": END}

# Overview
SPAN = "span"  # timeline span in days
NUMBERS = "numbers"  # which layer's numbers are open below the cards
EVENTS = "events"  # the releases-and-incidents table is expanded

# Data page
SOURCE = "source"  # which way of choosing data is open: Sample / Folder / Upload

# Drift
BASELINES = "baselines"  # the baseline kinds the day is compared with at once
CUSTOM = "custom"  # the custom baseline range, START/END (UTC)
COLUMN = "column"  # the column whose distribution, history and segments are drawn
STATISTIC = "statistic"  # the statistic of the history chart
WEIGHT = "weight"  # what a row counts for: a traffic column of kpis (impressions, clicks, spend) or "rows"

# Calibration
BINS = "bins"  # number of score bins
STRATEGY = "strategy"  # bin edges, uniform | quantile
DELAY = "delay"  # label delay in days

# Segments & impact
MIN_CONV = "min_conv"  # conversions below which a segment is flagged

# LLM
BUDGET = "budget"  # daily budget (in the data's currency) for the burn chart (0 = none)
AS_OF = "asof"  # when on the window's last day the budget burn is read: HH:00 (01:00-24:00) or latest
GOLDEN_BASELINE = "golden_baseline"  # the golden release the candidate is compared with, case by case
GOLDEN_CANDIDATE = "golden_candidate"  # the golden release compared with the baseline

# Gates page
POLICY = "policy"  # the proposed policy, compact (deflated JSON, base64url): a proposal shared as a link
GATE = "gate"  # the gate being edited and swept, by name

# Known-good baselines (the pickers of Calibration and Segments & impact, Drift, the Overview)
PINNED = "pinned"  # the pinned reference window START/END (UTC) when the baseline kind is pinned
KNOWN_GOOD = "known_good"  # Overview: also compare with a known-good baseline: last_release | pinned

# Rollouts page (segment columns: BY)
CONTROL = "control"  # the control's version, the one already live (e.g. v1.9)
CANDIDATE = "candidate"  # the candidate's version, the one judged (e.g. v2.0)

# Incidents page
INCIDENT = "incident"  # the incident id shown (incident_id of the log)

# every parameter a control binds (its widget key), but the data source: a page's controls start from its own
# defaults or its URL, never from another page's control of the same name (ui/carry.py)
CONTROL_PARAMS: tuple[str, ...] = (
    DAY, END, DAYS, VS, BY, SEGMENT, TABLE, METRIC, MODE, SPAN, NUMBERS, EVENTS, SOURCE, BASELINES, CUSTOM, COLUMN,
    STATISTIC, BINS, STRATEGY, DELAY, MIN_CONV, BUDGET, AS_OF, GOLDEN_BASELINE, GOLDEN_CANDIDATE, PINNED, KNOWN_GOOD,
    CONTROL, CANDIDATE, INCIDENT)

# --------------------------------------------------------------------------- old spellings still accepted

RENAMED_PARAMS: dict[str, str] = {  # old parameter name -> today's name
    "date": DAY,  # Overview
    "drift_date": DAY, "drift_table": TABLE, "drift_baselines": BASELINES, "drift_custom": CUSTOM, "drift_by": BY,
    "drift_column": COLUMN, "drift_vs": VS, "drift_stat": STATISTIC,
    "sz_table": TABLE, "sz_metric": METRIC, "sz_segment": SEGMENT, "sz_mode": MODE, "sz_day": DAY,
    "llm_by": BY, "llm_end": END, "llm_days": DAYS, "llm_metric": METRIC, "llm_budget": BUDGET,
}
RENAMED_VALUES: dict[str, dict[str, str]] = {  # parameter (today's name) -> {old value: today's value}
    VS: {"previous week": "week_over_week", "previous period": "previous_period", "previous day": "day_over_day"},
    METRIC: {
        # Segments & impact wrote its metrics in capitals; the LLM trend chart wrote the metric's label
        "CPA": "cpa", "ROAS": "roas", "CR": "cr",
        "validator failure rate": "validator_failure_rate", "refusal rate": "refusal_rate",
        "p95 latency": "latency_p95_ms", "output tokens per call": "tokens_out_mean", "total cost": "cost_total",
        "cost per call": "cost_per_call", "judge score": "judge_score_mean",
    },
}


def upgraded(query: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The URL's parameters (name -> values) with old names and values in today's spelling.

    A parameter given under both its old and its new name keeps the new one.
    """
    out: dict[str, list[str]] = {}
    for name, values in query.items():
        new = RENAMED_PARAMS.get(name, name)
        if new != name and new in query:
            continue
        words = RENAMED_VALUES.get(new, {})
        out[new] = [words.get(v, v) for v in values]
    return out


def upgrade_query_params() -> None:
    """Rewrite old parameter names and values in ``st.query_params`` and rerun, before any widget reads them."""
    query = {name: st.query_params.get_all(name) for name in st.query_params}
    new = upgraded(query)
    if new == query:
        return
    try:
        for name in set(query) - set(new):
            del st.query_params[name]
        for name, values in new.items():
            if query.get(name) != values:
                st.query_params[name] = values[0] if len(values) == 1 else values
    except StreamlitAPIException:  # bound to a widget already: the widget's own value stands
        return
    st.rerun()
