"""The CLI on a stranger's folder: ``map`` proposes and writes driftdesk.toml, and the analysis commands read the
folder through it as the app does; ``calibration`` compares two windows as its page does."""

from __future__ import annotations

import contextlib
import io
import json
import tomllib
from pathlib import Path

import polars as pl
import pytest

from driftdesk.business import segment_impact
from driftdesk.calibration import compare_calibration
from driftdesk.cli import main
from driftdesk.contract import MAPPING_FILE, load_dataset, read_settings
from driftdesk.proposal import propose_folder
from foreign_data import KPIS_FILE, NOTES_FILE, SCORES_FILE, write_foreign_folder

WEEK_BEFORE = "2026-11-23T00:00/2026-11-30T00:00"
LAST_WEEK = "2026-11-30T00:00/2026-12-07T00:00"


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def foreign(tmp_path: Path):
    return write_foreign_folder(tmp_path / "advertiser")


def test_map_prints_the_proposal_as_toml_and_writes_it_only_when_asked(foreign):
    code, out, err = run(["map", "--data", str(foreign.folder)])
    assert code == 0 and not (foreign.folder / MAPPING_FILE).exists()
    doc = tomllib.loads(out)
    assert doc["mapping"]["kpis"]["file"] == KPIS_FILE and doc["mapping"]["kpis"]["conversions"] == "Purchases"
    assert doc["mapping"]["decisions"]["file"] == SCORES_FILE and doc["mapping"]["decisions"]["score"] == "p_convert"
    assert NOTES_FILE in err and "matches no table" in err
    code, out, err = run(["map", "--data", str(foreign.folder), "--write", "--holidays", "US"])
    assert code == 0 and "wrote" in err
    written = (foreign.folder / MAPPING_FILE).read_text(encoding="utf-8")
    assert tomllib.loads(written)["calendar"] == {"holidays": "US"}
    assert read_settings(foreign.folder).files == {"kpis": KPIS_FILE, "decisions": SCORES_FILE}
    # never over an existing file without --force
    code, _, err = run(["map", "--data", str(foreign.folder), "--write"])
    assert code == 2 and "already exists" in err and "--force" in err
    assert (foreign.folder / MAPPING_FILE).read_text(encoding="utf-8") == written
    code, _, _ = run(["map", "--data", str(foreign.folder), "--write", "--force"])
    assert code == 0


def test_map_as_json_names_every_file(foreign):
    code, out, _ = run(["map", "--data", str(foreign.folder), "--format", "json"])
    doc = json.loads(out)
    assert code == 0 and {f["file"]: f["table"] for f in doc["files"]} == {
        KPIS_FILE: "kpis", SCORES_FILE: "decisions", NOTES_FILE: None}
    assert doc["toml"] == propose_folder(foreign.folder).to_toml(calendar={})


def test_an_analysis_command_reads_the_folder_as_the_app_does(foreign):
    code, out, err = run(["impact", "--data", str(foreign.folder), "--baseline", WEEK_BEFORE, "--current", LAST_WEEK,
                          "--by", "Country,Platform", "--format", "json"])
    assert code == 0 and NOTES_FILE in err  # the file that is no table is named on stderr, the rest answers
    doc = json.loads(out)
    direct = segment_impact(load_dataset(foreign.folder)["kpis"].frame, baseline=WEEK_BEFORE, current=LAST_WEEK,
                            by=["Country", "Platform"], metric="cpa")
    assert doc["total"]["change"] == pytest.approx(direct.total["change"], rel=1e-12)
    first = doc["segments"][0]
    assert (first["Country"], first["Platform"]) == ("DE", "android")  # the segment whose conversion rate fell
    assert "Country=DE Platform=android" in doc["summary"]


def test_calibration_compares_two_windows_as_its_page_does(foreign):
    windows = ["--baseline", "2026-11-16T00:00/2026-11-23T00:00", "--current", "2026-11-23T00:00/2026-11-30T00:00"]
    code, out, _ = run(["calibration", "--data", str(foreign.folder), *windows, "--by", "platform", "--format", "json"])
    assert code == 0
    doc = json.loads(out)
    frame = load_dataset(foreign.folder)["decisions"].frame
    direct = compare_calibration(frame, baseline=windows[1], current=windows[3], by=["platform"])
    assert doc["change"]["ece"] == pytest.approx(direct.change["ece"], rel=1e-12)
    assert doc["baseline"]["ece"] == pytest.approx(direct.baseline.ece, rel=1e-12)
    assert doc["ece"] == doc["current"]["ece"] and len(doc["bins"]) == 10  # the keys every calibration answer has
    assert {s["platform"] for s in doc["segments"]} == {"ios", "android"}
    # the same from a file whose timestamps are text with offsets, read through the contract
    csv = foreign.folder.parent / "scores.csv"
    pl.read_parquet(foreign.scores).with_columns(pl.col("scored_at").dt.strftime("%Y-%m-%dT%H:%M:%S%:z")).write_csv(csv)
    code, out, _ = run(["calibration", "--input", str(csv), "--ts", "scored_at", "--score", "p_convert",
                        "--label", "converted", *windows, "--format", "json"])
    assert code == 0 and json.loads(out)["change"]["ece"] == pytest.approx(
        compare_calibration(frame, baseline=windows[1], current=windows[3]).change["ece"], rel=1e-9)
    code, _, err = run(["calibration", "--data", str(foreign.folder), "--baseline", windows[1]])
    assert code == 2 and "--current" in err


def test_an_unknown_holiday_country_is_named_and_the_rest_still_answers(foreign):
    code, out, err = run(["overview", "--data", str(foreign.folder), "--holidays", "US,XX", "--format", "json"])
    assert code == 0 and "'XX'" in err
    assert json.loads(out)["day"] == "2026-12-06"


def test_a_file_that_fits_no_table_is_told_how_to_map_it_in_driftdesk_toml(tmp_path):
    """A CLI user has no Data page: the note on a file whose columns fill no table's roles says how driftdesk.toml
    maps it, and a mapping written that way loads it."""
    folder = tmp_path / "export"
    folder.mkdir()
    times = pl.datetime_range(pl.datetime(2026, 9, 1), pl.datetime(2026, 9, 3), "1h", eager=True, time_zone="UTC")
    pl.DataFrame({"zeit": times, "wahrsch": 0.3, "kauf": 1}).write_parquet(folder / "bewertungen.parquet")
    code, _, err = run(["map", "--data", str(folder)])
    assert code == 0
    assert "bewertungen.parquet matches no table" in err
    assert '[mapping.TABLE] file = "bewertungen.parquet", then each role = its column' in err
    (folder / MAPPING_FILE).write_text('[mapping.decisions]\nfile = "bewertungen.parquet"\nts = "zeit"\n'
                                       'score = "wahrsch"\nlabel = "kauf"\n')
    assert load_dataset(folder)["decisions"].frame.height == times.len()
