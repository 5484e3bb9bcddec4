"""The Drift page through AppTest: default view, deep links to the sample's incidents, a quiet ordinary day."""

from __future__ import annotations

import datetime as dt

from app_helpers import no_exception, open_page, shown, texts

PAGE = "app_pages/drift.py"


def table_rows(at, key_col: str = "column") -> list[dict]:
    frame = at.dataframe[0].value
    return frame.to_dict("records") if hasattr(frame, "to_dict") else frame.to_dicts()


def test_default_view_is_the_latest_day_of_decisions(sample_dataset):
    at = open_page(PAGE)
    assert at.title[0].value == "Drift"
    assert at.selectbox(key="table").value == "decisions"
    assert at.date_input(key="day").value == dt.date(2026, 11, 1)
    assert at.multiselect(key="baselines").value == ["day_over_day", "week_over_week"]
    assert "**2026-11-01** —" in texts(at)
    assert len(at.dataframe) >= 2  # the severity table and the segment table


def test_deep_link_to_incident_a_shows_ctr_7d_first_and_affiliate_as_carrier():
    at = open_page(PAGE, data="sample", day="2026-08-26", column="ctr_7d", by="source")
    assert at.date_input(key="day").value == dt.date(2026, 8, 26)
    assert at.selectbox(key="column").value == "ctr_7d"
    assert at.selectbox(key="by").value == "source"
    page = texts(at)
    assert "Strong shift in ctr_7d (null rate" in shown(at.error[0].value)
    rows = table_rows(at)
    assert rows[0]["column"] == "ctr_7d" and rows[0]["verdict"] == "ALERT"
    assert all(r["verdict"] == "ok" for r in rows[1:])
    # "why" lists findings only (chosen by reason code): the quiet columns' "no shift" notes are left out
    assert "day_over_day: null rate" in rows[0]["why"]
    assert not any("no shift" in str(r["why"]) for r in rows)
    assert "ctr_7d shifts within source = affiliate." in page


def test_deep_link_to_incident_b_shows_the_geo_mix_shift():
    at = open_page(PAGE, data="sample", day="2026-09-16", column="geo", vs="week_over_week")
    assert "Persisting shift in geo" in shown(at.warning[0].value)
    rows = table_rows(at)
    assert rows[0]["column"] == "geo" and rows[0]["status_week_over_week"] == "alert"
    assert "Largest mover in geo: BR," in texts(at)


def test_ordinary_day_is_quiet_and_custom_baseline_works():
    at = open_page(PAGE, data="sample", day="2026-08-12")
    assert at.success[0].value.startswith("**2026-08-12** — No column shifted")
    at.multiselect(key="baselines").set_value(["week_over_week", "custom"]).run()
    at.text_input(key="custom").input("2026-08-03T00:00/2026-08-10T00:00").run()
    no_exception(at)
    rows = table_rows(at)
    assert "status_custom" in rows[0]
    assert not any(r["verdict"] == "ALERT" for r in rows)


def test_bad_custom_range_is_a_message_not_a_traceback():
    at = open_page(PAGE, data="sample", day="2026-08-12", baselines="custom", custom="yesterday")
    no_exception(at)
    assert "Custom baseline:" in at.warning[0].value


def test_late_outcomes_are_not_input_drift():
    # labels of the last days have not matured yet: their null rate jumps by design, which is not drift
    at = open_page(PAGE, data="sample", day="2026-11-01")
    assert "label" not in at.selectbox(key="column").options
    assert "revenue" not in at.selectbox(key="column").options
    assert "shift in label" not in texts(at)
    assert {r["column"] for r in table_rows(at)}.isdisjoint({"label", "revenue"})


def test_kpis_rows_count_by_their_impressions_and_the_choice_is_in_the_url():
    """Incident b doubles BR's traffic while each segment keeps one row per hour: weighted by impressions (the
    kpis default) geo alerts; counting rows, it cannot move."""
    at = open_page(PAGE, data="sample", table="kpis", day="2026-09-16", column="geo", vs="week_over_week")
    assert at.selectbox(key="weight").value == "impressions"
    assert "Rows weighted by impressions" in texts(at)
    assert table_rows(at)[0]["column"] == "geo" and table_rows(at)[0]["status_week_over_week"] == "alert"
    at = open_page(PAGE, data="sample", table="kpis", day="2026-09-16", column="geo", weight="rows")
    assert at.selectbox(key="weight").value == "rows"
    geo = next(r for r in table_rows(at) if r["column"] == "geo")
    assert geo["status_week_over_week"] == "ok"
