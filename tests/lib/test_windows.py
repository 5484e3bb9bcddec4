"""Windows: parsing, calendar-aligned baselines, hour/weekday alignment of custom ranges, baseline labels."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from driftdesk.errors import WindowError
from driftdesk.windows import (
    Window,
    aligned_rows,
    baseline_label,
    baselines_for,
    is_calendar_aligned,
    latest_day,
)

MON = dt.datetime(2026, 8, 10)


def test_parse_and_errors():
    w = Window.parse("2026-08-10T00:00/2026-08-11T00:00", "current")
    assert w.duration == dt.timedelta(days=1)
    assert Window.parse("2026-08-10T02:00+02:00/2026-08-10T03:00Z").start == MON
    with pytest.raises(WindowError, match="START/END"):
        Window.parse("2026-08-10")
    with pytest.raises(WindowError, match="must be after"):
        Window(MON, MON)
    assert latest_day(dt.datetime(2026, 11, 1, 23, 0)) == Window(dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 2), "current")


def test_baselines_keep_hours_and_weekdays():
    cur = Window(MON + dt.timedelta(hours=9), MON + dt.timedelta(hours=12), "current")
    dod, wow, cus, tr = baselines_for(cur, kinds=("day_over_day", "week_over_week"),
                                      custom_range="2026-07-01T00:00/2026-08-01T00:00",
                                      training="2026-06-01T00:00/2026-07-01T00:00")
    assert (dod.label, dod.start) == ("day_over_day", dt.datetime(2026, 8, 9, 9))
    assert (wow.label, wow.start.weekday(), wow.start.hour) == ("week_over_week", 0, 9)
    assert (cus.label, tr.label) == ("custom", "training")
    assert is_calendar_aligned(cur, dod) and is_calendar_aligned(cur, wow) and not is_calendar_aligned(cur, cus)
    with pytest.raises(WindowError, match="unknown baseline"):
        baselines_for(cur, kinds=("yesterday",))
    with pytest.raises(WindowError, match="needs a range"):
        baselines_for(cur, kinds=("custom",))


def test_aligned_rows_keep_only_the_current_hours_and_weekday():
    ts = pl.datetime_range(dt.datetime(2026, 7, 1), dt.datetime(2026, 8, 1), "1h", closed="left", eager=True)
    frame = pl.DataFrame({"ts": ts})
    cur = Window(MON + dt.timedelta(hours=9), MON + dt.timedelta(hours=12))  # a Monday morning
    base = Window(dt.datetime(2026, 7, 1), dt.datetime(2026, 8, 1), "custom")
    kept = frame.filter(aligned_rows(cur, base))
    assert set(kept["ts"].dt.hour()) == {9, 10, 11}
    assert set(kept["ts"].dt.weekday()) == {1}  # Mondays only
    assert kept.height == 4 * 3  # four Mondays in July 2026, three hours each
    week = Window(MON, MON + dt.timedelta(days=7))
    assert frame.filter(aligned_rows(week, base)).height == frame.height  # a whole week keeps everything


def test_day_and_ending_are_whole_utc_days():
    import datetime as dt

    from driftdesk.errors import WindowError
    from driftdesk.windows import Window

    w = Window.day(dt.date(2026, 10, 8))
    assert (w.start, w.end, w.label) == (dt.datetime(2026, 10, 8), dt.datetime(2026, 10, 9), "current")
    e = Window.ending(dt.date(2026, 10, 11), days=7, label="x")
    assert (e.start, e.end, e.label) == (dt.datetime(2026, 10, 5), dt.datetime(2026, 10, 12), "x")
    for bad in (0, -1, 10**12, 2.5, True):
        with pytest.raises(WindowError, match="between 1 and 3,660 days"):
            Window.ending(dt.date(2026, 10, 11), days=bad)


def test_baseline_kinds_have_one_label_each():
    from driftdesk.windows import BASELINE_KINDS, BASELINE_LABELS

    assert set(BASELINE_LABELS) == set(BASELINE_KINDS)
    assert baseline_label("week_over_week") == "week over week"
    assert baseline_label("previous_period") == "previous period"
    assert baseline_label("baseline_2") == "baseline 2"  # a label of the caller's own


# --------------------------------------------------------------------------- known-good baselines


def _releases():
    import polars as pl

    return pl.DataFrame({"ts": [dt.datetime(2026, 10, 5), dt.datetime(2026, 10, 7), dt.datetime(2026, 10, 14)],
                         "release_id": ["model-canary", "model-full", "prompt-v4"],
                         "component": ["model", "model", "prompt"]})


def test_last_release_moves_back_whole_weeks_to_before_the_release():
    from driftdesk.windows import last_release

    current = Window.parse("2026-10-21T09:00/2026-10-21T17:00")
    base = last_release(current, _releases())  # the prompt release of 10-14 is the one live at the window
    assert base.iso() == "2026-10-07T09:00:00/2026-10-07T17:00:00"  # one week back would still be on 10-14's release
    model = last_release(current, _releases(), component="model")
    assert model.iso() == "2026-09-30T09:00:00/2026-09-30T17:00:00"  # before 10-07, same weekday and hours
    assert model.label == "last_release"


def test_a_week_long_window_starting_at_the_release_goes_back_one_week():
    from driftdesk.windows import last_release

    week = Window.parse("2026-10-07T00:00/2026-10-14T00:00")
    assert last_release(week, _releases(), component="model").iso() == "2026-09-30T00:00:00/2026-10-07T00:00:00"


def test_known_good_baselines_come_from_baselines_for():
    from driftdesk.windows import KNOWN_GOOD_KINDS, baseline_label, baselines_for

    current = Window.parse("2026-10-21T00:00/2026-10-22T00:00")
    out = baselines_for(current, kinds=("week_over_week", *KNOWN_GOOD_KINDS), releases=_releases(),
                        pinned="2026-09-01T00:00/2026-09-08T00:00")
    assert [w.label for w in out] == ["week_over_week", "last_release", "pinned"]
    assert out[2].iso() == "2026-09-01T00:00:00/2026-09-08T00:00:00"
    assert baseline_label("last_release") == "last release before this one"


def test_known_good_baselines_say_what_they_need():
    from driftdesk.windows import baselines_for, last_release

    current = Window.parse("2026-10-01T00:00/2026-10-02T00:00")
    with pytest.raises(WindowError, match="no release starts before"):
        last_release(current, _releases())
    with pytest.raises(WindowError, match="needs a releases table"):
        baselines_for(current, kinds=("last_release",))
    with pytest.raises(WindowError, match="pinned baseline needs a range"):
        baselines_for(current, kinds=("pinned",))
