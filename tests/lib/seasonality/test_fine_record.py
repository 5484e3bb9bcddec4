"""The record a finer-than-hourly point (or hour of points) must beat: the largest daily maximum of the last
record_days days, then the second largest of twice as long, so one burst alone does not raise the bar."""

from __future__ import annotations

import numpy as np

from driftdesk.seasonality.fine import RECORD_RANK, rate_threshold


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
