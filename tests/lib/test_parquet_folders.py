"""A folder of Parquet part files is one table: a dataset written by Spark or pyarrow with ``key=value`` partition
folders, or ``kpis/part-*.parquet``; read whole or scanned, proposed by ``driftdesk map``, pinned in driftdesk.toml."""

from __future__ import annotations

import polars as pl
import pytest

from driftdesk.contract import load_dataset, read_settings, write_settings_text
from driftdesk.engine.budget import BUDGET_ENV
from driftdesk.engine.dataset import load_dataset_on
from driftdesk.errors import InputFileError
from driftdesk.io import scan_table
from driftdesk.proposal import propose_folder
from foreign_data import foreign_kpis, spark_dataset, with_date, write_part_file_folder


def test_a_partitioned_dataset_reads_as_one_table_with_its_partition_columns(tmp_path):
    frame = with_date(foreign_kpis())
    # a key=value folder above the dataset's own is not one of its partitions
    root = spark_dataset(tmp_path / "env=prod" / "export", frame, ["date", "country"])
    got = scan_table(root).collect()
    assert got.schema["date"] == pl.Date and got.schema["country"] == pl.String and "env" not in got.columns
    want = frame.with_columns(pl.col("date").str.to_date())
    key = ["event_time", "country", "device"]
    assert got.select(want.columns).sort(key).equals(want.sort(key))


def test_hive_values_are_decoded_and_the_default_partition_is_missing(tmp_path):
    root = tmp_path / "ds"
    for folder, rows in {"segment=a%2Fb": 2, "segment=__HIVE_DEFAULT_PARTITION__": 3}.items():
        (root / folder).mkdir(parents=True)
        pl.DataFrame({"x": list(range(rows))}).write_parquet(root / folder / "part-0.parquet")
    got = scan_table(root).group_by("segment").agg(pl.len()).sort("segment", nulls_last=True).collect()
    assert got.rows() == [("a/b", 2), (None, 3)]


def test_whole_number_partitions_are_numbers(tmp_path):
    root = tmp_path / "ds"
    for hour in (0, 13):
        (root / f"hour={hour:02d}").mkdir(parents=True)
        pl.DataFrame({"x": [1.5]}).write_parquet(root / f"hour={hour:02d}" / "p.parquet")
    got = scan_table(root).sort("hour").collect()
    assert got.schema["hour"] == pl.Int64 and got["hour"].to_list() == [0, 13]


def test_files_under_different_partition_keys_are_named(tmp_path):
    root = tmp_path / "ds"
    (root / "date=2026-11-01").mkdir(parents=True)
    pl.DataFrame({"x": [1]}).write_parquet(root / "date=2026-11-01" / "part-0.parquet")
    pl.DataFrame({"x": [2]}).write_parquet(root / "part-1.parquet")
    with pytest.raises(InputFileError, match=r"mixed partitions: .*part-1\.parquet.* under no key=value folder"):
        scan_table(root)


def test_folders_of_part_files_are_tables_of_a_data_folder(tmp_path):
    folder, frame = write_part_file_folder(tmp_path / "exports")
    proposal = propose_folder(folder)
    assert proposal.table_files == {"decisions": "scored", "kpis": "ads_export"}
    kpis = proposal.tables["kpis"].mapping()
    assert (kpis["ts"], kpis["conversions"], kpis["spend"]) == ("event_time", "conv", "spend_usd")
    data = load_dataset(folder)
    assert data["decisions"].frame.height == 3000
    got = data["kpis"].frame.group_by("country").agg(pl.col("spend").sum()).sort("country")
    want = frame.group_by("country").agg(pl.col("spend_usd").sum()).sort("country")
    assert got["spend"].to_list() == pytest.approx(want["spend_usd"].to_list(), rel=1e-12)


def test_a_folder_of_part_files_is_scanned_past_the_memory_budget(tmp_path, monkeypatch):
    folder, frame = write_part_file_folder(tmp_path / "exports")
    monkeypatch.setenv(BUDGET_ENV, "20K")
    data = load_dataset_on(folder, tables=["kpis"])
    lazy = data["kpis"].frame
    assert isinstance(lazy, pl.LazyFrame)
    got = lazy.select(pl.col("conversions").sum(), pl.len()).collect().row(0)
    assert got == (frame["conv"].sum(), frame.height)


def test_the_proposal_written_as_driftdesk_toml_pins_the_folders(tmp_path):
    folder, _ = write_part_file_folder(tmp_path / "exports")
    write_settings_text(folder, propose_folder(folder).to_toml())
    settings = read_settings(folder)
    assert settings.files == {"decisions": "scored", "kpis": "ads_export"}
    pinned = propose_folder(folder, mappings=settings.mappings, files=settings.files)
    assert {t: (f.name, f.remembered) for t, f in pinned.tables.items()} == {
        "decisions": ("scored", True), "kpis": ("ads_export", True)}


def test_a_data_folder_that_is_itself_partitioned_is_one_table_named_dot(tmp_path):
    frame = foreign_kpis()
    folder = spark_dataset(tmp_path / "kpis_dump", with_date(frame), ["date"])
    proposal = propose_folder(folder)
    assert proposal.table_files == {"kpis": "."}
    assert 'file = "."' in proposal.to_toml()
    write_settings_text(folder, proposal.to_toml())
    settings = read_settings(folder)
    data = load_dataset(folder)
    assert data["kpis"].frame.height == frame.height
    assert propose_folder(folder, mappings=settings.mappings, files=settings.files).tables["kpis"].remembered


def test_a_bad_row_of_a_part_file_folder_is_named_by_its_file_and_row(tmp_path, monkeypatch):
    from driftdesk.contract import load_table
    from driftdesk.engine.scan import scan_contract
    from driftdesk.errors import ContractError
    from driftdesk.folder import inspect_folder

    frame = foreign_kpis(days=2)
    folder = tmp_path / "data"
    parts = folder / "kpis"
    parts.mkdir(parents=True)
    for i, part in enumerate(frame.iter_slices(100)):
        if i == 2:  # the 6th row of the third file spends a negative amount
            part = part.with_columns(pl.when(pl.int_range(pl.len()) == 5).then(-3.0).otherwise("spend_usd")
                                     .alias("spend_usd"))
        part.write_parquet(parts / f"part-{i:05d}.parquet")
    mapping = {"ts": "event_time", "conversions": "conv", "spend": "spend_usd", "segments": ["country", "device"]}
    want = (None, "part-00002.parquet row 6: -3.0")
    with pytest.raises(ContractError, match=r"e\.g\. part-00002\.parquet row 6: -3\.0"):
        load_table(parts, "kpis", mapping=mapping)
    monkeypatch.setenv(BUDGET_ENV, "1K")
    with pytest.raises(ContractError) as scanned:
        scan_contract(parts, "kpis", mapping=mapping)
    assert scanned.value.violations[0].examples == (want,)
    monkeypatch.delenv(BUDGET_ENV)
    report = inspect_folder(folder).violations()
    assert report.filter(pl.col("column").str.starts_with("spend_usd"))["examples"].to_list() == [want[1]]
