"""The causal scan's step functions, each against a direct computation, and the scan's own promise: nothing at
step t reads anything after t."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from seasonality_helpers import hourly, seasonal_series

from driftdesk.seasonality import DetectConfig, detect
from driftdesk.seasonality.causal import causal_scan
from driftdesk.seasonality.config import scan_settings
from driftdesk.seasonality.scan_step import update_cusum, update_run
from driftdesk.seasonality.state import BlockFit, DriftAlarm, Episodes, Observation, ScanState

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def test_settings_turn_days_into_steps():
    hourly_s = scan_settings(DetectConfig(), step=HOUR, periods=(168, 24), log=True)
    assert hourly_s.periods == (24, 168)
    # the warm-up is two cycles of the shortest period; the weekly period joins after two weeks
    assert (hourly_s.refit, hourly_s.warmup, hourly_s.window) == (24, 48, 672)
    assert hourly_s.active_periods(48) == (24,) and hourly_s.active_periods(336) == (24, 168)
    assert (hourly_s.level_steps, hourly_s.persist, hourly_s.hold, hourly_s.recover_steps) == (168, 6, 12, 168)
    assert (hourly_s.mean_windows, hourly_s.mean_min, hourly_s.ref_steps, hourly_s.lag) == ((12, 24), 72, 1344, 48)
    # daily: a week of points is too few for a level (two cycles) or a scale (four), the flag holds one step,
    # and the mean test's yardstick reaches back 26 cycles, leaving out the longest window
    daily_s = scan_settings(DetectConfig(), step=DAY, periods=(7,), log=True)
    assert (daily_s.refit, daily_s.warmup, daily_s.level_steps, daily_s.scale_steps) == (1, 14, 14, 28)
    assert (daily_s.persist, daily_s.hold, daily_s.mean_windows, daily_s.ref_steps, daily_s.lag) == (3, 1, (3, 7), 182, 7)
    assert daily_s.coarse and not hourly_s.coarse
    level = scan_settings(DetectConfig(), step=HOUR, periods=(), log=False)  # a level model: half a day
    assert level.in_warmup(11) and not level.in_warmup(12)


def _fit(m: int) -> BlockFit:
    one = np.ones(m)
    return BlockFit(forecast=np.zeros((m, 24)), level=np.zeros(m), sigma=one, vif=one, root_vif=one,
                    seasoned=True, cusum_h=18.0, mean_sd={}, mean_thr={})


def _obs(z: np.ndarray, scored: np.ndarray, anomaly_z: float = 5.0) -> Observation:
    anomaly = scored & (np.abs(z) >= anomaly_z)
    return Observation(z, np.zeros_like(z), z, scored, anomaly, scored & ~anomaly)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(1, 80))
def test_hourly_cusum_is_the_textbook_recursion(seed, steps):
    rng = np.random.default_rng(seed)
    m, cfg = 3, DetectConfig()
    z = rng.normal(0.8, 2.5, (m, steps))
    scored = rng.random((m, steps)) > 0.2
    state = ScanState.start(np.zeros((m, steps)), np.zeros((m, steps), dtype=bool))
    s = scan_settings(cfg, step=HOUR, periods=(24,), log=False)
    for t in range(steps):
        update_cusum(state, _fit(m), s, _obs(z[:, t], scored[:, t]), t)
    for i in range(m):
        hi = lo = 0.0
        zero_hi = zero_lo = -1
        for t in range(steps):
            if not scored[i, t] or abs(z[i, t]) >= cfg.anomaly_z:
                continue  # anomalies and unscored points leave the CUSUM alone
            x = min(max(z[i, t], -cfg.clip_z), cfg.clip_z)
            hi, lo = max(0.0, hi + x - cfg.cusum_k), max(0.0, lo - x - cfg.cusum_k)
            zero_hi, zero_lo = (t if hi == 0 else zero_hi), (t if lo == 0 else zero_lo)
        assert state.cusum.plus[i] == pytest.approx(hi) and state.cusum.minus[i] == pytest.approx(lo)
        assert (state.cusum.zero_plus[i], state.cusum.zero_minus[i]) == (zero_hi, zero_lo)


def test_a_run_of_anomalies_counts_same_sign_anomalies_in_a_row():
    z = np.array([6.0, 7.0, np.nan, 8.0, -6.0, -9.0, 1.0, 6.0])
    scored = np.isfinite(z)  # an unscored (missing) point neither extends nor ends a run
    state = ScanState.start(np.zeros((1, z.size)), np.zeros((1, z.size), dtype=bool))
    seen = []
    for t, x in enumerate(z):
        update_run(state, _obs(np.array([x]), np.array([scored[t]])), t)
        seen.append((int(state.run.length[0]), int(state.run.start[0]), float(state.run.sign[0])))
    assert [s[0] for s in seen] == [1, 2, 2, 3, 1, 2, 0, 1]
    assert seen[3][1:] == (0, 1.0) and seen[5][1:] == (4, -1.0) and seen[7][1:] == (7, 1.0)


def test_a_return_to_the_level_before_the_last_alarm_is_a_recovery_once():
    ep = Episodes.none(1)
    ep.open(DriftAlarm(0, 90, 100, 111, 1, 0.0, 0.2, "mean"), hold=12)
    assert ep.hold_until[0] == 112
    kw = {"tolerance": 0.04, "within": 168}
    assert ep.recovers(0, 150, -1, 0.01, **kw)  # back within half the change (0.1) of the old level
    assert not ep.recovers(0, 150, -1, 0.15, **kw)  # only part of the way back
    assert not ep.recovers(0, 150, 1, 0.01, **kw)  # the same direction as the alarm: a new change
    assert not ep.recovers(0, 300, -1, 0.01, **kw)  # too late: a change of its own
    ep.close(DriftAlarm(0, 140, 150, 139, -1, 0.2, 0.01, "recovery"))
    assert not ep.recovers(0, 160, -1, 0.0, **kw)  # that episode has ended
    assert [a.trigger for a in ep.alarms] == ["mean", "recovery"]


def _two_series(days: int, seed: int) -> np.ndarray:
    y = np.stack([seasonal_series(days, seed=seed), seasonal_series(days, seed=seed + 1, level=50.0)])
    y[0, 24 * 25 + 5:] *= 1.2  # a level shift, so alarms, re-dating and a new regime are part of the scan
    y[1, 24 * 22:24 * 22 + 3] = np.nan
    return np.log(y)


@settings(max_examples=6, deadline=None)
@given(cut=st.integers(24 * 14, 24 * 35 - 1), seed=st.integers(0, 1000))
def test_nothing_at_step_t_reads_anything_after_t(cut, seed):
    y = _two_series(35, seed)
    other = y.copy()
    other[:, cut:] = np.random.default_rng(seed).normal(5.0, 2.0, other[:, cut:].shape)  # a different future
    cal = np.zeros(y.shape, dtype=bool)
    a, b = (causal_scan(v, cal, step=HOUR, periods=(24, 168), config=DetectConfig(), log=True) for v in (y, other))
    for name in ("level", "seasonal", "score", "flag", "sigma"):
        np.testing.assert_array_equal(getattr(a, name)[:, :cut], getattr(b, name)[:, :cut], err_msg=name)
    assert [x for x in a.alarms if x.alarm < cut] == [x for x in b.alarms if x.alarm < cut]
    assert any(x.series == 0 and x.trigger != "recovery" for x in a.alarms)  # the shift was called


def test_the_warm_up_has_no_scores_and_no_fit():
    y = _two_series(21, 3)
    scan = causal_scan(y, None, step=HOUR, periods=(24, 168), config=DetectConfig(), log=True)
    warm = 2 * 24  # two daily cycles; the weekly period joins after two weeks
    assert np.isnan(scan.score[:, :warm]).all() and (scan.flag[:, :warm] == 0).all()
    assert (scan.periods_used[:warm] == 0).all() and (scan.periods_used[warm:336] == 24).all()
    assert (scan.periods_used[336:] == 168).all()
    assert np.isfinite(scan.score[:, warm:]).mean() > 0.99


def test_the_retired_window_test_is_printed_as_off():
    assert not {"window_steps", "window_z"} & set(DetectConfig.__dataclass_fields__)
    assert DetectConfig().to_dict()["window_steps"] == ()


def test_one_period_as_an_int_is_the_same_as_a_list_of_one():
    frame = hourly(seasonal_series(21, seed=5))
    as_int, as_list = detect(frame, periods=24, causal=True), detect(frame, periods=[24], causal=True)
    assert as_int.config["periods"] == [24]
    assert_frame_equal(as_int.points, as_list.points)
    assert as_int.points.filter(pl.col("score").is_not_null()).height > 0
