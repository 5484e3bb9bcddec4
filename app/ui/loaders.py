"""Cached library calls, keyed by the data source and the controls (never by widgets read inside)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from driftdesk.overview import Overview, dataset_summary, overview
from ui.data import folder_mtime, load_source, source_folder


def _stamp(source: str) -> float:
    return folder_mtime(source_folder(source))


@st.cache_data(max_entries=32, show_spinner="Comparing the day with its baselines…")
def _overview(source: str, stamp: float, day: dt.date | None, span_days: int, known_good: str | None = None,
              pinned: str | None = None) -> Overview:
    from driftdesk.windows import pinned_reference

    good = pinned_reference(pinned) if known_good == "pinned" else known_good
    return overview(load_source(source), day=day, span_days=span_days, known_good=good)


def overview_of(source: str, *, day: dt.date | None, span_days: int, known_good: str | None = None,
                pinned: str | None = None) -> Overview:
    """The Overview of a data source's day (cached per source version, day, span and known-good baseline)."""
    return _overview(source, _stamp(source), day, span_days, known_good, pinned)


@st.cache_data(max_entries=16, show_spinner=False)
def _summary(source: str, stamp: float):
    return dataset_summary(load_source(source))


def summary_of(source: str):
    """Rows, time range and columns of each loaded table (raises DriftdeskError when the data cannot load)."""
    return _summary(source, _stamp(source))


@st.cache_data(max_entries=32, show_spinner="Comparing LLM versions…")
def _llm_view(source: str, stamp: float, by: str | None, end_day: dt.date, days: int, budget_per_day: float | None):
    from driftdesk.llm import llm_view

    return llm_view(load_source(source), by=by, end_day=end_day, days=days, budget_per_day=budget_per_day)


def llm_view_of(source: str, *, by: str | None, end_day: dt.date, days: int, budget_per_day: float | None):
    """The LLM page's comparison, series and golden-set results (cached per source version and controls)."""
    return _llm_view(source, _stamp(source), by, end_day, days, budget_per_day)


@st.cache_data(max_entries=16, show_spinner="Judging the rollout in every segment…")
def _rollout(source: str, stamp: float, control: str, candidate: str, by: tuple[str, ...]):
    from driftdesk.rollout import rollout_view

    return rollout_view(load_source(source), control=control, candidate=candidate, by=list(by) or None)


def rollout_of(source: str, *, control: str, candidate: str, by: tuple[str, ...]):
    """The Rollouts page's judgement (cached per source version and controls)."""
    return _rollout(source, _stamp(source), control, candidate, by)


@st.cache_data(max_entries=16, show_spinner="Replaying the gates and gathering what changed…")
def _incident(source: str, stamp: float, incident_id: str, adopted: str):
    from driftdesk.incidents import incident_view

    return incident_view(load_source(source), incident_id)


def _adopted_stamp() -> str:
    """The newest adoption of any policy: adopting one changes which alerts the incidents are read against."""
    from driftdesk.tracking import policy_history

    adopted = policy_history()["adopted_at"].drop_nulls()
    return adopted.max() if adopted.len() else ""


def incident_of(source: str, incident_id: str):
    """The Incidents page's view of one incident (cached per source version, incident and adopted policy)."""
    return _incident(source, _stamp(source), incident_id, _adopted_stamp())
