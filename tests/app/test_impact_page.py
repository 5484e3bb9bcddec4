"""The Segments & impact page through AppTest: the sample's incidents b, c, d via deep links, and bad input."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from app_helpers import hourly_kpis, no_exception, open_page, shown, texts

from driftdesk.paths import sample_data_dir

PAGE = "app_pages/impact.py"
needs_sample = pytest.mark.skipif(not (sample_data_dir() / "kpis.parquet").exists(), reason="sample data not generated")


@needs_sample
def test_incident_b_is_mix_from_br():
    at = open_page(PAGE, data="sample", end="2026-09-20", days="7", by="geo")
    assert at.date_input(key="end").value == dt.date(2026, 9, 20)
    assert at.multiselect(key="by").value == ["geo"]
    headline = shown(at.subheader[0].value)
    assert "week over week" in headline and "traffic in geo=BR (mix)" in headline
    first = headline.split("): ", 1)[1].split(", ")[0]
    assert first.endswith("geo=BR (mix)")  # BR named first
    assert len(at.get("plotly_chart")) >= 3  # waterfall, heat map, spend shift


@needs_sample
def test_the_sentence_waterfall_and_table_show_the_same_effects():
    at = open_page(PAGE, data="sample", end="2026-11-01", days="7", by="geo", metric="cr")
    headline = shown(at.subheader[0].value)
    assert "pp from lower conversion" in headline and "points" not in headline
    effects = [part.split(" from ")[0] for part in headline.split("): ", 1)[1].rstrip(".").split(", ")]
    waterfall = next(c for c in at.get("plotly_chart") if '"waterfall"' in c.proto.spec)
    for effect in effects:  # each effect in the sentence is a label of the waterfall, to the same digits
        assert f'"{effect}"' in waterfall.proto.spec, effect
    assert '"+0.000"' not in waterfall.proto.spec and '"-0.000"' not in waterfall.proto.spec


@needs_sample
def test_overlapping_windows_are_named_not_called_week_over_week():
    at = open_page(PAGE, data="sample", end="2026-11-01", days="28", vs="week_over_week", by="geo")
    headline = shown(at.subheader[0].value)
    assert "week over week" not in headline and "against an overlapping baseline (21 of 28 days shared)" in headline
    assert "overlaps the current window by 21 of its 28 days" in texts(at)


@needs_sample
def test_incident_c_is_rate_in_de():
    at = open_page(PAGE, data="sample", end="2026-10-11", days="5", by="geo", metric="cpa")
    headline = shown(at.subheader[0].value)
    assert headline.startswith("CPA rose") and "lower conversion in geo=DE (rate)" in headline
    table = at.dataframe[0].value
    de = table[table["geo"] == "DE"].iloc[0]
    assert de["rate_effect"] > abs(de["mix_effect"])


@needs_sample
def test_incident_d_is_rate_in_tablet_and_two_columns_deep_link():
    at = open_page(PAGE, data="sample", by="device")
    assert "device=tablet (rate)" in shown(at.subheader[0].value)
    at = open_page(PAGE, data="sample", by=["geo", "device"], metric="roas")
    assert at.multiselect(key="by").value == ["geo", "device"]
    assert at.selectbox(key="metric").value == "roas"
    assert at.subheader[0].value.startswith("ROAS ")


@needs_sample
def test_changing_controls_recomputes():
    at = open_page(PAGE, data="sample", end="2026-09-20", days="7")
    at.selectbox(key="metric").set_value("cr").run()
    no_exception(at)
    assert at.subheader[0].value.startswith("Conversion rate ")
    at.multiselect(key="by").set_value([]).run()
    no_exception(at)
    assert any("at least one segment" in i.value for i in at.info)


@needs_sample
def test_bad_url_values_fall_back():
    at = open_page(PAGE, data="sample", metric="ltv", days="2", vs="yearly")
    assert at.selectbox(key="metric").value == "cpa"
    assert at.selectbox(key="days").value == 7 and at.selectbox(key="vs").value == "week_over_week"


def test_zero_conversions_is_undefined_on_the_page(tmp_path):
    folder = tmp_path / "zero"
    folder.mkdir()
    frame = hourly_kpis(days=15).with_columns(
        pl.when(pl.col("ts") >= dt.datetime(2026, 9, 9)).then(0.0).otherwise(pl.col("conversions")).alias("conversions"))
    frame.write_parquet(folder / "kpis.parquet")
    at = open_page(PAGE, data=str(folder), end="2026-09-15", days="7")
    page = texts(at)
    assert "cannot be compared" in shown(at.subheader[0].value)
    assert "undefined" in page
    assert not any("inf" in m.value.lower() for m in at.metric)


def test_quiet_data_names_no_segment(kpis_folder):
    at = open_page(PAGE, data=str(kpis_folder))
    assert "CPA held" in at.subheader[0].value


def test_kpis_without_segments_says_so(tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    hourly_kpis(days=9).drop("geo").group_by("ts").agg(pl.exclude("ts").sum()).write_parquet(folder / "kpis.parquet")
    at = open_page(PAGE, data=str(folder))
    assert any("no segment columns" in i.value for i in at.info)


@needs_sample
def test_deep_link_chooses_the_baseline():
    at = open_page(PAGE, data="sample", end="2026-09-20", days="3", vs="day_over_day")
    assert at.selectbox(key="vs").value == "day_over_day"
    page = texts(at)
    assert "**Current** 2026-09-18 00:00 → 2026-09-21 00:00" in page
    assert "**baseline** (day over day) 2026-09-17 00:00 → 2026-09-20 00:00" in page


@needs_sample
@pytest.mark.parametrize(("old", "new"), [("previous day", "day_over_day"), ("previous period", "previous_period"),
                                          ("previous week", "week_over_week")])
def test_a_link_with_an_old_baseline_value_opens_the_same_view(old, new):
    then = open_page(PAGE, data="sample", end="2026-09-20", days="3", vs=old)
    now = open_page(PAGE, data="sample", end="2026-09-20", days="3", vs=new)
    assert then.selectbox(key="vs").value == now.selectbox(key="vs").value == new
    assert then.query_params.get("vs") in (new, None)  # the address bar shows today's spelling (None: the default)
    assert texts(then) == texts(now)
