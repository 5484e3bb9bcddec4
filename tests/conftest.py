"""Shared test set-up: no telemetry, project state and MLflow store in a temporary folder, the sample data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory):
    """DRIFTDESK_HOME (uploads, policies) and one MLflow SQLite store per test session, never the developer's."""
    home = tmp_path_factory.mktemp("driftdesk-home")
    saved = {k: os.environ.get(k) for k in ("DRIFTDESK_HOME", "MLFLOW_TRACKING_URI", "DRIFTDESK_DATA")}
    os.environ["DRIFTDESK_HOME"] = str(home)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{home / 'mlflow.db'}"
    os.environ.pop("DRIFTDESK_DATA", None)
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled sample_data folder (written by `driftdesk sample --out sample_data`)."""
    from driftdesk.paths import sample_data_dir

    folder = sample_data_dir()
    if not (folder / "kpis.parquet").exists():
        pytest.fail(f"{folder} has no sample tables: run `driftdesk sample --out {folder}`")
    return folder


@pytest.fixture(scope="session")
def sample_dataset(sample_dir: Path):
    """The sample data, loaded and validated once per session."""
    from driftdesk.contract import load_dataset

    return load_dataset(sample_dir)
