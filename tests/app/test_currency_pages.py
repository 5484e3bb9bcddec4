"""The pages that show money, on a folder whose driftdesk.toml says ``currency = "EUR"``: euros in every sentence,
card, table and chart axis, never a dollar sign; a bad code is a message naming the file and the value."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from app_helpers import app_module, make_app, no_exception, open_page, shown_cells, texts
from streamlit.testing.v1 import AppTest

from driftdesk.contract import MAPPING_FILE
from driftdesk.format import format_value, money_in
from driftdesk.paths import sample_data_dir

needs_sample = pytest.mark.skipif(not (sample_data_dir() / "kpis.parquet").exists(), reason="sample data not generated")


def everything_shown(at: AppTest) -> str:
    """Every text a reader can see: markdown, metric cards, table cells as displayed, chart specs, widget labels."""
    parts = [texts(at)]
    parts += [f"{m.label} {m.value} {m.proto.delta}" for m in at.metric]
    parts += [json.dumps(shown_cells(d), default=str, ensure_ascii=False) if d.proto.arrow_data.styler.display_values
              else d.value.to_string() for d in at.dataframe]  # a table without display text shows its values
    parts += [c.proto.spec for c in at.get("plotly_chart")]
    parts += [w.label for w in at.number_input]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def eur_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("eur_pages") / "data"
    shutil.copytree(sample_data_dir(), folder)
    path = folder / MAPPING_FILE
    path.write_text('currency = "EUR"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@needs_sample
@pytest.mark.parametrize("page, query", [
    ("overview", {}),
    ("impact", {"end": "2026-10-11", "days": "5", "by": "geo", "metric": "cpa"}),
    ("llm", {}),
    ("rollouts", {}),
    ("seasonality", {"metric": "cpa"}),
])
def test_pages_show_money_in_the_folders_currency(eur_folder: Path, page: str, query: dict):
    at = open_page(f"app_pages/{page}.py", data=str(eur_folder), **query)
    assert not [e.value for e in at.error if "Roll back" not in e.value]  # a rollback decision is shown as one
    seen = everything_shown(at)
    assert "€" in seen and "$" not in seen, page


@needs_sample
def test_the_same_pages_show_dollars_without_a_currency():
    at = open_page("app_pages/impact.py", data="sample", end="2026-10-11", days="5", by="geo", metric="cpa")
    seen = everything_shown(at)
    assert "$" in seen and "€" not in seen


@needs_sample
def test_charts_and_controls_name_the_currency(eur_folder: Path):
    at = open_page("app_pages/impact.py", data=str(eur_folder), end="2026-10-11", days="5", by="geo", metric="cpa")
    waterfall = json.loads(next(c.proto.spec for c in at.get("plotly_chart") if '"waterfall"' in c.proto.spec))
    assert waterfall["layout"]["yaxis"]["tickprefix"] == "€" and "$" not in waterfall["layout"]["yaxis"]["tickformat"]
    at = open_page("app_pages/llm.py", data=str(eur_folder))
    assert at.number_input(key="budget").label == "Daily budget (EUR)"
    at = open_page("app_pages/data.py", data=str(eur_folder))
    assert "Money (spend, revenue, cost) is shown in EUR" in texts(at)


def test_a_bad_currency_is_a_message_naming_the_file_and_the_value(tmp_path: Path):
    folder = tmp_path / "bad_currency"
    shutil.copytree(sample_data_dir(), folder)
    path = folder / MAPPING_FILE
    path.write_text('currency = "Euro"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    for page in ("overview", "data"):
        at = make_app(data=str(folder)).switch_page(f"app_pages/{page}.py").run()
        no_exception(at)
        assert f"{path}: currency: 'Euro' is not a currency code" in texts(at), page


def test_a_deferred_download_is_built_in_the_runs_currency():
    """Streamlit builds a deferred download (the postmortem export) on a server thread, outside the page run."""
    later = app_module("ui.render.text").later
    with money_in("EUR"):
        job = later(format_value, 1.5, "usd")
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(job).result() == "€1.50"
        assert pool.submit(format_value, 1.5, "usd").result() == "$1.50"  # what it would be without ``later``
