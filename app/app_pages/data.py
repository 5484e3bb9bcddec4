"""Data: choose the sample, a folder or uploaded files; map columns to roles; see what breaks the contract.

URL parameters: source (the open tab: Sample / Folder / Upload), table (the table being mapped).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from driftdesk.contract import MAPPING_FILE, TABLES, ContractError, read_mappings, write_mappings
from driftdesk.errors import DriftdeskError
from driftdesk.folder import guess_table
from driftdesk.io import SUFFIXES
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
)
from ui.loaders import folder_report_of, summary_of, try_load
from ui.render import md, render_contract, show_error

NONE = "(none)"

st.title("Data")
source = current_source()
folder = source_folder(source)
st.markdown(f"Showing **{md(source_label(source))}** — {md(folder)}")

# ---------------------------------------------------------------- choose the data
sample_tab, folder_tab, upload_tab = st.tabs(["Sample", "Folder", "Upload"], default=source_kind(source), key=params.SOURCE,
                                            bind="query-params")
with sample_tab:
    st.markdown("The bundled sample advertiser: 91 days, hourly, with known incidents to find.")
    if st.button("Use the sample data", disabled=source == SAMPLE, key="use_sample"):
        set_source(SAMPLE)
        st.rerun()
with folder_tab, st.form("folder_form"):
    start = "" if source == SAMPLE or source.startswith(UPLOAD_PREFIX) else source
    path_text = st.text_input("Folder on this server", value=start, placeholder="/data/my_advertiser",
                              help="Files named after their table: kpis.parquet, decisions.csv, releases.csv, …")
    if st.form_submit_button("Load this folder"):
        chosen = Path(path_text.strip()).expanduser()
        if not path_text.strip():
            st.error("Type the path of a folder on this server.")
        elif not chosen.is_dir():
            show_error(f"{chosen}: no such folder on this server.")
        else:
            set_source(str(chosen.resolve()))
            st.rerun()
with upload_tab:
    uploaded = st.file_uploader(
        "Upload table files (named after their table, e.g. kpis.csv)", accept_multiple_files=True,
        type=sorted(s.lstrip(".") for s in SUFFIXES), key="upload_files",
    )
    if uploaded:
        choices = {}
        for i, f in enumerate(uploaded):
            guess = guess_table(f.name)
            options = [NONE, *TABLES]
            choices[f.file_id] = st.selectbox(f"Table in {md(f.name)}", options,
                                              index=options.index(guess) if guess else 0, key=f"upload_table_{i}")
        if st.button("Save and load these files", key="save_upload"):
            try:
                new_source = save_upload([(choices[f.file_id], f.name, f.getvalue()) for f in uploaded])
            except DriftdeskError as exc:
                show_error(exc)
            else:
                set_source(new_source)
                st.rerun()

# ---------------------------------------------------------------- what is loaded, what is wrong
dataset, problem = try_load(source)
report = folder_report_of(source, validate=dataset is None)
if report.error:
    show_error(report.error)
    st.stop()
render_contract(report, dataset, summary_of(source) if dataset is not None else None, problem)

# ---------------------------------------------------------------- map columns to roles
st.subheader("Column mapping")
mappable = report.mappable
if not mappable:
    st.info("No readable table files here to map. Files are found by name: kpis.parquet, decisions.csv, …")
    st.stop()
names = [f.table for f in mappable]
table = st.selectbox("Table", names, key=params.TABLE, bind="query-params")
entry = next(f for f in mappable if f.table == table)
spec = TABLES[table]
readonly = is_sample(source)
if readonly:
    st.info(f"The sample's mapping is already remembered in its {MAPPING_FILE}; it is shown here read-only.")
st.caption(f"One row = {spec.grain}. Pick which of your columns plays each role; your column names stay as they are.")
with st.form(f"mapping_{table}"):
    chosen: dict = {}
    columns = list(entry.columns)
    cols = st.columns(3)
    single_roles = [r for r in spec.roles if not r.many]
    for i, role in enumerate(single_roles):
        options = [NONE, *columns]
        current = entry.mapping.get(role.name)
        label = f"{role.name} (required)" if role.required else role.name
        chosen[role.name] = cols[i % 3].selectbox(
            label, options, index=options.index(current) if current in columns else 0, disabled=readonly,
            key=f"map_{table}_{role.name}", help=role.doc or f"{role.kind} column",
        )
    for role in (r for r in spec.roles if r.many):
        chosen[role.name] = st.multiselect(
            role.name, columns, default=[c for c in entry.mapping.get(role.name, []) if c in columns],
            disabled=readonly, key=f"map_{table}_{role.name}", help=role.doc,
        )
    saved = st.form_submit_button("Remember this mapping", disabled=readonly)
if saved and not readonly:
    mapping = {role: col for role, col in chosen.items() if isinstance(col, list) or col != NONE}
    try:
        existing = read_mappings(folder)
    except ContractError:
        existing = {}
    try:
        written = write_mappings(folder, {**existing, table: mapping})
    except OSError as exc:
        show_error(f"Cannot write {folder / MAPPING_FILE}", exc)
    else:
        st.success(f"Saved to {md(written)}.")
        st.rerun()
