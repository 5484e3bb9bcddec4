"""The causal scan's block path (a stretch of steps scored, recorded and tested at once) against its step path
(each step alone, the scan's plain definition): every output the same bit for bit and the same alarms, on the
sample's metrics, the evaluation's synthetic kinds, 5-minute and daily series, gaps, constant stretches and
generated series."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import importlib.util
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from seasonality_helpers import seasonal_series

from driftdesk.seasonality import DetectConfig, detect
from driftdesk.seasonality.causal import causal_scan

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
ROOT = Path(__file__).resolve().parents[3]
DETECT = importlib.import_module("driftdesk.seasonality.detect")  # the module (the package exports its function)
OUTPUTS = ("level", "seasonal", "score", "flag", "filled", "periods_used", "sigma")


def _eval_module():
    spec = importlib.util.spec_from_file_location("eval_seasonality", ROOT / "benchmarks" / "eval_seasonality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _same_scan(values: np.ndarray, calendar: np.ndarray | None, **kw) -> list:
    """Both paths on the same input: every output array equal (NaN where NaN) and the same alarms."""
    block = causal_scan(values, calendar, **kw)
    step = causal_scan(values, calendar, _per_step=True, **kw)
    for name in OUTPUTS:
        np.testing.assert_array_equal(getattr(block, name), getattr(step, name), err_msg=name, strict=True)
    assert block.alarms == step.alarms
    return block.alarms


def _step_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DETECT, "causal_scan", functools.partial(causal_scan, _per_step=True))


def _same_result(monkeypatch: pytest.MonkeyPatch, run) -> object:
    """``run()`` (a decomposition) with the block path, then with the step path: the same frames exactly."""
    block = run()
    with monkeypatch.context() as m:
        _step_path(m)
        step = run()
    for name in ("points", "events", "verdicts"):
        assert_frame_equal(getattr(block, name), getattr(step, name), check_exact=True)
    return block


@pytest.mark.parametrize("metric", ["cpa", "spend", "conversions"])  # a ratio, money and counts
def test_the_samples_metrics_every_series_in_both_modes(monkeypatch, sample_dataset, metric):
    from driftdesk.seasonality.view import every_series_decomposition

    for mode in ("batch", "causal"):
        result = _same_result(monkeypatch, functools.partial(every_series_decomposition, sample_dataset,
                                                             table="kpis", metric=metric, mode=mode))
        assert result.verdicts.height >= 13


@pytest.mark.parametrize(("minutes", "per_kind", "weeks", "seed"), [(60, 2, 8, 11), (60, 1, 6, 12), (5, 1, 6, 13)])
def test_the_evaluations_synthetic_kinds(monkeypatch, minutes, per_kind, weeks, seed):
    ev = _eval_module()
    frame, _, holidays = ev.make_set(per_kind, weeks, seed, minutes=minutes)
    for causal in (True, False):
        result = _same_result(monkeypatch, functools.partial(detect, frame, by="series", causal=causal,
                                                             calendar=holidays))
        assert result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"])).height > 0  # alarms ran


def test_daily_series_with_shifts(monkeypatch):
    rng = np.random.default_rng(3)
    days = 400
    t = np.arange(days)
    frames = []
    for i in range(6):
        y = 500 * (1 + 0.2 * np.sin(2 * np.pi * t / 7)) * np.exp(rng.normal(0, 0.04, days))
        y[150 + 30 * i:] *= 1.25 if i % 2 else 0.8
        ts = [dt.datetime(2024, 1, 1) + dt.timedelta(days=int(k)) for k in t]
        frames.append(pl.DataFrame({"series": f"s{i}", "ts": ts, "value": y}))
    result = _same_result(monkeypatch, lambda: detect(pl.concat(frames), by="series", causal=True))
    assert result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"])).height > 0


def _hourly_matrix(seed: int, days: int, m: int) -> np.ndarray:
    return np.stack([seasonal_series(days, seed=seed + i, level=50.0 + 30 * i) for i in range(m)])


def test_gaps_constant_stretches_spikes_and_calendar_days():
    days = 60
    y = _hourly_matrix(7, days, 6)
    y[0, 24 * 30 + 7:] *= 1.3  # a shift: an alarm inside a block, then a young regime re-levelled step by step
    y[1, 24 * 20:24 * 23] = np.nan  # three missing days
    y[1, 24 * 40 + 5:] *= 0.7
    y[2, 24 * 25:24 * 35] = y[2, 24 * 25]  # ten constant days
    y[3, np.random.default_rng(0).choice(np.arange(24 * 16, 24 * days), 40, replace=False)] *= 3.0  # spikes
    y[4, 24 * 33:24 * 33 + 8] *= 2.5  # a run of anomalies
    y[5, :] = 42.0  # constant throughout
    cal = np.zeros(y.shape, dtype=bool)
    cal[:, 24 * 45:24 * 47] = True
    for log in (True, False):
        work = np.log(y) if log else y
        alarms = _same_scan(work, cal, step=HOUR, periods=(24, 168), config=DetectConfig(), log=log)
        assert {a.series for a in alarms if a.trigger != "recovery"} >= {0, 1}
        assert any(a.alarm % 24 != 23 for a in alarms)  # called inside a block: a stretch was cut there
    _same_scan(y[:, :24 * 20 + 5], None, step=HOUR, periods=(24,), config=DetectConfig(), log=False)  # a partial block
    _same_scan(y, None, step=HOUR, periods=(), config=DetectConfig(), log=False)  # no period: a level model


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), days=st.integers(3, 40), m=st.integers(1, 4),
       periods=st.sampled_from([(24,), (24, 168), (), (12, 24)]),
       shifts=st.lists(st.tuples(st.integers(0, 39 * 24), st.floats(-0.6, 0.6)), max_size=3),
       holes=st.floats(0.0, 0.3), anomalies=st.floats(0.0, 0.05), flat=st.booleans(), noise=st.floats(0.001, 0.3))
def test_generated_series(seed, days, m, periods, shifts, holes, anomalies, flat, noise):
    rng = np.random.default_rng(seed)
    n = days * 24
    y = np.abs(np.stack([seasonal_series(days, seed=seed + i, noise=noise) for i in range(m)])) + 0.01  # positive
    for at, size in shifts:
        y[rng.integers(m), at:] *= 1 + size
    y[rng.random(y.shape) < anomalies] *= rng.choice([0.2, 4.0])
    y[rng.random(y.shape) < holes] = np.nan
    if flat:
        a = int(rng.integers(0, n))
        y[:, a:a + int(rng.integers(1, 5 * 24))] = 7.0
    cal = rng.random(y.shape) < 0.02
    _same_scan(np.log(y), cal, step=HOUR, periods=periods, config=DetectConfig(), log=True)
    cfg = DetectConfig(cusum_k=0.25, cusum_h=4.0, persist_steps=2, mean_z=2.0, min_drift=0.0)  # alarms galore
    _same_scan(y, cal, step=HOUR, periods=periods, config=cfg, log=False)


@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 700), seed=st.integers(0, 10_000), rounded=st.booleans(),
       q=st.one_of(st.just(0.75), st.floats(0.0, 1.0)))
def test_the_variance_tests_median_and_quantile_are_numpys(n, seed, rounded, q):
    from driftdesk.seasonality.rowstats import median_1d as _median
    from driftdesk.seasonality.variance import _quantile

    x = np.random.default_rng(seed).standard_t(3, n) * 10.0
    x = np.round(x, 1) if rounded else x  # ties
    assert _median(x) == float(np.median(x))
    assert _median(np.abs(x - _median(x))) == float(np.median(np.abs(x - np.median(x))))
    assert _quantile(np.abs(x), q) == float(np.quantile(np.abs(x), q))


@settings(max_examples=60, deadline=None)
@given(z=st.floats(0.5, 6.0), df=st.lists(st.floats(0.0, 5000.0), min_size=1, max_size=20))
def test_the_threshold_is_scipy_stats_own(z, df):
    from scipy.stats import norm, t

    from driftdesk.seasonality.rowstats import t_threshold

    df = np.array(df)
    expected = np.where(df >= 1, t.isf(norm.sf(z), np.maximum(df, 1.0)), np.inf)
    np.testing.assert_array_equal(t_threshold(z, df), expected, strict=True)
    np.testing.assert_array_equal(t_threshold(z, df), expected, strict=True)  # again: the thresholds kept


@pytest.mark.parametrize("rounds", [1, 100])
def test_the_cusums_step_by_step_rows_and_whole_rounds(monkeypatch, rounds):
    """A stretch's CUSUMs iterated for one round (nearly every row then run step by step) or until they settle:
    the step path's numbers either way."""
    from driftdesk.seasonality import scan_block

    monkeypatch.setattr(scan_block, "ROUNDS", rounds)
    y = _hourly_matrix(5, 45, 5)
    y[0, 24 * 30 + 7:] *= 1.2
    y[2] *= np.exp(np.repeat(np.random.default_rng(1).normal(0, 0.05, 45), 24))  # long CUSUM excursions
    cfg = DetectConfig(cusum_k=0.25, cusum_h=6.0)
    assert _same_scan(np.log(y), None, step=HOUR, periods=(24, 168), config=cfg, log=True)
