"""The Calibration page through AppTest: default view, deep links (INC-c), URL fallbacks, missing tables."""

from __future__ import annotations

import datetime as dt

import pytest
from app_helpers import no_exception, open_page, shown, texts

from driftdesk.paths import sample_data_dir

PAGE = "app_pages/calibration.py"
pytestmark = pytest.mark.skipif(not (sample_data_dir() / "decisions.parquet").exists(), reason="sample data not generated")


def metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


def test_default_view_compares_the_last_week_with_the_week_before():
    at = open_page(PAGE, data="sample")
    assert at.title[0].value == "Calibration"
    assert at.date_input(key="end").value == dt.date(2026, 11, 1)
    assert at.selectbox(key="days").value == 7 and at.selectbox(key="vs").value == "week_over_week"
    page = texts(at)
    assert "**Current** 2026-10-26 00:00 → 2026-11-02 00:00" in page
    assert "**baseline** (week over week) 2026-10-19 00:00 → 2026-10-26 00:00" in page
    assert "without a label" in page  # the sample's last 3 days have no labels yet: counted, not hidden
    assert len(at.get("plotly_chart")) >= 4  # reliability, per segment, ECE over time, quantiles
    assert metric(at, "ECE (current)").value not in ("", "undefined")


def test_deep_link_to_incident_c_shows_the_calibration_jump():
    at = open_page(PAGE, data="sample", end="2026-10-11", days="5", by="model_version", bins="10", strategy="uniform")
    assert at.date_input(key="end").value == dt.date(2026, 10, 11)
    assert at.selectbox(key="days").value == 5 and at.selectbox(key="by").value == "model_version"
    ece = metric(at, "ECE (current)")
    assert float(ece.delta) > 0.03  # v2.0 is overconfident
    page = texts(at)
    assert ": worse;" in page and "over-predict" in page
    seg = at.dataframe[0].value
    assert "v2.0" in seg["model_version"].to_list()


def test_the_headline_on_the_week_ending_10_11_names_v2_0():
    # v2.0 (incident c) has no rows in the week before: it is compared with the traffic it replaced and leads
    at = open_page(PAGE, data="sample", end="2026-10-11")
    headline = shown(at.markdown[0].value)
    assert headline.startswith("**Largest ECE rise: model_version=v2.0, ECE 0.0700 against ")
    assert "(the traffic it replaced; new in the current window)" in headline
    assert at.selectbox(key="segment").value is None  # the default diagram...
    assert "model_version=v2.0 (new in the current window" in texts(at)  # ...is v2.0's


def test_overlapping_windows_are_named():
    at = open_page(PAGE, data="sample", end="2026-10-25", days="28", vs="week_over_week")
    page = texts(at)
    assert "against an overlapping baseline (21 of 28 days shared)" in page and "week over week:" not in page
    assert "The baseline overlaps the current window by 21 of its 28 days" in page


def test_deep_link_to_one_segments_reliability_diagram():
    at = open_page(PAGE, data="sample", end="2026-10-11", days="5", by="geo", segment="DE")
    assert at.selectbox(key="segment").value == "DE"
    page = texts(at)
    assert "geo=DE: Overall ECE" in page and ": worse;" in page
    at = open_page(PAGE, data="sample", end="2026-09-01", days="5", by="model_version", segment="v2.0")
    assert any("model_version=v2.0" in shown(i.value) and "no rows" in i.value for i in at.info)


def test_widgets_recompute_and_quantile_bins():
    at = open_page(PAGE, data="sample", end="2026-10-11", days="5")
    before = metric(at, "ECE (current)").value
    at.selectbox(key="strategy").set_value("quantile").run()
    no_exception(at)
    at.selectbox(key="by").set_value("geo").run()
    no_exception(at)
    assert "Largest ECE rise: geo=" in texts(at)
    assert metric(at, "ECE (current)").value != before or at.selectbox(key="strategy").value == "quantile"


def test_bad_url_values_fall_back_to_defaults():
    at = open_page(PAGE, data="sample", days="999", strategy="log", bins="abc", end="1999-01-01")
    assert at.selectbox(key="days").value == 7
    assert at.selectbox(key="strategy").value == "uniform"
    assert at.selectbox(key="bins").value == 10


def test_a_window_before_the_data_is_a_message():
    at = open_page(PAGE, data="sample", end="2026-08-05", days="7")
    assert any("has no rows" in shown(e.value) for e in at.error)


def test_no_decisions_table_says_so(kpis_folder):
    at = open_page(PAGE, data=str(kpis_folder))
    assert any("No decisions table loaded" in i.value for i in at.info)


def test_another_segment_column_reuses_the_comparison_of_all_rows(monkeypatch):
    """The comparison of all rows is kept per window, bins and delay, not per segment column; the daily series per
    segment column and delay, not per window: each is recomputed exactly when something it depends on changes."""
    from ui import loaders

    calls = {"overall": [], "series": []}
    overall, series = loaders.calibration_overall, loaders.calibration_view_series
    monkeypatch.setattr(loaders, "calibration_overall",
                        lambda *a, **k: calls["overall"].append(k) or overall(*a, **k))
    monkeypatch.setattr(loaders, "calibration_view_series",
                        lambda *a, **k: calls["series"].append(k) or series(*a, **k))
    for cached in (loaders._calibration, loaders._calibration_overall, loaders._calibration_series):
        cached.clear()
    at = open_page(PAGE, data="sample", end="2026-10-11", days="5")
    assert (len(calls["overall"]), len(calls["series"])) == (1, 1)
    at.selectbox(key="by").set_value("geo").run()
    no_exception(at)
    assert (len(calls["overall"]), len(calls["series"])) == (1, 2) and calls["series"][-1]["by"] == "geo"
    at.selectbox(key="bins").set_value(15).run()
    assert (len(calls["overall"]), len(calls["series"])) == (2, 2) and calls["overall"][-1]["bins"] == 15
    at.selectbox(key="delay").set_value(2).run()
    assert (len(calls["overall"]), len(calls["series"])) == (3, 3)
    assert calls["overall"][-1]["label_delay_days"] == calls["series"][-1]["label_delay_days"] == 2
    at.selectbox(key="days").set_value(3).run()
    no_exception(at)
    assert (len(calls["overall"]), len(calls["series"])) == (4, 3) and calls["overall"][-1]["days"] == 3
    assert "Largest ECE rise: geo=" in texts(at)
