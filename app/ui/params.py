"""Every URL parameter the app reads, in one place (the URL is the app's public interface: keep names stable).

Widgets bound with ``bind="query-params"`` use their ``key`` as the parameter name, so the key constants
below are also the widget keys. Add a line here for each parameter a new page introduces.

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

# Overview
DATE = "date"  # the day shown as "latest", YYYY-MM-DD
SPAN = "span"  # timeline span in days
NUMBERS = "numbers"  # which layer's numbers are open below the cards
EVENTS = "events"  # the releases-and-incidents table is expanded

# Data page
SOURCE = "source"  # which way of choosing data is open: Sample / Folder / Upload
TABLE = "table"  # the table whose columns are being mapped

# Calibration and Segments & impact: the window controls (ui/pickers.py) and each page's own controls
END = "end"  # last day of the current window, YYYY-MM-DD
DAYS = "days"  # current window length in days
VS = "vs"  # the kind of baseline: week_over_week | previous_period | day_over_day (driftdesk.windows.BASELINE_KINDS)
BY = "by"  # segment column (Calibration: one, or "(none)"; Segments & impact: one or more)
SEGMENT = "segment"  # Calibration: the value of `by` whose reliability diagram is shown
BINS = "bins"  # Calibration: number of score bins
STRATEGY = "strategy"  # Calibration: bin edges, uniform | quantile
DELAY = "delay"  # Calibration: label delay in days
METRIC = "metric"  # Segments & impact: CPA | ROAS | CR
MIN_CONV = "min_conv"  # Segments & impact: conversions below which a segment is flagged

# LLM page (its window controls keep their own llm_ names: links shared before the pickers existed still open)
LLM_BY = "llm_by"  # group column: model, prompt_version, index_version, feature
LLM_END = "llm_end"  # last day of the current window, YYYY-MM-DD
LLM_DAYS = "llm_days"  # window length in days; the baseline is the same length right before
LLM_METRIC = "llm_metric"  # metric of the trend chart
LLM_BUDGET = "llm_budget"  # daily budget in USD for the burn chart (0 = none)

# Gates page
POLICY = "policy"  # the proposed policy, compact (deflated JSON, base64url): a proposal shared as a link
GATE = "gate"  # the gate being edited and swept, by name

# Known-good baselines (the pickers of Calibration and Segments & impact, Drift, the Overview)
PINNED = "pinned"  # the pinned reference window START/END (UTC) when the baseline kind is pinned
OV_KNOWN_GOOD = "known_good"  # Overview: also compare with a known-good baseline: last_release | pinned

# Rollouts page
RO_CONTROL = "ro_control"  # the control's version (e.g. v1.9)
RO_CANDIDATE = "ro_candidate"  # the candidate's version (e.g. v2.0)
RO_BY = "ro_by"  # segment columns for every gate (empty: each gate's own, else each segment column)

# Incidents page
INCIDENT = "incident"  # the incident id shown (incident_id of the log)

# --------------------------------------------------------------------------- old spellings still accepted

RENAMED_PARAMS: dict[str, str] = {}  # old parameter name -> today's name
RENAMED_VALUES: dict[str, dict[str, str]] = {  # parameter (today's name) -> {old value: today's value}
    VS: {"previous week": "week_over_week", "previous period": "previous_period", "previous day": "day_over_day"},
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
    except StreamlitAPIException:  # bound to a widget already this session: the widget's own value stands
        return
    st.rerun()
