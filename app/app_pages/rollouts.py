"""Rollouts: a candidate against its control per segment, with intervals, the decision and why, and the decision
replayed over the rollout.

URL parameters (bad values fall back to defaults): control (the version already live), candidate (the version
judged), by (segment columns for every gate; none: each gate's own segments).
"""

from __future__ import annotations

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.rollout import canary_pairs, versions
from ui import params
from ui.data import current_source
from ui.loaders import require_table, rollout_of
from ui.render import render_rollout, show_error

st.title("Rollouts")
st.caption("Judge a canary (split traffic) or a shadow (the same requests scored twice) per segment, not on the "
           "global average: one geo can break while the total looks fine.")
source = current_source()
dataset, table = require_table(source, "decisions", "No decisions table loaded: a rollout is judged on rows scored by "
                               "both versions (model_version, release_id or variant). Add one on the Data page.")
choices = versions(dataset)
if len(choices) < 2:
    st.info("The decisions table names fewer than two versions (model_version, release_id or variant): there is "
            "no rollout to judge.")
    st.stop()
control_default, candidate_default = (canary_pairs(dataset) or [(choices[0], choices[-1])])[0]
c1, c2, c3 = st.columns([1, 1, 2])
control: str = c1.selectbox("Control", choices, key=params.CONTROL, bind="query-params",
                            index=choices.index(control_default) if control_default in choices else 0)
candidate: str = c2.selectbox("Candidate", choices, key=params.CANDIDATE, bind="query-params",
                              index=choices.index(candidate_default) if candidate_default in choices else len(choices) - 1)
by: list[str] = c3.multiselect("Segment by", list(table.segments), default=[], key=params.BY, bind="query-params",
                               help="Empty: each gate's own segments, else every segment column on its own and all "
                                    "traffic.")
try:
    result = rollout_of(source, control=control, candidate=candidate, by=by)
except DriftdeskError as exc:
    show_error(exc)
    st.stop()
render_rollout(result)
