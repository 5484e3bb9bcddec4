"""Where driftdesk finds its app and the bundled sample data, and keeps its project-local state.

An installed wheel carries the app and the sample inside the package (``driftdesk/_app``,
``driftdesk/sample_data``); a source checkout, installed in editable mode or put on ``PYTHONPATH``, uses the
repository's own top-level ``app/`` and ``sample_data/``. Files are located next to this module rather than
through an import, because Streamlit runs the app from a file path and the sample is read as plain files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]


def _bundled(packaged: Path, checkout: Path) -> Path:
    """The copy inside the installed package if there is one, else the source checkout's."""
    return packaged if packaged.exists() else checkout


def sample_data_dir() -> Path:
    """The sample data folder: $DRIFTDESK_SAMPLE_DATA if set, else the bundled one (package or checkout)."""
    override = os.environ.get("DRIFTDESK_SAMPLE_DATA")
    if override:
        return Path(override)
    return _bundled(PACKAGE_DIR / "sample_data", REPO_ROOT / "sample_data")


def app_script() -> Path:
    """The Streamlit entry script of the app (package or checkout)."""
    return _bundled(PACKAGE_DIR / "_app" / "streamlit_app.py", REPO_ROOT / "app" / "streamlit_app.py")


def state_dir() -> Path:
    """Project-local state (MLflow store, adopted policies, uploads): $DRIFTDESK_HOME or ./.driftdesk."""
    path = Path(os.environ.get("DRIFTDESK_HOME", Path.cwd() / ".driftdesk"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- names that become paths

_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
MAX_NAME_CHARS = 128


def safe_name(name: object, *, what: str = "name") -> str:
    """``name`` if it can be used as one file or folder name inside a folder, without leaving it.

    Every name that becomes a path goes through here: policy names, upload ids, version numbers, incident ids of
    an exported postmortem. Refused: empty, ``.`` and ``..`` (and any name starting with a dot: hidden), a path
    separator (``/`` or ``\\``), NUL and other control characters, a name ending in a space or a dot, a name
    reserved on Windows (``con``, ``nul``, ``com1``, ... with or without an extension), more than 128 characters.

    >>> safe_name("northwind-default")
    'northwind-default'
    >>> safe_name("../etc")
    Traceback (most recent call last):
    ...
    driftdesk.errors.PathError: name '../etc' cannot be used as a file name: it contains a path separator
    """
    from driftdesk.errors import PathError

    def refuse(why: str) -> PathError:
        return PathError(f"{what} {name!r} cannot be used as a file name: {why}")

    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)  # a version number
    if not isinstance(name, str) or not name:
        raise PathError(f"{what} must be a non-empty text, got {name!r}")
    if "/" in name or "\\" in name:
        raise refuse("it contains a path separator")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise refuse("it contains a control character (NUL, newline, ...)")
    if name.startswith("."):
        raise refuse("it starts with a dot ('.', '..' and hidden names are not allowed)")
    if name != name.rstrip(" ."):
        raise refuse("it ends with a space or a dot")
    if name.split(".")[0].lower() in _RESERVED:
        raise refuse("it is a reserved device name")
    if len(name) > MAX_NAME_CHARS:
        raise refuse(f"it is longer than {MAX_NAME_CHARS} characters")
    return name


_UNSAFE_CHARS = re.compile(r"[^\w .()+-]")


def as_file_name(text: object, *, default: str = "file") -> str:
    """A file name made from a value (an uploaded file's name, an incident id): characters that could leave the
    folder or mean something to a shell replaced by '_', leading dots and spaces dropped, at most 120 characters,
    checked by ``safe_name``.

    >>> as_file_name("../INC/2026:01")
    'INC_2026_01'
    """
    name = _UNSAFE_CHARS.sub("_", str(text)).strip(" ._")[:120].rstrip(" .")
    if not name or name.split(".")[0].lower() in _RESERVED:
        name = f"{default}-{name}" if name else default
    return safe_name(name)


# --------------------------------------------------------------------------- which folders the app may read

DATA_ROOTS_VAR = "DRIFTDESK_DATA_ROOTS"


def data_roots(*extra: str | Path) -> tuple[Path, ...]:
    """The folders the app may read data from: the bundled sample, the upload store, ``driftdesk app --data DIR``
    (``DRIFTDESK_DATA``) and every folder listed in ``DRIFTDESK_DATA_ROOTS`` (separated by ``os.pathsep``), with
    their subfolders. Each is resolved (symlinks followed), so a link out of a root is outside it."""
    listed = [p for p in os.environ.get(DATA_ROOTS_VAR, "").split(os.pathsep) if p.strip()]
    given = [sample_data_dir(), state_dir() / "uploads", os.environ.get("DRIFTDESK_DATA") or "", *listed, *extra]
    roots: list[Path] = []
    for root in given:
        if not str(root).strip():
            continue
        path = Path(root).expanduser()
        if not path.is_absolute():
            continue  # a relative root would depend on where the server was started
        resolved = path.resolve()
        if resolved not in roots:
            roots.append(resolved)
    return tuple(roots)


def inside_roots(folder: str | Path, roots: tuple[Path, ...] | None = None) -> Path | None:
    """The resolved folder if it lies in one of the roots (itself or below), else None.

    The text is taken literally: no ``~`` expansion, and a relative path is refused (it would depend on where the
    server was started). Symlinks are followed before the check, so a link pointing out of a root is outside.
    """
    text = str(folder)
    if not text or "\x00" in text or text.startswith("~"):
        return None
    path = Path(text)
    if not path.is_absolute():
        return None
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    for root in roots if roots is not None else data_roots():
        if resolved == root or root in resolved.parents:
            return resolved
    return None
