"""The Data page through AppTest: the sample, folders, uploads, column mapping, readable contract violations."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from app_helpers import hourly_kpis, no_exception, open_page, texts

from driftdesk.contract import MAPPING_FILE, load_dataset, read_mappings

PAGE = "app_pages/data.py"


def test_sample_is_loaded_valid_and_its_mapping_read_only(sample_dir: Path):
    before = (sample_dir / MAPPING_FILE).read_bytes()
    at = open_page(PAGE, data="sample")
    page = texts(at)
    assert "Every table meets the data contract." in page
    assert "already remembered" in page
    shown = at.dataframe[0].value  # the loaded tables: rows, time range, columns
    assert {"kpis", "decisions", "llm_calls", "releases", "incidents"} <= set(shown["table"])
    kpis_rows = int(shown.loc[shown["table"] == "kpis", "rows"].iloc[0])
    assert kpis_rows == pl.scan_parquet(sample_dir / "kpis.parquet").select(pl.len()).collect().item()
    submit = at.button(key="FormSubmitter:mapping_decisions-Remember this mapping")
    assert submit.disabled
    assert (sample_dir / MAPPING_FILE).read_bytes() == before


def test_deep_link_chooses_the_table_to_map():
    at = open_page(PAGE, data="sample", table="kpis")
    assert at.selectbox(key="table").value == "kpis"
    assert at.selectbox(key="map_kpis_spend").value == "spend"


def test_a_folder_that_does_not_exist_is_an_error_on_the_page(tmp_path: Path):
    at = open_page(PAGE, data="sample")
    at.text_input[0].set_value(str(tmp_path / "missing"))
    at.button(key="FormSubmitter:folder_form-Load this folder").click().run()
    no_exception(at)
    assert any("no such folder on this server" in e.value for e in at.error)
    assert at.query_params["data"] == "sample"  # the data source did not change


def test_loading_a_folder_puts_it_in_the_url(kpis_folder: Path):
    at = open_page(PAGE, data="sample")
    at.text_input[0].set_value(str(kpis_folder))
    at.button(key="FormSubmitter:folder_form-Load this folder").click().run()
    no_exception(at)
    assert at.query_params["data"] == str(kpis_folder.resolve())
    assert "Every table meets the data contract." in texts(at)


def test_bad_upload_shows_violations_not_a_traceback():
    at = open_page(PAGE, data="sample")
    good = hourly_kpis(days=2)
    buf = io.BytesIO()
    good.with_columns(spend=pl.lit(-1.0)).head(3).vstack(good.slice(3)).write_csv(buf)
    at.file_uploader(key="upload_files").set_value([("kpis.csv", buf.getvalue(), "text/csv"),
                                                    ("incidents.csv", b"", "text/csv")]).run()
    no_exception(at)
    assert at.selectbox(key="upload_table_0").value == "kpis"  # guessed from the file name
    at.button(key="save_upload").click().run()
    no_exception(at)
    assert at.query_params["data"].startswith("upload:")
    assert any("does not load" in e.value for e in at.error)
    problems = at.dataframe[0].value
    spend = problems[problems["column"].str.startswith("spend")]
    assert spend["rule"].iloc[0] == "out of range: must be >= 0"
    assert int(spend["count"].iloc[0]) == 3
    assert "row 1: -1.0" in spend["examples"].iloc[0]
    assert any("empty" in rule for rule in problems.loc[problems["table"] == "incidents", "rule"])


def test_upload_without_a_table_name_asks_which_table():
    at = open_page(PAGE, data="sample")
    at.file_uploader(key="upload_files").set_value(("export_2026.csv", b"a,b\n1,2\n", "text/csv")).run()
    at.button(key="save_upload").click().run()
    no_exception(at)
    assert any("choose which table it holds" in e.value for e in at.error)
    assert at.query_params["data"] == "sample"


def test_same_upload_gets_the_same_shareable_address():
    content = io.BytesIO()
    hourly_kpis(days=3).write_csv(content)
    addresses = []
    for _ in range(2):
        at = open_page(PAGE, data="sample")
        at.file_uploader(key="upload_files").set_value(("kpis.csv", content.getvalue(), "text/csv")).run()
        at.button(key="save_upload").click().run()
        no_exception(at)
        addresses.append(at.query_params["data"])
        assert "Every table meets the data contract." in texts(at)
    assert addresses[0] == addresses[1]


def test_mapping_round_trip(renamed_folder: Path):
    at = open_page(PAGE, data=str(renamed_folder))
    assert any("does not load" in e.value for e in at.error)
    problems = at.dataframe[0].value
    assert "required column missing" in set(problems["rule"])
    assert at.selectbox(key="table").value == "kpis"
    at.selectbox(key="map_kpis_ts").set_value("hour")
    at.selectbox(key="map_kpis_spend").set_value("cost")
    at.selectbox(key="map_kpis_conversions").set_value("sales")
    at.multiselect(key="map_kpis_segments").set_value(["country"])
    at.button(key="FormSubmitter:mapping_kpis-Remember this mapping").click().run()
    no_exception(at)
    remembered = read_mappings(renamed_folder)["kpis"]
    assert remembered["ts"] == "hour" and remembered["spend"] == "cost" and remembered["conversions"] == "sales"
    assert remembered["segments"] == ["country"]
    assert "Every table meets the data contract." in texts(at)
    # the page reopened later prefills the remembered mapping, and the library loads the folder with it
    again = open_page(PAGE, data=str(renamed_folder))
    assert again.selectbox(key="map_kpis_ts").value == "hour"
    table = load_dataset(renamed_folder)["kpis"]
    assert table.segments == ("country",)
    assert table.frame["spend"].sum() == hourly_kpis(days=9)["spend"].sum()


BAD_KPIS = {
    "missing required column": ("ts,geo,spend\n2026-10-01T00:00,US,1\n", "required column missing"),
    "wrong type": ("ts,geo,spend,conversions\n2026-10-01T00:00,US,abc,1\n", "wrong type: expected a number"),
    "unparsable timestamp": ("ts,geo,spend,conversions\nsoon,US,1,1\n", "unparsable timestamp"),
    "empty file": ("", "the file is empty"),
    "duplicate keys": ("ts,geo,spend,conversions\n2026-10-01T00:00,US,1,1\n2026-10-01T00:00,US,2,1\n", "duplicate key"),
    "mixed time zones": ("ts,geo,spend,conversions\n2026-10-01T00:00Z,US,1,1\n2026-10-01T01:00,US,1,1\n", "mixed time zones"),
}


@pytest.mark.parametrize("kind", sorted(BAD_KPIS))
def test_each_kind_of_bad_input_is_a_readable_row(kind: str, tmp_path: Path):
    content, rule = BAD_KPIS[kind]
    (tmp_path / "kpis.csv").write_text(content, encoding="utf-8")
    at = open_page(PAGE, data=str(tmp_path))
    assert any("does not load" in e.value for e in at.error)
    problems = at.dataframe[0].value
    row = problems[problems["rule"].str.contains(rule, regex=False)]
    assert len(row) >= 1, problems.to_dict("records")
    assert (row["file"] == "kpis.csv").all()
    # the Overview of the same data says so too, without a traceback
    at.query_params.clear()
    at.switch_page("app_pages/overview.py").run()
    no_exception(at)
    assert any("Cannot load the data" in e.value for e in at.error)


def test_a_csv_with_another_delimiter_just_loads(tmp_path: Path):
    hourly_kpis(days=2).write_csv(tmp_path / "kpis.csv", separator=";")
    at = open_page(PAGE, data=str(tmp_path))
    assert "Every table meets the data contract." in texts(at)
