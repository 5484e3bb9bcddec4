"""The library on every kind of bad argument: a DriftdeskError subclass that names the problem, never a TypeError,
an OverflowError or a reader's panic; and numbers that are unknown come back as null, never as a silent 0."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from robust_cases import LIB_CASES, LibCase
from robust_data import write_folder

from driftdesk import errors
from driftdesk.contract import Dataset, load_dataset


@dataclass(frozen=True)
class Context:
    tiny: Dataset
    tiny_null_cost: Dataset
    bad: dict[str, Path]
    tmp: Path


@pytest.fixture(scope="module")
def ctx(tiny, bad, tmp_path_factory) -> Context:
    null_cost = write_folder(tmp_path_factory.mktemp("robust") / "null_cost", llm_cost=False)
    return Context(load_dataset(tiny), load_dataset(null_cost), bad, tmp_path_factory.mktemp("robust"))


@pytest.mark.parametrize("case", LIB_CASES, ids=[c.kind for c in LIB_CASES])
def test_bad_arguments_raise_a_driftdesk_error(case: LibCase, ctx):
    with pytest.raises(getattr(errors, case.error)) as info:
        case.call(ctx)
    assert case.needle in str(info.value)


def test_all_null_costs_are_unknown_not_zero(ctx):
    from driftdesk.llm import summarize_calls

    row = summarize_calls(ctx.tiny_null_cost["llm_calls"].frame).row(0, named=True)
    assert row["calls"] == 360 and row["cost_total"] is None and row["cost_per_call"] is None
    no_rows = summarize_calls(ctx.tiny_null_cost["llm_calls"].frame.clear(), by=["model"])
    assert no_rows.height == 0  # no calls at all: nothing to report, not a null


def test_an_all_null_revenue_is_unknown_not_zero():
    from driftdesk.business import kpi_table

    kpis = pl.DataFrame({"ts": [dt.datetime(2026, 9, 1)] * 2, "geo": ["US", "DE"], "spend": [1.0, 2.0],
                         "conversions": [1.0, 1.0], "revenue": [None, None]}, schema_overrides={"revenue": pl.Float64})
    row = kpi_table(kpis).row(0, named=True)
    assert row["revenue_sum"] is None and row["roas"] is None
    assert row["spend_sum"] == 3.0 and row["cpa"] == 1.5


def test_an_epoch_between_the_stated_ranges_is_refused_row_by_row(bad):
    from driftdesk.contract import load_table

    with pytest.raises(errors.ContractError) as info:
        load_table(bad["epoch_out_of_range"], "kpis")
    assert "row 3: 50000000000" in str(info.value) and "1973-03-03 to 2286-11-20" in str(info.value)


def test_a_csv_in_a_declared_encoding_reads_every_character(tmp_path):
    """The clean path for files in other encodings: [read] encoding in driftdesk.toml (or scan_table's encoding)."""
    from driftdesk.io import scan_table

    (tmp_path / "kpis.csv").write_bytes("ts,geo,conversions,spend\n2026-09-01T00:00:00Z,München,1,2\n".encode("cp1252"))
    with pytest.raises(errors.InputFileError, match="not UTF-8 text"):
        scan_table(tmp_path / "kpis.csv")
    assert scan_table(tmp_path / "kpis.csv", encoding="cp1252").collect()["geo"].to_list() == ["München"]
    (tmp_path / "driftdesk.toml").write_text('[read]\nencoding = "cp1252"\n', encoding="utf-8")
    assert load_dataset(tmp_path)["kpis"].frame["geo"].to_list() == ["München"]


def test_a_sample_that_fails_halfway_writes_nothing(tmp_path, monkeypatch):
    from driftdesk import sample

    def broken(out: Path, **kwargs):
        (out / "kpis.parquet").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sample, "_write_tables", broken)
    with pytest.raises(errors.DriftdeskError, match="nothing was written"):
        sample.write_sample(tmp_path / "new" / "sample", days=14)
    assert not (tmp_path / "new").exists()  # not even the parent folder it would have created
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "STORY.md").write_text("mine", encoding="utf-8")
    with pytest.raises(errors.DriftdeskError):
        sample.write_sample(tmp_path / "kept", days=14)
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["STORY.md"]


def test_a_sample_into_an_existing_folder_keeps_its_other_files(tmp_path):
    from driftdesk.sample import write_sample

    (tmp_path / "STORY.md").write_text("mine", encoding="utf-8")
    written = write_sample(tmp_path, days=14)
    assert (tmp_path / "STORY.md").read_text(encoding="utf-8") == "mine"
    assert all(p.parent == tmp_path and p.exists() for p in written)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
