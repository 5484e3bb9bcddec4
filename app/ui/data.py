"""Which data the app shows: the `data` URL parameter (sample, a folder path, or an upload id), loaded once.

The dataset is cached as a resource (shared, never mutated) so every page and every rerun reuses it.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from driftdesk.contract import Dataset, load_dataset
from driftdesk.errors import DriftdeskError
from driftdesk.paths import sample_data_dir, state_dir

DATA_PARAM = "data"
SAMPLE = "sample"


def uploads_root() -> Path:
    return state_dir() / "uploads"


def default_source() -> str:
    """`driftdesk app --data DIR` sets DRIFTDESK_DATA; otherwise the bundled sample."""
    return os.environ.get("DRIFTDESK_DATA") or SAMPLE


def source_folder(source: str) -> Path:
    """The folder behind a data source name."""
    if source == SAMPLE:
        return sample_data_dir()
    if source.startswith("upload:"):
        return uploads_root() / source.removeprefix("upload:")
    return Path(source).expanduser()


def current_source() -> str:
    return st.query_params.get(DATA_PARAM) or default_source()


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


def current_dataset() -> Dataset | None:
    """The dataset the URL names; on bad data, a message on the page and None (never a traceback)."""
    source = current_source()
    try:
        return load_source(source)
    except DriftdeskError as exc:
        st.error(f"Cannot load the data **{source}**. Open the Data page to fix it.\n\n```\n{exc}\n```")
        return None


def source_label(source: str) -> str:
    if source == SAMPLE:
        return "Sample advertiser (bundled)"
    if source.startswith("upload:"):
        return f"Uploaded files ({source.removeprefix('upload:')[:8]})"
    return source
