"""`driftdesk drift`: the contract keys, nulls for statistics of the other kind, segments, exit codes."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from driftdesk.cli import main

KEYS = ["column", "kind", "psi", "ks", "ks_pvalue", "wasserstein", "js", "chi2_pvalue", "null_rate_reference",
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
    assert main(["drift", "--reference", str(ref), "--current", str(cur), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    cols = {c["column"]: c for c in doc["columns"]}
    for c in cols.values():
        assert all(k in c for k in KEYS)
    assert cols["x"]["kind"] == "numeric" and cols["x"]["js"] is None and cols["x"]["status"] == "drift"
    assert cols["c"]["kind"] == "categorical" and cols["c"]["ks"] is None and cols["c"]["wasserstein"] is None


def test_by_adds_segments_and_columns_filter(files, capsys):
    ref, cur = files
    assert main(["drift", "--reference", str(ref), "--current", str(cur), "--columns", "x", "--by", "seg",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["column"] for c in doc["columns"]] == ["x"]
    assert {s["seg"] for s in doc["segments"]} == {"p", "q"}
    assert all(k in s for s in doc["segments"] for k in KEYS)


def test_fail_on_and_bad_input(files, capsys):
    ref, cur = files
    assert main(["drift", "--reference", str(ref), "--current", str(cur), "--fail-on", "drift"]) == 1
    assert "drift: drift" in capsys.readouterr().out
    assert main(["drift", "--reference", str(ref), "--current", str(cur), "--columns", "nope"]) == 2
    assert "unknown column(s) ['nope']" in capsys.readouterr().err
    assert main(["drift", "--reference", str(ref) + ".missing.parquet", "--current", str(cur)]) == 2
    assert "no such file" in capsys.readouterr().err
