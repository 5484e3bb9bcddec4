"""The app on every kind of bad link: never an exception on the page, a message where something cannot be shown,
and a server that reads data only from the sample, its upload store and the folders its operator allowed."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest
from robust_cases import APP_CASES, REFUSED, AppCase, _deep, _gates, _policy_link

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "app"))
sys.path.insert(0, str(ROOT / "app"))

from app_helpers import MARKDOWN_KINDS, make_app, shown, texts  # noqa: E402

TITLES = {"overview": "Overview", "data": "Data", "drift": "Drift", "calibration": "Calibration",
          "impact": "Segments & impact", "seasonality": "Seasonality", "llm": "LLM", "gates": "Gates",
          "rollouts": "Rollouts", "incidents": "Incidents"}


@pytest.fixture(scope="module")
def places(tiny, tmp_path_factory) -> dict[str, str]:
    """The placeholders of the app cases: allowed and forbidden folders, policy links."""
    root = Path(os.environ["DRIFTDESK_DATA_ROOTS"])
    outside = Path(tmp_path_factory.getbasetemp()).parent / f"outside-{os.getpid()}"
    outside.mkdir(exist_ok=True)
    shutil.copy(tiny / "kpis.parquet", outside / "kpis.parquet")  # a readable table the server must not show
    link = tmp_path_factory.mktemp("robust") / "link_out"
    link.symlink_to(outside, target_is_directory=True)
    bad_policy = tmp_path_factory.mktemp("robust") / "bad_policy"
    shutil.copytree(tiny, bad_policy)
    (bad_policy / "policy.toml").write_text("[[gate]\nname = 1\n", encoding="utf-8")
    yield {"tiny": str(tiny), "root": str(root), "outside": str(outside), "link_out": str(link),
           "bad_policy": str(bad_policy), "bomb": _policy_link(None, raw=b" " * 5_000_000),
           "deep": _policy_link(_deep(10)), "many": _policy_link(_gates(102)), "dotdot": _policy_link(_gates(1, ".."))}
    shutil.rmtree(outside, ignore_errors=True)


def opened(page: str, query: dict[str, str]):
    at = make_app(**query).switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def messages(at) -> str:
    return "\n".join(shown(e.value) for kind in ("error", "warning", "info") for e in getattr(at, kind))


@pytest.mark.parametrize("case", APP_CASES, ids=[c.kind for c in APP_CASES])
def test_bad_links_show_a_message_not_an_exception(case: AppCase, places):
    at = opened(case.page, {k: v.format(**places) for k, v in case.query})
    if case.needle is None:
        assert any(t.value == TITLES[case.page] for t in at.title), [t.value for t in at.title]
    else:
        assert case.needle in messages(at), messages(at)


def test_the_refusal_does_not_say_whether_the_folder_exists(places, tmp_path):
    """/etc exists, /etc-<random> does not: the two messages differ only by the name the link gave."""
    existing, missing = places["outside"], places["outside"] + "-missing"
    said = [messages(opened("overview", {"data": folder})).replace(folder, "FOLDER") for folder in (existing, missing)]
    assert said[0] == said[1] and REFUSED in said[0]


def test_a_refused_link_shows_no_value_from_the_folder(places):
    """The folder outside the roots holds a kpis table: none of its values or columns reaches the page."""
    at = opened("overview", {"data": places["outside"]})
    assert "conversions" not in texts(at) and not at.dataframe and not at.metric


def test_the_folder_tab_accepts_only_allowed_folders(places):
    at = opened("data", {"data": "sample"})
    at.text_input[0].set_value(places["outside"])
    at.button(key="FormSubmitter:folder_form-Load this folder").click().run()
    assert not at.exception and REFUSED in messages(at)
    assert at.query_params["data"] == "sample"  # the source did not change
    at.text_input[0].set_value(places["tiny"])
    at.button(key="FormSubmitter:folder_form-Load this folder").click().run()
    assert at.query_params["data"] == str(Path(places["tiny"]).resolve())


@pytest.mark.parametrize("error,needle", [
    (pl.exceptions.PanicException("index out of bounds: the len is 0"), "PanicException"),
    (RuntimeError("something nobody foresaw"), "RuntimeError"),
    (MemoryError(), "too large for this server's memory"),
])
def test_an_error_no_page_caught_is_a_message(error, needle, tiny, tmp_path, monkeypatch):
    """A reader's panic or a bug inside a page: a short message with the error's type, never a blank page."""
    import ui.loaders

    def fail(*args, **kwargs):
        raise error

    folder = shutil.copytree(tiny, tmp_path / "copy")  # a new source, so no cached view answers instead
    monkeypatch.setattr(ui.loaders, "overview", fail)
    at = opened("overview", {"data": str(folder)})
    assert needle in messages(at) and "could not be shown" in messages(at)
    assert not any("Traceback" in shown(e.value) for kind in MARKDOWN_KINDS for e in getattr(at, kind))
