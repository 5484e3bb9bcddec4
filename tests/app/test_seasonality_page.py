"""The Seasonality page through AppTest: deep links set every control; the sample's incidents read right."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from app_helpers import hourly_kpis, no_exception, open_page, shown, texts

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


@needs_sample
def test_another_metric_shows_that_metrics_figures(sample_dataset):
    """Every metric is scanned on the first view; each metric chosen then shows its own headline, day totals and
    every segment's verdicts: those of the library decomposing that metric alone."""
    from driftdesk.seasonality.view import seasonality_view, segment_columns, segment_verdicts

    at = open_page(PAGE, data="sample", day="2026-10-08")
    day = dt.date(2026, 10, 8)
    for metric, mode in (("cpa", "batch"), ("cr", "batch"), ("cr", "causal"), ("conversions", "causal")):
        if at.selectbox(key="mode").value != mode:
            at.selectbox(key="mode").set_value(mode)
        at.selectbox(key="metric").set_value(metric).run()
        no_exception(at)
        view = seasonality_view(sample_dataset, table="kpis", metric=metric, mode=mode, day=day)
        assert shown(at.subheader[0].value).endswith(view.headline)
        assert [m.value for m in at.metric] == [value for _, value, _ in view.day_totals()]
        every = segment_verdicts(sample_dataset, table="kpis", metric=metric, mode=mode,
                                 columns=segment_columns(sample_dataset, "kpis"))
        shown_table = at.dataframe[-1].value
        assert list(shown_table["segment"]) == every.verdicts["segment"].to_list()
        assert list(shown_table["status"]) == every.shown()["status"].to_list()


def test_a_gap_in_the_data_reads_as_a_dash_in_the_events_not_none(tmp_path):
    """A data break has no magnitude: the browser draws a missing cell as the table's placeholder ("None" unless
    told), so the events table names "–"."""
    folder = tmp_path / "gap"
    folder.mkdir()
    kpis = (hourly_kpis(days=28).with_columns(conversions=4.0 + (pl.col("ts").dt.hour() * 7 + pl.col("ts").dt.day()) % 5)
            .filter(~pl.col("ts").dt.day().is_between(10, 13)))
    kpis.write_parquet(folder / "kpis.parquet")
    at = open_page(PAGE, data=str(folder), metric="conversions")
    assert "data break" in shown(at.subheader[0].value)
    events = at.dataframe[0]
    assert events.value["kind"].tolist() == ["data_break"] and events.value["magnitude"].isna().all()
    assert events.proto.placeholder == "–"
    for frame in at.dataframe:
        assert frame.proto.placeholder == "–"


def test_a_day_in_a_gap_of_the_data_says_why_its_cards_read_a_dash(tmp_path):
    folder = tmp_path / "gap_day"
    folder.mkdir()
    kpis = (hourly_kpis(days=28).with_columns(conversions=4.0 + (pl.col("ts").dt.hour() * 7 + pl.col("ts").dt.day()) % 5)
            .filter(~pl.col("ts").dt.day().is_between(10, 13)))
    kpis.write_parquet(folder / "kpis.parquet")
    at = open_page(PAGE, data=str(folder), metric="conversions", day="2026-09-12")
    assert [m.value for m in at.metric][:2] == ["–", "–"] and at.metric[2].value != "–"
    assert "–: no data on Sat 12 Sep or the day before (a gap in the data)." in texts(at)
    at = open_page(PAGE, data=str(folder), metric="conversions", day="2026-09-20")
    assert "–: no data on the week before (a gap in the data)." in texts(at)
    at = open_page(PAGE, data=str(folder), metric="conversions", day="2026-09-25")
    assert "a gap in the data" not in texts(at) and "–" not in [m.value for m in at.metric]


def test_five_minute_points_too_thin_for_a_cpa_say_so_and_draw_no_empty_chart(tmp_path):
    """Every five-minute point has five conversions: the CPA series is left out whole; the page says why instead of
    calling the rows null, draws no empty hour-by-hour chart, and still reads the whole day's CPA."""
    folder = tmp_path / "five_minutes"
    folder.mkdir()
    ts = pl.datetime_range(dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 15), "5m", closed="left", eager=True)
    pl.DataFrame({"ts": ts, "clicks": 60.0, "conversions": 5.0, "spend": 100.0}).write_parquet(folder / "kpis.parquet")
    at = open_page(PAGE, data=str(folder), metric="cpa")
    page = texts(at)
    assert "Nothing to draw: every point has fewer than 30 conversions behind it." in page
    assert "null or not finite" not in " ".join(i.value for i in at.info)
    assert not at.get("plotly_chart")
    assert at.metric[0].value == "$20.00"


def test_a_segment_too_thin_for_its_cpa_is_not_called_null_in_every_segment(tmp_path):
    folder = tmp_path / "thin_segment"
    folder.mkdir()
    ts = pl.datetime_range(dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 15), "1h", closed="left", eager=True)
    pl.DataFrame({"ts": ts, "geo": "IN", "clicks": 60.0, "conversions": 5.0, "spend": 100.0}).write_parquet(
        folder / "kpis.parquet")
    at = open_page(PAGE, data=str(folder), metric="cpa")
    segments = at.dataframe[-1].value
    assert segments["segment"].tolist() == ["geo=IN"] and segments["status"].tolist() == ["empty"]
    assert segments["verdict"].tolist() == ["no point to read: each has fewer than 30 conversions behind it, or no value"]
