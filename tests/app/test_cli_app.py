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
