"""The causal detector's building blocks, against direct computations: the spread of window means and a
brute-force least-squares change point."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.seasonality.rowstats import date_change, t_threshold, window_mean_sd


def test_window_mean_spread_matches_a_direct_computation():
    rng = np.random.default_rng(4)
    r = rng.normal(size=(3, 200))
    r[1, 50:60] = np.nan
    sd = window_mean_sd(r, 24, 1)[0]
    for i in range(3):
        means = [np.nanmean(r[i, a:a + 24]) for a in range(200 - 24 + 1)
                 if np.isfinite(r[i, a:a + 24]).sum() >= 18]
        assert sd[i] == pytest.approx(np.sqrt(np.mean(np.square(means))))


def _brute_force_split(d, first, direction):
    best, where = -np.inf, first
    for k in range(first, len(d)):
        a, b = d[:k], d[k:]
        if len(a) < 2 or len(b) < 2:
            continue
        gap = b.mean() - a.mean()
        if direction * gap <= 0:
            continue
        sse = ((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()
        if -sse > best:
            best, where = -sse, k
    return where


@settings(max_examples=60, deadline=None)
@given(n=st.integers(12, 80), frac=st.floats(0.2, 0.8), size=st.floats(-5, 5).filter(lambda x: abs(x) > 1.5),
       seed=st.integers(0, 10_000), first=st.integers(0, 5))
def test_change_is_dated_at_the_least_squares_split(n, frac, size, seed, first):
    rng = np.random.default_rng(seed)
    d = rng.normal(size=n)
    at = int(n * frac)
    d[at:] += size
    direction = 1 if size > 0 else -1
    got = date_change(d, np.ones(n, dtype=bool), first, direction)
    assert got == _brute_force_split(d, first, direction)


def test_dating_skips_missing_values():
    d = np.array([0.0, 0.1, -0.1, 9.0, 0.0, 5.0, 5.1, 4.9, 5.0])
    ok = np.ones(d.size, dtype=bool)
    ok[3] = False  # a spike left out of the fit
    assert date_change(d, ok, 0, 1) == 5  # between the last 0 and the first 5, the spike ignored
    assert date_change(d, np.ones(d.size, dtype=bool), 0, 1) == 3  # with the spike, it would start the change


def _noisy_day_series(days: int, seed: int) -> np.ndarray:
    """Hourly: daily and weekly cycles, a 1.5% day-level factor and 5% hourly noise (a noisy segment)."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 24)
    base = 800 * (1 + 0.3 * np.sin(2 * np.pi * t / 24)) * (1 + 0.1 * np.sin(2 * np.pi * t / 168))
    day = np.repeat(rng.normal(0, 0.015, days), 24)
    return base * np.exp(day + rng.normal(0, 0.05, t.size))


@pytest.mark.parametrize("seed", range(4))
def test_a_shift_missed_on_its_first_day_is_still_called_and_dated(seed):
    # a 10% step right after the mean test's warm-up, on a noisy series: if it is not confirmed at once, the
    # days after it must not widen the yardstick or pull the level along until it is never called
    import datetime as dt

    import polars as pl
    from seasonality_helpers import T0, hourly

    from driftdesk.seasonality import detect

    values = _noisy_day_series(42, seed)
    at = 24 * 21 + 13
    values[at:] *= 1.10
    result = detect(hourly(values), causal=True)
    shifts = result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"]))
    assert shifts.height >= 1
    ev = shifts.row(0, named=True)
    start = T0 + dt.timedelta(hours=at)
    assert ev["direction"] == "up"
    assert abs(ev["start"] - start) <= dt.timedelta(hours=12)
    assert ev["detected_at"] - start <= dt.timedelta(days=4)
    assert ev["magnitude"] == pytest.approx(0.10, abs=0.04)


def _t_isf_closed_form(p: float, df: int) -> float:
    """Student t's upper quantile where it has a closed form: df 1 (Cauchy) and df 2."""
    if df == 1:
        return math.tan(math.pi * (0.5 - p))
    u = 1 - 2 * p  # df 2: F(x) = 1/2 + x / (2 sqrt(2 + x^2))
    return math.sqrt(2 * u * u / (1 - u * u))


@pytest.mark.parametrize("z", [2.0, 3.0, 4.0])
@pytest.mark.parametrize("df", [1, 2])
def test_t_threshold_matches_closed_forms(z, df):
    p = 0.5 * math.erfc(z / math.sqrt(2))  # the normal tail beyond z
    got = t_threshold(z, np.array([float(df)]))[0]
    assert got == pytest.approx(_t_isf_closed_form(p, df), rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(z=st.floats(1.0, 6.0), a=st.floats(1.0, 500.0), b=st.floats(1.0, 500.0))
def test_t_threshold_falls_toward_z_as_the_spread_is_known_better(z, a, b):
    lo, hi = sorted((a, b))
    t_lo, t_hi, t_inf = t_threshold(z, np.array([lo, hi, 1e12]))
    assert t_lo >= t_hi - 1e-9 >= z - 1e-6
    assert t_inf == pytest.approx(z, abs=1e-6)
    assert np.isinf(t_threshold(z, np.array([0.5]))[0])  # less than one degree of freedom: never fires


def test_a_shift_that_turns_its_hours_into_anomalies_is_called_within_a_day():
    # a quiet series (2% hourly noise, a 1.5% day factor): a 10% step puts many of its hours past the anomaly
    # threshold. They must count, clipped, toward the mean test: left out, they bias the mean toward zero and
    # leave too few hours to test (the detector that left them out caught 4 of these 8 within a day)
    import datetime as dt

    import polars as pl
    from seasonality_helpers import T0, hourly

    from driftdesk.seasonality import detect

    at = 24 * 30 + 7
    start = T0 + dt.timedelta(hours=at)
    t = np.arange(42 * 24)
    base = 800 * (1 + 0.3 * np.sin(2 * np.pi * t / 24)) * (1 + 0.1 * np.sin(2 * np.pi * t / 168))
    delays = []
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        values = base * np.exp(np.repeat(rng.normal(0, 0.015, 42), 24) + rng.normal(0, 0.02, t.size))
        values[at:] *= 0.90
        events = detect(hourly(values), causal=True).events
        shifts = events.filter(pl.col("kind").is_in(["level_shift", "trend_change"]) & (pl.col("direction") == "down")
                               & (pl.col("detected_at") >= start))
        assert shifts.height >= 1, f"seed {seed}: the step was never called"
        delays.append(shifts["detected_at"][0] - start)
    assert sum(d <= dt.timedelta(hours=24) for d in delays) >= 6, delays


def _direct_spread(x: np.ndarray, lo: int, hi: int, until: int, w: int) -> tuple[float, int]:
    """The root mean square of the means of every w-step window of x[lo:hi] with 3/4 of its values (those from
    ``until`` on missing), and their number, one window at a time."""
    y = x[lo:hi].copy()
    y[max(until - lo, 0):] = np.nan
    means = [np.nanmean(y[a:a + w]) for a in range(len(y) - w + 1) if np.isfinite(y[a:a + w]).sum() >= 0.75 * w]
    return (math.sqrt(np.mean(np.square(means))) if means else math.nan), len(means)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_carried_window_spreads_match_a_direct_computation(seed):
    from driftdesk.seasonality.carried import WindowSpreads

    rng = np.random.default_rng(seed)
    m, n, windows = 4, 500, (12, 24)
    x = rng.normal(size=(m, n)) + 5.0 * rng.normal(size=(m, 1))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[1, 100:160] = np.nan  # a gap longer than a window
    spreads, stamps, done = WindowSpreads(m, n, windows), np.zeros(m, dtype=np.int64), 0
    while done < n:
        done = min(n, done + int(rng.integers(1, 60)))  # grown in stretches of any length
        if rng.random() < 0.3:  # a row's history rewritten: summed again from the start
            i = int(rng.integers(m))
            x[i, :done] += rng.normal()
            x[i, rng.integers(0, done, 5)] = np.nan
            stamps[i] += 1
        spreads.update(lambda a, b, rows: x[:, a:b].copy() if rows is None else x[rows, a:b], done, stamps)
        lo = rng.integers(0, done + 1, m)
        hi = np.minimum(lo + rng.integers(0, 300, m), done)
        until = rng.integers(0, done + 40, m)
        sd, nwin = spreads.spread(lo, hi, until=until)
        for k, w in enumerate(windows):
            for i in range(m):
                want, count = _direct_spread(x[i], int(lo[i]), int(hi[i]), int(until[i]), w)
                assert nwin[k, i] == count
                assert (math.isnan(want) and math.isnan(sd[k, i])) or sd[k, i] == pytest.approx(want, rel=1e-9)


def test_the_mean_tests_yardstick_in_a_scan_is_its_definition(monkeypatch):
    """At every refit of a scan with alarms (rewritten histories) and a day CUSUM half way (a reference cut
    short): the spreads carried from refit to refit are ``window_mean_sd`` of the stretches the yardstick is
    defined on, to 1e-9, and the thresholds the same."""
    import datetime as dt

    from seasonality_helpers import seasonal_series

    from driftdesk.seasonality import DetectConfig, block_fit
    from driftdesk.seasonality.causal import causal_scan

    seen = {"refits": 0, "cut": 0}
    carried = block_fit._mean_yardstick

    def checked(state, s, win, t0, pmax):
        mean_sd, mean_thr = carried(state, s, win, t0, pmax)
        length, h, day = win.shape[1], state.history, state.day
        lo, hi = max(0, t0 - s.ref_steps - s.lag, state.model_from), max(0, t0 - s.lag, state.model_from)
        half = 0.5 * s.config.block_h
        since = np.minimum(np.where(day.plus > half, day.zero_plus, t0), np.where(day.minus > half, day.zero_minus, t0))
        ref = np.where(np.arange(lo, hi)[None, :] < since[:, None], h.clipped[:, lo:hi], np.nan)
        cyc = np.where(h.clean[:, t0 - length + pmax:t0] & h.clean[:, t0 - length:t0 - pmax],
                       win[:, pmax:] - win[:, :-pmax], np.nan)[:, :max(length - pmax - s.lag, 0)]
        for w in s.mean_windows:
            sd_fc, n_fc = window_mean_sd(ref, w, s.mean_min)
            sd_in = window_mean_sd(cyc, w, 1)[0] / np.sqrt(2.0)
            want = np.where(np.isfinite(sd_fc) & (sd_fc > 0), np.fmax(sd_fc, sd_in), np.nan)
            np.testing.assert_allclose(mean_sd[w], want, rtol=1e-9, equal_nan=True)
            np.testing.assert_array_equal(mean_thr[w], t_threshold(s.config.mean_z, n_fc / w))
        seen["refits"] += 1
        seen["cut"] += bool((since < hi).any())
        return mean_sd, mean_thr

    monkeypatch.setattr(block_fit, "_mean_yardstick", checked)
    days = 70
    y = np.stack([seasonal_series(days, seed=20 + i, level=80.0 + 10 * i) for i in range(5)])
    y[0, 24 * 40 + 5:] *= 1.25
    y[1, 24 * 30:24 * 33] = np.nan
    y[2, 24 * 50:] *= 0.85
    y[3] *= np.exp(np.repeat(np.random.default_rng(3).normal(0, 0.03, days), 24))  # a day-level factor
    scan = causal_scan(np.log(y), None, step=dt.timedelta(hours=1), periods=(24, 168), config=DetectConfig(),
                       log=True)
    assert scan.alarms and seen["refits"] > 60 and seen["cut"] > 0


def test_medians_and_spreads_in_two_sorts_are_numpys():
    from driftdesk.seasonality.rowstats import MAD_SCALE, medians_and_spreads

    rng = np.random.default_rng(8)
    arrays = [rng.standard_t(3, size=(5, n)) for n in (7, 168, 40)]
    for a in arrays:
        a[rng.random(a.shape) < 0.2] = np.nan
    arrays[1][2] = np.nan  # a row without any value
    medians, spreads = medians_and_spreads(arrays[:1], arrays[1:])
    np.testing.assert_array_equal(medians[0], np.nanmedian(arrays[0], axis=1))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        for got, a in zip(spreads, arrays[1:]):
            want = MAD_SCALE * np.nanmedian(np.abs(a - np.nanmedian(a, axis=1)[:, None]), axis=1)
            np.testing.assert_array_equal(got, want)


def _deep_weekend_series(days: int, seed: int, weekend: float) -> np.ndarray:
    """Hourly, from a Monday: daily and weekly cycles, Saturdays and Sundays at ``weekend`` x the weekday
    level (business traffic), and 3% hourly noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 24)
    base = 1000 * (1 + 0.3 * np.sin(2 * np.pi * (t - 6 * seed) / 24)) * (1 + 0.1 * np.sin(2 * np.pi * t / 168))
    base *= np.where((t // 24) % 7 >= 5, weekend, 1.0)
    return base * np.exp(rng.normal(0, 0.03, t.size))


def test_deep_weekends_are_no_level_shifts_and_a_shift_on_them_is_still_called():
    # weekends at half the weekday level are anomalies to the daily-only model of the first two weeks; once the
    # weekly period joins, its fits must see them (the detector that left them out called most weekends level
    # shifts, and their Mondays recoveries, week after week)
    import datetime as dt

    import polars as pl
    from seasonality_helpers import T0, hourly

    from driftdesk.seasonality import detect

    days, at = 42, 24 * 30 + 7
    start = T0 + dt.timedelta(hours=at)
    frames = []
    for seed in range(8):
        values = _deep_weekend_series(days, seed, 0.5)
        frames.append(hourly(values, series=f"flat{seed}"))
        shifted = _deep_weekend_series(days, 100 + seed, 0.5)
        shifted[at:] *= 0.8 if seed % 2 else 1.2
        frames.append(hourly(shifted, series=f"shift{seed}"))
    events = detect(pl.concat(frames), by="series", causal=True).events
    drift = events.filter(pl.col("kind").is_in(["level_shift", "trend_change"]))
    false = drift.filter(pl.col("series").str.starts_with("flat") | (pl.col("detected_at") < start))
    assert false.height == 0, false
    called = drift.filter(pl.col("series").str.starts_with("shift") & (pl.col("detected_at") >= start)
                          & (pl.col("detected_at") - start <= dt.timedelta(hours=24)))
    assert called["series"].n_unique() == 8, called


def test_a_deep_weekend_that_recurs_before_the_weekly_period_joins_is_no_anomaly():
    # the daily-only model of the first two weeks sees each deep weekend as anomalies; the second weekend repeats
    # the first one's deviations hour for hour (the weekly cycle showing), so it is flagged normal, while a drop
    # on it that the first weekend did not have is still an anomaly, and nothing changes once the period joined
    import datetime as dt

    from driftdesk.seasonality.causal import causal_scan
    from driftdesk.seasonality.config import DetectConfig
    from driftdesk.seasonality.state import ANOMALY, DRIFT

    cfg = DetectConfig()
    y = np.stack([_deep_weekend_series(28, seed, 0.5) for seed in range(6)])
    spike = 24 * 12 + 10  # the second Saturday, 10:00
    y[0, spike:spike + 2] *= 0.3
    work = np.log(y)
    scan = causal_scan(work, None, step=dt.timedelta(hours=1), periods=(24, 168), config=cfg, log=True)
    weekend = ((np.arange(work.shape[1]) // 24) % 7 >= 5)[None, :]
    daily_only = (scan.periods_used == 24)[None, :]
    week_one = (np.arange(work.shape[1]) < 168)[None, :]
    first, second = weekend & daily_only & week_one, weekend & daily_only & ~week_one
    flagged = scan.flag == ANOMALY
    assert (flagged & first).sum() >= 20 and (flagged & second).sum() <= 0.1 * (flagged & first).sum()
    assert flagged[0, spike] and flagged[0, spike + 1]
    # by hand: a step beyond anomaly_z against the daily-only model is normal exactly where it and the value a
    # week earlier are off the expected value of a week earlier the same way, both by clip_z scales or more,
    # and within anomaly_z x sqrt(2) scales (the smaller of the two steps') of each other
    expected = scan.level + scan.seasonal
    beyond = np.abs(scan.score) >= cfg.anomaly_z
    for i, t in zip(*np.nonzero(beyond & daily_only)):
        if t < 168 or not np.isfinite(expected[i, t - 168]):
            assert flagged[i, t]
            continue
        sig = min(scan.sigma[i, t], scan.sigma[i, t - 168])
        now, then = work[i, t] - expected[i, t - 168], work[i, t - 168] - expected[i, t - 168]
        same = (np.sign(now) == np.sign(then) and abs(now) >= cfg.clip_z * sig and abs(then) >= cfg.clip_z * sig
                and abs(work[i, t] - work[i, t - 168]) < cfg.anomaly_z * 2 ** 0.5 * sig)
        assert flagged[i, t] != same, (i, t)
    joined = (scan.periods_used == 168)[None, :] & (scan.flag != DRIFT)
    assert (flagged == beyond)[joined].all()


def test_a_deep_weekend_as_the_warm_up_leaves_no_level_shifts():
    # series that start on a Saturday: the daily-only model learns the weekend level, and the weekdays of the
    # first week are anomalies to it. Its scale and level may move in the second week, so those weekdays are
    # then off the model by less, though their values repeat the first week's: measured against what the model
    # expected a week earlier, the repeat is seen, the first week's weekdays feed the weekly fits, and no later
    # weekday is called a level shift (the detector that measured each against its own model raised 14 alarms
    # on these 40 series and flagged 85 anomalies after day 14)
    import datetime as dt

    from driftdesk.seasonality.causal import causal_scan
    from driftdesk.seasonality.config import DetectConfig
    from driftdesk.seasonality.state import ANOMALY

    rng = np.random.default_rng(1)
    days = 35
    t = np.arange(days * 24) + 5 * 24  # hours since a Monday: the series start on a Saturday
    rows = []
    for _ in range(40):
        daily = 1 + rng.uniform(0.2, 0.5) * np.sin(2 * np.pi * (t - rng.integers(0, 24)) / 24)
        weekly = 1 + rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * (t - rng.integers(0, 168)) / 168)
        day = np.repeat(rng.normal(0, 0.015, days + 1), 24)[:t.size]
        base = rng.uniform(200, 5000) * daily * weekly * np.where((t // 24) % 7 >= 5, 0.5, 1.0)
        rows.append(base * np.exp(day + rng.normal(0, rng.uniform(0.02, 0.05), t.size)))
    scan = causal_scan(np.log(np.stack(rows)), None, step=dt.timedelta(hours=1), periods=(24, 168),
                       config=DetectConfig(), log=True)
    assert [a for a in scan.alarms if a.trigger != "recovery"] == []
    assert (scan.flag[:, 14 * 24:] == ANOMALY).sum() <= 10
