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


def test_a_new_day_computes_only_the_days_of_history_not_kept_and_the_same_history(sample_dataset, monkeypatch):
    """The drift history's days are kept per data version and weight: the first view computes four weeks, another
    day computes the days its two weeks lack, in one call, and its history is the history computed for it alone."""
    from polars.testing import assert_frame_equal

    from driftdesk.drift.view import drift_history_of, recent_days
    from ui import loaders

    asked = []
    monkeypatch.setattr(loaders, "drift_history_of",
                        lambda *a, **k: asked.append(list(k["days"])) or drift_history_of(*a, **k))
    for cached in (loaders._drift, loaders._drift_days):
        cached.clear()
    at = open_page(PAGE, data="sample", day="2026-10-20")
    assert asked == [sorted(recent_days(dt.date(2026, 10, 20), loaders.DRIFT_REACH))]
    at.date_input(key="day").set_value(dt.date(2026, 10, 25)).run()
    no_exception(at)
    assert asked[-1] == [dt.date(2026, 10, 21) + dt.timedelta(days=k) for k in range(5)]
    at.date_input(key="day").set_value(dt.date(2026, 10, 24)).run()
    assert len(asked) == 2  # every day of its history kept
    at.date_input(key="day").set_value(dt.date(2026, 10, 6)).run()  # two weeks before the first: kept too
    no_exception(at)
    assert len(asked) == 2
    at.date_input(key="day").set_value(dt.date(2026, 10, 3)).run()
    assert asked[-1] == [dt.date(2026, 9, 20), dt.date(2026, 9, 21), dt.date(2026, 9, 22)]
    view = loaders.drift_view_of("sample", table="decisions", day=dt.date(2026, 10, 24),
                                 vs=["day_over_day", "week_over_week"], custom=None, by=None, weight="rows")
    alone = drift_history_of(sample_dataset, table="decisions", days=recent_days(dt.date(2026, 10, 24)))
    assert_frame_equal(view.history.daily, alone.daily)


def test_the_drift_days_kept_are_bounded():
    import polars as pl

    from driftdesk.drift.result import DriftHistory
    from ui.loaders import DriftDays

    def compute(days):
        return DriftHistory(pl.DataFrame({"day": days, "column": ["x"] * len(days)}), "week_over_week")
    days = DriftDays(max_days=3)
    first = [dt.date(2026, 10, 1) + dt.timedelta(days=k) for k in range(3)]
    assert days.history(first, compute).daily["day"].to_list() == first
    days.history([dt.date(2026, 10, 9)], compute)
    assert list(days._days) == [*first[1:], dt.date(2026, 10, 9)]  # the least recently asked went first


def test_the_first_drift_history_computes_the_days_before_too_and_only_the_first():
    import polars as pl

    from driftdesk.drift.result import DriftHistory
    from ui.loaders import DriftDays

    asked = []

    def compute(days):
        asked.append(days)
        return DriftHistory(pl.DataFrame({"day": days, "column": ["x"] * len(days)}), "week_over_week")
    day = [dt.date(2026, 10, 1) + dt.timedelta(days=k) for k in range(8)]
    kept = DriftDays(max_days=5)
    assert kept.history(day[3:5], compute, first=day[0:5]).daily["day"].to_list() == day[3:5]
    assert asked == [day[0:5]]
    kept.history(day[2:3], compute, first=day[0:3])  # kept: nothing computed
    kept.history(day[6:7], compute, first=day[1:7])  # days kept: only the one asked
    assert asked == [day[0:5], day[6:7]]
    assert set(kept._days) == {*day[1:5], day[6]}  # the oldest day computed ahead, never asked, went first


def test_a_day_after_a_gap_names_the_baseline_it_could_not_judge_and_the_days_without_data(tmp_path):
    from foreign_data import write_gap_folder

    folder = write_gap_folder(tmp_path / "export")
    at = open_page(PAGE, data=str(folder), table="kpis", day="2026-06-12")
    page = texts(at)
    assert "Could not judge day over day: no data on 11 Jun." in page
    assert "against day over day" not in page
    rows = table_rows(at)
    assert all(r["status_day_over_day"] == "not_enough_data" for r in rows)
    assert all(r["no_data"] == "30 May – 7 Jun, 9 Jun – 11 Jun" for r in rows)
    # the sparkline cell needs numbers: a day without data is drawn at 0, named under "no data"
    assert all(len(r["history"]) == 14 and all(v is not None for v in r["history"]) for r in rows)


def test_a_single_segment_folder_draws_its_most_severe_column_first_not_its_constant_segment(tmp_path):
    """One market in the whole file: its segment column cannot move, so it is not what the page draws first; the
    columns are ordered by status, then by effect against the threshold (largest first), and the Column picker
    follows that order; a chosen column stays chosen on another day."""
    import polars as pl
    from app_helpers import hourly_kpis

    folder = tmp_path / "one_market"
    folder.mkdir()
    kpis = hourly_kpis(days=15).filter(pl.col("geo") == "US").with_columns(
        clicks=100.0 + (pl.col("ts").dt.hour() * 13 + pl.col("ts").dt.day() * 7) % 40,
        spend=50.0 + pl.col("ts").dt.day() * (pl.col("ts").dt.hour() % 3))
    kpis.write_parquet(folder / "kpis.parquet")
    at = open_page(PAGE, data=str(folder))
    rows = table_rows(at)
    assert rows[0]["column"] != "geo" and at.selectbox(key="column").value == rows[0]["column"]
    assert at.selectbox(key="column").options == [r["column"] for r in rows]
    for verdict in {r["verdict"] for r in rows}:
        effects = [r["effect"] for r in rows if r["verdict"] == verdict]
        assert effects == sorted(effects, reverse=True), verdict
    at.selectbox(key="column").set_value("geo").run()
    at.date_input(key="day").set_value(dt.date(2026, 9, 12)).run()
    no_exception(at)
    assert at.selectbox(key="column").value == "geo"


def test_the_example_windows_lie_in_the_data_shown(kpis_folder):
    """Someone else's data, another season: the example typed in grey is the week before the day, not a fixed date."""
    at = open_page(PAGE, data=str(kpis_folder), day="2026-09-12")
    assert at.text_input(key="custom").placeholder == "2026-09-05T00:00/2026-09-12T00:00"
    assert at.text_input(key="pinned").placeholder == "2026-09-05T00:00/2026-09-12T00:00"
    overview = open_page("app_pages/overview.py", data=str(kpis_folder), day="2026-09-12", known_good="pinned")
    assert overview.text_input(key="pinned").placeholder == "2026-09-05T00:00/2026-09-12T00:00"
