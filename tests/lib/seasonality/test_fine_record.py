"""The record a finer-than-hourly point (or hour of points) must beat: the largest daily maximum of the last
record_days days, then the second largest of twice as long, so one burst alone does not raise the bar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from driftdesk.seasonality import detect
from driftdesk.seasonality.fine import RECORD_RANK, rate_threshold, sustained


def test_the_record_is_the_largest_then_the_second_largest_daily_maximum_hand_computed():
    # two values a day, record_days 2 (spans of 3 days); daily maxima 9, 1, 2, 3, 4, 5, 6, 7
    a = np.array([9, 0, 1, 0, 0, 2, 3, 0, 4, 1, 0, 5, 6, 6, 7, 0], dtype=float)
    thr = rate_threshold(a, 2, 0.5, True, 2.0)
    # day 0: nothing before it (z); days 1-4: the largest of the 2 days before (9, 9, 2, 3); from day 5 (5 days
    # seen): the second largest of the 5 days before ([9,1,2,3,4] -> 4, [1,2,3,4,5] -> 4, [2,3,4,5,6] -> 5)
    assert RECORD_RANK == 2
    np.testing.assert_array_equal(thr[::2], [0.5, 9, 9, 2, 3, 4, 4, 5])
    np.testing.assert_array_equal(thr[1::2], thr[::2])  # one bar for the whole day


def test_one_burst_does_not_set_the_bar_once_the_longer_span_is_seen():
    a = np.full(40, 1.0)  # one value a day
    a[30] = 50.0
    thr = rate_threshold(a, 1, 0.5, True, 14.0)
    assert thr[29] == 1.0 and thr[31] == 1.0  # a single burst of 50 is only the largest, not the second
    a[33] = 40.0
    assert rate_threshold(a, 1, 0.5, True, 14.0)[34] == 40.0  # a second one is


def test_on_exchangeable_noise_the_record_is_beaten_one_day_in_record_days_plus_one():
    # the k-th largest of k (d + 1) - 1 exchangeable daily maxima is beaten with chance k / (k (d + 1)) = 1 / 15
    rng = np.random.default_rng(3)
    day, days = 12, 30_000
    a = np.abs(rng.standard_t(3, size=day * days))  # heavy tails: the rule does not care
    thr = rate_threshold(a, day, 0.0, True, 14.0)
    daily, bar = a.reshape(days, day).max(axis=1), thr[::day]
    late = (daily[29:] > bar[29:]).mean()  # from 29 days seen; about 4 standard errors of tolerance
    assert abs(late - 1 / 15) < 0.006, late


def test_a_sustained_run_is_one_of_steps_scores_beyond_z_on_one_side_hand_computed():
    nan = np.nan
    score = np.array([0, 6, 6, 6, -6, 6, 6, 6, nan, 6, 6, 6, 4.9, -5, -5, -7])
    got = sustained(score, 5.0, 3)
    # runs: 1-3 (+), 4 (-), 5-7 (+), a missing score, 9-11 (+), 4.9 is not beyond 5, 13-15 (-)
    np.testing.assert_array_equal(np.flatnonzero(got), [3, 7, 11, 15])
    assert not sustained(np.full(10, nan), 5.0, 3).any() and sustained(np.array([]), 5.0, 3).size == 0


def test_an_excursion_that_repeats_one_cycle_later_is_the_cycle_not_a_burst():
    score = np.array([6, 6, 6, 6, 6, 6, 6, 6, -6, -6, -6, 0], dtype=float)
    # cycle 4: from index 4 each +6 repeats the one 4 earlier, so only the first run counts; -6 at 8-10 does not
    # repeat +6 (other side) and is a run of its own
    np.testing.assert_array_equal(np.flatnonzero(sustained(score, 5.0, 3, (4,))), [2, 3, 10])


def test_a_long_burst_smaller_than_last_weeks_is_flagged_when_its_hours_add_up():
    # 5-minute Poisson counts; a short huge burst on day 8 sets the record; a burst five times the level for eight
    # hours on day 11 beats no record point by point, but each of its hours is far beyond the noise
    per_day, rate = 288, 40.0
    t = np.arange(16 * per_day) / per_day
    lam = rate * (1 + 0.5 * np.sin(2 * np.pi * t))
    lam[8 * per_day + 120:8 * per_day + 132] *= 60.0
    burst = slice(11 * per_day + 96, 11 * per_day + 192)  # 08:00-16:00
    lam[burst] *= 5.0
    values = np.random.default_rng(5).poisson(lam).astype(float)
    frame = pl.DataFrame({"ts": [dt.datetime(2026, 3, 2) + dt.timedelta(minutes=5 * i) for i in range(values.size)],
                          "value": values})
    flags = detect(frame, causal=True).points["flag"].to_numpy()
    first = np.flatnonzero(flags[burst] != "normal")
    assert first.size and first[0] == 6 * 12 - 1, first  # at the last point of its sixth hour
    assert (flags[8 * per_day + 120:8 * per_day + 144] != "normal").any()  # the first burst alerted too
