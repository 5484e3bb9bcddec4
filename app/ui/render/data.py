"""The Data page's report: what is loaded, and what breaks the data contract."""

from __future__ import annotations

import streamlit as st

from driftdesk.contract import Dataset
from driftdesk.folder import FolderReport
from driftdesk.format import format_value
from ui.render.overview import render_summary
from ui.render.text import md, table


def render_contract(report: FolderReport, dataset: Dataset | None, summary, problem: str | None) -> None:
    """Loaded tables (or why nothing loads), then every contract violation and warning."""
    violations = report.violations()
    st.subheader("Loaded tables")
    if dataset is not None:
        render_summary(summary)
    else:
        st.error(f"The data does not load: {format_value(violations.height, 'count')} problem(s) below. "
                 "Fix the files, or map your column names to roles.")
    st.subheader("Contract check")
    if dataset is None and violations.height == 0 and problem:
        st.error(md(problem))
    elif violations.height:
        table(violations, units={"count": "count"})
    else:
        st.success("Every table meets the data contract.", icon=":material/check_circle:")
    for t in (dataset.tables.values() if dataset else []):
        for warning in t.warnings:
            st.warning(md(warning.message))
