"""Which data the app shows: the `data` URL parameter (sample, a folder on the server, or an upload id).

`st.navigation` drops query parameters on a page switch, so `carry_data_param()` (called by the entry script
before every page) keeps the source in session state and puts it back into the URL. Loading the data is cached in
ui/loaders.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import streamlit as st

from driftdesk.contract import TABLES
from driftdesk.errors import DriftdeskError
from driftdesk.io import SUFFIXES
from driftdesk.paths import sample_data_dir, state_dir
from ui.params import DATA

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
    return st.query_params.get(DATA) or st.session_state.get(_SESSION_KEY) or default_source()


def carry_data_param() -> str:
    """Keep `data` in the URL on every page: remember it from the URL, or put the remembered one back."""
    source = st.query_params.get(DATA)
    if source:
        st.session_state[_SESSION_KEY] = source
        return source
    source = st.session_state.get(_SESSION_KEY) or default_source()
    st.session_state[_SESSION_KEY] = source
    st.query_params[DATA] = source
    return source


def set_source(source: str) -> None:
    """Switch the app to another data source (the URL changes with it)."""
    st.session_state[_SESSION_KEY] = source
    st.query_params[DATA] = source


def folder_mtime(folder: Path) -> float:
    """Newest modification time in the folder, so an edited file is reloaded."""
    try:
        return max((p.stat().st_mtime for p in folder.iterdir()), default=0.0)
    except OSError:
        return 0.0


def source_label(source: str) -> str:
    if source == SAMPLE:
        return "Sample advertiser (bundled)"
    if source.startswith(UPLOAD_PREFIX):
        return f"Uploaded files ({source.removeprefix(UPLOAD_PREFIX)[:8]})"
    return source


# --------------------------------------------------------------------------- uploads


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
