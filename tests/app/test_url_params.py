"""Old URL spellings: a link shared before a parameter or one of its values was renamed still opens the same view."""

from __future__ import annotations

import datetime as dt
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


def test_every_renamed_parameter_and_value_is_rewritten():
    params = params_module()
    for old, new in params.RENAMED_PARAMS.items():
        assert params.upgraded({old: ["x"], "data": ["sample"]}) == {new: ["x"], "data": ["sample"]}, old
    for name, words in params.RENAMED_VALUES.items():
        for old, new in words.items():
            assert params.upgraded({name: [old]}) == {name: [new]}, (name, old)


def test_each_new_name_is_a_parameter_the_app_declares():
    params = params_module()
    declared = {v for k, v in vars(params).items() if k.isupper() and isinstance(v, str)}
    assert set(params.RENAMED_PARAMS.values()) <= declared
    assert set(params.RENAMED_VALUES) <= declared


# a link shared before the rename, the same link today, and the widgets it must set (key -> value)
OLD_LINKS = {
    "overview": ({"date": "2026-10-08"}, {"day": "2026-10-08"}, {"day": dt.date(2026, 10, 8)}),
    "drift": (
        {"drift_table": "decisions", "drift_date": "2026-08-26", "drift_baselines": ["day_over_day", "week_over_week"],
         "drift_custom": "2026-08-03T00:00/2026-08-10T00:00", "drift_by": "source", "drift_column": "ctr_7d",
         "drift_vs": "week_over_week", "drift_stat": "psi"},
        {"table": "decisions", "day": "2026-08-26", "baselines": ["day_over_day", "week_over_week"],
         "custom": "2026-08-03T00:00/2026-08-10T00:00", "by": "source", "column": "ctr_7d", "vs": "week_over_week",
         "statistic": "psi"},
        {"day": dt.date(2026, 8, 26), "by": "source", "column": "ctr_7d", "vs": "week_over_week", "statistic": "psi"}),
    "seasonality": (
        {"sz_table": "kpis", "sz_metric": "cpa", "sz_segment": "geo=DE", "sz_mode": "causal", "sz_day": "2026-10-08"},
        {"table": "kpis", "metric": "cpa", "segment": "geo=DE", "mode": "causal", "day": "2026-10-08"},
        {"metric": "cpa", "segment": "geo=DE", "mode": "causal", "day": dt.date(2026, 10, 8)}),
    "llm": (
        {"llm_by": "model", "llm_end": "2026-09-24", "llm_days": "2", "llm_metric": "validator failure rate",
         "llm_budget": "50.0"},
        {"by": "model", "end": "2026-09-24", "days": "2", "metric": "validator_failure_rate", "budget": "50.0"},
        {"by": "model", "end": dt.date(2026, 9, 24), "days": 2, "metric": "validator_failure_rate", "budget": 50.0}),
    "impact": ({"metric": "CPA", "end": "2026-09-20"}, {"metric": "cpa", "end": "2026-09-20"}, {"metric": "cpa"}),
}


def widget_value(at, key: str):
    for kind in ("selectbox", "date_input", "multiselect", "number_input", "text_input"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0].value
    raise AssertionError(f"no widget with key {key!r}")


@needs_sample
@pytest.mark.parametrize("page", sorted(OLD_LINKS))
def test_a_link_with_the_old_names_of_a_page_opens_the_same_view(page):
    old, new, widgets = OLD_LINKS[page]
    then = open_page(f"app_pages/{page}.py", data="sample", **old)
    now = open_page(f"app_pages/{page}.py", data="sample", **new)
    for key, value in widgets.items():
        assert widget_value(then, key) == value == widget_value(now, key), key
    params = params_module()
    assert not set(then.query_params) & set(params.RENAMED_PARAMS)  # the address bar shows today's names
    assert texts(then) == texts(now)
