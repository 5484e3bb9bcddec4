"""Every statistic against an independent reference: scipy (KS, Wasserstein, JS, chi-squared, normal quantiles),
statsmodels (two-proportion z-test, Wilson and Jeffreys intervals), scikit-learn (Brier) and hand computations
(PSI, Welch's z, ECE, delta-method ratio), plus properties on any input."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import brier_score_loss
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from driftdesk import stats as st
from driftdesk.errors import DriftdeskError

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


def test_two_proportions_equal_chi2_contingency_2x2_and_statsmodels():
    ref = sps.chi2_contingency(np.array([[20, 980], [95, 905]]), correction=False)
    assert st.two_proportion_pvalue(20, 1000, 95, 1000) == pytest.approx(ref.pvalue, rel=1e-9)
    z, p = proportions_ztest([95, 20], [1000, 1000])
    assert st.two_proportion_z(20, 1000, 95, 1000) == pytest.approx(z, rel=1e-12)
    assert st.two_proportion_pvalue(20, 1000, 95, 1000) == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize(("p0", "n0", "p1", "n1"), [(0.005, 900, 0.03, 900), (0.01, 100, 0.03, 100),
                                                    (0.2, 5000, 0.21, 7000), (0.5, 3, 0.0, 2)])
def test_two_proportion_z_matches_statsmodels(p0, n0, p1, n1):
    z, p = proportions_ztest([p1 * n1, p0 * n0], [n1, n0])
    assert st.two_proportion_z(p0 * n0, n0, p1 * n1, n1) == pytest.approx(z, rel=1e-9)
    assert st.two_proportion_pvalue(p0 * n0, n0, p1 * n1, n1) == pytest.approx(p, rel=1e-9)


def test_two_proportions_vectorised_equal_one_at_a_time_and_edge_cases():
    k0, n0 = np.array([20, 0, 5, 7, 0]), np.array([1000, 50, 0, 7, 10])
    k1, n1 = np.array([95, 0, 3, 9, 10]), np.array([1000, 80, 10, 9, 10])
    many = st.two_proportion_pvalue(k0, n0, k1, n1)
    for i in range(k0.size):
        one = st.two_proportion_pvalue(k0[i], n0[i], k1[i], n1[i])
        assert (np.isnan(many[i]) and one is None) or many[i] == pytest.approx(one, rel=1e-15)
    assert st.two_proportion_pvalue(0, 50, 0, 80) == 1.0  # nobody in either window: equal rates
    assert st.two_proportion_pvalue(7, 7, 9, 9) == 1.0  # everybody in both
    assert st.two_proportion_z(5, 0, 3, 10) is None  # no trials in the baseline: undefined
    assert st.two_proportion_z(0, 10, 10, 10) == pytest.approx(proportions_ztest([10, 0], [10, 10])[0])


@settings(max_examples=80, deadline=None)
@given(hs.integers(0, 10_000), hs.integers(0, 10_000), hs.integers(0, 10_000), hs.integers(0, 10_000))
def test_two_proportion_pvalue_is_a_symmetric_probability(a, b, c, d):
    k0, n0, k1, n1 = min(a, b), max(a, b), min(c, d), max(c, d)
    p = st.two_proportion_pvalue(k0, n0, k1, n1)
    if n0 == 0 or n1 == 0:
        assert p is None
        return
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(st.two_proportion_pvalue(k1, n1, k0, n0), rel=1e-12)
    if k0 * n1 == k1 * n0:
        assert p == pytest.approx(1.0)


def test_mean_difference_z_is_welch_by_hand():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 2.0, 400), rng.normal(1.3, 1.0, 900)
    expected = (b.mean() - a.mean()) / np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    got = st.mean_difference_z(a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size)
    assert got == pytest.approx(expected, rel=1e-12)
    assert st.mean_difference_z(1.0, 0.0, 5, 1.0, 0.0, 5) == 0.0
    assert st.mean_difference_z(1.0, 0.0, 5, 2.0, 0.0, 5) == math.inf
    assert st.mean_difference_z(1.0, math.nan, 5, 2.0, 1.0, 5) is None
    assert st.mean_difference_z(1.0, 1.0, 0, 2.0, 1.0, 5) is None


def test_wilson_and_jeffreys_match_statsmodels():
    k = np.array([0, 1, 5, 17, 40, 99, 100])
    n = np.array([10, 10, 20, 50, 41, 100, 100])
    for method in ("wilson", "jeffreys"):
        low, high = st.proportion_interval(k, n, confidence=0.9, method=method)
        ref_low, ref_high = proportion_confint(k, n, alpha=0.1, method=method)
        inner = (k > 0) & (k < n) if method == "jeffreys" else np.ones(k.size, bool)
        np.testing.assert_allclose(low[inner], ref_low[inner], rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(high[inner], ref_high[inner], rtol=1e-9, atol=1e-15)
    # Jeffreys at the boundaries: 0 successes has lower bound 0, all successes upper bound 1 (Brown et al.)
    low, high = st.proportion_interval(k, n, confidence=0.9, method="jeffreys")
    assert low[0] == 0.0 and high[-1] == 1.0 and high[0] == pytest.approx(proportion_confint(0, 10, 0.1, "jeffreys")[1])
    low, high = st.proportion_interval(np.array([0]), np.array([0]))
    assert np.isnan(low[0]) and np.isnan(high[0])
    with pytest.raises(DriftdeskError, match="confidence"):
        st.proportion_interval(k, n, confidence=1.0)


def test_two_sided_z_is_the_normal_quantile():
    for c in (0.5, 0.9, 0.95, 0.999):
        assert st.two_sided_z(c) == pytest.approx(sps.norm.ppf(0.5 + c / 2), rel=1e-12)
    for bad in (0, 1, -0.5, 2):
        with pytest.raises(DriftdeskError, match="between 0 and 1"):
            st.two_sided_z(bad)


def test_ratio_of_sums_and_its_delta_method_error_by_hand():
    rng = np.random.default_rng(5)
    x = rng.uniform(1, 20, 50)
    y = 3 * x + rng.normal(0, 2, 50)
    frame = pl.DataFrame({"y": y, "x": x})
    ratio, se = st.ratio_of_sums(pl.col("y").sum(), pl.col("x").sum(), num_sq=(pl.col("y") ** 2).sum(),
                                 den_sq=(pl.col("x") ** 2).sum(), num_x_den=(pl.col("x") * pl.col("y")).sum(),
                                 n=pl.len().cast(pl.Float64))
    got = frame.select(ratio.alias("r"), se.alias("se")).row(0)
    r = y.sum() / x.sum()
    hand_se = math.sqrt(50 / 49 * np.sum((y - r * x) ** 2)) / x.sum()
    assert got[0] == pytest.approx(r, rel=1e-12) and got[1] == pytest.approx(hand_se, rel=1e-9)


def test_psi_is_baseline_first_and_vectorised_along_the_last_axis():
    base, cur = np.array([80.0, 20.0]), np.array([50.0, 50.0])
    hand = (0.5 - 0.8) * math.log(0.5 / 0.8) + (0.5 - 0.2) * math.log(0.5 / 0.2)
    assert st.psi_from_counts(base, cur) == pytest.approx(hand, rel=1e-12)
    many = st.psi_from_counts(np.stack([base, base, np.zeros(2)]), np.stack([cur, base, cur]))
    assert many.shape == (3,) and many[0] == pytest.approx(hand, rel=1e-15) and many[1] == 0.0 and np.isnan(many[2])
    assert st.psi_from_counts(np.zeros(2), cur) is None
    terms = st.psi_terms(base, cur)
    assert terms.sum() == pytest.approx(hand, rel=1e-15) and np.all(terms >= 0)


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.int64, hs.tuples(hs.integers(1, 4), hs.integers(1, 12)), elements=hs.integers(0, 1000)),
       hs.randoms(use_true_random=False))
def test_vectorised_psi_equals_one_pair_at_a_time(counts, rnd):
    other = np.array([rnd.randint(0, 1000) for _ in range(counts.size)]).reshape(counts.shape)
    many = st.psi_from_counts(counts, other)
    for i in range(counts.shape[0]):
        one = st.psi_from_counts(counts[i], other[i])
        assert (one is None and np.isnan(many[i])) or many[i] == pytest.approx(one, rel=1e-15, abs=1e-15)


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


# --------------------------------------------------------------------------- calibration from per-bin sums


def _bin_sums(score: np.ndarray, label: np.ndarray, bins: int = 10) -> tuple[np.ndarray, ...]:
    idx = np.clip(np.searchsorted(np.linspace(0, 1, bins + 1)[1:-1], score, side="right"), 0, bins - 1)
    return tuple(np.bincount(idx, weights=w, minlength=bins) for w in (np.ones_like(score), score, label,
                                                                       score * score, score * label))


def test_calibration_errors_against_a_hand_loop_and_sklearn_brier():
    rng = np.random.default_rng(11)
    score = rng.uniform(0, 1, 5000)
    label = (rng.uniform(0, 1, 5000) < score**1.4).astype(float)
    count, s, y, sq, sy = _bin_sums(score, label)
    got = st.calibration_errors(count, s, y, score_sq=sq, score_label=sy)
    gaps = [abs(label[b].mean() - score[b].mean()) for b in
            (np.clip(np.searchsorted(np.linspace(0, 1, 11)[1:-1], score, side="right"), 0, 9) == k for k in range(10))
            if b.any()]
    weights = [c / 5000 for c in count if c > 0]
    assert got["ece"] == pytest.approx(sum(w * g for w, g in zip(weights, gaps)), rel=1e-12)
    assert got["mce"] == pytest.approx(max(gaps), rel=1e-12)
    assert got["brier"] == pytest.approx(brier_score_loss(label, score), rel=1e-12)
    identity = got["reliability"] - got["resolution"] + got["uncertainty"] + got["within_bin_variance"] \
        - 2 * got["within_bin_covariance"]
    assert identity == pytest.approx(got["brier"], abs=1e-12)
    assert got["n"] == 5000 and got["n_positive"] == label.sum()


def test_calibration_errors_are_undefined_without_rows_and_vectorised():
    empty = st.calibration_errors(np.zeros(4), np.zeros(4), np.zeros(4))
    assert all(np.isnan(empty[k]) for k in ("ece", "mce", "brier", "mean_score"))
    rng = np.random.default_rng(2)
    parts = [_bin_sums(rng.uniform(0, 1, 300), rng.integers(0, 2, 300).astype(float), 5) for _ in range(3)]
    stacked = [np.stack([p[i] for p in parts]) for i in range(5)]
    many = st.calibration_errors(*stacked[:3], score_sq=stacked[3], score_label=stacked[4])
    for i, p in enumerate(parts):
        one = st.calibration_errors(*p[:3], score_sq=p[3], score_label=p[4])
        assert all(many[k][i] == pytest.approx(one[k], rel=1e-15) for k in st.CALIBRATION_KEYS)


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.float64, hs.integers(1, 200), elements=hs.floats(0, 1)), hs.integers(1, 20),
       hs.randoms(use_true_random=False))
def test_ece_is_in_unit_interval_and_at_most_mce(score, bins, rnd):
    label = np.array([float(rnd.random() < s) for s in score])
    count, s, y, sq, sy = _bin_sums(score, label, bins)
    got = st.calibration_errors(count, s, y, score_sq=sq, score_label=sy)
    assert 0.0 <= got["ece"] <= got["mce"] + 1e-12 <= 1.0 + 1e-12
    assert 0.0 <= got["brier"] <= 1.0 + 1e-12
