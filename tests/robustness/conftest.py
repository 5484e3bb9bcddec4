"""Fixtures of the robustness suite: one small data folder and one broken file per kind, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from robust_data import bad_files, write_folder


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kpis, decisions, llm_calls, releases and an incident over 15 days: loads in a fraction of a second."""
    return write_folder(tmp_path_factory.mktemp("robust") / "tiny")


@pytest.fixture(scope="session")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One broken file or folder per kind of bad input, by name (robust_data.bad_files)."""
    return bad_files(tmp_path_factory.mktemp("robust") / "bad")
