"""Old URL spellings: a link shared before a parameter or one of its values was renamed still opens the same view."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from app_helpers import APP, open_page, texts

from driftdesk.paths import sample_data_dir

needs_sample = pytest.mark.skipif(not (sample_data_dir() / "kpis.parquet").exists(), reason="sample data not present")


def params_module():
    app_dir = str(Path(APP).parent)
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    return importlib.import_module("ui.params")


def test_upgraded_rewrites_old_names_and_values(monkeypatch):
    params = params_module()
    monkeypatch.setitem(params.RENAMED_PARAMS, "old_vs", "vs")
    assert params.upgraded({"vs": ["previous day"], "data": ["sample"]}) == {"vs": ["day_over_day"], "data": ["sample"]}
    assert params.upgraded({"old_vs": ["previous week"]}) == {"vs": ["week_over_week"]}
    assert params.upgraded({"old_vs": ["previous week"], "vs": ["day_over_day"]}) == {"vs": ["day_over_day"]}
    assert params.upgraded({"vs": ["yearly"]}) == {"vs": ["yearly"]}  # not an old spelling: left for the widget
    assert params.upgraded({"days": ["3", "5"]}) == {"days": ["3", "5"]}


def test_every_old_value_maps_to_a_value_that_is_not_old_itself():
    params = params_module()
    for name, words in params.RENAMED_VALUES.items():
        assert not set(words.values()) & set(words), name  # no chains, so one rewrite (and one rerun) is enough
    assert not set(params.RENAMED_PARAMS.values()) & set(params.RENAMED_PARAMS)


@needs_sample
def test_a_link_with_an_old_parameter_name_opens_the_same_view(monkeypatch):
    params = params_module()
    monkeypatch.setitem(params.RENAMED_PARAMS, "compared_with", "vs")
    page = "app_pages/impact.py"
    then = open_page(page, data="sample", end="2026-09-20", days="3", compared_with="previous day")
    now = open_page(page, data="sample", end="2026-09-20", days="3", vs="day_over_day")
    assert then.selectbox(key="vs").value == "day_over_day"
    assert "compared_with" not in then.query_params and then.query_params.get("vs") == "day_over_day"
    assert texts(then) == texts(now)
