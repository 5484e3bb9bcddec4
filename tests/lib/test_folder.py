"""inspect_folder: a folder of someone else's files read against the contract, reported and never raised."""

from __future__ import annotations

import json

import polars as pl

from driftdesk.contract import MAPPING_FILE, write_mappings
from driftdesk.folder import guess_table, inspect_folder


def test_guess_table_from_a_file_name():
    assert guess_table("kpis.csv") == "kpis"
    assert guess_table("LLM-calls.parquet") == "llm_calls"
    assert guess_table("/x/y/golden runs.arrow") == "golden_runs"
    assert guess_table("notes.csv") is None


def test_the_sample_has_every_table_and_no_violation(sample_dir):
    report = inspect_folder(sample_dir)
    assert report.error is None
    assert {f.table for f in report.files} >= {"kpis", "decisions", "llm_calls", "releases", "incidents"}
    assert report.violations().height == 0
    kpis = report.file("kpis")
    assert kpis.mapping["ts"] == "ts" and "geo" in kpis.mapping["segments"]
    json.dumps(report.to_dict(), allow_nan=False)


def test_violations_name_file_column_rule_and_rows(tmp_path):
    pl.DataFrame({"ts": ["2026-10-01T00:00:00Z", "yesterday"], "geo": ["DE", "US"], "spend": [1.0, -2.0],
                  "conversions": [1.0, 1.0]}).write_csv(tmp_path / "kpis.csv")
    (tmp_path / "decisions.csv").write_text("not,a\n\"broken", encoding="utf-8")
    report = inspect_folder(tmp_path)
    rows = report.violations()
    assert set(rows["file"]) >= {"kpis.csv"}
    ts = rows.filter(pl.col("column").str.starts_with("ts")).row(0, named=True)
    assert "yesterday" in ts["examples"] and ts["count"] == 1
    assert [f.table for f in report.mappable] == [f.table for f in report.files if f.columns]


def test_renamed_columns_are_proposed_and_a_remembered_mapping_is_prefilled(tmp_path):
    pl.DataFrame({"hour": ["2026-10-01 00:00:00"], "country": ["DE"], "cost": [1.0], "sales": [1.0]}).write_csv(
        tmp_path / "kpis.csv")
    unmapped = inspect_folder(tmp_path, validate=False).file("kpis")
    assert unmapped.columns == ("hour", "country", "cost", "sales") and unmapped.violations == ()
    write_mappings(tmp_path, {"kpis": {"ts": "hour", "spend": "cost", "conversions": "sales", "segments": ["country"]}})
    mapped = inspect_folder(tmp_path).file("kpis")
    assert mapped.mapping["ts"] == "hour" and mapped.mapping["segments"] == ["country"] and not mapped.violations


def test_a_csv_segment_is_checked_as_text_as_loading_reads_it(tmp_path):
    (tmp_path / "kpis.csv").write_text("ts,flag,conversions,spend\n2026-10-01T00:00:00Z,TRUE,1,1.0\n"
                                       "2026-10-01T00:00:00Z,FALSE,1,1.0\n")
    write_mappings(tmp_path, {"kpis": {"segments": ["flag"]}})
    found = inspect_folder(tmp_path).file("kpis")
    assert dict(zip(found.columns, found.dtypes))["flag"] == "String" and not found.violations


def test_a_missing_folder_or_a_broken_mapping_file_is_a_report(tmp_path):
    assert "no such folder" in inspect_folder(tmp_path / "nowhere").error
    (tmp_path / MAPPING_FILE).write_text("[mapping.kpis\n", encoding="utf-8")
    report = inspect_folder(tmp_path)
    assert report.files == () and "not valid TOML" in report.error
