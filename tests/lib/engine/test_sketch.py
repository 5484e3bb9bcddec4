"""The out-of-core sketch: its bins, and every statistic within its stated bound of the exact one (hypothesis)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import stats as sps

from driftdesk import sketch
from driftdesk import stats as st

finite = hs.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
samples = hs.lists(finite | hs.integers(-3, 3).map(float) | hs.sampled_from([0.0, 1e-320, 2.5, 2.5000001]),
                   min_size=1, max_size=60)


@given(hs.lists(finite | hs.sampled_from([0.0, -0.0, 1e-310, -1e-310, 1e300, -1e300]), min_size=1, max_size=50))
def test_bins_follow_value_order_and_hold_values_within_alpha(values):
    x = np.sort(np.asarray(values))
    k = sketch.bin_of(x)
    assert np.all(np.diff(k) >= 0)  # bin order is value order
    s = sketch.from_values(x)
    np.testing.assert_array_equal(np.unique(k), s.bins)  # polars' bins equal numpy's
    width = s.hi - s.lo
    assert np.all(width <= 2 * sketch.ALPHA / (1 - sketch.ALPHA) * np.maximum(np.abs(s.lo), np.abs(s.hi)) + 1e-299)


def _pair(a, b, shift):
    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float) + shift
    return xa, xb, sketch.from_values(xa), sketch.from_values(xb)


@settings(max_examples=150, deadline=None)
@given(samples, samples, hs.sampled_from([0.0, 0.5, 3.0]))
def test_ks_lies_within_the_bounds(a, b, shift):
    xa, xb, sa, sb = _pair(a, b, shift)
    low, high = sketch.ks_bounds(sa, sb)
    exact = st.ks_statistic(np.sort(xa), np.sort(xb))
    assert low - 1e-12 <= exact <= high + 1e-12


@settings(max_examples=150, deadline=None)
@given(samples, samples, hs.sampled_from([0.0, 0.5, 3.0]))
def test_wasserstein_within_its_error(a, b, shift):
    xa, xb, sa, sb = _pair(a, b, shift)
    w, err = sketch.wasserstein_estimate(sa, sb)
    exact = sps.wasserstein_distance(xa, xb)
    assert abs(w - exact) <= err + 1e-9 * max(1.0, exact)
    assert err <= 2 * sketch.ALPHA / (1 - sketch.ALPHA) * (np.abs(xa).mean() + np.abs(xb).mean()) * 1.0000001 + 1e-12


@settings(max_examples=200, deadline=None)
@given(samples, samples, hs.sampled_from([0.0, 0.5, 3.0]))
def test_psi_within_its_bounds(a, b, shift):
    xa, xb, sa, sb = _pair(a, b, shift)
    estimate, low, high = sketch.psi_estimate(sa, sb)
    exact = st.psi_numeric(np.sort(xa), np.sort(xb))
    assert low - 1e-9 <= exact <= high + 1e-9
    assert low - 1e-9 <= estimate <= high + 1e-9


def test_bounds_are_tight_on_large_continuous_data():
    """On 200,000 values per window the bounds are small: the sketch answers what the exact path would."""
    rng = np.random.default_rng(1)
    xa, xb = rng.lognormal(3, 1, 200_000), rng.lognormal(3.02, 1, 200_000)
    sa, sb = sketch.from_values(xa), sketch.from_values(xb)
    low, high = sketch.ks_bounds(sa, sb)
    exact = st.ks_statistic(np.sort(xa), np.sort(xb))
    assert low <= exact <= high and high - low < 0.002
    w, err = sketch.wasserstein_estimate(sa, sb)
    assert abs(w - sps.wasserstein_distance(xa, xb)) <= err < 0.005 * (xa.mean() + xb.mean())
    psi, lo, hi = sketch.psi_estimate(sa, sb)
    assert lo <= st.psi_numeric(np.sort(xa), np.sort(xb)) <= hi and hi - lo < 0.002


def test_integer_values_are_exact():
    """Few distinct values: every bin holds one value, so every bound closes."""
    rng = np.random.default_rng(2)
    xa, xb = rng.integers(0, 20, 5_000).astype(float), rng.integers(0, 22, 4_000).astype(float)
    sa, sb = sketch.from_values(xa), sketch.from_values(xb)
    low, high = sketch.ks_bounds(sa, sb)
    assert low == high == pytest.approx(st.ks_statistic(np.sort(xa), np.sort(xb)), abs=1e-12)
    w, err = sketch.wasserstein_estimate(sa, sb)
    assert err == 0 and w == pytest.approx(sps.wasserstein_distance(xa, xb), rel=1e-12)
    psi, lo, hi = sketch.psi_estimate(sa, sb)
    assert lo <= st.psi_numeric(np.sort(xa), np.sort(xb)) <= hi


def test_missing_and_infinite_are_counted():
    s = sketch.from_values(np.array([1.0, np.nan, np.inf, -np.inf, 2.0]))
    assert (s.n, s.n_rows, s.n_missing, s.n_infinite) == (2, 5, 1, 2)
    assert s.mean == 1.5 and s.std == pytest.approx(np.std([1.0, 2.0], ddof=1))
    empty = sketch.from_values(np.array([np.nan]))
    assert sketch.ks_bounds(empty, s) is None and sketch.psi_estimate(s, empty) is None


@settings(max_examples=150, deadline=None)
@given(samples, hs.lists(hs.floats(0, 1), min_size=1, max_size=5))
def test_quantiles_within_alpha_of_numpys(a, probs):
    x = np.asarray(a, dtype=float)
    got = sketch.quantiles(sketch.from_values(x), np.asarray(probs))
    want = np.quantile(x, probs)
    assert np.all(np.abs(got - want) <= 2 * sketch.ALPHA / (1 - sketch.ALPHA) * np.abs(want) * 1.0000001 + 1e-290)


def test_calibration_quantile_edges_past_the_budget(monkeypatch):
    from driftdesk.calibration import bin_edges

    rng = np.random.default_rng(4)
    frame = pl.DataFrame({"score": rng.beta(2, 8, 50_000)})
    exact = bin_edges(frame, bins=10, strategy="quantile")
    monkeypatch.setenv("DRIFTDESK_MEMORY_BUDGET", "64K")
    sketched = bin_edges(frame, bins=10, strategy="quantile")
    assert np.all(np.abs(sketched - exact) <= 2 * sketch.ALPHA / (1 - sketch.ALPHA) * exact + 1e-12)
