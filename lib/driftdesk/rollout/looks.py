"""The level of each look of a rollout gate whose looks overlap: the boundary that keeps the chance of any false
breach over all of a gate's looks at ``alpha``, given how much of their windows consecutive looks share.

A gate looks every ``every`` hours at the last ``window`` hours (from the rollout's start at most). Its statistic in
a window (the log ratio of two arms' ratios of sums, a difference of rates or means, over its standard error) is, to
first order, a sum over the window's rows of independent contributions divided by its standard deviation. Under no
change, with the same traffic every hour, two looks' statistics are then jointly normal with correlation
``shared hours / sqrt(hours of one x hours of the other)``: ``1 - k every / window`` for two full windows ``k``
looks apart, ``sqrt(t_1 / t_2)`` for two windows from the start (Jennison and Turnbull, *Group Sequential Methods*,
2000, ch. 3). The two-sided boundary ``c`` solves ``P(max_i |Z_i| > c) = alpha``; each look's interval is at level
``1 - 2 (1 - Phi(c))``. One look gives the pointwise level, independent looks Sidak's ``1 - (1 - alpha)^(1/n)``,
identical looks one look's, and overlapping looks something in between, never below Bonferroni's ``alpha / n``.

``P(max_i |Z_i| > c)`` is a rare union of half-spaces of a normal vector (``Z_i > c`` or ``-Z_i > c``): computed by
ALOE importance sampling (Owen, Maximov and Chertkov, "Importance sampling the union of rare events with an
application to power systems analysis", Electronic Journal of Statistics 13, 2019): a half-space drawn in proportion
to its probability, the vector drawn within it, ``P = sum_j P_j x mean(1 / number of half-spaces it is in)``. Its
relative error is below 1% with ``DRAWS`` draws at any ``alpha`` (``scipy.stats.multivariate_normal.cdf`` computes
``1 - P``, whose relative error in the tails that matter here, ``alpha`` of 1e-3 to 1e-6, is 10% or more at a
thousand times the cost). The draws come from a fixed seed, so a pattern's boundary is the same number every time;
it is cached per pattern of looks and ``alpha``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize, special

DRAWS = 2**14
SEED = 20_261_203  # fixed: the same looks give the same boundary every time
CHUNK = 128  # looks whose joint tail is drawn at once; longer patterns add their chunks' tails (Boole: conservative)

Windows = tuple[tuple[int, int], ...]  # (start, end) of each look's window, in hours from the rollout's start


def look_windows(*, window_hours: int, every_hours: int, looks: int) -> Windows:
    """The windows of a gate's ``looks`` looks: the last ``window_hours`` (from the start at most) every
    ``every_hours``."""
    return tuple((max(0, k * every_hours - window_hours), k * every_hours) for k in range(1, looks + 1))


def look_correlation(windows: Windows) -> np.ndarray:
    """Correlation of the looks' statistics: shared hours over the geometric mean of their hours."""
    start, end = (np.array(x, dtype=float) for x in zip(*windows))
    shared = np.clip(np.minimum(end[:, None], end[None, :]) - np.maximum(start[:, None], start[None, :]), 0, None)
    length = end - start
    return shared / np.sqrt(length[:, None] * length[None, :])


def _directions(windows: Windows) -> np.ndarray:
    """Each look's statistic as a unit vector over independent standard normal blocks (the stretches between window
    edges, each weighted by the square root of its hours): ``Z = directions @ x`` has ``look_correlation``."""
    edges = sorted({e for w in windows for e in w})
    at = {e: i for i, e in enumerate(edges)}
    weight = np.sqrt(np.diff(np.array(edges, dtype=float)))
    out = np.zeros((len(windows), len(edges) - 1))
    for i, (a, b) in enumerate(windows):
        out[i, at[a]:at[b]] = weight[at[a]:at[b]]
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@functools.lru_cache(maxsize=16)
def _tail(windows: Windows, *, draws: int = DRAWS, seed: int = SEED):
    """``c -> P(max_i |Z_i| > c)`` (ALOE, common random numbers for every ``c``), kept per pattern of looks: another
    ``alpha`` (another number of segments) only solves for its ``c``."""
    w = _directions(windows)
    n, d = w.shape
    rng = np.random.default_rng(seed)
    pick, uniform, normal = rng.integers(0, n, draws), rng.random(draws), rng.standard_normal((draws, d))
    chosen = w[pick]  # by symmetry (x -> -x) the half-space Z_j > c stands for both of look j's
    rest = (normal - (normal * chosen).sum(axis=1, keepdims=True) * chosen) @ w.T
    along = chosen @ w.T

    def tail(c: float) -> float:
        p = special.ndtr(-c)
        inside = -special.ndtri(uniform * p)  # Z_j given Z_j > c
        count = (np.abs(rest + inside[:, None] * along) >= c).sum(axis=1)
        return float(2 * n * p * np.mean(1.0 / np.maximum(count, 1)))
    return tail


@functools.lru_cache(maxsize=256)
def look_boundary(alpha: float, windows: Windows) -> float:
    """The two-sided ``c`` with ``P(max_i |Z_i| > c) = alpha`` over looks at ``windows`` (``look_correlation``).
    Past ``CHUNK`` looks, the tails of consecutive chunks add up (each chunk's exact, their union bounded)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha}")
    if len(set(windows)) <= 1:
        return float(-special.ndtri(alpha / 2))
    tails = [_tail(windows[i:i + CHUNK]) for i in range(0, len(windows), CHUNK)]
    low, high = -special.ndtri(alpha / 2), -special.ndtri(alpha / (2 * len(windows)))  # one look, Bonferroni
    if high - low < 1e-12:
        return float(high)

    def gap(c: float) -> float:
        return math.log(sum(t(c) for t in tails)) - math.log(alpha)
    return float(optimize.brentq(gap, low, high, xtol=1e-6))


def look_level(alpha: float, *, window_hours: int, every_hours: int, looks: int) -> float:
    """The confidence of each of a gate's ``looks`` intervals so that any of them excludes no change by chance
    with probability ``alpha``: ``1 - 2 (1 - Phi(look_boundary))``."""
    c = look_boundary(alpha, look_windows(window_hours=window_hours, every_hours=every_hours, looks=looks))
    return float(1 - 2 * special.ndtr(-c))
