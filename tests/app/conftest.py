"""Fixtures for AppTests: small data folders written on the fly (helpers live in app_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from app_helpers import hourly_kpis


@pytest.fixture
def kpis_folder(tmp_path: Path) -> Path:
    """A folder with only a kpis table (CSV): the Overview must say the other layers' tables are absent."""
    folder = tmp_path / "kpis_only"
    folder.mkdir()
    hourly_kpis().with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(folder / "kpis.csv")
    return folder


@pytest.fixture
def renamed_folder(tmp_path: Path) -> Path:
    """A kpis table whose columns carry the user's own names: it loads only after mapping."""
    folder = tmp_path / "renamed"
    folder.mkdir()
    frame = hourly_kpis(days=9).rename({"ts": "hour", "geo": "country", "spend": "cost", "conversions": "sales"})
    frame.with_columns(pl.col("hour").dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv(folder / "kpis.csv")
    return folder
