"""Rollouts: a candidate against its control per segment, with intervals, the decision and why, and the decision
replayed over the rollout. URL: ro_control, ro_candidate, ro_by."""

from __future__ import annotations

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.rollout import canary_pairs, versions
from ui import params
from ui.data import current_source, require_table
from ui.loaders import rollout_of
from ui.render import render_rollout

st.title("Rollouts")
st.caption("Judge a canary (split traffic) or a shadow (the same requests scored twice) per segment, not on the "
           "global average: one geo can break while the total looks fine.")
dataset, table = require_table("decisions", "No decisions table loaded: a rollout is judged on rows scored by both "
                               "versions (model_version, release_id or variant). Add one on the Data page.")
choices = versions(dataset)
if len(choices) < 2:
    st.info("The decisions table names fewer than two versions (model_version, release_id or variant): there is "
            "no rollout to judge.")
    st.stop()
control_default, candidate_default = (canary_pairs(dataset) or [(choices[0], choices[-1])])[0]
c1, c2, c3 = st.columns([1, 1, 2])
control = c1.selectbox("Control", choices, index=choices.index(control_default) if control_default in choices else 0,
                       key=params.RO_CONTROL, bind="query-params")
candidate = c2.selectbox("Candidate", choices, key=params.RO_CANDIDATE, bind="query-params",
                         index=choices.index(candidate_default) if candidate_default in choices else len(choices) - 1)
by = c3.multiselect("Segment by", list(table.segments), default=[], key=params.RO_BY, bind="query-params",
                    help="Empty: each gate's own segments, else every segment column on its own and all traffic.")
try:
    result = rollout_of(current_source(), control=control, candidate=candidate, by=tuple(by))
except DriftdeskError as exc:
    st.error(str(exc))
    st.stop()
render_rollout(result)
