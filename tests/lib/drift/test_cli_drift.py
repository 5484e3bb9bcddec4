"""`driftdesk drift`: the contract keys, nulls for statistics of the other kind, segments, exit codes, old spellings."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from driftdesk.cli import main

KEYS = ["column", "kind", "psi", "ks", "ks_pvalue", "wasserstein", "js", "chi2_pvalue", "null_rate_baseline",
        "null_rate_current", "status"]


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(5)
    n = 3000
    ref = pl.DataFrame({"x": rng.normal(0, 1, n), "c": rng.choice(list("abc"), n), "seg": rng.choice(["p", "q"], n)})
    cur = pl.DataFrame({"x": rng.normal(0.8, 1, n), "c": rng.choice(list("abc"), n), "seg": rng.choice(["p", "q"], n)})
    ref.write_parquet(tmp_path / "ref.parquet")
    cur.write_csv(tmp_path / "cur.csv")
    return tmp_path / "ref.parquet", tmp_path / "cur.csv"


def test_json_has_the_contract_keys(files, capsys):
    ref, cur = files
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    cols = {c["column"]: c for c in doc["columns"]}
    for c in cols.values():
        assert all(k in c for k in KEYS)
    assert cols["x"]["kind"] == "numeric" and cols["x"]["js"] is None and cols["x"]["status"] == "alert"
    assert cols["c"]["kind"] == "categorical" and cols["c"]["ks"] is None and cols["c"]["wasserstein"] is None


def test_by_adds_segments_and_columns_filter(files, capsys):
    ref, cur = files
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--columns", "x", "--by", "seg",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["column"] for c in doc["columns"]] == ["x"]
    assert {s["seg"] for s in doc["segments"]} == {"p", "q"}
    assert all(k in s for s in doc["segments"] for k in KEYS)


def test_fail_on_and_bad_input(files, capsys):
    ref, cur = files
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--fail-on", "alert"]) == 1
    assert "drift: alert" in capsys.readouterr().out
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--columns", "nope"]) == 2
    assert "unknown column(s) ['nope']" in capsys.readouterr().err
    assert main(["drift", "--baseline", str(ref) + ".missing.parquet", "--current", str(cur)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_old_spellings_still_work_with_a_note_on_stderr(files, capsys):
    ref, cur = files
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--format", "json"]) == 0
    new = capsys.readouterr()
    assert new.err == ""
    assert main(["drift", "--reference", str(ref), "--current", str(cur), "--fail-on", "drift", "--format", "json"]) == 1
    old = capsys.readouterr()
    assert old.out == new.out  # the same result
    notes = old.err.strip().splitlines()
    assert notes == ["driftdesk: --reference is deprecated; use --baseline",
                     "driftdesk: status 'drift' is deprecated; it is now called 'alert'"]
    with pytest.raises(SystemExit) as stop:
        main(["drift", "--current", str(cur)])
    assert stop.value.code == 2 and "--baseline is required" in capsys.readouterr().err


def test_old_json_keys_stay_beside_the_new_ones(files, capsys):
    ref, cur = files
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--by", "seg", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["deprecated_keys"]["null_rate_reference"] == "null_rate_baseline"
    for row in doc["columns"] + doc["segments"]:
        for old, new in doc["deprecated_keys"].items():
            if new in row:
                assert row[old] == row[new]
    assert all(s["share_reference"] == s["share_baseline"] for s in doc["segments"])
    assert doc["thresholds"]["psi_drift"] == doc["thresholds"]["psi_alert"] == 0.2


def test_by_is_split_by_the_cli_and_drift_takes_one_column(files, capsys):
    ref, cur = files
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--by", "seg,c"]) == 2
    assert "one column at a time" in capsys.readouterr().err


def test_reason_codes_travel_beside_the_prose(files, capsys):
    from driftdesk.drift import REASON_CODES

    ref, cur = files
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--format", "json"]) == 0
    cols = {c["column"]: c for c in json.loads(capsys.readouterr().out)["columns"]}
    assert cols["x"]["reason_codes"] == ["distribution_shift"]
    assert cols["c"]["reason_codes"] == ["no_shift"]
    assert all(code in REASON_CODES for c in cols.values() for code in c["reason_codes"])


def test_a_csv_column_without_values_is_missing_data_not_a_type_change(files, tmp_path, capsys):
    """A CSV reader types a column without any value as text: an export whose x went empty (or a header-only
    export) has no values, so its drift is the null rate (or too few rows), never 'type changed' (an alert that
    failed a --fail-on alert gate on an empty baseline)."""
    ref, cur = files
    rows = pl.read_csv(cur)
    empty_x = tmp_path / "empty_x.csv"
    rows.with_columns(pl.lit(None, dtype=pl.Float64).alias("x")).write_csv(empty_x)
    assert pl.read_csv(empty_x).schema["x"] == pl.String  # the reader's guess this test is about
    assert main(["drift", "--baseline", str(ref), "--current", str(empty_x), "--format", "json"]) == 0
    cols = {c["column"]: c for c in json.loads(capsys.readouterr().out)["columns"]}
    assert cols["x"]["kind"] == "numeric" and cols["x"]["status"] == "alert"
    assert cols["x"]["reason_codes"] == ["null_rate_up"]
    assert (cols["x"]["null_rate_baseline"], cols["x"]["null_rate_current"]) == (0.0, 1.0)
    header_only = tmp_path / "header_only.csv"
    header_only.write_text("x,c,seg\n")
    assert main(["drift", "--baseline", str(header_only), "--current", str(ref), "--fail-on", "alert",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "not_enough_data"
    assert {c["column"]: c["reason_codes"] for c in doc["columns"]} == dict.fromkeys(["x", "c", "seg"],
                                                                                     ["not_enough_rows"])


def test_a_problem_inside_the_comparison_names_both_files(files, tmp_path, capsys):
    """A weight with negative values, or a column neither file has: the line names the two files compared."""
    ref, cur = files
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--weight", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--baseline {ref}" in err and f"--current {cur}" in err
    assert "weight column 'x' of the baseline window" in err and "negative" in err
    assert main(["drift", "--baseline", str(ref), "--current", str(cur), "--columns", "nope"]) == 2
    err = capsys.readouterr().err
    assert f"--baseline {ref}" in err and "unknown column(s) ['nope']" in err
