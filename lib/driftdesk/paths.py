"""Where driftdesk finds the bundled sample data and keeps its project-local state."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def sample_data_dir() -> Path:
    """The sample_data folder: $DRIFTDESK_SAMPLE_DATA, else the repository's own."""
    return Path(os.environ.get("DRIFTDESK_SAMPLE_DATA", REPO_ROOT / "sample_data"))


def state_dir() -> Path:
    """Project-local state (MLflow store, adopted policies, uploads): $DRIFTDESK_HOME or ./.driftdesk."""
    path = Path(os.environ.get("DRIFTDESK_HOME", Path.cwd() / ".driftdesk"))
    path.mkdir(parents=True, exist_ok=True)
    return path
