"""Past the memory budget a Parquet input is scanned lazily as its contract table (``driftdesk.engine.scan``): the
same columns, types and values as ``load_table`` reads whole, the same broken rules named, and the commands that
read contract tables (calibration between windows, impact, llm) answer as they do on the table read whole."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import polars as pl
import pytest

from driftdesk import engine
from driftdesk.contract import load_table
from driftdesk.engine import MemoryBudgetError
from driftdesk.engine.scan import read_contract_table, scan_contract_table
from driftdesk.errors import ContractError
from driftdesk.io import collect_table

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


@pytest.mark.parametrize("table", ["decisions", "kpis", "llm_calls"])
def test_scan_reads_what_load_table_reads(sample_dir, table):
    path = sample_dir / f"{table}.parquet"
    want = load_table(path, table).frame
    got = scan_contract_table(path, table).collect()
    assert got.schema == want.schema
    assert got.equals(want)


def test_over_the_budget_a_parquet_input_is_scanned(sample_dir, tmp_path, monkeypatch):
    folder = tmp_path / "kpis"
    folder.mkdir()
    kpis = pl.read_parquet(sample_dir / "kpis.parquet")
    for i, part in enumerate(kpis.partition_by("geo")):
        part.write_parquet(folder / f"part-{i}.parquet")
    assert isinstance(read_contract_table(sample_dir / "kpis.parquet", "kpis"), pl.DataFrame)
    monkeypatch.setenv(engine.BUDGET_ENV, "1M")
    assert isinstance(read_contract_table(sample_dir / "kpis.parquet", "kpis"), pl.LazyFrame)
    assert isinstance(read_contract_table(folder, "kpis"), pl.LazyFrame)
    with pytest.raises(MemoryBudgetError, match=r"kpis: reading the whole table needs about .* above the memory "
                                                r"budget of 1\.0 MB \(DRIFTDESK_MEMORY_BUDGET\)"):
        collect_table(folder)  # a folder is measured too: all its files together


def test_broken_rules_are_named_with_rows(tmp_path):
    path = tmp_path / "kpis.parquet"
    pl.DataFrame({"ts": [dt.datetime(2026, 1, 1, h) for h in range(4)], "geo": "US",
                  "spend": [1.0, -2.0, float("inf"), 3.0], "conversions": [1, 2, 3, None]}).write_parquet(path)
    with pytest.raises(ContractError) as whole:
        load_table(path, "kpis")
    with pytest.raises(ContractError) as scanned:
        scan_contract_table(path, "kpis")
    def named(error):  # the contract reports missing required values once the types are right: the rest here
        return {(v.column, v.rule, v.count, v.examples) for v in error.violations if "required" not in v.rule}

    assert named(scanned.value) == named(whole.value) and len(named(whole.value)) == 2
    assert "column 'spend': out of range: must be >= 0 — 1 row, e.g. row 2: -2.0" in str(scanned.value)
    assert "missing value in a required column — 1 row, e.g. row 4: null" in str(scanned.value)


def test_text_timestamps_are_refused_when_scanned(tmp_path):
    path = tmp_path / "kpis.parquet"
    pl.DataFrame({"ts": ["2026-01-01T00:00Z"], "geo": ["US"], "spend": [1.0], "conversions": [1]}).write_parquet(path)
    with pytest.raises(ContractError, match=r"column 'ts': a timestamp column of a table larger than the memory "
                                            r"budget must be typed in the Parquet file, found String"):
        scan_contract_table(path, "kpis")


@pytest.mark.parametrize("budget", ["1G", "200k"])
def test_duplicate_keys_are_named_as_load_table_names_them(sample_dir, tmp_path, monkeypatch, budget):
    """Duplicate keys found by lazy group-bys (one pass, or one per hash slice under a small budget): the same count
    of rows in duplicate groups and the same first rows as ``load_table`` finds in memory."""
    kpis = pl.read_parquet(sample_dir / "kpis.parquet")
    path = tmp_path / "kpis.parquet"
    pl.concat([kpis.slice(0, 9000), kpis.slice(4000, 3), kpis.slice(9000), kpis.slice(70000, 2)]).write_parquet(path)
    with pytest.raises(ContractError) as whole:
        load_table(path, "kpis")
    monkeypatch.setenv(engine.BUDGET_ENV, budget)
    with pytest.raises(ContractError) as scanned:
        scan_contract_table(path, "kpis")
    assert str(scanned.value) == str(whole.value)
    assert "column 'ts, geo, device, source': duplicate key: (ts, geo, device, source) must be unique — 10 rows, " \
           "e.g. row 4001: ts=" in str(scanned.value)
    assert isinstance(scan_contract_table(sample_dir / "kpis.parquet", "kpis"), pl.LazyFrame)  # unique keys pass


@pytest.fixture(scope="module")
def golden_inputs(sample_dir, tmp_path_factory):
    sys.path.insert(0, str(GOLDEN))
    from cli_cases import write_inputs

    return write_inputs(sample_dir, tmp_path_factory.mktemp("scan-golden"))


@pytest.mark.parametrize("name", ["impact_b", "impact_c", "llm_model_windows", "gates_backtest", "gates_check_index",
                                  "gates_check_prompt", "overview_default", "overview_a"])
def test_golden_cases_on_a_scan(name, sample_dir, golden_inputs, monkeypatch):
    from cli_cases import _anonymise, cases, run_case
    from test_cli_golden import _compare

    monkeypatch.setenv(engine.BUDGET_ENV, "1M")
    golden = json.loads((GOLDEN / "cli" / f"{name}.json").read_text())
    code, doc = run_case(cases(sample_dir, golden_inputs)[name])
    assert code == golden["exit_code"]
    problems: list[str] = []
    _compare(golden["output"], _anonymise(doc, str(next(iter(golden_inputs.values())).parent), sample_dir), name,
             problems)
    assert not problems, "\n".join(problems)


def test_calibration_windows_on_a_scan(sample_dir, monkeypatch):
    from cli_cases import BEFORE_C, DURING_C, run_case
    from test_cli_golden import _compare

    args = ["calibration", "--input", str(sample_dir / "decisions.parquet"), "--baseline", BEFORE_C, "--current",
            DURING_C, "--by", "model_version", "--label-delay", "2d"]
    want = run_case(args)
    monkeypatch.setenv(engine.BUDGET_ENV, "4M")
    assert isinstance(read_contract_table(sample_dir / "decisions.parquet", "decisions"), pl.LazyFrame)
    code, doc = run_case(args)
    problems: list[str] = []
    _compare(want[1], doc, "calibration", problems)  # numbers to 1e-9: streaming sums in another order
    assert code == want[0] and not problems, "\n".join(problems)


def test_seasonality_of_a_folder_on_a_scan(sample_dir, monkeypatch):
    """A folder's table past the budget is scanned and reduced to the metric series by the streaming engine: the same
    series, flags and calendar as read whole."""
    sys.path.insert(0, str(GOLDEN))
    from cli_cases import run_case

    command = ["seasonality", "--data", str(sample_dir), "--table", "decisions", "--metric", "score_mean", "--by",
               "geo", "--every", "1d"]
    want = run_case(command)
    monkeypatch.setenv(engine.BUDGET_ENV, "1M")
    assert isinstance(read_contract_table(sample_dir / "decisions.parquet", "decisions"), pl.LazyFrame)
    assert run_case(command) == want


@pytest.mark.parametrize("by", [["model"], [], ["feature", "model"]])
def test_llm_percentiles_of_a_scan_within_the_budget(sample_dir, monkeypatch, by):
    """Past what a group-by's exact percentiles hold, each group's percentiles are taken in a pass of their own: the
    same table as in memory; a group whose values alone exceed the budget is refused with its size."""
    from polars.testing import assert_frame_equal

    from driftdesk.llm import summarize_calls

    path = sample_dir / "llm_calls.parquet"
    want = summarize_calls(load_table(path, "llm_calls").frame, by=by)
    for budget in ("100G", "3M"):  # one group-by pass; a pass per group and column (85,312 calls need 6.8 MB)
        monkeypatch.setenv(engine.BUDGET_ENV, budget)
        got = summarize_calls(scan_contract_table(path, "llm_calls"), by=by)
        assert_frame_equal(got, want, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)  # streaming sums' order
    monkeypatch.setenv(engine.BUDGET_ENV, "100k")
    with pytest.raises(MemoryBudgetError, match=r"llm: exact percentiles of [\d,]+ calls.* above the memory budget "
                                                r"of 100\.0 KB .*use --engine spark"):
        summarize_calls(scan_contract_table(path, "llm_calls"), by=by)
