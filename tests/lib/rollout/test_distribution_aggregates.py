"""A distribution gate (``psi:<column>``) judged from aggregates: each arm's distinct values with their counts give
the PSI, the KS statistic and the means of the values themselves (against scipy and a PSI by hand), and a
histogram sketch gives a PSI and a KS statistic within its stated bounds of the exact ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from driftdesk import sketch
from driftdesk.rollout.compare import compare_distribution_aggregates, rollout_metric

METRIC = rollout_metric("psi:score", ["score"])


def _psi_by_hand(b: np.ndarray, c: np.ndarray) -> float:
    edges = np.unique(np.quantile(b, np.arange(1, 10) / 10))  # numpy's linear quantiles: the deciles
    cuts = np.concatenate(([-np.inf], edges, [np.inf]))
    p = np.array([np.sum((b > lo) & (b <= hi)) for lo, hi in zip(cuts[:-1], cuts[1:])]) / b.size
    q = np.array([np.sum((c > lo) & (c <= hi)) for lo, hi in zip(cuts[:-1], cuts[1:])]) / c.size
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    return float(np.sum((q - p) * np.log(q / p)))


def _counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, counts = np.unique(x, return_counts=True)
    return values, counts.astype(np.float64)


@pytest.mark.parametrize("seed", range(6))
def test_distinct_values_with_counts_give_the_exact_statistics(seed):
    rng = np.random.default_rng(seed)
    digits = [2, 3, 6][seed % 3]  # many ties, some, almost none
    b = np.round(rng.beta(2, 5, 400 + 97 * seed), digits)
    c = np.round(rng.beta(2.4, 5, 300 + 41 * seed), digits)
    row = compare_distribution_aggregates(METRIC, _counts(b), _counts(c))
    assert row["n_control"] == b.size and row["n_candidate"] == c.size
    assert row["ks_statistic"] == pytest.approx(sps.ks_2samp(b, c).statistic, abs=1e-12)
    assert row["change"] == pytest.approx(_psi_by_hand(b, c), rel=1e-9, abs=1e-12)
    assert row["control"] == pytest.approx(b.mean(), rel=1e-12)
    assert row["candidate"] == pytest.approx(c.mean(), rel=1e-12)


def test_an_arm_without_values_has_no_statistic():
    row = compare_distribution_aggregates(METRIC, _counts(np.array([0.2, 0.3])), (np.empty(0), np.empty(0)))
    assert row["change"] is None and row["ks_statistic"] is None and row["n_candidate"] == 0


@pytest.mark.parametrize("seed", range(6))
def test_histogram_sketches_give_statistics_within_their_stated_bounds(seed):
    rng = np.random.default_rng(100 + seed)
    b = rng.lognormal(-1.5, 0.6 + 0.1 * seed, 3000)
    c = rng.lognormal(-1.4, 0.6, 2000)
    row = compare_distribution_aggregates(METRIC, sketch.from_values(b), sketch.from_values(c))
    ks = sps.ks_2samp(b, c).statistic
    assert row["ks_statistic"] <= ks + 1e-12 <= row["ks_statistic"] + row["ks_error"] + 2e-12
    assert row["psi_low"] - 1e-12 <= _psi_by_hand(b, c) <= row["psi_high"] + 1e-12
    assert row["control"] == pytest.approx(b.mean(), rel=1e-12)
    assert row["n_control"] == b.size and row["n_candidate"] == c.size
