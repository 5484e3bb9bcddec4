"""Tables found by content: folders in other people's shapes, built here, and the proposal for each file."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftdesk.contract import (
    MAPPING_FILE,
    TABLES,
    load_dataset,
    load_table,
    read_mappings,
    read_settings,
    resolve_mapping,
    write_mappings,
)
from driftdesk.errors import ContractError
from driftdesk.io import read_table
from driftdesk.proposal import SYNONYMS, name_score, normalise, propose_file, propose_folder
from foreign_data import KPIS_FILE, NOTES_FILE, SCORES_FILE, write_foreign_folder


@pytest.fixture
def foreign(tmp_path: Path):
    return write_foreign_folder(tmp_path / "advertiser")


def test_names_are_compared_in_one_spelling():
    assert normalise("Cost (USD)") == "cost_usd"
    assert normalise("eventTime") == "event_time"
    assert normalise("  Purchase Value ") == "purchase_value"
    assert name_score("spend", "kpis", "spend")[0] == 1.0
    assert name_score("Cost (USD)", "kpis", "spend")[0] == 0.9
    assert name_score("p_click", "decisions", "score")[0] == 0.75
    assert name_score("did_buy", "decisions", "label")[0] == 0.75
    assert name_score("total media spend", "kpis", "spend")[0] == 0.55
    assert name_score("geo", "kpis", "spend")[0] == 0.0


def test_a_foreign_folder_is_read_by_content(foreign):
    proposal = propose_folder(foreign.folder)
    by_file = {f.name: f for f in proposal.files}
    kpis, scores, notes = by_file[KPIS_FILE], by_file[SCORES_FILE], by_file[NOTES_FILE]
    assert (kpis.table, scores.table, notes.table) == ("kpis", "decisions", None)
    assert kpis.mapping() == {"ts": "Event Time", "impressions": "Impressions", "clicks": "Clicks",
                              "conversions": "Purchases", "spend": "Cost (USD)", "revenue": "Purchase Value",
                              "segments": ["Country", "Platform"]}
    assert scores.mapping() == {"ts": "scored_at", "score": "p_convert", "label": "converted",
                                "model_version": "model", "segments": ["country", "platform"], "features": ["bid_usd"]}
    assert kpis.level == "high" and scores.level in ("high", "medium")
    roles = {r.role: r for r in kpis.fit.roles}
    assert "UTC offsets" in roles["ts"].reason
    assert {r.role: r for r in scores.fit.roles}["score"].reason.endswith("probabilities in [0, 1]")
    assert NOTES_FILE in notes.note and "matches no table" in notes.note and "Data page" in notes.note


def test_the_folder_loads_with_the_proposal_and_local_times_become_utc(foreign):
    ds = load_dataset(foreign.folder)
    assert set(ds.tables) == {"kpis", "decisions"}
    assert any(NOTES_FILE in n for n in ds.notes)
    kpis = ds["kpis"].frame
    # New York's clocks go back on 2026-11-01: "01:00-04:00" and "01:00-05:00" are two hours, 05:00 and 06:00 UTC
    export = read_table(foreign.kpis)
    repeated = export.filter(pl.col("Event Time").str.starts_with("2026-11-01 01:00"))["Event Time"].unique().sort()
    assert repeated.to_list() == ["2026-11-01 01:00:00-04:00", "2026-11-01 01:00:00-05:00"]
    hours = kpis.filter(pl.col("ts").dt.date() == dt.date(2026, 11, 1))["ts"].unique()
    assert dt.datetime(2026, 11, 1, 5) in hours.to_list() and dt.datetime(2026, 11, 1, 6) in hours.to_list()
    assert kpis.height == export.height  # no row lost, none a duplicate
    assert kpis["ts"].min() == dt.datetime(2026, 10, 19) and kpis["spend"].sum() == pytest.approx(
        export["Cost (USD)"].sum())


def test_naive_local_times_repeat_an_hour_and_the_message_names_the_rows(tmp_path):
    export = read_table(write_foreign_folder(tmp_path / "a").kpis)
    naive = export.with_columns(pl.col("Event Time").str.slice(0, 19))  # the offsets dropped
    folder = tmp_path / "naive"
    folder.mkdir()
    naive.write_csv(folder / "hourly.csv")
    with pytest.raises(ContractError, match=r"duplicate key.*2026-11-01 01:00"):
        load_dataset(folder)


SHAPES = {
    "kpis": {"date": ["2026-10-01", "2026-10-02"], "campaign": ["a", "b"], "spend": [1.0, 2.0], "conv": [1, 2],
             "imps": [100, 200]},
    "decisions": {"timestamp": [1_790_000_000_000, 1_790_000_360_000], "prob": [0.2, 0.7], "y": [0, 1],
                  "browser": ["x", "y"]},
    "llm_calls": {"created_at": ["2026-10-01T10:00:00Z", "2026-10-01T10:01:00Z"], "model_name": ["m", "m"],
                  "prompt_tokens": [10, 20], "completion_tokens": [5, 6], "latency": [120.0, 130.0],
                  "cost_usd": [0.01, 0.02]},
    "releases": {"deployed_at": ["2026-10-01T10:00:00+02:00", "2026-10-02T10:00:00+02:00"],
                 "release": ["r1", "r2"], "commit": ["abc", "def"], "component": ["model", "prompt"]},
    "incidents": {"started_at": ["2026-10-01 10:00"], "resolved_at": ["2026-10-01 12:00"], "sev": ["P2"],
                  "root_cause": ["bad deploy"]},
    "service": {"time": ["2026-10-01T10:00:00Z", "2026-10-01T11:00:00Z"], "service_name": ["api", "api"],
                "requests": [100, 120], "p99": [300.0, 310.0], "errors": [1, 0]},
    "calendar": {"day": ["2026-11-27"], "holiday": ["Black Friday"]},
    "golden_runs": {"release": ["r1", "r1"], "case": ["c1", "c2"], "pass": [True, False], "attempt": [0, 0]},
}


@pytest.mark.parametrize("table", sorted(SHAPES))
def test_each_table_in_a_stranger_s_words_is_found(table, tmp_path):
    path = tmp_path / "export 17.csv"  # a name that says nothing
    pl.DataFrame(SHAPES[table]).write_csv(path)
    proposal = propose_file(path)
    assert proposal.table == table, proposal.candidates
    loaded = load_table(path, table, mapping=proposal.mapping())
    assert set(TABLES[table].required) <= set(loaded.frame.columns)


def test_the_sample_loads_exactly_as_its_files_and_mapping_say(sample_dir):
    """The proposal for a file named after its table is the contract's default mapping: the sample loads as before."""
    remembered = read_mappings(sample_dir)
    ds = load_dataset(sample_dir)
    proposal = propose_folder(sample_dir, mappings=remembered)
    for name, table in ds.tables.items():
        path = sample_dir / Path(table.source).name
        assert path.stem == name
        frame = read_table(path)
        single, segments, features = resolve_mapping(frame.columns, frame.schema, TABLES[name], remembered.get(name),
                                                     str(path))
        expected = load_table(path, name, mapping=remembered.get(name))
        assert table.frame.equals(expected.frame), name
        assert (table.segments, table.features) == (tuple(segments), tuple(features))
        assert proposal.tables[name].mapping() == {**single, **({"segments": segments} if "segments" in
                                                   {r.name for r in TABLES[name].roles} else {}),
                                                   **({"features": features} if name == "decisions" else {})}


def test_two_files_of_one_table_load_the_better_one_and_name_the_other(foreign):
    pl.read_csv(foreign.kpis).head(300).write_csv(foreign.folder / "kpis backup.csv")
    proposal = propose_folder(foreign.folder)
    assert proposal.tables["kpis"].name == KPIS_FILE
    note = next(n for n in proposal.notes if n.startswith("kpis backup.csv"))
    assert "also looks like the kpis table" in note and KPIS_FILE in note and "move it out" in note
    assert set(load_dataset(foreign.folder).tables) == {"kpis", "decisions"}


def test_a_remembered_column_the_file_lacks_leaves_that_table_out_and_the_rest_loads(foreign):
    (foreign.folder / MAPPING_FILE).write_text(f'[mapping.kpis]\nfile = "{KPIS_FILE}"\nspend = "Spend EUR"\n')
    before = (foreign.folder / MAPPING_FILE).read_bytes()
    ds = load_dataset(foreign.folder)
    assert set(ds.tables) == {"decisions"}
    note = next(n for n in ds.notes if "Spend EUR" in n)
    assert note.startswith(KPIS_FILE) and "Correct the mapping" in note
    assert (foreign.folder / MAPPING_FILE).read_bytes() == before


def test_a_remembered_file_wins_and_a_role_left_empty_stays_empty(foreign):
    write_mappings(foreign.folder, {"kpis": {"file": KPIS_FILE, "revenue": "", "segments": []}})
    settings_ = read_settings(foreign.folder)
    assert settings_.files == {"kpis": KPIS_FILE} and settings_.mappings["kpis"] == {"revenue": "", "segments": []}
    kpis = load_dataset(foreign.folder)["kpis"]
    assert not kpis.has("revenue") and kpis.segments == ()
    # no segments chosen: the rows of an hour still differ by country and platform, none is a duplicate
    assert kpis.frame.height == read_table(foreign.kpis).height


def test_the_proposal_as_toml_reads_back_as_the_folder_s_settings(foreign):
    proposal = propose_folder(foreign.folder)
    doc = tomllib.loads(proposal.to_toml(calendar={"holidays": ["US"], "events": True}))
    assert doc["mapping"]["kpis"]["file"] == KPIS_FILE and doc["calendar"] == {"holidays": ["US"], "events": True}
    (foreign.folder / MAPPING_FILE).write_text(proposal.to_toml())
    again = propose_folder(foreign.folder, mappings=read_mappings(foreign.folder),
                           files=read_settings(foreign.folder).files)
    assert {t: f.mapping() for t, f in again.tables.items()} == {t: f.mapping() for t, f in proposal.tables.items()}
    assert all(f.remembered for f in again.tables.values()) and again.unremembered == ()


def test_a_header_only_file_writes_down_no_segments_so_its_rows_later_split_by_its_text_columns(tmp_path):
    (tmp_path / "kpis.csv").write_text("ts,geo,conversions,spend\n")
    proposal = propose_folder(tmp_path)
    assert "segments" not in proposal.tables["kpis"].mapping()
    (tmp_path / MAPPING_FILE).write_text(proposal.to_toml())
    (tmp_path / "kpis.csv").write_text("ts,geo,conversions,spend\n2026-01-01T00:00:00Z,DE,1,2.0\n"
                                       "2026-01-01T00:00:00Z,US,3,4.0\n")
    assert load_dataset(tmp_path)["kpis"].segments == ("geo",)


_names = st.sampled_from(sorted({s for v in SYNONYMS.values() for s in v if "*" not in s} | {"x", "Value 2", ""}))
_columns = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=3, max_size=3),
    st.lists(st.integers(min_value=-2**40, max_value=2**40), min_size=3, max_size=3),
    st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.lists(st.sampled_from(["2026-10-01T00:00:00+02:00", "2026-10-01", "yesterday", ""]), min_size=3, max_size=3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(_names, _columns, min_size=1, max_size=7))
def test_any_frame_gets_a_proposal_or_a_note_never_an_exception(data, tmp_path):
    frame = pl.DataFrame({name or "unnamed": values for name, values in data.items()}, strict=False)
    proposal = propose_file(tmp_path / "any.parquet", frame=frame)
    assert 0.0 <= proposal.confidence <= 1.0
    assert (proposal.table is None) == (proposal.note is not None)
    if proposal.table is not None:
        assert set(TABLES[proposal.table].required) <= set(proposal.mapping())
