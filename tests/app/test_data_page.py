"""The Data page through AppTest: the sample, folders, uploads, column mapping, readable contract violations."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from app_helpers import hourly_kpis, no_exception, open_page, shown, texts

from driftdesk.contract import MAPPING_FILE, load_dataset, read_mappings, read_settings
from driftdesk.paths import state_dir
from foreign_data import KPIS_FILE, NOTES_FILE, SCORES_FILE, write_foreign_folder

PAGE = "app_pages/data.py"


def frame_with(at, column: str):
    """The page's dataframe that has ``column`` (Files: why; Loaded tables: rows; Contract check: rule)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_sample_is_loaded_valid_and_its_mapping_read_only(sample_dir: Path):
    before = (sample_dir / MAPPING_FILE).read_bytes()
    at = open_page(PAGE, data="sample")
    page = texts(at)
    assert "Every table meets the data contract." in page
    assert "already remembered" in page
    shown = frame_with(at, "rows")  # the loaded tables: rows, time range, columns
    assert {"kpis", "decisions", "llm_calls", "releases", "incidents"} <= set(shown["table"])
    kpis_rows = int(shown.loc[shown["table"] == "kpis", "rows"].iloc[0])
    assert kpis_rows == pl.scan_parquet(sample_dir / "kpis.parquet").select(pl.len()).collect().item()
    files = frame_with(at, "why")  # which table each file is read as, and why
    assert dict(zip(files["file"], files["table"]))["kpis.parquet"] == "kpis"
    submit = at.button(key="FormSubmitter:mapping_decisions-Remember this table")
    assert submit.disabled
    assert not [b for b in at.button if b.key == "remember_proposal"]  # the sample is never written to
    assert (sample_dir / MAPPING_FILE).read_bytes() == before
    assert any("calendar days" in e.label for e in at.expander)


def test_deep_link_chooses_the_table_to_map():
    at = open_page(PAGE, data="sample", table="kpis")
    assert at.selectbox(key="table").value == "kpis"
    assert at.selectbox(key="file_kpis").value == "kpis.parquet"
    assert at.selectbox(key="map_kpis_spend").value == "spend"


def test_a_folder_that_does_not_exist_is_an_error_on_the_page(tmp_path: Path):
    at = open_page(PAGE, data="sample")
    at.text_input[0].set_value(str(tmp_path / "missing"))
    at.button(key="FormSubmitter:folder_form-Load this folder").click().run()
    no_exception(at)
    assert any("is not a data folder this server can open" in e.value for e in at.error)
    assert at.query_params["data"] == "sample"  # the data source did not change


def test_loading_a_folder_puts_it_in_the_url(kpis_folder: Path):
    at = open_page(PAGE, data="sample")
    at.text_input[0].set_value(str(kpis_folder))
    at.button(key="FormSubmitter:folder_form-Load this folder").click().run()
    no_exception(at)
    assert at.query_params["data"] == str(kpis_folder.resolve())
    assert "Every table meets the data contract." in texts(at)


def test_a_foreign_folder_loads_in_three_clicks(tmp_path: Path):
    """Files named anything, foreign column names, local times with offsets: the Folder tab (the browser's first
    click; AppTest has every tab's content at hand), "Load this folder", "Remember this mapping"."""
    foreign = write_foreign_folder(tmp_path / "advertiser")
    at = open_page(PAGE, data="sample")
    clicks = 1  # the Folder tab
    at.text_input[0].set_value(str(foreign.folder))  # typing is not a click
    at.button(key="FormSubmitter:folder_form-Load this folder").click().run()
    clicks += 1
    no_exception(at)
    assert at.query_params["data"] == str(foreign.folder.resolve())
    assert "Every table meets the data contract." in texts(at)  # loaded from the proposal already
    files = frame_with(at, "why")
    read_as = {f: t if isinstance(t, str) and t != "–" else None for f, t in zip(files["file"], files["table"])}  # "–": none
    assert read_as == {KPIS_FILE: "kpis", SCORES_FILE: "decisions", NOTES_FILE: None}
    assert any(NOTES_FILE in w.value and "matches no table" in w.value for w in at.warning)
    at.button(key="remember_proposal").click().run()
    clicks += 1
    no_exception(at)
    assert clicks <= 3
    settings = read_settings(foreign.folder)
    assert settings.files == {"kpis": KPIS_FILE, "decisions": SCORES_FILE}
    assert settings.mappings["kpis"]["spend"] == "Cost (USD)" and settings.mappings["kpis"]["ts"] == "Event Time"
    assert at.button(key="remember_proposal").disabled  # nothing left to remember
    # every page of the app now reads the folder
    at.switch_page("app_pages/overview.py").run()
    no_exception(at)
    assert not at.error


def test_correcting_a_table_is_remembered_and_read_back(tmp_path: Path):
    foreign = write_foreign_folder(tmp_path / "advertiser")
    at = open_page(PAGE, data=str(foreign.folder), table="kpis")
    assert at.selectbox(key="file_kpis").value == KPIS_FILE
    assert at.selectbox(key="map_kpis_revenue").value == "Purchase Value"
    at.selectbox(key="map_kpis_revenue").set_value("(none)")  # not the revenue this team reports
    at.multiselect(key="map_kpis_segments").set_value(["Country"])
    at.button(key="FormSubmitter:mapping_kpis-Remember this table").click().run()
    no_exception(at)
    remembered = read_settings(foreign.folder)
    assert remembered.files["kpis"] == KPIS_FILE
    assert remembered.mappings["kpis"]["revenue"] == "" and remembered.mappings["kpis"]["segments"] == ["Country"]
    table = load_dataset(foreign.folder)["kpis"]
    assert table.segments == ("Country",) and not table.has("revenue")
    again = open_page(PAGE, data=str(foreign.folder), table="kpis")
    assert again.selectbox(key="map_kpis_revenue").value == "(none)"


def test_a_remembered_column_the_file_lacks_is_named_and_the_rest_loads(tmp_path: Path):
    foreign = write_foreign_folder(tmp_path / "advertiser")
    (foreign.folder / MAPPING_FILE).write_text(f'[mapping.kpis]\nfile = "{KPIS_FILE}"\nspend = "Spend EUR"\n',
                                               encoding="utf-8")
    before = (foreign.folder / MAPPING_FILE).read_bytes()
    at = open_page(PAGE, data=str(foreign.folder))
    warning = next(w.value for w in at.warning if "Spend EUR" in w.value)
    assert KPIS_FILE.split(" ")[0] in warning and "Correct the mapping" in warning
    shown = frame_with(at, "rows")
    assert list(shown["table"]) == ["decisions"]  # the rest of the folder still loads
    assert (foreign.folder / MAPPING_FILE).read_bytes() == before  # nothing overwritten


def test_two_files_of_one_table_load_one_and_say_what_to_do_with_the_other(tmp_path: Path):
    foreign = write_foreign_folder(tmp_path / "advertiser")
    copy = foreign.folder / "campaign export old.csv"
    pl.read_csv(foreign.kpis).head(500).write_csv(copy)
    at = open_page(PAGE, data=str(foreign.folder))
    warning = next(w.value for w in at.warning if "also looks like the kpis table" in w.value)
    assert "campaign export old.csv" in warning.replace("\\", "") and "move it out" in warning
    shown = frame_with(at, "rows")
    assert set(shown["table"]) == {"kpis", "decisions"}
    assert shown.loc[shown["table"] == "kpis", "file"].iloc[0] == KPIS_FILE


def test_bad_upload_shows_violations_not_a_traceback():
    at = open_page(PAGE, data="sample")
    good = hourly_kpis(days=2)
    buf = io.BytesIO()
    good.with_columns(spend=pl.lit(-1.0)).head(3).vstack(good.slice(3)).write_csv(buf)
    at.file_uploader(key="upload_files").set_value([("kpis.csv", buf.getvalue(), "text/csv"),
                                                    ("incidents.csv", b"", "text/csv")]).run()
    no_exception(at)
    at.button(key="save_upload").click().run()
    no_exception(at)
    assert at.query_params["data"].startswith("upload:")
    assert any("does not load" in e.value for e in at.error)
    problems = frame_with(at, "rule")
    spend = problems[problems["column"].str.startswith("spend")]
    assert spend["rule"].iloc[0] == "out of range: must be >= 0"
    assert int(spend["count"].iloc[0]) == 3
    assert "row 1: -1.0" in spend["examples"].iloc[0]
    assert any("empty" in rule for rule in problems.loc[problems["table"] == "incidents", "rule"])


def test_an_upload_that_fits_no_table_says_so_and_what_to_do():
    at = open_page(PAGE, data="sample")
    at.file_uploader(key="upload_files").set_value(("export_2026.csv", b"a,b\n1,2\n", "text/csv")).run()
    at.button(key="save_upload").click().run()
    no_exception(at)
    assert at.query_params["data"].startswith("upload:")
    assert any("export_2026.csv matches no table" in w.value.replace("\\", "") for w in at.warning)


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


def test_a_reupload_that_only_adds_a_file_keeps_the_mapping(tmp_path: Path):
    foreign = write_foreign_folder(tmp_path / "advertiser")
    kpis = (KPIS_FILE, foreign.kpis.read_bytes(), "text/csv")
    at = open_page(PAGE, data="sample")
    at.file_uploader(key="upload_files").set_value([kpis]).run()
    at.button(key="save_upload").click().run()
    first = at.query_params["data"]
    at.selectbox(key="table").set_value("kpis").run()
    at.multiselect(key="map_kpis_segments").set_value(["Platform"])
    at.button(key="FormSubmitter:mapping_kpis-Remember this table").click().run()
    no_exception(at)
    again = open_page(PAGE, data="sample")
    scores = (SCORES_FILE, foreign.scores.read_bytes(), "application/octet-stream")
    again.file_uploader(key="upload_files").set_value([kpis, scores]).run()
    again.button(key="save_upload").click().run()
    no_exception(again)
    second = again.query_params["data"]
    assert second != first  # new files, a new address ...
    ds = load_dataset(state_dir() / "uploads" / second.removeprefix("upload:"))
    assert ds["kpis"].segments == ("Platform",)  # ... and the mapping chosen for the first upload
    assert "decisions" in ds


def test_mapping_round_trip(renamed_folder: Path):
    """A table named after its table but with the user's column names loads from the proposal; remembering keeps it."""
    at = open_page(PAGE, data=str(renamed_folder))
    assert "Every table meets the data contract." in texts(at)
    assert at.selectbox(key="table").value == "kpis"
    assert at.selectbox(key="map_kpis_ts").value == "hour"
    assert at.selectbox(key="map_kpis_spend").value == "cost"
    assert at.selectbox(key="map_kpis_conversions").value == "sales"
    at.multiselect(key="map_kpis_segments").set_value(["country"])
    at.button(key="FormSubmitter:mapping_kpis-Remember this table").click().run()
    no_exception(at)
    remembered = read_mappings(renamed_folder)["kpis"]
    assert remembered["ts"] == "hour" and remembered["spend"] == "cost" and remembered["conversions"] == "sales"
    assert remembered["segments"] == ["country"]
    assert "Every table meets the data contract." in texts(at)
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
    problems = frame_with(at, "rule")
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


def test_a_file_linked_from_outside_the_allowed_folders_is_not_read(tmp_path: Path, tmp_path_factory):
    """A link inside an allowed folder leading out of it: its file is neither loaded nor quoted, and the page says
    which entry was left out and why."""
    import os

    outside = Path(tmp_path_factory.getbasetemp()).parent / f"outside-links-{os.getpid()}"
    outside.mkdir(exist_ok=True)
    secret = outside / "scores.csv"
    pl.DataFrame({"ts": ["2026-09-01T00:00:00Z"] * 3, "secret_column": ["s1", "s2", "s3"],
                  "score": [0.1, 0.2, 0.3]}).write_csv(secret)
    folder = tmp_path / "linked"
    folder.mkdir()
    hourly_kpis(days=3).write_parquet(folder / "kpis.parquet")
    (folder / "decisions.csv").symlink_to(secret)
    at = open_page(PAGE, data=str(folder))
    page = texts(at) + "".join(str(d.value.to_dict()) for d in at.dataframe)
    assert "secret_column" not in page and "s1" not in page
    assert "decisions.csv is a link to a file or folder outside linked: not read" in page
    loaded = frame_with(at, "rows")
    assert list(loaded["table"]) == ["kpis"]


def test_an_absurdly_long_or_unknown_data_source_is_one_plain_message():
    at = open_page("app_pages/overview.py", data="/tmp/" + "a" * 5000)
    assert any("is not a data folder this server can open" in e.value for e in at.error)
    at = open_page(PAGE, data="upload:0123456789abcdef")
    errors = " ".join(e.value for e in at.error)
    assert "no upload" in errors and str(state_dir()) not in errors


def test_a_folder_is_named_once_at_the_top(kpis_folder: Path):
    at = open_page(PAGE, data=str(kpis_folder))
    top = at.markdown[0].value
    assert top.count("kpis") == 1, top  # "Showing /…/kpis_only", not "Showing /…/kpis_only — /…/kpis_only"
    at = open_page(PAGE, data="sample")
    assert "Sample advertiser (bundled)" in shown(at.markdown[0].value) and "sample_data" in shown(at.markdown[0].value)
