"""The data contract: good input loads with roles and UTC timestamps; each kind of bad input gets a message that
names the file, the column, the rule and up to five offending rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftdesk.contract import (
    MAX_EXAMPLES,
    TABLES,
    Dataset,
    Table,
    Violation,
    load_dataset,
    load_table,
    read_mappings,
    validate_frame,
    write_mappings,
)
from driftdesk.errors import ContractError, DriftdeskError, InputFileError

HEADER = "ts,geo,device,conversions,spend\n"


def csv(tmp_path: Path, text: str, name: str = "kpis.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, table: str = "kpis", **kw) -> str:
    with pytest.raises(ContractError) as info:
        load_table(path, table, **kw)
    return str(info.value)


# --------------------------------------------------------------------------- good input


def test_good_kpis_csv_loads_with_roles_segments_and_utc(tmp_path):
    path = csv(tmp_path, HEADER + "2026-10-05T13:00:00Z,US,mobile,3,10.5\n2026-10-05T13:00:00Z,DE,mobile,4,11\n")
    table = load_table(path, "kpis")
    assert isinstance(table, Table)
    assert table.segments == ("geo", "device")
    assert table.frame.schema["ts"] == pl.Datetime("us")
    assert table.frame.schema["conversions"] == pl.Float64
    assert table.frame["ts"].to_list() == [datetime(2026, 10, 5, 13)] * 2
    assert table.frame["spend"].to_list() == [10.5, 11.0]
    assert table.warnings == ()


def test_mapping_lets_users_keep_their_column_names(tmp_path):
    path = csv(tmp_path, "hour,country,orders,cost\n2026-10-05 13:00,US,3,10.5\n2026-10-05 14:00,US,2,8\n")
    table = load_table(path, "kpis", mapping={"ts": "hour", "conversions": "orders", "spend": "cost",
                                              "segments": ["country"]})
    assert table.frame.columns == ["ts", "conversions", "spend", "country"]
    assert table.mapping["conversions"] == "orders"
    assert table.frame["conversions"].to_list() == [3.0, 2.0]


def test_decisions_binary_and_features(tmp_path):
    path = csv(tmp_path, "ts,geo,score,label,decision,recency,browser\n"
                         "2026-10-05T13:00:00Z,US,0.3,1,true,2.5,chrome\n"
                         "2026-10-05T14:00:00Z,US,0.1,,0,,safari\n", "decisions.csv")
    table = load_table(path, "decisions", mapping={"segments": ["geo"], "features": ["recency", "browser"]})
    assert table.frame["label"].to_list() == [1, None]
    assert table.frame["decision"].to_list() == [1, 0]
    assert table.frame.schema["label"] == pl.Int8
    assert table.features == ("recency", "browser")
    assert table.frame["browser"].to_list() == ["chrome", "safari"]


@pytest.mark.parametrize("text,expected", [
    ("2026-10-05T13:00:00+02:00", datetime(2026, 10, 5, 11, 0)),
    ("2026-10-05T13:00:00+0530", datetime(2026, 10, 5, 7, 30)),
    ("2026-10-05T01:15:00-03:30", datetime(2026, 10, 5, 4, 45)),
    ("2026-10-05 00:30-0100", datetime(2026, 10, 5, 1, 30)),
    ("2026-10-05T23:00:00-05:00", datetime(2026, 10, 6, 4, 0)),  # crosses midnight
    ("2026-10-05T13:00:00.250Z", datetime(2026, 10, 5, 13, 0, 0, 250_000)),
    ("2026-10-05T13:00:00z", datetime(2026, 10, 5, 13, 0)),
    ("2026-10-05 13:00:00 UTC", datetime(2026, 10, 5, 13, 0)),  # BigQuery export
    ("2026-10-05 13:00:00+02", datetime(2026, 10, 5, 11, 0)),  # Postgres timestamptz text
    ("2026-10-05 13:00:00.5-07", datetime(2026, 10, 5, 20, 0, 0, 500_000)),
    ("2026-10-05 13:00:00 +0100", datetime(2026, 10, 5, 12, 0)),
])
def test_offsets_are_converted_to_utc(tmp_path, text, expected):
    path = csv(tmp_path, "ts,conversions,spend\n" + text + ",1,1\n")
    assert load_table(path, "kpis").frame["ts"][0] == expected


def test_naive_timestamps_and_dates_are_taken_as_utc(tmp_path):
    path = csv(tmp_path, "ts,conversions,spend\n2026-10-05 13:00:00,1,1\n2026-10-05,1,1\n2026-10-06 07:05,1,1\n")
    assert load_table(path, "kpis").frame["ts"].to_list() == [datetime(2026, 10, 5, 13), datetime(2026, 10, 5),
                                                              datetime(2026, 10, 6, 7, 5)]


def test_tz_aware_parquet_is_converted_to_naive_utc(tmp_path):
    frame = pl.DataFrame({"ts": [datetime(2026, 10, 5, 13)], "conversions": [1], "spend": [2.0]}).with_columns(
        pl.col("ts").dt.replace_time_zone("Europe/Berlin"))  # 13:00 CEST = 11:00 UTC
    frame.write_parquet(tmp_path / "k.parquet")
    table = load_table(tmp_path / "k.parquet", "kpis")
    assert table.frame.schema["ts"] == pl.Datetime("us")
    assert table.frame["ts"][0] == datetime(2026, 10, 5, 11)


def test_semicolon_csv_is_sniffed_through_the_contract(tmp_path):
    path = csv(tmp_path, "ts;geo;conversions;spend\n2026-10-05T13:00:00Z;US;3;10,5\n2026-10-05T14:00:00Z;US;4;7,25\n")
    table = load_table(path, "kpis")
    assert table.frame["spend"].to_list() == [10.5, 7.25]
    assert table.segments == ("geo",)


def test_tab_separated_csv_is_sniffed_through_the_contract(tmp_path):
    path = csv(tmp_path, "ts\tgeo\tconversions\tspend\n2026-10-05T13:00:00Z\tUS\t3\t10.5\n")
    assert load_table(path, "kpis").frame["conversions"].to_list() == [3.0]


# --------------------------------------------------------------------------- bad input: one test per kind


def test_missing_required_column(tmp_path):
    path = csv(tmp_path, "ts,geo,spend\n2026-10-05T13:00:00Z,US,1\n")
    msg = error_of(path)
    assert str(path) in msg
    assert "missing required column" in msg and "'conversions'" in msg
    assert "['ts', 'geo', 'spend']" in msg


def test_wrong_type_names_the_rows(tmp_path):
    rows = "".join(f"2026-10-05T{h:02d}:00:00Z,US,mobile,{'n/a' if h % 2 else h},1\n" for h in range(14))
    msg = error_of(csv(tmp_path, HEADER + rows))
    assert f"{tmp_path / 'kpis.csv'}: column 'conversions': wrong type: expected a number" in msg
    assert "7 rows" in msg
    assert "row 2: 'n/a'; row 4: 'n/a'; row 6: 'n/a'; row 8: 'n/a'; row 10: 'n/a'" in msg
    assert "row 12" not in msg  # at most five examples


@pytest.mark.parametrize("scale", [1, 1_000, 1_000_000, 1_000_000_000])
def test_unix_epoch_numbers_are_read_as_utc_by_their_size(tmp_path, scale):
    seconds = [1759669200, 1759672800]
    path = csv(tmp_path, "ts,conversions,spend\n" + "".join(f"{s * scale},1,1\n" for s in seconds))
    expected = [datetime.fromtimestamp(s, tz=UTC).replace(tzinfo=None) for s in seconds]
    assert load_table(path, "kpis").frame["ts"].to_list() == expected


def test_wrong_type_of_a_whole_column(tmp_path):
    # numbers that are no Unix epoch (seconds since some start, YYYYMMDD): the rule and the first values
    path = csv(tmp_path, "ts,conversions,spend\n0,1,1\n3600,1,1\n")
    msg = error_of(path)
    assert "column 'ts': numeric timestamps are read as Unix epoch time" in msg and "row 1: 0" in msg
    path = csv(tmp_path, "ts,conversions,spend\n20261005,1,1\n20261006,1,1\n")
    assert "row 1: 20261005" in error_of(path)
    path = csv(tmp_path, "ts,conversions,spend\ntrue,1,1\nfalse,1,1\n")
    assert "column 'ts': wrong type: expected a timestamp, found Boolean" in error_of(path)


def test_unparsable_timestamp(tmp_path):
    path = csv(tmp_path, HEADER + "2026-10-05T13:00:00,US,m,1,1\nyesterday,US,m,1,1\n2026-13-40T00:00:00,US,m,1,1\n")
    msg = error_of(path)
    assert "column 'ts': unparsable timestamp" in msg
    assert "2 rows, e.g. row 2: 'yesterday'; row 3: '2026-13-40T00:00:00'" in msg


def test_empty_file_and_header_only_file(tmp_path):
    with pytest.raises(InputFileError, match="kpis.csv: the file is empty"):
        load_table(csv(tmp_path, ""), "kpis")
    msg = error_of(csv(tmp_path, HEADER, "header.csv"))
    assert "header.csv" in msg and "empty: the table has no rows" in msg


def test_an_empty_log_is_allowed_for_incidents_and_calendar(tmp_path):
    table = load_table(csv(tmp_path, "incident_id,start,end,layer\n", "incidents.csv"), "incidents")
    assert table.frame.height == 0 and table.frame.schema["start"] == pl.Datetime("us")
    assert load_table(csv(tmp_path, "date,name,kind\n", "calendar.csv"), "calendar").frame.height == 0
    assert "empty: the table has no rows" in error_of(csv(tmp_path, "ts,release_id\n", "releases.csv"), "releases")


def test_duplicate_keys(tmp_path):
    path = csv(tmp_path, HEADER + "2026-10-05T13:00:00Z,US,mobile,1,1\n2026-10-05T13:00:00Z,US,desktop,1,1\n"
                                  "2026-10-05T13:00:00+00:00,US,mobile,2,2\n")
    msg = error_of(path)
    assert "column 'ts, geo, device': duplicate key: (ts, geo, device) must be unique — 2 rows" in msg
    assert "row 1: ts=2026-10-05 13:00:00, geo=US, device=mobile; row 3:" in msg


def test_duplicate_golden_runs(tmp_path):
    path = csv(tmp_path, "release_id,case_id,repeat,passed\nr1,c1,0,true\nr1,c1,0,false\nr1,c1,1,true\n", "g.csv")
    assert "duplicate key: (release_id, case_id, repeat)" in error_of(path, "golden_runs")


def test_mixed_time_zones(tmp_path):
    path = csv(tmp_path, HEADER + "2026-10-05T13:00:00Z,US,m,1,1\n2026-10-05T14:00:00,US,m,1,1\n"
                                  "2026-10-05T15:00:00+01:00,US,m,1,1\n")
    msg = error_of(path)
    assert "column 'ts': mixed time zones" in msg
    assert "row 1: '2026-10-05T13:00:00Z'" in msg and "row 2: '2026-10-05T14:00:00'" in msg


def test_out_of_range_nan_and_inf(tmp_path):
    path = csv(tmp_path, HEADER + "2026-10-05T13:00:00Z,US,m,-1,1\n2026-10-05T14:00:00Z,US,m,2,inf\n"
                                  "2026-10-05T15:00:00Z,US,m,2,-inf\n")
    msg = error_of(path)
    assert "column 'conversions': out of range: must be >= 0 — 1 row, e.g. row 1: -1" in msg
    assert "column 'spend': not finite: infinite values are not allowed — 2 rows, e.g. row 2: inf; row 3: -inf" in msg
    assert msg.startswith(f"{path}: 2 contract violations for table 'kpis'")


def test_nan_is_a_warning_in_an_optional_column_and_an_error_in_a_required_one(tmp_path):
    path = csv(tmp_path, "ts,score,spend\n2026-10-05T13:00:00Z,0.5,NaN\n2026-10-05T14:00:00Z,0.5,1\n", "d.csv")
    table = load_table(path, "decisions")
    assert table.frame["spend"].to_list() == [None, 1.0]
    assert [w.rule for w in table.warnings] == ["NaN read as missing"]
    path = csv(tmp_path, "ts,score\n2026-10-05T13:00:00Z,NaN\n2026-10-05T14:00:00Z,0.5\n", "d2.csv")
    assert "column 'score': missing value in a required column — 1 row, e.g. row 1: null" in error_of(path, "decisions")


def test_score_out_of_range_and_labels_other_than_0_1(tmp_path):
    path = csv(tmp_path, "ts,score,label\n2026-10-05T13:00:00Z,1.5,1\n2026-10-05T14:00:00Z,0.2,2\n"
                         "2026-10-05T15:00:00Z,0.2,-1\n2026-10-05T16:00:00Z,0.2,yes\n", "d.csv")
    msg = error_of(path, "decisions")
    assert "column 'score': out of range: must be <= 1 — 1 row, e.g. row 1: 1.5" in msg
    assert "column 'label': not binary: values must be 0 or 1" not in msg  # text column: boolean rule applies
    assert "column 'label': not boolean: values must be true/false or 1/0 — 2 rows, e.g. row 2: '2'; row 3: '-1'" in msg
    numeric = pl.DataFrame({"ts": [datetime(2026, 1, 1)] * 3, "score": [0.1, 0.2, 0.3], "label": [0, 1, 3]})
    table, violations = validate_frame(numeric, "decisions", source="frame.parquet")
    assert table is None
    assert violations[0].message == "frame.parquet: column 'label': not binary: values must be 0 or 1 — 1 row, e.g. row 3: 3"


def test_allowed_values(tmp_path):
    path = csv(tmp_path, "start,layer,severity\n2026-10-05T13:00:00Z,network,P1\n2026-10-05T14:00:00Z,data,P9\n", "i.csv")
    msg = error_of(path, "incidents")
    assert "column 'layer': not one of ['service', 'data', 'model', 'business', 'llm'] — 1 row, e.g. row 1: 'network'" in msg
    assert "column 'severity': not one of ['P0', 'P1', 'P2', 'P3'] — 1 row, e.g. row 2: 'P9'" in msg


def test_whole_numbers_for_int_roles(tmp_path):
    path = csv(tmp_path, "release_id,case_id,repeat,passed\nr,c,1.5,true\nr,d,2,true\n", "g.csv")
    assert "column 'repeat': not a whole number — 1 row, e.g. row 1: 1.5" in error_of(path, "golden_runs")


def test_mapping_to_a_column_that_does_not_exist(tmp_path):
    path = csv(tmp_path, HEADER + "2026-10-05T13:00:00Z,US,m,1,1\n")
    msg = error_of(path, mapping={"spend": "cost"})
    assert str(path) in msg and "role 'spend' to column 'cost', which is not in the file" in msg
    msg = error_of(path, mapping={"segments": ["geo", "country"]})
    assert "segments column(s) ['country'] that are not in the file" in msg


def test_unknown_role_and_unknown_table(tmp_path):
    path = csv(tmp_path, HEADER + "2026-10-05T13:00:00Z,US,m,1,1\n")
    msg = error_of(path, mapping={"cpa": "spend"})
    assert "unknown role(s) ['cpa'] for table 'kpis'" in msg
    with pytest.raises(ContractError, match="unknown table 'kpi'"):
        load_table(path, "kpi")


def test_several_violations_are_reported_at_once_with_structured_details(tmp_path):
    path = csv(tmp_path, HEADER + "nope,US,m,-1,x\n")
    with pytest.raises(ContractError) as info:
        load_table(path, "kpis")
    rules = {(v.column, v.rule.split(":")[0]) for v in info.value.violations}
    assert rules == {("ts", "unparsable timestamp (expected ISO 8601, e.g. 2026-10-05T13"),
                     ("conversions", "out of range"), ("spend", "wrong type")}
    doc = info.value.violations[0].to_dict()
    assert set(doc) >= {"source", "table", "column", "rule", "count", "examples", "message"}


def test_violation_message_format():
    v = Violation("f.csv", "kpis", "spend", "out of range: must be >= 0", 7,
                  tuple((i, str(-i)) for i in range(1, MAX_EXAMPLES + 1)), role="spend")
    assert v.message == ("f.csv: column 'spend': out of range: must be >= 0 — 7 rows, "
                         "e.g. row 1: -1; row 2: -2; row 3: -3; row 4: -4; row 5: -5")
    assert Violation("f.csv", "kpis", "cost", "x", 1, ((3, "1"),), role="spend").message == \
        "f.csv: column 'cost' (role spend): x — 1 row, e.g. row 3: 1"


# --------------------------------------------------------------------------- mappings and datasets


def test_mappings_round_trip_through_driftdesk_toml(tmp_path):
    mappings = {"decisions": {"segments": ["geo", 'we"ird'], "features": ["a"], "score": "p"},
                "kpis": {"spend": "cost"}}
    write_mappings(tmp_path, mappings)
    assert read_mappings(tmp_path) == mappings
    assert read_mappings(tmp_path / "nowhere") == {}


def test_bad_mapping_files(tmp_path):
    (tmp_path / "driftdesk.toml").write_text("[mapping.kpis\n")
    with pytest.raises(ContractError, match="driftdesk.toml: not valid TOML"):
        read_mappings(tmp_path)
    (tmp_path / "driftdesk.toml").write_text('[mapping.sales]\nspend = "x"\n')
    with pytest.raises(ContractError, match=r"unknown table\(s\) \['sales'\]"):
        read_mappings(tmp_path)


def test_load_dataset_collects_every_tables_problems(tmp_path):
    csv(tmp_path, HEADER + "2026-10-05T13:00:00Z,US,m,-1,1\n")
    csv(tmp_path, "ts,score\n2026-10-05T13:00:00Z,2\n", "decisions.csv")
    with pytest.raises(ContractError) as info:
        load_dataset(tmp_path)
    assert "kpis.csv" in str(info.value) and "decisions.csv" in str(info.value)
    with pytest.raises(InputFileError, match="no such folder"):
        load_dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="no contract tables found"):
        load_dataset(tmp_path / "empty")


def test_load_dataset_uses_remembered_mappings(tmp_path):
    csv(tmp_path, "hour,orders,cost,country\n2026-10-05T13:00:00Z,1,2,US\n")
    write_mappings(tmp_path, {"kpis": {"ts": "hour", "conversions": "orders", "spend": "cost"}})
    ds = load_dataset(tmp_path)
    assert isinstance(ds, Dataset) and "kpis" in ds and ds.get("llm_calls") is None
    assert ds["kpis"].segments == ("country",)
    with pytest.raises(ContractError, match="no llm_calls table"):
        ds["llm_calls"]


# --------------------------------------------------------------------------- properties

_ts = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=0))
_money = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
_count = st.integers(min_value=0, max_value=2**40)
_geo = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ ,;\"'é", min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_ts, _geo, _count, _money), min_size=1, max_size=30,
                     unique_by=lambda r: (r[0], r[1])),
       fmt=st.sampled_from(["csv", "parquet", "arrow"]), offset_minutes=st.sampled_from([0, 90, -330, 600]))
def test_any_valid_kpis_rows_load_and_round_trip(tmp_path, rows, fmt, offset_minutes):
    ts, geo, conv, spend = (list(x) for x in zip(*rows))
    frame = pl.DataFrame({"ts": ts, "geo": geo, "conversions": conv, "spend": spend},
                         schema={"ts": pl.Datetime("us"), "geo": pl.String, "conversions": pl.Int64, "spend": pl.Float64})
    if fmt == "csv":
        # write local times with an offset; loading must convert them back to the same UTC instants
        sign = "+" if offset_minutes >= 0 else "-"
        suffix = f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
        local = frame.with_columns((pl.col("ts") + timedelta(minutes=offset_minutes)).dt.strftime("%Y-%m-%dT%H:%M:%S")
                                   + pl.lit(suffix))
        path = tmp_path / "kpis.csv"
        local.write_csv(path)
    elif fmt == "parquet":
        path = tmp_path / "kpis.parquet"
        frame.write_parquet(path)
    else:
        path = tmp_path / "kpis.arrow"
        frame.write_ipc(path)
    table = load_table(path, "kpis", mapping={"segments": ["geo"]})
    assert table.frame["ts"].to_list() == ts
    assert table.frame["geo"].to_list() == geo
    assert table.frame["conversions"].to_list() == [float(c) for c in conv]
    assert table.frame["spend"].to_list() == spend


_cell = st.one_of(st.none(), st.text(max_size=8), st.integers(-10, 10), st.floats(allow_nan=True, allow_infinity=True),
                  st.booleans(), st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))


def _odd_series(odd: str, name: str, ints: list[int]) -> pl.Series:
    series = pl.Series(name, ints, dtype=pl.Int64)
    if odd == "date":
        return series.cast(pl.Date)
    if odd == "duration":
        return series.cast(pl.Duration("ms"))
    if odd == "list":
        return pl.Series(name, [[i] for i in ints], dtype=pl.List(pl.Int64))
    if odd == "cat":
        return series.cast(pl.String).cast(pl.Categorical)
    if odd == "tz":
        return (series * 3_600_000_000).cast(pl.Datetime("us", "America/New_York"))
    return pl.Series(name, [None] * len(ints), dtype=pl.Null)


@settings(max_examples=150, deadline=None)
@given(table=st.sampled_from(sorted(TABLES)), data=st.data())
def test_random_garbage_frames_never_raise_anything_but_a_driftdesk_error(table, data):
    spec = TABLES[table]
    names = data.draw(st.lists(st.sampled_from([r.name for r in spec.roles if not r.many] + ["geo", "x"]),
                               unique=True, min_size=0, max_size=6))
    n = data.draw(st.integers(0, 6))
    columns = {}
    for name in names:
        kind = data.draw(st.sampled_from(["text", "int", "float", "bool", "datetime", "mixed", "odd"]))
        if kind == "text":
            values = data.draw(st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=n, max_size=n))
            columns[name] = pl.Series(name, values, dtype=pl.String)
        elif kind == "int":
            columns[name] = pl.Series(name, data.draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), dtype=pl.Int64)
        elif kind == "float":
            columns[name] = pl.Series(name, data.draw(st.lists(st.floats(), min_size=n, max_size=n)), dtype=pl.Float64)
        elif kind == "bool":
            columns[name] = pl.Series(name, data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=pl.Boolean)
        elif kind == "datetime":
            values = data.draw(st.lists(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
                                        min_size=n, max_size=n))
            columns[name] = pl.Series(name, values, dtype=pl.Datetime("us"))
        elif kind == "mixed":
            values = [repr(x) for x in data.draw(st.lists(_cell, min_size=n, max_size=n))]
            columns[name] = pl.Series(name, values, dtype=pl.String)
        else:  # types no role takes: dates, durations, lists, categoricals, zoned datetimes, nulls
            odd = data.draw(st.sampled_from(["date", "duration", "list", "cat", "tz", "null"]))
            ints = data.draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n))
            columns[name] = _odd_series(odd, name, ints)
    frame = pl.DataFrame(columns) if columns else pl.DataFrame({"empty": np.zeros(n)})
    mapping = data.draw(st.one_of(st.none(), st.dictionaries(st.sampled_from([r.name for r in spec.roles] + ["bogus"]),
                                                             st.sampled_from(list(frame.columns) + ["missing"]),
                                                             max_size=2)))
    try:
        result, violations = validate_frame(frame, table, mapping=mapping, source="garbage")
    except DriftdeskError:
        return
    if result is None:
        assert violations and all(v.message.startswith("garbage: ") for v in violations)
    else:
        assert set(spec.required) <= set(result.frame.columns)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.sampled_from(sorted(TABLES)),
       text=st.text(alphabet=st.sampled_from(list("ts,;\t|\n\"'0123456789-:TZ+. abcxyzé")), max_size=300),
       header=st.sampled_from(["", "ts,score,conversions,spend\n", "release_id;case_id;passed\n",
                               "start\tlayer\tseverity\n", "date,name\n"]))
def test_random_csv_text_never_raises_anything_but_a_driftdesk_error(tmp_path, table, text, header):
    path = tmp_path / "random.csv"
    path.write_text(header + text, encoding="utf-8")
    try:
        result = load_table(path, table)
    except DriftdeskError as exc:
        assert str(path) in str(exc) or "unknown table" in str(exc)
        return
    assert isinstance(result, Table)


@pytest.mark.parametrize("lazy", [False, True])
def test_a_table_says_which_roles_it_has_in_memory_and_on_a_scan(lazy):
    # a scanned table answers from its schema: no PerformanceWarning (an error here) and no read of its rows
    frame = pl.DataFrame({"ts": [datetime(2026, 10, 5)], "score": [0.5]})
    table = Table("decisions", frame.lazy() if lazy else frame, "decisions.parquet")
    assert table.has("score")
    assert not table.has("label")


def test_csv_text_columns_keep_what_was_written(tmp_path):
    """A CSV reader would read a segment "TRUE" as a boolean and a version "1.10" or an id "007" as a number; the
    contract reads the columns it keeps as text as they were written."""
    kpis = csv(tmp_path, "ts,flag,campaign,conversions,spend\n"
                         "2026-01-01T00:00:00Z,TRUE,007,1,2.0\n2026-01-01T00:00:00Z,False,010,1,2.0\n")
    mapping = {"segments": ["flag", "campaign"]}
    frame = load_table(kpis, "kpis", mapping=mapping).frame
    assert frame["flag"].to_list() == ["TRUE", "False"]
    assert frame["campaign"].to_list() == ["007", "010"]
    decisions = csv(tmp_path, "ts,score,model_version\n2026-01-01T00:00:00Z,0.5,1.10\n2026-01-01T01:00:00Z,0.5,1.2\n",
                    name="decisions.csv")
    assert load_table(decisions, "decisions").frame["model_version"].to_list() == ["1.10", "1.2"]
