"""Incidents: one incident from its first alert to its postmortem: the timeline, what was live, what changed, the
suggested severity beside the logged one, the first-30-minutes checklist, the gates, and an export.

URL parameters (bad values fall back to defaults): incident (an incident_id of the log; the newest by default).
"""

from __future__ import annotations

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.incidents import incident_ids
from ui import params
from ui.data import current_source
from ui.loaders import incident_of, require_table
from ui.render import render_incident, show_error

st.title("Incidents")
st.caption("The first question of every incident is \"what changed?\". Alerts from the gate policy, releases and "
           "the incident log on one timeline, and what the data says about each incident.")
source = current_source()
dataset, _ = require_table(source, "incidents", "No incidents table loaded: add the team's incident log (start, end, "
                           "layer, severity, segment, cause) on the Data page.")
ids = incident_ids(dataset)
if not ids:
    st.info("The incident log is empty.")
    st.stop()
chosen: str = st.selectbox("Incident", ids, key=params.INCIDENT, bind="query-params")
try:
    view = incident_of(source, chosen)
except DriftdeskError as exc:
    show_error(exc)
    st.stop()
render_incident(view)
