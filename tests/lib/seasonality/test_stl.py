"""The linear STL operator against statsmodels' own STL / MSTL on the same parameters (independent reference)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from statsmodels.tsa.seasonal import MSTL, STL

from driftdesk.seasonality import decompose
from driftdesk.seasonality.stl import StlSpec, apply_operator, decompose_rows, default_specs, operator_for


@pytest.fixture(autouse=True)
def _fresh_operator_cache(monkeypatch):
    """Build operators here, never use one an earlier test built."""
    from collections import OrderedDict

    from driftdesk.seasonality import stl

    monkeypatch.setattr(stl, "_CACHE", OrderedDict())


def _series(n: int, seed: int, periods=(12, 48)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 50 + 0.02 * t + rng.normal(0, 1, n)
    for p in periods:
        y += 5 * np.sin(2 * np.pi * t / p)
    return y


@pytest.mark.parametrize("jump", [False, True])
@pytest.mark.parametrize("seasonal_deg", [0, 1])
def test_single_period_operator_equals_statsmodels_stl(jump, seasonal_deg):
    n = 120
    spec = default_specs((12,), jump=jump, seasonal_deg=seasonal_deg)
    op = operator_for(n, spec)
    ys = np.stack([_series(n, s, (12,)) for s in range(3)])
    trend, seasonal, resid = apply_operator(op, ys)
    for i, y in enumerate(ys):
        kw = spec[0].kwargs()
        assert kw["seasonal_deg"] == seasonal_deg
        ref = STL(y, **kw).fit()
        np.testing.assert_allclose(trend[i], ref.trend, atol=1e-9, rtol=0)
        np.testing.assert_allclose(seasonal[0, i], ref.seasonal, atol=1e-9, rtol=0)
        np.testing.assert_allclose(resid[i], ref.resid, atol=1e-9, rtol=0)


def test_default_windows_match_statsmodels_defaults():
    spec = StlSpec.default(24, 11, jump=False)
    model = STL(np.zeros(96), period=24, seasonal=11)
    assert (spec.trend, spec.low_pass) == (model.config["trend"], model.config["low_pass"])


@pytest.mark.parametrize("seasonal_deg", [0, 1])
def test_two_period_operator_equals_statsmodels_mstl(seasonal_deg):
    n = 200
    base = default_specs((12, 48), jump=True)
    # statsmodels' MSTL shares one set of jump parameters across periods: use the same ones here
    specs = tuple(StlSpec(s.period, s.seasonal, s.trend, s.low_pass, 2, 7, 3, seasonal_deg) for s in base)
    op = operator_for(n, specs)
    y = _series(n, 7)
    trend, seasonals, resid = apply_operator(op, y[None, :])
    ref = MSTL(y, periods=[12, 48], windows=[s.seasonal for s in specs],
               stl_kwargs={"seasonal_jump": 2, "trend_jump": 7, "low_pass_jump": 3,
                           "seasonal_deg": seasonal_deg}).fit()
    np.testing.assert_allclose(trend[0], ref.trend, atol=1e-9, rtol=0)
    np.testing.assert_allclose(seasonals[:, 0].T, ref.seasonal, atol=1e-9, rtol=0)
    np.testing.assert_allclose(resid[0], ref.resid, atol=1e-9, rtol=0)


@pytest.mark.parametrize("n", [26, 27, 31, 50, 97, 250])
@pytest.mark.parametrize("jump", [False, True])
def test_sparse_smoothers_equal_statsmodels_at_awkward_lengths(n, jump):
    # lengths where the jumps leave a short last stretch, a subseries shorter than the seasonal window, or one
    # cycle-subseries longer than the others
    spec = default_specs((12,), jump=jump, seasonal_deg=1)[0]
    ys = np.stack([_series(n, s, (12,)) for s in range(4)])
    trend, seasonals, resid = decompose_rows(ys, [spec])
    for i, y in enumerate(ys):
        ref = STL(y, **spec.kwargs()).fit()
        np.testing.assert_allclose(trend[i], ref.trend, atol=1e-9, rtol=0)
        np.testing.assert_allclose(seasonals[0, i], ref.seasonal, atol=1e-9, rtol=0)


def test_operator_equals_decomposing_the_rows():
    specs = default_specs((24, 168), jump=True, seasonal_deg=0)
    ys = np.stack([_series(336, s, (24, 168)) for s in range(3)])
    a = apply_operator(operator_for(336, specs), ys)
    b = decompose_rows(ys, specs)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-9, rtol=0)


def test_one_build_per_key_when_threads_ask_at_once(monkeypatch):
    # the app's sessions are threads: a rerun that asks for an operator being built waits for that build
    import threading

    from driftdesk.seasonality import stl

    calls = []
    real = stl.mstl_apply

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(stl, "mstl_apply", counted)
    specs = default_specs((24,), jump=True)
    got = []
    threads = [threading.Thread(target=lambda: got.append(operator_for(480, specs))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(got) == 6 and all(g is got[0] for g in got)
    assert len(calls) == 1


def test_decompose_robust_equals_statsmodels_robust_stl():
    import datetime as dt

    n = 24 * 6
    y = _series(n, 3, (24,))
    y[40] += 60  # an outlier the robust fit should down-weight
    ts = [dt.datetime(2026, 1, 5) + dt.timedelta(hours=h) for h in range(n)]
    dec = decompose(pl.DataFrame({"ts": ts, "v": y}), ts="ts", value="v", periods=(24,), robust=True)
    spec = default_specs((24,), jump=True)[0]
    ref = STL(y, robust=True, **spec.kwargs()).fit()
    frame = dec.to_frame()
    np.testing.assert_allclose(frame["trend"].to_numpy(), ref.trend, atol=1e-9)
    np.testing.assert_allclose(frame["seasonal_24"].to_numpy(), ref.seasonal, atol=1e-9)
    np.testing.assert_allclose(frame["resid"].to_numpy(), ref.resid, atol=1e-9)
