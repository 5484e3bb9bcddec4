"""The app on folders in other people's shapes: Parquet part-file folders and folders of daily CSV exports as tables,
a folder that holds no table, and an export shorter than the default windows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
from app_helpers import open_page, texts

from foreign_data import foreign_kpis, write_csv_folder, write_part_file_folder, write_ungateable_folder


def test_folders_of_part_files_are_tables_on_the_data_page_and_every_page_reads_them(tmp_path: Path):
    folder, _ = write_part_file_folder(tmp_path / "spark_out")
    at = open_page("app_pages/data.py", data=str(folder))
    assert "Every table meets the data contract." in texts(at)
    files = next(d.value for d in at.dataframe if "why" in d.value.columns)
    assert dict(zip(files["file"], files["table"], strict=True)) == {"ads_export": "kpis", "scored": "decisions"}
    for page in ("overview", "calibration", "impact", "seasonality"):
        at = open_page(f"app_pages/{page}.py", data=str(folder))
        assert not at.error, (page, [e.value for e in at.error])


def test_a_folder_of_daily_csv_exports_is_a_table_on_the_data_page(tmp_path: Path):
    folder = tmp_path / "exports"
    write_csv_folder(folder / "ads", foreign_kpis(days=3), hive="date")  # ads/date=2026-11-01/kpis.csv, ...
    rng = np.random.default_rng(6)
    n = 2000
    p = rng.uniform(0.02, 0.8, n)
    scored = pl.DataFrame({"scored_at": pl.datetime_range(dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 4),
                                                          interval="120s", eager=True).head(n),
                           "p_convert": p, "converted": (rng.uniform(size=n) < p).astype(np.int8)})
    write_csv_folder(folder / "scored", scored, by="scored_at")  # scored/2026-11-01.csv, ...
    at = open_page("app_pages/data.py", data=str(folder))
    assert not at.error, [e.value for e in at.error]
    assert "Every table meets the data contract." in texts(at)
    files = next(d.value for d in at.dataframe if "why" in d.value.columns)
    assert dict(zip(files["file"], files["table"], strict=True)) == {"ads": "kpis", "scored": "decisions"}


def test_a_folder_with_no_table_says_why_not_zero_problems(tmp_path: Path):
    folder = tmp_path / "no_table"
    folder.mkdir()
    pl.DataFrame({"author": ["ana"], "text": ["hello"]}).write_csv(folder / "notes.csv")
    at = open_page("app_pages/data.py", data=str(folder))
    shown = texts(at)
    assert "0 problem(s)" not in shown and "The data does not load: why below" in shown
    assert "notes.csv matches no table" in shown


def test_an_export_shorter_than_two_weeks_opens_on_windows_that_fit_it(tmp_path: Path):
    folder = tmp_path / "six_days"
    folder.mkdir()
    rng = np.random.default_rng(5)
    n = 6000
    p = rng.uniform(0.02, 0.8, n)
    pl.DataFrame({"scored_at": pl.datetime_range(dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 6, 23), eager=True,
                                                 interval="80s").head(n),
                  "p_convert": p, "converted": (rng.uniform(size=n) < p).astype(np.int8)}).write_parquet(
        folder / "model_log.parquet")
    at = open_page("app_pages/calibration.py", data=str(folder))
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="days").value == 3 and at.selectbox(key="vs").value == "previous_period"


def test_a_part_file_written_deep_in_a_table_folder_reloads_the_data(tmp_path: Path):
    """The app reloads a folder when its newest modification time moves: a part file replaced inside a partition
    folder changes only that folder's time, which counts too."""
    import os
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "app"))
    from ui.data import folder_mtime

    folder, _ = write_part_file_folder(tmp_path / "spark_out")
    before = folder_mtime(folder)
    partition = next((folder / "ads_export").glob("date=*"))
    os.utime(partition, (before + 60, before + 60))  # as writing a part file there sets it
    assert folder_mtime(folder) == before + 60


def test_the_incidents_page_reads_an_incident_of_data_no_gate_can_watch(tmp_path: Path):
    ds = write_ungateable_folder(tmp_path / "data")
    at = open_page("app_pages/incidents.py", data=ds.folder)
    assert not at.error, [e.value for e in at.error]
    assert "no gate policy" in texts(at) and "The first 30 minutes" in texts(at)
