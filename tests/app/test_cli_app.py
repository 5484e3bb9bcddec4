"""`driftdesk app`: refuses a data folder that does not exist (exit 2, one line) before starting anything."""

from __future__ import annotations

import subprocess
import sys


def test_app_with_a_missing_data_folder_exits_2_with_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "driftdesk.cli", "app", "--data", str(tmp_path / "nope"), "--headless"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "no such folder" in lines[0]


def test_app_help_lists_its_options():
    out = subprocess.run([sys.executable, "-m", "driftdesk.cli", "app", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0
    for option in ("--data", "--port", "--headless"):
        assert option in out.stdout


def test_overview_prints_the_same_result_as_the_library(sample_dataset, sample_dir):
    import json

    from driftdesk.overview import overview

    out = subprocess.run([sys.executable, "-m", "driftdesk.cli", "overview", "--data", str(sample_dir), "--day", "2026-09-29",
                          "--format", "json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    expected = overview(sample_dataset, day="2026-09-29").to_dict()
    assert doc["layers"] == expected["layers"]
    assert doc["day"] == "2026-09-29"
    assert {r["layer"]: r["status"] for r in doc["layers"]}["service"] == "alert"  # INC-f


def test_overview_with_a_bad_day_exits_2(sample_dir):
    out = subprocess.run([sys.executable, "-m", "driftdesk.cli", "overview", "--data", str(sample_dir), "--day", "Tuesday"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    assert "expected YYYY-MM-DD" in out.stderr and len(out.stderr.strip().splitlines()) == 1
