"""Where driftdesk finds its app and the bundled sample data, and keeps its project-local state.

An installed wheel carries the app and the sample inside the package (``driftdesk/_app``,
``driftdesk/sample_data``); a source checkout, installed in editable mode or put on ``PYTHONPATH``, uses the
repository's own top-level ``app/`` and ``sample_data/``. Files are located next to this module rather than
through an import, because Streamlit runs the app from a file path and the sample is read as plain files.
"""

from __future__ import annotations

import os
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
