"""Which data the app shows: the `data` URL parameter (sample, a folder path, or an upload id), loaded once.

The dataset is cached as a resource (shared, never mutated) so every page and every rerun reuses it.
`st.navigation` drops query parameters on a page switch, so `carry_data_param()` (called by the entry
script before every page) keeps the source in session state and puts it back into the URL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import streamlit as st

from driftdesk.contract import TABLES, Dataset, Violation, find_table_file, load_dataset, read_mappings, validate_frame
from driftdesk.errors import ContractError, DriftdeskError
from driftdesk.io import SUFFIXES, scan_table
from driftdesk.paths import sample_data_dir, state_dir
from ui.params import DATA

DATA_PARAM = DATA
SAMPLE = "sample"
UPLOAD_PREFIX = "upload:"
_SESSION_KEY = "_driftdesk_data_source"


def uploads_root() -> Path:
    return state_dir() / "uploads"


def default_source() -> str:
    """`driftdesk app --data DIR` sets DRIFTDESK_DATA; otherwise the bundled sample."""
    return os.environ.get("DRIFTDESK_DATA") or SAMPLE


def source_folder(source: str) -> Path:
    """The folder behind a data source name."""
    if source == SAMPLE:
        return sample_data_dir()
    if source.startswith(UPLOAD_PREFIX):
        return uploads_root() / Path(source.removeprefix(UPLOAD_PREFIX)).name
    return Path(source).expanduser()


def is_sample(source: str) -> bool:
    """True for the bundled sample folder, however it is named (never write into it)."""
    try:
        return source == SAMPLE or source_folder(source).resolve() == sample_data_dir().resolve()
    except OSError:
        return False


def source_kind(source: str) -> str:
    """'Sample', 'Upload' or 'Folder': which way of choosing data a source came from (the Data page's tabs)."""
    if source == SAMPLE:
        return "Sample"
    return "Upload" if source.startswith(UPLOAD_PREFIX) else "Folder"


def current_source() -> str:
    return st.query_params.get(DATA_PARAM) or st.session_state.get(_SESSION_KEY) or default_source()


def carry_data_param() -> str:
    """Keep `data` in the URL on every page: remember it from the URL, or put the remembered one back."""
    source = st.query_params.get(DATA_PARAM)
    if source:
        st.session_state[_SESSION_KEY] = source
        return source
    source = st.session_state.get(_SESSION_KEY) or default_source()
    st.session_state[_SESSION_KEY] = source
    st.query_params[DATA_PARAM] = source
    return source


def set_source(source: str) -> None:
    """Switch the app to another data source (the URL changes with it)."""
    st.session_state[_SESSION_KEY] = source
    st.query_params[DATA_PARAM] = source


@st.cache_resource(max_entries=8, show_spinner="Loading and validating the data…")
def _load(folder: str, mtime: float) -> Dataset:
    return load_dataset(folder)


def folder_mtime(folder: Path) -> float:
    """Newest modification time in the folder, so an edited file is reloaded."""
    try:
        return max((p.stat().st_mtime for p in folder.iterdir()), default=0.0)
    except OSError:
        return 0.0


def load_source(source: str) -> Dataset:
    folder = source_folder(source)
    return _load(str(folder), folder_mtime(folder))


def try_load(source: str) -> tuple[Dataset | None, str | None]:
    """(dataset, None) or (None, the reason it cannot load): for places that must not show an error box."""
    try:
        return load_source(source), None
    except DriftdeskError as exc:
        return None, str(exc)


def current_dataset() -> Dataset | None:
    """The dataset the URL names; on bad data, a message on the page and None (never a traceback)."""
    source = current_source()
    try:
        return load_source(source)
    except DriftdeskError as exc:
        st.error(f"Cannot load the data **{source_label(source)}**. Open the Data page to see what to fix.\n\n"
                 f"```\n{exc}\n```")
        st.page_link("app_pages/data.py", label="Open the Data page", icon=":material/table_chart:",
                     query_params={DATA_PARAM: source})
        return None


def source_label(source: str) -> str:
    if source == SAMPLE:
        return "Sample advertiser (bundled)"
    if source.startswith(UPLOAD_PREFIX):
        return f"Uploaded files ({source.removeprefix(UPLOAD_PREFIX)[:8]})"
    return source


# --------------------------------------------------------------------------- uploads


def guess_table(filename: str) -> str | None:
    """The contract table a file is named after (kpis.csv -> kpis), if any."""
    stem = Path(filename).name.split(".")[0].strip().lower().replace("-", "_").replace(" ", "_")
    return stem if stem in TABLES else None


def save_upload(files: list[tuple[str, str, bytes]]) -> str:
    """Store uploaded (table, filename, bytes) under uploads/<content hash>/<table><suffix>; return its source name.

    The folder appears atomically (written beside, then renamed), so a half-written upload is never loaded,
    and the same files always get the same address (the URL stays shareable on this server).
    """
    if not files:
        raise DriftdeskError("no files to save: choose at least one file")
    seen: dict[str, str] = {}
    for table, filename, _content in files:
        suffix = Path(filename).suffix.lower()
        if suffix not in SUFFIXES:
            raise DriftdeskError(f"{filename}: cannot tell the format from the extension {suffix or '(none)'!r}; "
                                 f"use one of {', '.join(sorted(SUFFIXES))}")
        if table not in TABLES:
            raise DriftdeskError(f"{filename}: choose which table it holds (one of {', '.join(TABLES)})")
        if table in seen:
            raise DriftdeskError(f"{filename} and {seen[table]} are both marked as table {table!r}; keep one")
        seen[table] = filename
    digest = hashlib.sha256()
    for table, filename, content in sorted(files, key=lambda f: f[0]):
        digest.update(f"{table}{Path(filename).suffix.lower()}\0{len(content)}\0".encode())
        digest.update(content)
    key = digest.hexdigest()[:16]
    target = uploads_root() / key
    if not target.exists():
        uploads_root().mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=uploads_root()))
        try:
            for table, filename, content in files:
                (tmp / f"{table}{Path(filename).suffix.lower()}").write_bytes(content)
            os.replace(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not target.exists():
                raise
    return UPLOAD_PREFIX + key


# --------------------------------------------------------------------------- inspection for the Data page


@dataclass(frozen=True)
class TableFile:
    """One contract table file in a folder: its columns, the mapping to prefill, and what is wrong with it."""

    table: str
    path: str
    columns: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()
    mapping: dict = field(default_factory=dict)  # role -> column (single roles) plus segments / features lists
    violations: tuple[dict, ...] = ()
    error: str | None = None  # the file cannot be read at all


def _suggest(columns: list[str], schema: dict, table: str, remembered: dict, source: str) -> dict:
    """The mapping to prefill: what the contract would use; when that fails, same-name and remembered columns."""
    from driftdesk.contract import resolve_mapping

    spec = TABLES[table]
    try:
        single, segments, features = resolve_mapping(columns, schema, spec, remembered, source)
    except ContractError:
        try:
            single, segments, features = resolve_mapping(columns, schema, spec, None, source)
        except ContractError:
            single = {}
            for role in spec.roles:
                if role.many:
                    continue
                chosen = remembered.get(role.name)
                if isinstance(chosen, str) and chosen in columns:
                    single[role.name] = chosen
                elif role.name in columns:
                    single[role.name] = role.name
            segments = [c for c in remembered.get("segments", []) if c in columns]
            features = [c for c in remembered.get("features", []) if c in columns]
    names = {r.name for r in spec.roles}
    out: dict = dict(single)
    if "segments" in names:
        out["segments"] = list(segments)
    if "features" in names:
        out["features"] = list(features)
    return out


@st.cache_data(max_entries=16, show_spinner="Checking the files against the data contract…")
def inspect_folder(folder: str, mtime: float, validate: bool) -> tuple[list[TableFile], str | None]:
    """Every table file in a folder with its columns and prefilled mapping; its violations when ``validate``."""
    path = Path(folder)
    if not path.is_dir():
        return [], f"{folder}: no such folder on this server"
    try:
        remembered = read_mappings(path)
    except ContractError as exc:
        return [], str(exc)
    found: list[TableFile] = []
    for table in TABLES:
        file = find_table_file(path, table)
        if file is None:
            continue
        try:
            lazy = scan_table(file)
            schema = dict(lazy.collect_schema())
        except DriftdeskError as exc:
            found.append(TableFile(table, str(file), error=str(exc)))
            continue
        columns = list(schema)
        mapping = _suggest(columns, schema, table, remembered.get(table, {}), str(file))
        violations: list[Violation] = []
        error = None
        if validate:
            try:
                _, violations = validate_frame(lazy, table, mapping=remembered.get(table), source=str(file))
            except ContractError as exc:
                violations = list(exc.violations)
                error = None if violations else str(exc)
            except DriftdeskError as exc:
                error = str(exc)
        found.append(TableFile(table, str(file), tuple(columns), tuple(str(schema[c]) for c in columns), mapping,
                               tuple(v.to_dict() for v in violations), error))
    return found, None


def violations_frame(files: list[TableFile]) -> pl.DataFrame:
    """Every violation of every file as one readable table: file, column, rule, count, example rows."""
    rows = []
    for f in files:
        if f.error:
            rows.append({"file": Path(f.path).name, "table": f.table, "column": "", "rule": f.error, "count": None,
                         "examples": "", "severity": "error"})
        for v in f.violations:
            examples = "; ".join(f"row {e['row']}: {e['value']}" if e["row"] is not None else str(e["value"])
                                 for e in v["examples"])
            column = v["column"] or ""
            if v["role"] and v["role"] != v["column"]:
                column = f"{column} (role {v['role']})" if column else f"(role {v['role']})"
            rows.append({"file": Path(f.path).name, "table": f.table, "column": column, "rule": v["rule"],
                         "count": v["count"] or None, "examples": examples, "severity": v["severity"]})
    return pl.DataFrame(rows, schema={"file": pl.String, "table": pl.String, "column": pl.String, "rule": pl.String,
                                      "count": pl.Int64, "examples": pl.String, "severity": pl.String})


def require_table(name: str, missing_message: str):
    """The URL's dataset and its ``name`` table; otherwise a message on the page and the script stops."""
    dataset = current_dataset()
    if dataset is None:
        st.stop()
    if name not in dataset:
        st.info(missing_message)
        st.stop()
    return dataset, dataset[name]
