"""Data: choose the sample, a folder or uploaded files; see which table each file is read as and why; confirm the
proposal or correct a table's file and columns; see what breaks the contract and which calendar days apply.

A folder of someone else's files loads in three clicks: the Folder tab, "Load this folder" (the tables are proposed
from the files' content and load at once), and "Remember this mapping" (kept in driftdesk.toml beside the data).

URL parameters: source (the open tab: Sample / Folder / Upload), table (the table being mapped).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from driftdesk.contract import MAPPING_FILE, TABLES, remember_tables
from driftdesk.errors import DriftdeskError
from driftdesk.io import SUFFIXES
from driftdesk.paths import data_roots
from ui import params
from ui.data import (
    SAMPLE,
    UPLOAD_PREFIX,
    current_source,
    is_sample,
    save_upload,
    set_source,
    source_folder,
    source_kind,
    source_label,
    uploads_root,
)
from ui.loaders import calendar_of, file_proposal_of, folder_report_of, summary_of, try_load
from ui.render import md, render_calendar, render_contract, render_files, show_error

NONE = "(none)"


def remember(folder: Path, tables: dict) -> None:
    """Write the mapping beside the data (the user's click is the consent), then reload the page."""
    try:
        written = remember_tables(folder, tables)
    except (DriftdeskError, OSError) as exc:
        show_error(f"Nothing written to {folder / MAPPING_FILE}", exc)
    else:
        st.toast(f"Saved to {md(written)}.", icon=":material/save:")
        st.rerun()


st.title("Data")
source = current_source()
try:
    folder: Path | None = source_folder(source)
except DriftdeskError as exc:  # a link naming a folder this server does not read: choose other data below
    folder = None
    show_error(exc)
readonly = folder is None or is_sample(source)
if folder is not None:
    label = source_label(source)
    st.markdown(f"Showing **{md(label)}**" + (f" — {md(folder)}" if label != str(folder) else ""))

# ---------------------------------------------------------------- choose the data
sample_tab, folder_tab, upload_tab = st.tabs(["Sample", "Folder", "Upload"], default=source_kind(source), key=params.SOURCE,
                                            bind="query-params")
with sample_tab:
    st.markdown("The bundled sample advertiser: 91 days, hourly, with known incidents to find.")
    if st.button("Use the sample data", disabled=source == SAMPLE, key="use_sample"):
        set_source(SAMPLE)
        st.rerun()
with folder_tab, st.form("folder_form"):
    start = "" if folder is None or source == SAMPLE or source.startswith(UPLOAD_PREFIX) else source
    path_text = st.text_input("Folder on this server", value=start, placeholder="/data/my_advertiser",
                              help="Any file names: each file is read as the table its columns fit (Parquet, CSV, "
                                   "Arrow). The server reads only the folders its operator allowed.")
    st.caption("Folders this server may read (and their subfolders): "
               + ", ".join(md(r) for r in data_roots() if r != uploads_root().resolve()))
    if st.form_submit_button("Load this folder"):
        if not path_text.strip():
            st.error("Type the path of a folder on this server.")
        else:
            try:
                chosen = source_folder(path_text.strip())
            except DriftdeskError as exc:
                show_error(exc)
            else:
                set_source(str(chosen))
                st.rerun()
with upload_tab:
    uploaded = st.file_uploader(
        "Upload your table files (any names: each is read as the table its columns fit)", accept_multiple_files=True,
        type=sorted(s.lstrip(".") for s in SUFFIXES), key="upload_files",
    )
    if st.button("Save and load these files", key="save_upload", disabled=not uploaded):
        try:
            new_source = save_upload([(f.name, f.getvalue()) for f in uploaded])
        except DriftdeskError as exc:
            show_error(exc)
        else:
            set_source(new_source)
            st.rerun()

# ---------------------------------------------------------------- which file is which table, what loads
if folder is None:
    st.stop()
dataset, problem = try_load(source)
report = folder_report_of(source, validate=dataset is None)
if report.error:
    show_error(report.error)
    st.stop()
render_files(report)
proposal = report.proposal
if proposal is not None and proposal.tables and not readonly:
    st.caption(f"Keep this reading of the files in {MAPPING_FILE} beside the data: the CLI and the next visit read it "
               "too. Correct a table below first if it is wrong.")
    if st.button("Remember this mapping", type="primary", key="remember_proposal", disabled=not proposal.unremembered,
                 help="Already remembered" if not proposal.unremembered else None):
        remember(folder, proposal.remembered_form())
render_contract(report, dataset, summary_of(source) if dataset is not None else None, problem)
if dataset is not None:
    st.caption(f":material/payments: Money (spend, revenue, cost) is shown in {md(dataset.currency)}: a line "
               f"`currency = \"EUR\"` (any ISO 4217 code) at the top of {MAPPING_FILE} sets it; USD without one.")
    render_calendar(calendar_of(source))

# ---------------------------------------------------------------- correct one table: its file and its columns
st.subheader("Correct a table")
files = proposal.readable if proposal is not None else ()
if not files:
    st.info("No readable data files here (Parquet, CSV or Arrow).")
    st.stop()
proposed = proposal.table_files
table = st.selectbox("Table", [*proposed, *(t for t in TABLES if t not in proposed)], key=params.TABLE,
                     bind="query-params", help="The tables read from a file come first.")
if readonly:
    st.info(f"The sample's mapping is already remembered in its {MAPPING_FILE}; it is shown here read-only.")
spec = TABLES[table]
options = [NONE, *files]
file = st.selectbox(f"File holding the {table} table", options, key=f"file_{table}", disabled=readonly,
                    index=options.index(proposed[table]) if table in proposed else 0)
if file == NONE:
    st.caption(f"Choose the file that holds the {table} table ({spec.grain}).")
    st.stop()
entry = file_proposal_of(source, file=file, table=table)
st.caption(f"One row = {spec.grain}. Pick which of your columns plays each role; your column names stay as they are. "
           "The proposal's reasons are under each role's help.")
why = entry.role_reasons()
with st.form(f"mapping_{table}"):
    chosen: dict = {}
    columns = list(entry.columns)
    mapping = entry.mapping()
    cols = st.columns(3)
    for i, role in enumerate(r for r in spec.roles if not r.many):
        role_options = [NONE, *columns]
        current = mapping.get(role.name)
        chosen[role.name] = cols[i % 3].selectbox(
            f"{role.name} (required)" if role.required else role.name, role_options,
            index=role_options.index(current) if current in columns else 0, disabled=readonly,
            key=f"map_{table}_{role.name}", help=why.get(role.name) or role.doc or f"{role.kind} column",
        )
    for role in (r for r in spec.roles if r.many):
        chosen[role.name] = st.multiselect(
            role.name, columns, default=[c for c in mapping.get(role.name, []) if c in columns],
            disabled=readonly, key=f"map_{table}_{role.name}", help=role.doc,
        )
    saved = st.form_submit_button("Remember this table", disabled=readonly)
if saved and not readonly:
    remember(folder, {table: {"file": file, **{r: ("" if c == NONE else c) for r, c in chosen.items()}}})
