"""The Seasonality page through AppTest: deep links set every control; the sample's incidents read right."""

from __future__ import annotations

import datetime as dt

import pytest
from app_helpers import no_exception, open_page, shown, texts

from driftdesk.paths import sample_data_dir

PAGE = "app_pages/seasonality.py"
needs_sample = pytest.mark.skipif(not (sample_data_dir() / "kpis.parquet").exists(), reason="sample data not generated")


@needs_sample
def test_default_view_shows_panels_verdict_and_every_segment():
    at = open_page(PAGE, data="sample")
    assert at.selectbox(key="table").value == "kpis"
    assert at.selectbox(key="segment").value == "All traffic"
    assert len(at.get("plotly_chart")) == 2  # decomposition panels, DoD / WoW comparison
    assert "All traffic:" in shown(at.subheader[0].value)
    segments = at.dataframe[-1].value
    assert set(segments["segment"]) >= {"geo=BR", "device=tablet", "source=search"}
    assert segments.iloc[0]["status"] == "drift"  # drifting segments are listed first


@needs_sample
def test_deep_link_de_cpa_causal_is_drift_at_the_rollout():
    at = open_page(PAGE, data="sample", metric="cpa", segment="geo=DE", mode="causal", day="2026-10-08")
    assert at.selectbox(key="metric").value == "cpa"
    assert at.selectbox(key="segment").value == "geo=DE"
    assert at.selectbox(key="mode").value == "causal"
    assert at.date_input(key="day").value == dt.date(2026, 10, 8)
    assert "level shift of +" in shown(at.subheader[0].value) or "trend change of +" in shown(at.subheader[0].value)
    events = at.dataframe[0].value
    drift = events[events["kind"].isin(["level_shift", "trend_change"])]
    assert len(drift) >= 1 and drift.iloc[0]["direction"] == "up"


@needs_sample
def test_deep_link_service_latency_spike_is_an_anomaly():
    at = open_page(PAGE, data="sample", table="service", metric="latency_p99_ms", segment="service=scoring-api")
    assert at.selectbox(key="table").value == "service"
    assert ": anomaly on 29 Sep 13:00" in shown(at.subheader[0].value)


@needs_sample
def test_bad_url_values_fall_back_and_controls_rerun():
    at = open_page(PAGE, data="sample", metric="nonsense", segment="geo=XX", mode="sideways")
    assert at.selectbox(key="metric").value == "impressions"
    assert at.selectbox(key="segment").value == "All traffic"
    at.selectbox(key="segment").set_value("geo=BR").run()
    no_exception(at)
    assert "level shift of +" in shown(at.subheader[0].value)


def test_too_short_data_gets_a_message_not_a_traceback(kpis_folder):
    at = open_page(PAGE, data=str(kpis_folder))
    assert "Seasonality" in texts(at)
