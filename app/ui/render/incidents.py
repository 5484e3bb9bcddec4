"""The Incidents page body: timeline, what was live and what changed, both severities, the first-30-minutes
checklist, the gates, the canary's judgement, and the postmortem export."""

from __future__ import annotations

import streamlit as st

from driftdesk.format import MISSING, format_value
from driftdesk.incidents import IncidentView, postmortem_archive
from ui.render.text import later, md, table

SEVERITY_HELP = ("From the evidence, by the first rule that holds: P0 wrong predictions to more than half the traffic, "
                 "P1 a KPI down more than 20%, P2 drift with 5-20% degradation, P3 drift without impact.")


def _hours(value: float | None) -> str:
    return format_value(value, "count") + ("" if value is None else " h")


def render_incident(view: IncidentView) -> None:
    """The Incidents page body."""
    inc = view.incident
    st.subheader(f"{md(inc['incident_id'])} · {md(inc.get('layer') or 'layer unknown')} · "
                 f"{md(inc.get('segment') or 'all traffic')}")
    st.text(inc.get("cause") or "")
    m = st.columns(4)
    m[0].metric("Severity logged", view.severity_logged or MISSING)
    m[1].metric("Severity suggested", view.severity_suggested, help=SEVERITY_HELP)
    m[2].metric("First alert", f"{view.asked_at:%m-%d %H:%M}" if view.caught else "none")
    m[3].metric("Caught after", "not caught" if view.delay_hours is None else _hours(view.delay_hours))
    st.caption(f"Alerts from {md(view.policy_source)}.")
    st.plotly_chart(view.to_figure(), width="stretch", key="incident_timeline")
    left, right = st.columns(2)
    with left:
        st.markdown("##### What was live when it started")
        table(view.live.components.select("component", "role", "release_id", "version", "since", "traffic_share"),
              units={"traffic_share": "rate"})
    with right:
        st.markdown(f"##### What changed (48 h before the start, up to {view.asked_at:%Y-%m-%d %H:%M})")
        if view.changes.height:
            table(view.changes)
        else:
            st.caption("Nothing found: no release, drift, data-quality finding or calendar day in those hours.")
    st.markdown("##### The first 30 minutes")
    with st.container(border=True):
        for step, answer in view.checklist.iter_rows():
            st.markdown(f"**{md(step)}**  \n{md(answer)}")
    sev_tab, gates_tab, canary_tab = st.tabs(["Severity evidence", "Gates", "Canary"])
    with sev_tab:
        table(view.evidence)
    with gates_tab:
        table(view.gates, units={"delay_hours": "count"})
    with canary_tab:
        _render_canary(view.rollout)
    for note in view.notes:
        st.caption(md(note))
    st.download_button("Export the postmortem (Markdown, PNG figures, JSON)", data=later(postmortem_archive, view),
                       file_name=f"{inc['incident_id']}-postmortem.zip", mime="application/zip",
                       icon=":material/download:", on_click="ignore")


def _render_canary(rollout: dict | None) -> None:
    """The rollout policy's judgement of the canary around the incident, in a sentence."""
    if not rollout:
        st.caption("No model canary took traffic around this incident.")
        return
    r = rollout
    when = (f" at {r['decided_at']:%Y-%m-%d %H:%M} UTC, {_hours(r['hours_after_canary_start'])} after the canary started"
            if r["decided_at"] else "")
    segments = f"; segments: {md(', '.join(r['segments']))}" if r["segments"] else ""
    st.markdown(f"The rollout policy judged the canary {md(r['release_id'])} ({md(r['candidate'])} vs "
                f"{md(r['control'])}): **{md(r['decision'])}**{when}{segments}.")
