"""Drift statistics against independent references: scipy for KS, Wasserstein, JS and chi-squared; PSI by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from driftdesk.drift import stats as st

RNG = np.random.default_rng(20260826)


def _samples():
    yield RNG.normal(0, 1, 500), RNG.normal(0.2, 1.3, 730)
    yield RNG.exponential(2.0, 40_000), RNG.exponential(2.2, 25_001)  # the bound-and-refine KS path
    yield np.round(RNG.normal(0, 2, 60_000)), np.round(RNG.normal(0.1, 2, 45_000))  # heavy ties
    yield RNG.integers(0, 3, 30_000).astype(float), RNG.integers(0, 4, 30_000).astype(float)  # few levels, n == m
    yield RNG.normal(size=7), RNG.normal(size=3)
    yield np.array([1.0]), np.array([2.0, 3.0])
    yield np.full(1000, 5.0), np.full(700, 5.0)  # constant, equal
    yield np.full(1000, 5.0), np.full(700, 6.0)  # constant, moved
    yield RNG.lognormal(0, 2, 100_000), RNG.lognormal(0.01, 2, 100_003)


@pytest.mark.parametrize("a,b", list(_samples()))
def test_ks_statistic_and_asymptotic_pvalue_equal_scipy(a, b):
    ref = sps.ks_2samp(a, b, method="asymp")
    d = st.ks_statistic(np.sort(a), np.sort(b))
    assert d == pytest.approx(ref.statistic, abs=1e-9)
    en = a.size * b.size / (a.size + b.size)
    p = st.ks_pvalue(d, a.size, b.size)
    if en <= st.KS_FINITE_N_LIMIT:
        assert p == pytest.approx(ref.pvalue, abs=1e-9)
    else:  # the limiting distribution, documented: equal to kstwobign, within 2e-3 of ks_2samp's kstwo
        assert p == pytest.approx(sps.kstwobign.sf(math.sqrt(en) * ref.statistic), abs=1e-9)
        assert p == pytest.approx(ref.pvalue, abs=2e-3)


@pytest.mark.parametrize("a,b", list(_samples()))
def test_wasserstein_equals_scipy(a, b):
    ref = sps.wasserstein_distance(a, b)
    assert st.wasserstein(np.sort(a), np.sort(b)) == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_limiting_kolmogorov_pvalue_is_close_to_the_finite_n_one_at_large_n():
    # documented: the limiting distribution differs from kstwo by well under 1e-2 at n ~ 1e5
    d, n, m = 0.006, 100_000, 90_000
    assert abs(st.kolmogorov_pvalue(d, n, m) - st.ks_pvalue(d, n, m)) < 1e-2


def test_psi_numeric_equals_a_hand_computation_with_the_same_bins():
    base = RNG.normal(0, 1, 5000)
    cur = RNG.normal(0.3, 1.1, 4000)
    edges = np.quantile(base, np.arange(1, 10) / 10)  # numpy's own quantiles, independent of ours
    assert np.allclose(st.quantile_edges(np.sort(base), 10), edges, rtol=0, atol=1e-12)
    full = np.concatenate(([-np.inf], edges, [np.inf]))
    p = np.array([np.sum((base > lo) & (base <= hi)) for lo, hi in zip(full[:-1], full[1:])]) / base.size
    q = np.array([np.sum((cur > lo) & (cur <= hi)) for lo, hi in zip(full[:-1], full[1:])]) / cur.size
    hand = sum((qi - pi) * math.log(qi / pi) for pi, qi in zip(p, q))
    assert st.psi_numeric(np.sort(base), np.sort(cur)) == pytest.approx(hand, rel=1e-12)


def test_psi_categorical_by_hand_with_epsilon_for_an_empty_category():
    base = np.array([50, 30, 20, 0])
    cur = np.array([40, 30, 20, 10])
    p = np.array([0.5, 0.3, 0.2, 1e-4])
    q = np.array([0.4, 0.3, 0.2, 0.1])
    hand = float(np.sum((q - p) * np.log(q / p)))
    assert st.psi_from_counts(base, cur) == pytest.approx(hand, rel=1e-12)


def test_ties_and_constant_columns_give_unique_edges_and_finite_psi():
    base = np.sort(np.array([0.0] * 900 + [1.0] * 100))
    edges = st.quantile_edges(base, 10)
    assert list(edges) == sorted(set(edges))
    assert st.psi_numeric(base, base) == 0.0
    const = np.full(100, 3.0)
    assert st.psi_numeric(const, const) == 0.0
    moved = st.psi_numeric(const, np.full(100, 4.0))
    assert math.isfinite(moved) and moved > 1.0


def test_jensen_shannon_and_chi2_equal_scipy():
    base = np.array([500, 300, 150, 50, 0])
    cur = np.array([420, 330, 160, 70, 20])
    assert st.jensen_shannon(base, cur) == pytest.approx(jensenshannon(base / base.sum(), cur / cur.sum(), base=2),
                                                         abs=1e-12)
    table = np.vstack([base, cur])[:, (base + cur) > 0]
    ref = sps.chi2_contingency(table, correction=False)
    assert st.chi2_pvalue(base, cur) == pytest.approx(ref.pvalue, rel=1e-9)


def test_two_proportions_equal_chi2_contingency_2x2():
    ref = sps.chi2_contingency(np.array([[20, 980], [95, 905]]), correction=False)
    assert st.two_proportion_pvalue(20, 1000, 95, 1000) == pytest.approx(ref.pvalue, rel=1e-9)


def test_sketch_counts_nan_and_inf_apart():
    sk = st.numeric_sketch(np.array([3.0, np.nan, -np.inf, 1.0, np.inf, np.nan, 2.0]))
    assert sk.sorted_values.tolist() == [1.0, 2.0, 3.0]
    assert (sk.n_rows, sk.n_missing, sk.n_infinite) == (7, 2, 2)
    assert sk.null_rate == pytest.approx(2 / 7)


def test_empty_inputs_give_none_not_errors():
    e = np.empty(0)
    x = np.array([1.0, 2.0])
    assert st.ks_statistic(e, x) is None and st.wasserstein(x, e) is None and st.psi_numeric(e, x) is None
    assert st.jensen_shannon(np.array([0]), np.array([3])) is None
    assert st.chi2_pvalue(np.array([0, 0]), np.array([1, 2])) is None
    assert st.ks_pvalue(None, 0, 3) is None


def test_a_categorical_with_100k_levels():
    cats = [f"c{k}" for k in range(100_000)]
    b = st.category_counts(cats, RNG.integers(1, 5, 100_000))
    c = st.category_counts(cats[50_000:] + [f"n{k}" for k in range(10)], RNG.integers(1, 5, 50_010))
    _, bc, cc = st.aligned_shares(b, c)
    assert bc.size == 100_010
    js = st.jensen_shannon(bc, cc)
    assert 0.0 < js <= 1.0
    assert js == pytest.approx(jensenshannon(bc / bc.sum(), cc / cc.sum(), base=2), abs=1e-12)
    assert 0.0 <= st.chi2_pvalue(bc, cc) <= 1.0


# --------------------------------------------------------------------------- properties

finite = hs.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
any_float = hs.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.float64, hs.integers(1, 300), elements=finite))
def test_psi_of_a_sample_with_itself_is_zero(x):
    s = np.sort(x)
    assert st.psi_numeric(s, s) == 0.0
    assert st.ks_statistic(s, s) == 0.0
    assert st.wasserstein(s, s) == 0.0


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.float64, hs.integers(0, 200), elements=any_float),
       hnp.arrays(np.float64, hs.integers(0, 200), elements=any_float))
def test_no_crash_and_bounded_on_any_floats(x, y):
    a, b = st.numeric_sketch(x), st.numeric_sketch(y)
    assert a.n + a.n_missing + a.n_infinite == x.size
    d = st.ks_statistic(a.sorted_values, b.sorted_values)
    if a.n and b.n:
        assert 0.0 <= d <= 1.0
        with np.errstate(divide="ignore"):  # scipy's own asymptotic p-value divides by zero when n = m = 1
            ref = sps.ks_2samp(a.sorted_values, b.sorted_values, method="asymp").statistic
        assert d == pytest.approx(ref, abs=1e-9)
        assert 0.0 <= st.ks_pvalue(d, a.n, b.n) <= 1.0
        w = st.wasserstein(a.sorted_values, b.sorted_values)
        assert w >= 0.0
        assert w == pytest.approx(sps.wasserstein_distance(a.sorted_values, b.sorted_values), rel=1e-9, abs=1e-6)
        assert st.psi_numeric(a.sorted_values, b.sorted_values) >= 0.0
    else:
        assert d is None


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.int64, hs.integers(1, 30), elements=hs.integers(0, 1000)),
       hnp.arrays(np.int64, hs.integers(1, 30), elements=hs.integers(0, 1000)))
def test_js_is_symmetric_and_in_unit_interval(p, q):
    k = min(p.size, q.size)
    p, q = p[:k], q[:k]
    js = st.jensen_shannon(p, q)
    if p.sum() == 0 or q.sum() == 0:
        assert js is None
        return
    assert js == pytest.approx(st.jensen_shannon(q, p), abs=1e-12)
    assert 0.0 <= js <= 1.0 + 1e-12
    assert st.psi_from_counts(p, q) >= 0.0
