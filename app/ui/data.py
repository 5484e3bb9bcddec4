"""Which data the app shows: the `data` URL parameter (sample, a folder on the server, or an upload id).

A shared link is opened by people who did not write the data, so the server reads only the bundled sample, its
upload store and the folders its operator allowed (``driftdesk app --data DIR`` and ``DRIFTDESK_DATA_ROOTS``:
``driftdesk.paths.data_roots``). Any other folder, however it is written (``..``, ``~``, a symlink out of a root,
``upload:..``), gets one message that does not say whether it exists.

`st.navigation` drops query parameters on a page switch, so `carry_data_param()` (called by the entry script
before every page) keeps the source in session state and puts it back into the URL. Loading the data is cached in
ui/loaders.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import streamlit as st

from driftdesk.bounds import UPLOAD_FILE_BYTES, UPLOAD_FILES, check_size
from driftdesk.contract import MAPPING_FILE
from driftdesk.errors import DriftdeskError, LimitError, PathError
from driftdesk.io import SUFFIXES
from driftdesk.paths import as_file_name, data_roots, inside_roots, safe_name, sample_data_dir, state_dir
from ui.params import DATA

SAMPLE = "sample"
UPLOAD_PREFIX = "upload:"
_SESSION_KEY = "_driftdesk_data_source"


def uploads_root() -> Path:
    return state_dir() / "uploads"


def default_source() -> str:
    """`driftdesk app --data DIR` sets DRIFTDESK_DATA; otherwise the bundled sample."""
    return os.environ.get("DRIFTDESK_DATA") or SAMPLE


_UPLOAD_ID = re.compile(r"^[0-9a-f]{16}$")


def not_allowed(source: object) -> PathError:
    """The one message for a folder this server does not read: the same whether or not the folder exists."""
    shown = str(source)[:200]
    return PathError(f"{shown!r} is not a data folder this server can open: it reads only the bundled sample, "
                     "uploaded files and the folders its operator allowed (driftdesk app --data DIR, "
                     "DRIFTDESK_DATA_ROOTS). Choose the data on the Data page.")


def source_folder(source: str) -> Path:
    """The folder behind a data source name, inside the allowed roots (else ``not_allowed``)."""
    if source == SAMPLE:
        return sample_data_dir()
    if source.startswith(UPLOAD_PREFIX):
        key = source.removeprefix(UPLOAD_PREFIX)
        if not _UPLOAD_ID.match(key):
            raise not_allowed(source)
        folder = uploads_root() / safe_name(key, what="upload id")
        if not folder.is_dir():  # the message names no server path
            raise PathError(f"no upload {key!r} on this server: it may have been removed. Upload the files again "
                            "on the Data page.")
        return folder
    try:
        folder = inside_roots(source, data_roots())
        if folder is None or not folder.is_dir():
            raise not_allowed(source)
    except OSError:  # a name too long for the file system, a folder that cannot be listed
        raise not_allowed(source) from None
    return folder


def is_sample(source: str) -> bool:
    """True for the bundled sample folder, however it is named (never write into it)."""
    try:
        return source == SAMPLE or source_folder(source).resolve() == sample_data_dir().resolve()
    except (OSError, PathError):
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
    """Newest modification time in the folder, so an edited file is reloaded; a subfolder (a table of Parquet or CSV
    part files) counts with every folder inside it, which changes when a part file is written, replaced or removed."""
    try:
        return max((max((os.stat(d).st_mtime for d, _, _ in os.walk(p)), default=p.stat().st_mtime)
                    if p.is_dir() else p.stat().st_mtime for p in folder.iterdir()), default=0.0)
    except OSError:
        return 0.0


def source_label(source: str) -> str:
    if source == SAMPLE:
        return "Sample advertiser (bundled)"
    if source.startswith(UPLOAD_PREFIX):
        return f"Uploaded files ({source.removeprefix(UPLOAD_PREFIX)[:8]})"
    return source


# --------------------------------------------------------------------------- uploads

MANIFEST = ".files.json"  # file name -> sha256 of its bytes, beside each stored upload


def upload_name(filename: str) -> str:
    """A safe file name for an uploaded file: its own name without folders, odd characters replaced."""
    return as_file_name(Path(str(filename).replace("\\", "/")).name, default="upload")


def save_upload(files: list[tuple[str, bytes]]) -> str:
    """Store uploaded (filename, bytes) under uploads/<content hash>/ with their own names; return the source name.

    Which table each file is comes from its content (``driftdesk.proposal``), as for a folder. The folder appears
    atomically (written beside, then renamed), so a half-written upload is never loaded, and the same files always
    get the same address (the URL stays shareable on this server). A mapping remembered for an earlier upload
    whose files are all among these (same names, same bytes) is carried over, so uploading one more file keeps it.
    """
    if not files:
        raise DriftdeskError("no files to save: choose at least one file")
    if len(files) > UPLOAD_FILES:
        raise LimitError(f"{len(files)} files in one upload; the limit is {UPLOAD_FILES}: upload the tables you need")
    for filename, content in files:
        check_size(len(content), what=f"{filename}", limit=UPLOAD_FILE_BYTES)
    named: dict[str, bytes] = {}
    for filename, content in files:
        name = upload_name(filename)
        if Path(name).suffix.lower() not in SUFFIXES:
            raise DriftdeskError(f"{filename}: cannot tell the format from the extension "
                                 f"{Path(name).suffix or '(none)'!r}; use one of {', '.join(sorted(SUFFIXES))}")
        if name in named:
            raise DriftdeskError(f"{filename}: two files are named {name}; rename one")
        named[name] = content
    hashes = {name: hashlib.sha256(content).hexdigest() for name, content in named.items()}
    digest = hashlib.sha256(json.dumps(sorted(hashes.items())).encode())
    key = digest.hexdigest()[:16]
    target = uploads_root() / key
    if not target.exists():
        uploads_root().mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=uploads_root()))
        try:
            for name, content in named.items():
                (tmp / name).write_bytes(content)
            (tmp / MANIFEST).write_text(json.dumps(hashes, indent=0, sort_keys=True), encoding="utf-8")
            _carry_mapping(tmp, hashes)
            os.replace(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not target.exists():
                raise
    return UPLOAD_PREFIX + key


def _carry_mapping(folder: Path, hashes: dict[str, str]) -> None:
    """Copy the driftdesk.toml of the earlier upload with the most files that are all among these ones."""
    best, size = None, 0
    for earlier in uploads_root().iterdir():
        try:
            theirs = json.loads((earlier / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (earlier / MAPPING_FILE).is_file() and theirs.items() <= hashes.items() and len(theirs) > size:
            best, size = earlier, len(theirs)
    if best is not None:
        shutil.copyfile(best / MAPPING_FILE, folder / MAPPING_FILE)
