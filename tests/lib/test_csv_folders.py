"""A folder of CSV files is one table, as a folder of Parquet part files is: daily exports (``kpis/2026-11-01.csv``)
or ``key=value`` partition folders (``exports/date=2026-11-01/kpis.csv``); every file read as a single CSV is, one
header and one type per column across the files, a bad value named by its file and row."""

from __future__ import annotations

import datetime as dt
import os

import polars as pl
import pytest

from driftdesk.contract import load_dataset, load_table
from driftdesk.engine.budget import BUDGET_ENV, MemoryBudgetError
from driftdesk.errors import ContractError, InputFileError
from driftdesk.io import memory_estimate, scan_table
from driftdesk.proposal import data_files, propose_folder
from foreign_data import foreign_kpis, spark_dataset, with_date, write_csv_folder

MAPPING = {"ts": "event_time", "conversions": "conv", "spend": "spend_usd", "impressions": "imps",
           "segments": ["country", "device"]}
KEY = ["ts", "country", "device"]


def expected(frame: pl.DataFrame) -> pl.DataFrame:
    """The kpis table the generator's rows make, by hand: roles renamed, counts as floats (the contract's type)."""
    return frame.select(pl.col("event_time").dt.cast_time_unit("us").alias("ts"),
                        pl.col("imps").cast(pl.Float64).alias("impressions"),
                        pl.col("conv").cast(pl.Float64).alias("conversions"), pl.col("spend_usd").alias("spend"),
                        "country", "device").sort(KEY)


def test_a_folder_of_daily_csv_exports_loads_as_one_table_with_every_row(tmp_path):
    frame = foreign_kpis()
    files = write_csv_folder(tmp_path / "data" / "kpis_daily", frame)
    assert len(files) == 6
    assert data_files(tmp_path / "data") == [tmp_path / "data" / "kpis_daily"]
    got = load_table(tmp_path / "data" / "kpis_daily", "kpis", mapping=MAPPING).frame
    want = expected(frame)
    assert got.select(want.columns).sort(KEY).equals(want)
    # the same rows as the one concatenated CSV, read the same way
    single = tmp_path / "kpis.csv"
    frame.write_csv(single)
    assert got.equals(load_table(single, "kpis", mapping=MAPPING).frame)
    dataset = load_dataset(tmp_path / "data")
    assert dataset["kpis"].frame.select(want.columns).sort(KEY).equals(want)


def test_hive_partition_folders_of_csv_files_add_their_column(tmp_path):
    frame = foreign_kpis(days=3)
    write_csv_folder(tmp_path / "data" / "exports", frame, hive="date")
    (tmp_path / "data" / "exports" / "_SUCCESS").write_text("")
    (tmp_path / "data" / "exports" / ".2026-11-01.csv.crc").write_text("not a csv")
    got = scan_table(tmp_path / "data" / "exports").collect()
    assert got.columns == [*frame.columns, "date"] and got.schema["date"] == pl.Date
    assert got["date"].to_list() == frame["event_time"].dt.date().to_list()
    assert propose_folder(tmp_path / "data").table_files == {"kpis": "exports"}
    # the data folder itself partitioned by day is one table, named "."
    assert propose_folder(tmp_path / "data" / "exports").table_files == {"kpis": "."}


def test_files_naming_other_columns_are_refused_naming_both(tmp_path):
    folder = tmp_path / "kpis"
    frame = foreign_kpis(days=3)
    files = write_csv_folder(folder, frame)
    frame.filter(pl.col("event_time").dt.day() == 3).rename({"conv": "conversions"}).drop("imps").write_csv(files[2])
    with pytest.raises(InputFileError, match=r"kpis: mixed headers: 2026-11-01\.csv has \['imps', 'conv'\] that "
                                             r"2026-11-03\.csv lacks; 2026-11-03\.csv has \['conversions'\] that "
                                             r"2026-11-01\.csv lacks"):
        scan_table(folder)
    # columns in another order are the same header
    frame.filter(pl.col("event_time").dt.day() == 3).select(reversed(frame.columns)).write_csv(files[2])
    assert scan_table(folder).collect().columns == frame.columns


def test_a_folder_mixing_csv_and_parquet_is_refused_naming_one_file_of_each(tmp_path):
    data = tmp_path / "data"
    frame = foreign_kpis(days=2)
    write_csv_folder(data / "ads_export", frame)
    frame.head(10).write_parquet(data / "ads_export" / "part-0.parquet")
    pl.DataFrame({"ts": ["2026-11-01T00:00:00Z"], "release_id": ["r1"]}).write_csv(data / "releases.csv")
    message = r"ads_export: the folder mixes Parquet and CSV files \(part-0\.parquet and 2026-11-01\.csv\)"
    with pytest.raises(InputFileError, match=message):
        scan_table(data / "ads_export")
    with pytest.raises(InputFileError, match=message):
        memory_estimate(data / "ads_export")
    # the folder is listed, not loaded, and the note says why; the other tables load
    assert data / "ads_export" in data_files(data)
    dataset = load_dataset(data)
    assert list(dataset.tables) == ["releases"]
    assert any(note.startswith(f"{data / 'ads_export'}: the folder mixes Parquet and CSV") for note in dataset.notes)


def test_a_data_folder_partitioned_itself_keeps_its_other_tables_beside_the_partitions(tmp_path):
    frame = with_date(foreign_kpis(days=2))
    folder = spark_dataset(tmp_path / "kpis_dump", frame, ["date"])
    pl.DataFrame({"ts": ["2026-11-01T00:00:00Z"], "release_id": ["r1"]}).write_csv(folder / "releases.csv")
    assert scan_table(folder).collect().height == frame.height
    assert load_dataset(folder).tables.keys() == {"kpis", "releases"}
    # CSV partitions beside a Parquet file: the Parquet file is a table of its own
    csv_root = tmp_path / "csv_dump"
    write_csv_folder(csv_root, foreign_kpis(days=2), hive="date")
    pl.DataFrame({"ts": ["2026-11-01T00:00:00Z"], "release_id": ["r1"]}).write_parquet(csv_root / "releases.parquet")
    assert propose_folder(csv_root).table_files == {"kpis": ".", "releases": "releases.parquet"}


def test_a_bad_value_is_named_by_its_part_file_and_row(tmp_path):
    from driftdesk.folder import inspect_folder

    frame = foreign_kpis(days=4)
    bad = frame.with_columns(pl.when((pl.col("event_time").dt.day() == 3) & (pl.int_range(pl.len()) == 293))
                             .then(-3.0).otherwise("spend_usd").alias("spend_usd"))
    # row 294 of the frame is the 6th row of the third day (144 rows a day)
    assert bad.filter(pl.col("event_time").dt.day() == 3).with_row_index("r", 1).filter(
        pl.col("spend_usd") < 0)["r"].to_list() == [6]
    for hive, named in ((None, "2026-11-03.csv"), ("date", "date=2026-11-03/kpis.csv")):
        root = tmp_path / (hive or "daily") / "kpis"
        write_csv_folder(root, bad, hive=hive)
        with pytest.raises(ContractError, match=rf"e\.g\. {named} row 6: -3\.0"):
            load_table(root, "kpis", mapping=MAPPING)
        report = inspect_folder(root.parent).violations()
        assert report.filter(pl.col("column").str.starts_with("spend_usd"))["examples"].to_list() == [
            f"{named} row 6: -3.0"]
    # text in one day's numbers: that day's reader infers text, so the column is read as text in every file and
    # the contract names the value that is not a number
    files = write_csv_folder(tmp_path / "text" / "kpis", frame)
    lines = files[1].read_text().splitlines()
    lines[3] = ",".join([*lines[3].split(",")[:-1], "n/a"])  # the 3rd row's spend_usd
    files[1].write_text("\n".join(lines) + "\n")
    with pytest.raises(ContractError, match=r"spend_usd' \(role spend\): wrong type: expected a number — 1 row, "
                                            r"e\.g\. 2026-11-02\.csv row 3: 'n/a'"):
        load_table(tmp_path / "text" / "kpis", "kpis", mapping=MAPPING)


def test_each_file_is_sniffed_on_its_own_semicolons_and_decimal_commas(tmp_path):
    frame = foreign_kpis(days=4)
    folder = tmp_path / "kpis"
    files = write_csv_folder(folder, frame, separator=";", decimal_comma=True)
    assert "," in files[0].read_text().splitlines()[1].split(";")[-1]  # e.g. 86,70655...
    # one day exported by another tool: commas and decimal points
    frame.filter(pl.col("event_time").dt.day() == 2).write_csv(files[1])
    got = load_table(folder, "kpis", mapping=MAPPING).frame
    want = expected(frame)
    assert got.select(KEY).sort(KEY).equals(want.select(KEY))
    assert got.sort(KEY)["spend"].to_list() == pytest.approx(want["spend"].to_list(), rel=1e-12)


def test_types_agree_across_files_as_the_files_say_them(tmp_path):
    folder = tmp_path / "kpis"
    header = "event_time,campaign,conv,spend_usd,note\n"
    (folder).mkdir()
    # whole numbers one day, decimals the next; a campaign id that is a number one day and text the next; a
    # column empty one day; a day with no rows at all; an empty file
    (folder / "2026-11-01.csv").write_text(header + "2026-11-01T00:00:00Z,007,1,2,\n2026-11-01T01:00:00Z,010,2,3,\n")
    (folder / "2026-11-02.csv").write_text(header + "2026-11-02T00:00:00Z,spring,,2.5,ok\n")
    (folder / "2026-11-03.csv").write_text(header)
    (folder / "2026-11-04.csv").write_text("")
    got = scan_table(folder).collect()
    assert dict(got.schema) == {"event_time": pl.String, "campaign": pl.String, "conv": pl.Int64,
                                "spend_usd": pl.Float64, "note": pl.String}
    assert got["campaign"].to_list() == ["007", "010", "spring"]
    assert got["conv"].to_list() == [1, 2, None] and got["spend_usd"].to_list() == [2.0, 3.0, 2.5]


def test_segments_and_text_roles_of_a_csv_folder_are_read_as_written(tmp_path):
    folder = tmp_path / "decisions"
    folder.mkdir()
    header = "ts,score,model_version,flag\n"
    (folder / "a.csv").write_text(header + "2026-01-01T00:00:00Z,0.5,1.10,TRUE\n2026-01-01T01:00:00Z,0.5,1.2,False\n")
    (folder / "b.csv").write_text(header + "2026-01-02T00:00:00Z,0.5,2.0,TRUE\n")
    frame = load_table(folder, "decisions", mapping={"segments": ["flag"]}).frame
    assert frame["model_version"].to_list() == ["1.10", "1.2", "2.0"]
    assert frame["flag"].to_list() == ["TRUE", "False", "TRUE"]
    # a partition column listed as a segment keeps its folder's text too
    root = tmp_path / "kpis"
    for campaign in ("007", "010"):
        (root / f"campaign={campaign}").mkdir(parents=True)
        (root / f"campaign={campaign}" / "kpis.csv").write_text("ts,conversions,spend\n2026-01-01T00:00:00Z,1,2.0\n")
    assert scan_table(root).collect().schema["campaign"] == pl.Int64  # as Hive readers type it
    frame = load_table(root, "kpis", mapping={"segments": ["campaign"]}).frame
    assert sorted(frame["campaign"].to_list()) == ["007", "010"]


def test_a_part_file_in_a_declared_encoding_is_read_by_the_data_folders_settings(tmp_path):
    data = tmp_path / "data"
    folder = data / "kpis"
    folder.mkdir(parents=True)
    header = "ts,country,conversions,spend\n"
    (folder / "a.csv").write_text(header + "2026-01-01T00:00:00Z,Köln,1,2.0\n", encoding="utf-8")
    (folder / "b.csv").write_bytes((header + "2026-01-02T00:00:00Z,Zürich,1,2.0\n").encode("cp1252"))
    with pytest.raises(InputFileError, match=r"b\.csv: not UTF-8 text: .*in driftdesk\.toml in the data folder"):
        scan_table(folder)
    (data / "driftdesk.toml").write_text('[read]\nencoding = "cp1252"\n')
    assert scan_table(folder).collect()["country"].to_list() == ["Köln", "Zürich"]


def test_a_csv_folder_past_the_memory_budget_is_refused_saying_to_convert_it(tmp_path, monkeypatch):
    from driftdesk.engine.dataset import load_dataset_on
    from driftdesk.engine.scan import scanned

    files = write_csv_folder(tmp_path / "data" / "kpis", foreign_kpis())
    total = sum(os.stat(f).st_size for f in files)  # CSV holds about as much in memory as on disk
    assert memory_estimate(tmp_path / "data" / "kpis") == total
    monkeypatch.setenv(BUDGET_ENV, "20K")
    assert not scanned(tmp_path / "data" / "kpis") and total > 20 * 1024
    with pytest.raises(MemoryBudgetError, match=rf"kpis: reading the whole table needs about {total / 1024:.1f} KB in "
                                                r"memory, above the memory budget of 20\.0 KB .*CSV is read whole .*"
                                                r"convert it to Parquet .*or raise DRIFTDESK_MEMORY_BUDGET"):
        load_dataset_on(tmp_path / "data", tables=["kpis"])


def test_spark_says_a_csv_folder_is_read_by_polars(tmp_path):
    from driftdesk.engine.spark import read_parquet

    write_csv_folder(tmp_path / "kpis", foreign_kpis(days=1))
    with pytest.raises(InputFileError, match=r"kpis: a folder of CSV files; the Spark engine reads Parquet files .*"
                                             r"convert the files to Parquet or use --engine polars"):
        read_parquet(tmp_path / "kpis")


def test_driftdesk_map_proposes_a_csv_folder(tmp_path):
    import contextlib
    import io
    import tomllib

    from driftdesk.cli import main

    write_csv_folder(tmp_path / "data" / "Daily KPI export", foreign_kpis(days=2))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["map", "--data", str(tmp_path / "data")])
    assert code == 0, out.getvalue()
    mapping = tomllib.loads(out.getvalue())["mapping"]["kpis"]
    assert (mapping["file"], mapping["ts"], mapping["spend"]) == ("Daily KPI export", "event_time", "spend_usd")


def test_rows_are_in_file_order(tmp_path):
    frame = foreign_kpis(days=3)
    write_csv_folder(tmp_path / "kpis", frame)
    got = scan_table(tmp_path / "kpis").collect()["event_time"].str.to_datetime().to_list()
    assert got == frame["event_time"].to_list() and got[0] == dt.datetime(2026, 11, 1)
