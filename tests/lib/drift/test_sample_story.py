"""On the sample data: incident a (ctr_7d nulls in affiliate) and b (geo mix) surface on their days; an
ordinary week stays quiet."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from driftdesk.drift import compare_baselines, drift_history
from driftdesk.windows import Window, baselines_for


def day(text: str) -> Window:
    start = dt.datetime.fromisoformat(text)
    return Window(start, start + dt.timedelta(days=1), "current")


@pytest.fixture(scope="module")
def decisions(sample_dataset):
    table = sample_dataset["decisions"]
    return table.frame, [*table.segments, *table.features, "score"]


def compare(decisions, when: str, by: str | None = None):
    frame, cols = decisions
    w = day(when)
    return compare_baselines(frame, current=w, baselines=baselines_for(w), columns=cols, by=by)


@pytest.mark.parametrize("when", ["2026-08-26", "2026-08-27"])
def test_incident_a_ctr_7d_null_jump_is_strong_and_lives_in_affiliate(decisions, when):
    cmp = compare(decisions, when, by="source")
    flagged = cmp.consensus.filter(pl.col("status").is_in(["warn", "alert"]))
    assert flagged["column"].to_list() == ["ctr_7d"]
    top = cmp.consensus.row(0, named=True)
    assert top["column"] == "ctr_7d" and top["status"] == "alert" and top["strength"] == "strong"
    assert cmp.sentence.startswith("Strong shift in ctr_7d (null rate")
    seg = cmp.results["week_over_week"].segments.filter(pl.col("column") == "ctr_7d")
    bad = seg.filter(pl.col("status") == "alert")["source"].to_list()
    assert bad == ["affiliate"]


def test_incident_a_last_day_still_flagged(decisions):
    cmp = compare(decisions, "2026-08-28")
    row = cmp.consensus.filter(pl.col("column") == "ctr_7d").row(0, named=True)
    assert row["status"] in ("warn", "alert")


@pytest.mark.parametrize("when", [f"2026-09-{d:02d}" for d in range(14, 21)])
def test_incident_b_geo_mix_shift_flagged_every_day_of_the_campaign(decisions, when):
    cmp = compare(decisions, when)
    wow = cmp.results["week_over_week"].column("geo")
    assert wow["status"] == "alert" and wow["direction"] == "BR+"
    row = cmp.consensus.filter(pl.col("column") == "geo").row(0, named=True)
    assert row["status"] in ("warn", "alert")
    # the campaign starts on the 14th: day over day sees it that day, then only week over week
    assert row["strength"] == ("consistent" if when == "2026-09-14" else "persisting")
    cats = cmp.results["week_over_week"].categories.filter(pl.col("column") == "geo")
    br = cats.filter(pl.col("category") == "BR").row(0, named=True)
    assert br["current_share"] > 1.6 * br["baseline_share"]


@pytest.mark.parametrize("when", [f"2026-08-{d:02d}" for d in range(10, 17)])
def test_ordinary_week_stays_quiet(decisions, when):
    cmp = compare(decisions, when)
    assert set(cmp.results["week_over_week"].columns["status"]) == {"ok"}
    assert cmp.status == "ok"
    assert cmp.sentence.startswith("No column shifted")


def test_history_marks_the_incident_days_only(decisions):
    frame, cols = decisions
    days = [dt.date(2026, 8, 10) + dt.timedelta(days=k) for k in range(21)]
    hist = drift_history(frame, days=days, columns=cols).daily
    flagged = hist.filter(pl.col("status").is_in(["warn", "alert"])).select("day", "column").rows()
    assert sorted(flagged) == [(dt.date(2026, 8, 26), "ctr_7d"), (dt.date(2026, 8, 27), "ctr_7d"),
                               (dt.date(2026, 8, 28), "ctr_7d")]


@pytest.mark.parametrize("when,column", [("2026-09-02", "ctr_7d"), ("2026-09-03", "ctr_7d"), ("2026-09-04", "ctr_7d"),
                                         ("2026-09-21", "geo"), ("2026-09-22", "geo"), ("2026-09-27", "geo")])
def test_the_week_after_an_incident_is_a_recovery_not_a_shift(decisions, when, column):
    # week over week compares with the incident itself (INC-a 26-28 Aug, INC-b 14-20 Sep): that baseline differs
    # from its own week before, the current day does not differ from two weeks back the same way
    cmp = compare(decisions, when)
    assert cmp.results["week_over_week"].column(column)["status"] in ("warn", "alert")  # the raw comparison flags it
    row = cmp.consensus.filter(pl.col("column") == column).row(0, named=True)
    assert (row["status"], row["strength"]) == ("ok", "recovery")
    assert "week_over_week" in row["abnormal_baseline"]
    assert cmp.status == "ok" and "a recovery, not drift" in cmp.sentence


@pytest.mark.parametrize("when", ["2026-08-27", "2026-09-15"])
def test_the_second_day_of_an_incident_is_not_explained_away(decisions, when):
    # yesterday was the incident too, but today still differs from two weeks back: the flag stands
    cmp = compare(decisions, when)
    assert cmp.status in ("warn", "alert")
    assert cmp.consensus.filter(pl.col("strength") == "recovery").is_empty()


def test_reverse_moves():
    from driftdesk.drift.compare import _reverse

    assert [_reverse(d) for d in ("up", "down", "nulls_up", "nulls_down", "BR+", "mobile-", "schema", "mix", None)] == \
        ["down", "up", "nulls_down", "nulls_up", "BR-", "mobile+", None, None, None]
