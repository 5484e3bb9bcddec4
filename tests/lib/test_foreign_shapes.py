"""Exports in shapes unlike the sample, built at test time: what the contract and the folder views say about them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from driftdesk.contract import load_table
from driftdesk.engine.budget import BUDGET_ENV
from driftdesk.engine.scan import scan_contract
from driftdesk.errors import ContractError
from driftdesk.proposal import propose_folder

SEGMENTS = pl.DataFrame({"country": ["DE", "FR", "NL"]})


def local_hours(start: dt.datetime, end: dt.datetime, zone: str) -> pl.Series:
    """Every UTC hour from start to end written as local wall-clock time without an offset, as a spreadsheet
    export writes it: the hour a daylight-saving change turns clocks back comes twice."""
    utc = pl.datetime_range(start, end, "1h", closed="left", eager=True, time_zone="UTC")
    return utc.dt.convert_time_zone(zone).dt.replace_time_zone(None).dt.strftime("%Y-%m-%d %H:%M:%S")


def kpis_at(times: pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"local_time": times}).join(SEGMENTS, how="cross").with_columns(
        purchases=pl.int_range(pl.len()) % 5, cost_eur=(pl.int_range(pl.len()) % 7) * 1.5)


MAPPING = {"ts": "local_time", "conversions": "purchases", "spend": "cost_eur", "segments": ["country"]}


def duplicate_violation(path: Path):
    with pytest.raises(ContractError) as info:
        load_table(path, "kpis", mapping=MAPPING)
    (v,) = [v for v in info.value.violations if v.rule.startswith("duplicate key")]
    return v


def test_local_times_across_the_fall_back_name_the_repeated_hour(tmp_path):
    # Berlin turns clocks back at 03:00 CEST on 2026-10-25 (the last Sunday of October): 02:00-02:59 comes twice
    path = tmp_path / "Report.csv"
    kpis_at(local_hours(dt.datetime(2026, 10, 23), dt.datetime(2026, 10, 27), "Europe/Berlin")).write_csv(path)
    v = duplicate_violation(path)
    assert v.column == "local_time, country"  # the file's column names, not the roles'
    assert v.count == 6  # 3 countries, twice each
    assert "every row of the hour 2026-10-25 02:00 comes twice" in v.rule and "daylight-saving" in v.rule
    # the examples show the repeats side by side: first rows of a key, then its repeat
    (r1, v1), (r2, v2) = v.examples[:2]
    assert v1 == v2 == "local_time=2026-10-25 02:00:00, country=DE" and r2 - r1 == 3


def test_a_double_export_is_not_called_a_clock_change(tmp_path):
    frame = kpis_at(local_hours(dt.datetime(2026, 6, 1), dt.datetime(2026, 6, 3), "UTC"))
    path = tmp_path / "Report.csv"
    pl.concat([frame, frame.head(2)]).write_csv(path)  # two rows of the first hour exported twice, not the whole hour
    v = duplicate_violation(path)
    assert v.count == 4 and "daylight-saving" not in v.rule
    assert [e[1] for e in v.examples[:2]] == ["local_time=2026-06-01 00:00:00, country=DE"] * 2


def test_the_scanned_table_shows_the_same_duplicate_examples(tmp_path, monkeypatch):
    frame = kpis_at(local_hours(dt.datetime(2026, 10, 23), dt.datetime(2026, 10, 27), "Europe/Berlin"))
    frame = frame.with_columns(pl.col("local_time").str.to_datetime())
    path = tmp_path / "report.parquet"
    frame.write_parquet(path)
    whole = duplicate_violation(path)
    monkeypatch.setenv(BUDGET_ENV, "1K")
    with pytest.raises(ContractError) as info:
        scan_contract(path, "kpis", mapping=MAPPING)
    (scanned,) = info.value.violations
    assert scanned.column == whole.column and scanned.examples == whole.examples and scanned.count == whole.count


@pytest.mark.parametrize("written", ["%d/%m/%Y %H:%M", "%m.%d.%Y", "%d-%m-%Y %I:%M %p"])
def test_a_file_whose_dates_are_not_iso_is_told_which_column_and_what_to_write(tmp_path, written):
    times = pl.datetime_range(dt.datetime(2026, 10, 20), dt.datetime(2026, 10, 22), "1h", eager=True)
    folder = tmp_path / "export"
    folder.mkdir()
    pl.DataFrame({"Datum": times.dt.strftime(written)}).join(SEGMENTS, how="cross").with_columns(
        Conversions=pl.int_range(pl.len()) % 4, Cost=pl.int_range(pl.len()) * 0.5).write_csv(folder / "report.csv")
    (note,) = propose_folder(folder).notes
    assert "report.csv matches no table" in note
    assert "Column 'Datum' (e.g. '" in note and "not read as timestamps" in note and "ISO 8601" in note


def test_text_that_is_no_date_gets_no_date_advice(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    pl.DataFrame({"author": ["ana", "bo"], "text": ["1/2 of budget", "v2.0.1"]}).write_csv(folder / "notes.csv")
    (note,) = propose_folder(folder).notes
    assert "matches no table" in note and "not read as timestamps" not in note


def test_iso_fractional_seconds_with_a_decimal_comma_are_read(tmp_path):
    """ISO 8601 allows a comma before the fraction of a second; a semicolon CSV with decimal commas writes one."""
    from driftdesk.timestamps import parse_text_timestamps

    parsed, has_tz, _ = parse_text_timestamps("t")
    got = pl.DataFrame({"t": ["2026-10-04T23:00:04,588Z", "2026-10-04 23:00:04,5+02:00", "2026-10-04T23:00:04.25"]})
    assert got.select(parsed).to_series().to_list() == [
        dt.datetime(2026, 10, 4, 23, 0, 4, 588000), dt.datetime(2026, 10, 4, 21, 0, 4, 500000),
        dt.datetime(2026, 10, 4, 23, 0, 4, 250000)]
    path = tmp_path / "dump.csv"
    path.write_text("ts;score\n2026-10-04T23:00:04,588Z;0,25\n2026-10-04T23:10:00,000Z;0,5\n", encoding="utf-8")
    table = load_table(path, "decisions")
    assert table.frame["ts"].to_list() == [dt.datetime(2026, 10, 4, 23, 0, 4, 588000), dt.datetime(2026, 10, 4, 23, 10)]
    assert table.frame["score"].to_list() == [0.25, 0.5]


@pytest.mark.parametrize("name", ["event_ms", "epoch", "timestamp_ms", "created_at_ms"])
def test_an_epoch_column_named_as_one_is_the_timestamp(tmp_path, name):
    folder = tmp_path / "export"
    folder.mkdir()
    ms = pl.datetime_range(dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 3), "1m", eager=True).dt.epoch("ms")
    n = ms.len()
    pl.DataFrame({"user_id": pl.int_range(10**9, 10**9 + n, eager=True), name: ms,
                  "score": (pl.int_range(n, eager=True) % 97) / 100}).write_csv(folder / "scores.csv")
    mapping = propose_folder(folder).tables["decisions"].mapping()
    assert mapping["ts"] == name and mapping["score"] == "score"


@pytest.mark.parametrize("how", ["sum", "mean"])
def test_a_baseline_day_in_a_gap_of_the_data_has_no_total(how):
    """Five-minute points with a missing day: the week before falls in the gap, so it has no total (not 0)."""
    from driftdesk.seasonality.compare import compare_day

    ts = pl.datetime_range(dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 20), "5m", closed="left", eager=True)
    series = pl.DataFrame({"ts": ts, "value": 2.0}).filter(pl.col("ts").dt.day() != 12)
    totals = compare_day(series, dt.date(2026, 11, 19), how=how).totals
    assert totals["week_over_week"] is None and totals["change_vs_week_over_week"] is None
    assert totals["current"] == totals["day_over_day"] == (2.0 * 288 if how == "sum" else 2.0)
    assert totals["change_vs_day_over_day"] == 0.0
