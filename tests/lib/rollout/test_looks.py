"""The boundary of a gate's overlapping looks (``driftdesk.rollout.looks``) against independent references: a Monte
Carlo of correlated normals (scipy), scipy's multivariate normal CDF, and the limiting cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from driftdesk.errors import DriftdeskError
from driftdesk.rollout.judge import comparison_level, overlap_level
from driftdesk.rollout.looks import look_boundary, look_correlation, look_level, look_windows


def correlation_by_hand(window: int, every: int, looks: int) -> np.ndarray:
    """Two full windows k looks apart share 1 - k every / window of their hours; two windows from the start t1 <= t2
    hours long share t1: sqrt(t1 / t2); in general shared / sqrt(h1 h2)."""
    out = np.eye(looks)
    for i in range(looks):
        for j in range(looks):
            a1, b1 = max(0, (i + 1) * every - window), (i + 1) * every
            a2, b2 = max(0, (j + 1) * every - window), (j + 1) * every
            out[i, j] = max(0, min(b1, b2) - max(a1, a2)) / np.sqrt((b1 - a1) * (b2 - a2))
    return out


def test_the_correlation_of_looks_is_the_share_of_their_hours():
    r = look_correlation(look_windows(window_hours=48, every_hours=6, looks=28))
    np.testing.assert_allclose(r, correlation_by_hand(48, 6, 28), rtol=1e-12)
    assert r[20, 21] == pytest.approx(1 - 6 / 48) and r[20, 24] == pytest.approx(1 - 24 / 48) and r[10, 18] == 0
    assert r[0, 3] == pytest.approx(np.sqrt(6 / 24))  # both from the start


@pytest.mark.parametrize("alpha", [0.05, 0.004])
def test_the_boundary_holds_the_chance_of_any_breach_at_alpha_by_monte_carlo(alpha):
    """400,000 draws of 28 looks with the correlation worked out by hand (scipy's multivariate normal): the share
    whose largest |Z| passes the boundary is alpha, within four standard errors (2% and 5% of alpha)."""
    c = look_boundary(alpha, look_windows(window_hours=48, every_hours=6, looks=28))
    draws = stats.multivariate_normal(np.zeros(28), correlation_by_hand(48, 6, 28), allow_singular=True).rvs(
        400_000, random_state=np.random.default_rng(7))
    hit = (np.abs(draws) > c).any(axis=1).mean()
    assert hit == pytest.approx(alpha, abs=4 * np.sqrt(alpha * (1 - alpha) / 400_000))
    # the boundary lies between one look's and Bonferroni's
    assert stats.norm.isf(alpha / 2) < c < stats.norm.isf(alpha / 56)


def test_the_boundary_agrees_with_scipys_multivariate_normal_cdf():
    """P(all |Z_i| <= c) by scipy's quasi-Monte Carlo integration (Genz) is 1 - alpha at the boundary."""
    alpha, windows = 0.05, look_windows(window_hours=48, every_hours=12, looks=14)
    c = look_boundary(alpha, windows)
    inside = stats.multivariate_normal.cdf(np.full(14, c), mean=np.zeros(14), cov=correlation_by_hand(48, 12, 14),
                                           lower_limit=np.full(14, -c), allow_singular=True, maxpts=100_000,
                                           abseps=1e-4, rng=np.random.default_rng(3))
    assert 1 - inside == pytest.approx(alpha, rel=0.03)


def test_one_look_is_the_pointwise_level_and_identical_looks_are_one_look():
    assert look_boundary(0.01, ((0, 48),)) == pytest.approx(stats.norm.isf(0.005), rel=1e-12)
    assert look_boundary(0.01, ((0, 48),) * 5) == pytest.approx(stats.norm.isf(0.005), rel=1e-12)
    assert look_level(0.05, window_hours=48, every_hours=6, looks=1) == pytest.approx(0.95, rel=1e-12)


@pytest.mark.parametrize("alpha", [0.05, 1e-4])
def test_looks_that_share_nothing_are_sidak(alpha):
    """Windows no longer than the step share no hour: independent looks, each at Sidak's 1 - (1 - alpha)^(1/n)."""
    level = look_level(alpha, window_hours=6, every_hours=6, looks=20)
    sidak = 1 - (1 - alpha) ** (1 / 20)
    assert 1 - level == pytest.approx(sidak, rel=0.02)


def test_overlapping_looks_are_judged_at_a_wider_level_than_bonferronis_and_never_narrower_than_one_look():
    """Under the overlap correction each comparison gets more of the error rate than Bonferroni's share per look,
    and never more than the share of all its looks together (one look)."""
    for segments in (1, 2, 5):
        overlap = overlap_level(0.95, comparisons=9, segments=segments, window_hours=48, every_hours=6, looks=28)
        bonferroni = comparison_level(0.95, comparisons=9, looks=28, segments=segments)
        one_look = comparison_level(0.95, comparisons=9, looks=1, segments=segments)
        assert one_look < overlap < bonferroni


def test_more_looks_than_a_chunk_add_their_chunks_tails():
    """Past 128 looks the chunks' tails add up: still between one look's boundary and Bonferroni's, and above the
    boundary of the first 128 looks alone."""
    windows = look_windows(window_hours=48, every_hours=6, looks=200)
    c = look_boundary(0.001, windows)
    assert look_boundary(0.001, windows[:128]) < c < stats.norm.isf(0.001 / 400)


def test_a_confidence_outside_0_to_1_is_a_clear_message():
    with pytest.raises(DriftdeskError, match="confidence must be between 0 and 1"):
        overlap_level(1.0, comparisons=1, segments=1, window_hours=48, every_hours=6, looks=28)
