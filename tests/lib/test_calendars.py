"""Calendars without a calendar file: public holidays, retail events and the user's own days, checked against dates
worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from driftdesk.calendars import (
    WHOLE_BUSINESS_SHARE,
    CalendarSettings,
    effective_calendar,
    parse_holidays,
    public_holidays,
    retail_events,
    thanksgiving,
)
from driftdesk.contract import MAPPING_FILE, Dataset, Table, load_dataset
from driftdesk.overview import overview
from driftdesk.seasonality.view import seasonality_view
from foreign_data import BLACK_FRIDAY, CYBER_MONDAY, THANKSGIVING, write_foreign_folder

# worked out on a calendar: the fourth Thursday of November, the Friday after it, the Monday after that
BY_HAND = {2024: (dt.date(2024, 11, 28), dt.date(2024, 11, 29), dt.date(2024, 12, 2)),
           2025: (dt.date(2025, 11, 27), dt.date(2025, 11, 28), dt.date(2025, 12, 1)),
           2026: (dt.date(2026, 11, 26), dt.date(2026, 11, 27), dt.date(2026, 11, 30)),
           2027: (dt.date(2027, 11, 25), dt.date(2027, 11, 26), dt.date(2027, 11, 29))}


@pytest.mark.parametrize("year", sorted(BY_HAND))
def test_black_friday_and_cyber_monday_by_hand(year):
    thanks, friday, monday = BY_HAND[year]
    assert thanksgiving(year) == thanks
    events = dict(retail_events([year]).select("name", "date").iter_rows())
    assert events["Black Friday"] == friday and events["Cyber Monday"] == monday
    assert events["Singles' Day"] == dt.date(year, 11, 11) and events["Christmas Day"] == dt.date(year, 12, 25)
    assert events["New Year's Eve"] == dt.date(year, 12, 31)


def test_thanksgiving_is_the_fourth_thursday_in_every_year():
    for year in range(1990, 2101):
        thursdays = [dt.date(year, 11, d) for d in range(1, 31) if dt.date(year, 11, d).isoweekday() == 4]
        assert thanksgiving(year) == thursdays[3]


def test_prime_day_only_when_given():
    assert "Prime Day" not in retail_events([2026])["name"].to_list()
    given = retail_events([2026], prime_day=[dt.date(2026, 7, 14), dt.date(2026, 7, 15)])
    assert given.filter(pl.col("name") == "Prime Day")["date"].to_list() == [dt.date(2026, 7, 14), dt.date(2026, 7, 15)]


def test_public_holidays_from_the_package_and_an_unknown_code_named():
    days, unknown = public_holidays(["US", "de", "XX"], [2026])
    assert unknown == ("XX",)
    us = dict(days.filter(pl.col("country") == "US").select("date", "name").iter_rows())
    assert THANKSGIVING in us and dt.date(2026, 7, 4) in us and dt.date(2026, 9, 7) in us  # Labor Day: 1st Monday
    de = days.filter(pl.col("country") == "de")["date"].to_list()
    assert dt.date(2026, 10, 3) in de and dt.date(2026, 12, 25) in de


def test_settings_read_from_a_calendar_section():
    assert parse_holidays("US, de") == ("US", "DE") and parse_holidays(["none"]) == "none"
    assert parse_holidays(None) == "auto" and parse_holidays("auto") == "auto"
    settings, notes = CalendarSettings.read({"holidays": ["US"], "events": "yes", "prime_day": ["2026-07-14", "soon"],
                                             "colour": "red"})
    assert settings == CalendarSettings(("US",), True, (dt.date(2026, 7, 14),))
    assert any("colour" in n for n in notes) and any("'soon'" in n for n in notes) and any("events" in n for n in notes)


@pytest.fixture
def foreign(tmp_path: Path):
    return write_foreign_folder(tmp_path / "advertiser")


def test_a_folder_without_a_calendar_gets_holidays_of_its_countries_and_retail_events(foreign):
    cal = effective_calendar(load_dataset(foreign.folder))
    assert cal.country_column == "Country" and set(cal.countries) == {"US", "DE"}
    days = {(d.date(), name): (segment, source, everywhere)
            for d, name, segment, source, everywhere in cal.days.select("date", "name", "segment", "source",
                                                                        "everywhere").iter_rows()}
    assert days[(BLACK_FRIDAY, "Black Friday")] == (None, "retail event", True)
    assert days[(CYBER_MONDAY, "Cyber Monday")] == (None, "retail event", True)
    # the US brings 60% of the spend: its Thanksgiving is calendar for US series, not for the whole business
    assert days[(THANKSGIVING, "Thanksgiving Day")] == ("Country=US", "public holiday (US)", False)
    assert WHOLE_BUSINESS_SHARE > 0.6
    assert cal.whole_business()[BLACK_FRIDAY] == "Black Friday" and THANKSGIVING not in cal.whole_business()
    assert cal.days["date"].min() >= dt.datetime(2026, 10, 19)  # only the days the data covers
    assert cal.summary.startswith(f"{cal.days.height} calendar days")


def test_holidays_named_none_or_unknown(foreign):
    ds = load_dataset(foreign.folder)
    assert effective_calendar(ds, holidays="none").days.filter(pl.col("kind") == "holiday").is_empty()
    cal = effective_calendar(ds, holidays="US,XX")
    assert cal.countries == ("US",)
    assert any("'XX'" in n and "the other countries still apply" in n for n in cal.notes)
    assert THANKSGIVING in cal.days.filter(pl.col("name") == "Thanksgiving Day")["date"].dt.date().to_list()


def test_the_user_s_calendar_adds_to_and_overrides_the_automatic_days(foreign):
    pl.DataFrame({"date": ["2026-11-27", "2026-11-02"], "name": ["Black Week sale", "Our anniversary"],
                  "kind": ["promotion", "promotion"]}).write_csv(foreign.folder / "promo days.csv")
    ds = load_dataset(foreign.folder)
    assert "calendar" in ds
    cal = effective_calendar(ds)
    on_friday = cal.days.filter(pl.col("date").dt.date() == BLACK_FRIDAY)
    assert on_friday.select("name", "source").rows() == [("Black Week sale", "calendar table")]
    assert cal.whole_business()[dt.date(2026, 11, 2)] == "Our anniversary"


def test_a_country_that_is_most_of_the_traffic_makes_its_holidays_everyone_s(foreign):
    kpis = load_dataset(foreign.folder)["kpis"]
    us_only = Table("kpis", kpis.frame.with_columns(pl.when(pl.col("Country") == "DE").then(pl.col("spend") * 0.1)
                                                    .otherwise(pl.col("spend")).alias("spend")),
                    "x", segments=kpis.segments)
    cal = effective_calendar(Dataset("x", {"kpis": us_only}))
    assert THANKSGIVING in cal.whole_business()  # the US now brings 94% of the spend
    no_geo = Table("kpis", kpis.frame.drop("Country"), "x", segments=("Platform",))
    alone = effective_calendar(Dataset("x", {"kpis": no_geo}))
    assert alone.countries == () and any("no geo or country segment" in n for n in alone.notes)
    named = effective_calendar(Dataset("x", {"kpis": no_geo}, calendar={"holidays": ["US"]}))
    assert named.whole_business()[THANKSGIVING] == "Thanksgiving Day"  # the data is that country's


def test_black_friday_is_calendar_not_drift_on_the_overview(foreign):
    ds = load_dataset(foreign.folder)
    business = overview(ds, day=BLACK_FRIDAY).metrics.filter(pl.col("layer") == "business")
    spend = business.filter(pl.col("metric") == "spend").row(0, named=True)
    assert spend["change_day_over_day"] > 0.5  # traffic doubled ...
    assert spend["status"] == "ok" and "Black Friday" in spend["note"]  # ... on a calendar day
    (foreign.folder / MAPPING_FILE).write_text("[calendar]\nevents = false\n")
    without = overview(load_dataset(foreign.folder), day=BLACK_FRIDAY).metrics
    assert without.filter(pl.col("metric") == "spend")["status"][0] in ("warn", "alert")
    events = overview(ds, day=CYBER_MONDAY, span_days=7).events.filter(pl.col("kind") == "calendar")
    assert events["name"].to_list() == ["Black Friday", "Cyber Monday"]
    assert events["detail"].to_list() == ["retail event", "retail event"]


def test_a_country_s_holiday_is_calendar_for_its_own_series(foreign):
    ds = load_dataset(foreign.folder)
    for segment, expected in (("Country=US", True), ("Country=DE", False)):
        points = seasonality_view(ds, table="kpis", metric="conversions", segment=segment).result.points
        on_thanksgiving = points.filter(pl.col("ts").dt.date() == THANKSGIVING)["calendar"]
        assert on_thanksgiving.all() == expected and on_thanksgiving.any() == expected
    points = seasonality_view(ds, table="kpis", metric="conversions").result.points
    assert points.filter(pl.col("ts").dt.date() == BLACK_FRIDAY)["calendar"].all()
