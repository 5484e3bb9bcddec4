"""The Data page's reports: which table each file is and why, what is loaded, what breaks the data contract, and
the calendar days the data is read with."""

from __future__ import annotations

import polars as pl
import streamlit as st

from driftdesk.calendars import Calendar
from driftdesk.contract import Dataset
from driftdesk.folder import FolderReport
from driftdesk.format import format_value
from ui.render.overview import render_summary
from ui.render.text import md, table


def render_files(report: FolderReport) -> None:
    """One row per data file: the table it is read as, how sure, and why (or why it is not loaded and what to do)."""
    st.subheader("Files")
    files = report.files_frame()
    loaded = files.filter(pl.col("table").is_not_null()).height
    st.caption(f"{format_value(files.height, 'count')} data file(s), {format_value(loaded, 'count')} read as a table. "
               "Tables are found by content (column names, types and values), whatever the files are called.")
    if files.height:
        table(files.select("file", "table", "level", "confidence", "why", "remembered"), units={"confidence": "rate"},
              column_config={"why": st.column_config.TextColumn("why", width="large")})
    for note in report.notes:
        st.warning(md(note), icon=":material/help:")


def render_contract(report: FolderReport, dataset: Dataset | None, summary, problem: str | None) -> None:
    """Loaded tables (or why nothing loads), then every contract violation and warning."""
    violations = report.violations()
    st.subheader("Loaded tables")
    if dataset is not None:
        render_summary(summary)
    else:
        count = f"{format_value(violations.height, 'count')} problem(s)" if violations.height else "why"
        st.error(f"The data does not load: {count} below. Fix the files, or map your column names to roles.")
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


def render_calendar(calendar: Calendar) -> None:
    """The calendar days applied (calendar, not drift) and where each came from, folded away."""
    with st.expander(f"Calendar days applied — {md(calendar.summary)}", icon=":material/event:"):
        st.caption("Calendar days are read as calendar, not drift. Public holidays count for their own country's "
                   "series, and for the whole business only when that country brings most of the traffic. Set the "
                   "countries (holidays = [\"US\"], or \"none\") and Prime Day's dates under [calendar] in "
                   "driftdesk.toml.")
        for note in calendar.notes:
            st.warning(md(note))
        days = calendar.days.select(pl.col("date").dt.date(), "name", "kind", "segment", "source", "everywhere")
        if days.height:
            table(days, column_config={"everywhere": st.column_config.CheckboxColumn("whole business")})
