"""Rollout intervals against independent references: statsmodels for rates and means, a row bootstrap and the
same bootstrap written out draw by draw for ECE, coverage by simulation for the delta-method ratio, scipy for the
KS p-value."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from driftdesk.rollout.compare import (
    BOOTSTRAP_DRAWS,
    BOOTSTRAP_SEED,
    ECE_BINS,
    RolloutMetric,
    arm_values,
    bootstrap_draws,
    calibration_layout,
    compare_calibration_cells,
    compare_distribution,
    compare_distributions,
    compare_sums,
    ece_change_interval,
    ece_change_intervals,
    ece_from_cells,
    poisson_quantiles,
    rate_change,
    ratio_change,
    sum_exprs,
)

CPA = RolloutMetric("cpa", "CPA", "ratio", ("spend", "conversions"), "usd", "conversions")
MEAN = RolloutMetric("cost_per_call", "cost per call", "mean", ("cost",), "usd", "rows")
RATE = RolloutMetric("validator_failure_rate", "validator failure rate", "rate", ("validator_ok",), "rate", "rows",
                     negate=True)


@pytest.mark.parametrize(("k_b", "n_b", "k_c", "n_c"), [(30, 150, 12, 100), (5, 40, 9, 41), (400, 5000, 480, 5100),
                                                      (1, 20, 0, 25)])
def test_rate_difference_is_newcombes_hybrid_score_interval(k_b, n_b, k_c, n_c):
    d, lo, hi = rate_change(k_b, n_b, k_c, n_c, relative=False, confidence=0.95)
    ref = confint_proportions_2indep(k_c, n_c, k_b, n_b, method="newcomb", compare="diff")
    assert d == pytest.approx(k_c / n_c - k_b / n_b)
    assert (lo, hi) == pytest.approx(tuple(float(x) for x in ref), abs=1e-12)


@pytest.mark.parametrize(("k_b", "n_b", "k_c", "n_c"), [(30, 150, 12, 100), (5, 40, 9, 41), (400, 5000, 480, 5100)])
def test_rate_ratio_is_the_log_katz_interval(k_b, n_b, k_c, n_c):
    r, lo, hi = rate_change(k_b, n_b, k_c, n_c, relative=True, confidence=0.95)
    ref = confint_proportions_2indep(k_c, n_c, k_b, n_b, method="log", compare="ratio")
    assert r == pytest.approx((k_c / n_c) / (k_b / n_b) - 1)
    assert (lo + 1, hi + 1) == pytest.approx(tuple(float(x) for x in ref), rel=1e-12)


def test_a_rate_without_trials_or_successes_has_no_interval():
    assert rate_change(0, 0, 3, 10, relative=False, confidence=0.95) == (None, None, None)
    change, lo, hi = rate_change(0, 50, 3, 40, relative=True, confidence=0.95)
    assert change is None and lo is None and hi is None


def _sums(frame: pl.DataFrame, metric: RolloutMetric) -> dict:
    out = arm_values(frame.group_by("__arm").agg(sum_exprs(metric)), metric)
    return {r["__arm"]: r for r in out.iter_rows(named=True)}


def test_mean_difference_is_welchs_z_interval():
    rng = np.random.default_rng(3)
    b, c = rng.gamma(2.0, 0.01, 400), rng.gamma(2.2, 0.01, 250)
    frame = pl.DataFrame({"__arm": ["control"] * b.size + ["candidate"] * c.size, "cost": np.concatenate([b, c])})
    arms = _sums(frame, MEAN)
    row = compare_sums(MEAN, arms["control"], arms["candidate"], relative=False, confidence=0.95)
    ref = CompareMeans(DescrStatsW(c), DescrStatsW(b)).zconfint_diff(usevar="unequal")
    assert (row["control"], row["candidate"]) == pytest.approx((b.mean(), c.mean()))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(ref, rel=1e-9)


def test_a_negated_rate_counts_the_failures():
    frame = pl.DataFrame({"__arm": ["control"] * 4 + ["candidate"] * 4,
                          "validator_ok": [True, True, True, False, True, False, False, None]})
    arms = _sums(frame, RATE)
    row = compare_sums(RATE, arms["control"], arms["candidate"], relative=False, confidence=0.95)
    assert (row["control"], row["candidate"], row["n_candidate"]) == pytest.approx((0.25, 2 / 3, 3))


def test_ratio_of_sums_standard_error_is_the_delta_method_by_hand():
    rng = np.random.default_rng(5)
    spend, conv = rng.gamma(3, 2, 300), rng.binomial(1, 0.3, 300).astype(float)
    frame = pl.DataFrame({"__arm": ["control"] * 300, "spend": spend, "conversions": conv})
    row = _sums(frame, CPA)["control"]
    r = spend.sum() / conv.sum()
    se = math.sqrt(300 / 299 * np.sum((spend - r * conv) ** 2)) / conv.sum()
    assert (row["cpa__value"], row["cpa__se"]) == pytest.approx((r, se), rel=1e-12)


def test_relative_ratio_interval_is_the_log_delta_method_by_hand():
    change, lo, hi = ratio_change(20.0, 1.0, 25.0, 2.0, relative=True, confidence=0.95)
    half = 1.959963984540054 * math.sqrt((2 / 25) ** 2 + (1 / 20) ** 2)
    assert change == pytest.approx(0.25)
    assert (lo, hi) == pytest.approx((1.25 * math.exp(-half) - 1, 1.25 * math.exp(half) - 1), rel=1e-12)
    assert ratio_change(0.0, 1.0, 2.0, 1.0, relative=True, confidence=0.95) == (None, None, None)


@pytest.mark.slow
def test_relative_cpa_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    truth, hits, runs = 1.2 - 1.0, 0, 300
    for _ in range(runs):
        rows = []
        for arm, p, n in (("control", 0.25, 800), ("candidate", 0.25 / 1.2, 900)):
            conv = rng.binomial(1, p, n).astype(float)
            rows.append(pl.DataFrame({"__arm": [arm] * n, "spend": rng.gamma(4, 1.0, n), "conversions": conv}))
        arms = _sums(pl.concat(rows), CPA)
        row = compare_sums(CPA, arms["control"], arms["candidate"], relative=True, confidence=0.95)
        hits += row["ci_low"] <= truth <= row["ci_high"]
    assert 0.92 <= hits / runs <= 0.98


def _cells(score: np.ndarray, label: np.ndarray) -> pl.DataFrame:
    b = np.clip(np.floor(score * ECE_BINS), 0, ECE_BINS - 1).astype(np.int32)
    return (pl.DataFrame({"__bin": b, "__label": label.astype(np.int8), "s": score})
            .group_by("__bin", "__label").agg(pl.len().cast(pl.Float64).alias("count"), pl.col("s").sum().alias("score_sum"),
                                              (pl.col("s") ** 2).sum().alias("score_sq")))


def _ece(score, label) -> float:
    b = np.clip(np.floor(score * ECE_BINS), 0, ECE_BINS - 1)
    return sum(abs(label[b == k].sum() - score[b == k].sum()) for k in range(ECE_BINS)) / score.size


def test_ece_from_cells_is_the_binned_gap_by_hand():
    rng = np.random.default_rng(2)
    s = rng.random(500)
    y = (rng.random(500) < s**1.3).astype(int)
    cells = _cells(s, y)
    got = ece_from_cells(cells["__bin"].to_numpy(), cells["__label"].to_numpy(), cells["count"].to_numpy(),
                         cells["score_sum"].to_numpy())
    assert float(got) == pytest.approx(_ece(s, y), rel=1e-12)


@pytest.mark.slow
def test_ece_bootstrap_from_cells_matches_a_row_bootstrap():
    rng = np.random.default_rng(8)
    sb, sc = rng.beta(2, 6, 600), rng.beta(2, 5, 300)
    yb, yc = (rng.random(600) < sb).astype(int), (rng.random(300) < sc * 0.8).astype(int)
    row = compare_calibration_cells(RolloutMetric("ece", "ECE", "calibration", ("score", "label"), "score", "rows"),
                                    _cells(sb, yb), _cells(sc, yc), relative=False, confidence=0.9)
    draws = []
    for _ in range(3000):
        i, j = rng.integers(0, 600, 600), rng.integers(0, 300, 300)
        draws.append(_ece(sc[j], yc[j]) - _ece(sb[i], yb[i]))
    lo, hi = np.quantile(draws, [0.05, 0.95])
    assert row["change"] == pytest.approx(_ece(sc, yc) - _ece(sb, yb), rel=1e-9)
    assert row["ci_low"] == pytest.approx(lo, abs=0.008) and row["ci_high"] == pytest.approx(hi, abs=0.008)


@pytest.mark.parametrize("rate", [1.0, 2.0, 7.0, 30.0, 250.0, 4_000.0, 1e6])
def test_poisson_draws_are_scipys_poisson_quantiles_of_the_same_uniforms(rate):
    """Each draw is the inverse Poisson CDF (scipy's ``poisson.ppf``, boost's inverse) at its own uniform."""
    uniform = bootstrap_draws(BOOTSTRAP_SEED)[0]
    lam = np.zeros((2, 2 * ECE_BINS))
    lam[1, 3], lam[0, 0] = rate, 5.0
    got = poisson_quantiles(lam, uniform)
    assert got.shape == (2, 2 * ECE_BINS, BOOTSTRAP_DRAWS)
    np.testing.assert_array_equal(got[1, 3], sps.poisson.ppf(uniform.values[3], rate))
    np.testing.assert_array_equal(got[0, 0], sps.poisson.ppf(uniform.values[0], 5.0))
    assert not got[1, :3].any() and not got[1, 4:].any()  # an empty cell draws no rows


def _loop_bootstrap(control: tuple, candidate: tuple, *, relative: bool, confidence: float) -> tuple[float, float]:
    """The ECE change's Poisson bootstrap written out draw by draw and cell by cell, from the same random numbers:
    each cell's count the Poisson quantile of its uniform, its score sum count * mean + sqrt(count * var) * normal,
    ECE the binned gap over the drawn rows, the interval the percentiles of the change."""
    u_b, z_b, u_c, z_c = bootstrap_draws(BOOTSTRAP_SEED)
    eces = []
    for (count, total, square), uniform, normal in ((control, u_b.values, z_b), (candidate, u_c.values, z_c)):
        drawn = [sps.poisson.ppf(uniform[c], count[c]) if count[c] > 0 else np.zeros(BOOTSTRAP_DRAWS)
                 for c in range(2 * ECE_BINS)]
        per_draw = []
        for d in range(BOOTSTRAP_DRAWS):
            gap, rows = 0.0, 0.0
            for b in range(ECE_BINS):
                positives, scores = 0.0, 0.0
                for label in (0, 1):
                    c = 2 * b + label
                    n = float(drawn[c][d])
                    mean = total[c] / count[c] if count[c] > 0 else 0.0
                    var = max(square[c] / count[c] - mean**2, 0.0) if count[c] > 1 else 0.0
                    scores += n * mean + math.sqrt(n * var) * normal[c, d]
                    positives += n * label
                    rows += n
                gap += abs(positives - scores)
            per_draw.append(gap / rows)
        eces.append(np.array(per_draw))
    change = eces[1] / eces[0] - 1 if relative else eces[1] - eces[0]
    alpha = 1 - confidence
    return tuple(np.percentile(change, [100 * alpha / 2, 100 * (1 - alpha / 2)]))


def _arrays(cells: pl.DataFrame) -> tuple:
    bins, labels = calibration_layout()
    full = pl.DataFrame({"__bin": bins, "__label": labels}).join(cells, on=["__bin", "__label"], how="left").fill_null(0)
    return tuple(full[c].to_numpy().astype(float) for c in ("count", "score_sum", "score_sq"))


@pytest.mark.parametrize(("relative", "confidence"), [(False, 0.95), (True, 0.9)])
def test_ece_interval_is_the_loop_bootstrap_of_the_same_draws(relative, confidence):
    rng = np.random.default_rng(21)
    sb, sc = rng.beta(2, 6, 700), rng.beta(2, 5, 350)
    yb, yc = (rng.random(700) < sb).astype(int), (rng.random(350) < sc * 0.8).astype(int)
    control, candidate = _arrays(_cells(sb, yb)), _arrays(_cells(sc, yc))
    got = ece_change_interval(control, candidate, relative=relative, confidence=confidence)
    assert got == pytest.approx(_loop_bootstrap(control, candidate, relative=relative, confidence=confidence),
                                rel=1e-9)


def test_ece_intervals_of_many_segments_are_each_the_one_drawn_alone():
    rng = np.random.default_rng(22)
    arms = []
    for n in (400, 90, 2500, 60):
        s = rng.beta(2, 5, n)
        arms.append(_arrays(_cells(s, (rng.random(n) < s).astype(int))))
    control = tuple(np.stack([arms[0][i], arms[1][i], arms[2][i]]) for i in range(3))
    candidate = tuple(np.stack([arms[3][i], arms[2][i], arms[1][i]]) for i in range(3))
    together = ece_change_intervals(control, candidate, relative=False, confidence=0.95)
    alone = [ece_change_interval(tuple(a[i] for a in control), tuple(a[i] for a in candidate), relative=False,
                                 confidence=0.95) for i in range(3)]
    assert together == alone and len(set(alone)) == 3


def test_distribution_change_is_psi_with_the_ks_p_value():
    rng = np.random.default_rng(4)
    b, c = rng.normal(0, 1, 300), rng.normal(0.4, 1, 200)
    row = compare_distribution(RolloutMetric("psi:score", "PSI", "distribution", ("score",), "score", "rows"), b, c)
    assert row["p_value"] == pytest.approx(sps.ks_2samp(b, c, method="asymp").pvalue, rel=1e-9)
    assert row["change"] > 0.1 and row["ci_low"] is None


def test_distributions_of_many_segments_are_each_the_one_compared_alone():
    """Runs of every size (empty, one value, ties, a constant run whose deciles all coincide, integers, thousands of
    values) compared at once give, exactly, what ``compare_distribution`` gives each segment alone."""
    rng = np.random.default_rng(12)
    metric = RolloutMetric("psi:score", "PSI", "distribution", ("score",), "score", "rows")
    arms = [(rng.normal(0, 1, 300), rng.normal(0.3, 1.2, 200)), (np.array([]), rng.random(5)), (rng.random(4), np.array([])),
            (np.array([0.5]), np.array([0.5, 0.7])), (np.full(40, 0.25), rng.random(30)),
            (rng.integers(0, 4, 500).astype(float), rng.integers(0, 5, 80).astype(float)),
            (rng.beta(2, 5, 5000), rng.beta(2, 4, 3000)), (np.array([]), np.array([]))]
    runs = np.concatenate([np.sort(v) for pair in arms for v in pair])
    bounds = np.concatenate(([0], np.cumsum([v.size for pair in arms for v in pair])))
    together = compare_distributions(metric, runs, bounds)
    for (control, candidate), got in zip(arms, together, strict=True):
        alone = compare_distribution(metric, control, candidate, p_value=False)
        assert got == alone


@settings(max_examples=60, deadline=None)
@given(k_b=st.integers(1, 500), extra_b=st.integers(0, 500), k_c=st.integers(1, 500), extra_c=st.integers(0, 500))
def test_rate_intervals_contain_their_estimate(k_b, extra_b, k_c, extra_c):
    for relative in (False, True):
        change, lo, hi = rate_change(k_b, k_b + extra_b, k_c, k_c + extra_c, relative=relative, confidence=0.95)
        assert lo <= change + 1e-12 and change <= hi + 1e-12
