"""Drift statistics as pure functions on aggregates: sorted arrays (numeric) and category counts.

The reduction from raw rows to these aggregates (``numeric_sketch``, ``category_counts``) is the only step
that touches every row; every statistic below reads only the aggregates, so the reduction can run elsewhere.

Conventions (documented because they change numbers):

* Missing values are null or NaN. They count in the null rate and are left out of every distribution
  statistic. ±inf are left out too and counted as ``n_infinite`` (an infinite current value is outside
  the baseline's range).
* PSI: ``sum((q - p) * ln(q / p))`` over bins, with each bin's share floored at ``PSI_EPSILON`` (1e-4) so an
  empty bin gives a large but finite term. Numeric bins are cut at the baseline's quantiles (deciles by
  default, numpy's "linear" quantile) with duplicate edges dropped, so ties and constant columns give fewer
  bins, never empty duplicates; bins are ``(-inf, e1], (e1, e2], ..., (ek, inf)``.
* KS: the two-sample statistic ``sup |F_b - F_c|`` exactly as ``scipy.stats.ks_2samp``; its p-value from the
  asymptotic Kolmogorov distribution: ``scipy.stats.kstwo.sf(D, round(n*m/(n+m)))`` (what
  ``ks_2samp(method="asymp")`` uses) up to an effective n of 20,000, the limiting distribution
  ``scipy.special.kolmogorov`` beyond (see ``ks_pvalue``; scipy's exact method is far slower).
* Wasserstein-1 equals ``scipy.stats.wasserstein_distance``; computed as the integral of the difference of
  the two quantile functions, which needs no merge or search (O(n + m) on sorted arrays).
* Jensen-Shannon *distance* in base 2 (so in [0, 1]), equal to ``scipy.spatial.distance.jensenshannon(p, q,
  base=2)``; chi-squared p-value of the 2 x K table as ``scipy.stats.chi2_contingency(..., correction=False)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy import stats as sps

PSI_EPSILON = 1e-4
DEFAULT_PSI_BINS = 10
_CHUNK = 1 << 17  # Wasserstein: steps per chunk
KS_FINITE_N_LIMIT = 20_000  # above this effective n, the limiting Kolmogorov p-value
_GRID_STEP = 64  # KS bound-and-refine: one grid point per this many baseline values


# --------------------------------------------------------------------------- aggregates


@dataclass(frozen=True)
class NumericSketch:
    """A numeric column in one window, reduced: its finite values sorted, plus the counts left out."""

    sorted_values: np.ndarray
    n_rows: int
    n_missing: int
    n_infinite: int

    @property
    def n(self) -> int:
        return int(self.sorted_values.size)

    @property
    def null_rate(self) -> float | None:
        return self.n_missing / self.n_rows if self.n_rows else None


@dataclass(frozen=True)
class CategoryCounts:
    """A categorical column in one window, reduced: each category's row count (nulls apart)."""

    categories: tuple[str, ...]
    counts: np.ndarray
    n_rows: int
    n_missing: int

    @property
    def n(self) -> int:
        return int(self.counts.sum()) if self.counts.size else 0

    @property
    def null_rate(self) -> float | None:
        return self.n_missing / self.n_rows if self.n_rows else None


def numeric_sketch(values: np.ndarray, *, in_place: bool = False) -> NumericSketch:
    """Sort once; missing (NaN) and infinite values are counted, then sliced off (no second copy).

    ``in_place`` sorts the given array itself (the caller hands over a copy it owns), saving one allocation.
    """
    arr = np.asarray(values, dtype=np.float64)
    n_rows = int(arr.size)
    if in_place and arr.flags.writeable:
        arr.sort()  # NaN sorts last, +inf just before it
        s = arr
    else:
        s = np.sort(arr)
    lo = int(np.searchsorted(s, -np.inf, side="right"))
    hi_finite = int(np.searchsorted(s, np.inf, side="left"))
    hi_inf = int(np.searchsorted(s, np.inf, side="right"))
    n_nan = n_rows - hi_inf
    return NumericSketch(s[lo:hi_finite], n_rows, n_nan, lo + (hi_inf - hi_finite))


def category_counts(categories, counts, *, n_missing: int = 0) -> CategoryCounts:
    cats = tuple(str(c) for c in categories)
    cnt = np.asarray(counts, dtype=np.int64)
    return CategoryCounts(cats, cnt, int(cnt.sum()) + int(n_missing), int(n_missing))


# --------------------------------------------------------------------------- PSI


def psi_from_shares(baseline_share: np.ndarray, current_share: np.ndarray, *, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two share vectors over the same bins."""
    p = np.maximum(np.asarray(baseline_share, dtype=np.float64), epsilon)
    q = np.maximum(np.asarray(current_share, dtype=np.float64), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_from_counts(baseline_counts: np.ndarray, current_counts: np.ndarray, *, epsilon: float = PSI_EPSILON) -> float | None:
    b = np.asarray(baseline_counts, dtype=np.float64)
    c = np.asarray(current_counts, dtype=np.float64)
    if b.sum() <= 0 or c.sum() <= 0:
        return None
    return psi_from_shares(b / b.sum(), c / c.sum(), epsilon=epsilon)


def quantile_edges(sorted_baseline: np.ndarray, bins: int = DEFAULT_PSI_BINS) -> np.ndarray:
    """Interior bin edges at the baseline's quantiles (numpy 'linear'), duplicates dropped."""
    n = sorted_baseline.size
    if n == 0 or bins < 2:
        return np.empty(0)
    pos = np.arange(1, bins) / bins * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    a, b = sorted_baseline[lo], sorted_baseline[hi]
    edges = a + (b - a) * frac
    edges = np.where(frac == 0, a, edges)
    return np.unique(edges)


def bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in (-inf, e1], (e1, e2], ..., (ek, inf) read off a sorted array (no pass over the data)."""
    cum = np.searchsorted(sorted_values, edges, side="right")
    return np.diff(np.concatenate(([0], cum, [sorted_values.size])))


def psi_numeric(sorted_baseline: np.ndarray, sorted_current: np.ndarray, *, bins: int = DEFAULT_PSI_BINS,
                epsilon: float = PSI_EPSILON) -> float | None:
    if sorted_baseline.size == 0 or sorted_current.size == 0:
        return None
    edges = quantile_edges(sorted_baseline, bins)
    return psi_from_counts(bin_counts(sorted_baseline, edges), bin_counts(sorted_current, edges), epsilon=epsilon)


# --------------------------------------------------------------------------- KS


def _ecdf_right(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_values, x, side="right") / sorted_values.size


def _ks_exact_at(a: np.ndarray, b: np.ndarray, points: np.ndarray) -> float:
    if points.size == 0:
        return 0.0
    return float(np.max(np.abs(_ecdf_right(a, points) - _ecdf_right(b, points))))


def ks_statistic(sorted_a: np.ndarray, sorted_b: np.ndarray) -> float | None:
    """Two-sample KS statistic, equal to scipy.stats.ks_2samp's, on sorted arrays.

    The supremum is attained at a data point. Rather than evaluating both ECDFs at all n + m points, they are
    evaluated on a grid of every 64th baseline value (a lower bound); between two grid points each ECDF moves
    by a known amount, which bounds |F_a - F_b| there, and only the intervals whose bound beats the lower
    bound are evaluated point by point. The answer is exact; typically a few hundred points are refined.
    """
    n, m = sorted_a.size, sorted_b.size
    if n == 0 or m == 0:
        return None
    if n + m <= 20_000:
        return _ks_exact_at(sorted_a, sorted_b, np.concatenate((_distinct(sorted_a), _distinct(sorted_b))))
    grid = sorted_a[::_GRID_STEP]
    if grid[-1] != sorted_a[-1]:
        grid = np.append(grid, sorted_a[-1])
    ia = np.searchsorted(sorted_a, grid, side="right")
    ib = np.searchsorted(sorted_b, grid, side="right")
    fa, fb = ia / n, ib / m
    best = float(np.max(np.abs(fa - fb)))
    # intervals (-inf, g0], (g0, g1], ..., (g_{k-1}, g_k]; above g_k, F_a = 1 and |F_a - F_b| only falls
    fa_lo = np.concatenate(([0.0], fa[:-1]))
    fb_lo = np.concatenate(([0.0], fb[:-1]))
    bound = np.maximum(fa - fb_lo, fb - fa_lo)
    todo = np.flatnonzero(bound > best)
    if todo.size == 0:
        return best
    a_start = np.concatenate(([0], ia[:-1]))[todo]
    b_start = np.concatenate(([0], ib[:-1]))[todo]
    a_len, b_len = ia[todo] - a_start, ib[todo] - b_start
    idx_a = _ranges(a_start, a_len)
    idx_b = _ranges(b_start, b_len)
    points = np.concatenate((_distinct(sorted_a[idx_a]), _distinct(sorted_b[idx_b])))
    return max(best, _ks_exact_at(sorted_a, sorted_b, points))


def _distinct(run: np.ndarray) -> np.ndarray:
    """The last of each run of equal values in a sorted (or piecewise sorted) array: ties evaluated once."""
    if run.size < 2:
        return run
    keep = np.empty(run.size, dtype=bool)
    np.not_equal(run[1:], run[:-1], out=keep[:-1])
    keep[-1] = True
    return run[keep]


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated aranges [s, s + l) without a Python loop."""
    lengths = lengths.astype(np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts.astype(np.int64) - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(total, dtype=np.int64) + offsets


def ks_pvalue(statistic: float | None, n: int, m: int) -> float | None:
    """Asymptotic two-sided p-value from Kolmogorov's distribution at en = n*m/(n+m).

    Up to en = 20,000 it is ``kstwo.sf(D, round(en))``, exactly what ``ks_2samp(method="asymp")`` returns.
    Beyond, ``kstwo.sf`` can take seconds per call (2 s at en = 1e6 here), so the limiting distribution
    ``scipy.special.kolmogorov(sqrt(en) * D)`` is used; it differs from kstwo by at most about 1e-3 at
    en = 2e4 and less as en grows (checked in the tests).
    """
    if statistic is None or n == 0 or m == 0:
        return None
    en = n * m / (n + m)
    if en <= KS_FINITE_N_LIMIT:
        p = sps.kstwo.sf(statistic, max(1, round(en)))  # en < 0.5 only when n = m = 1
    else:
        p = special.kolmogorov(math.sqrt(en) * statistic)
    return float(np.clip(p, 0.0, 1.0))


def kolmogorov_pvalue(statistic: float, n: int, m: int) -> float:
    """The limiting (n, m -> inf) Kolmogorov p-value, for reference: scipy.special.kolmogorov(sqrt(en) * D)."""
    en = n * m / (n + m)
    return float(special.kolmogorov(math.sqrt(en) * statistic))


# --------------------------------------------------------------------------- Wasserstein


def wasserstein(sorted_a: np.ndarray, sorted_b: np.ndarray) -> float | None:
    """Wasserstein-1 distance, equal to scipy.stats.wasserstein_distance, as the integral of |Q_a - Q_b|.

    Both quantile functions are step functions with steps of 1/n and 1/m; where each step of one meets the
    steps of the other is known in closed form, so no merge or search is needed: O(n + m) on sorted arrays.
    """
    n, m = sorted_a.size, sorted_b.size
    if n == 0 or m == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # differences beyond 1.8e308 are inf, as in scipy
        return _wasserstein(sorted_a, sorted_b)


def _wasserstein(sorted_a: np.ndarray, sorted_b: np.ndarray) -> float:
    n, m = sorted_a.size, sorted_b.size
    if n == m:
        return float(np.sum(np.abs(sorted_a - sorted_b) / n))  # divide first: no overflow near 1.8e308
    if m > n:  # W is symmetric; let b be the shorter sample, so each a-step meets at most two b-steps
        sorted_a, sorted_b, n, m = sorted_b, sorted_a, m, n
    # On the scale u * n * m, a's i-th step is [i*m, (i+1)*m) and b's j-th is [j*n, (j+1)*n). The a-step meets
    # b-step jl = floor(i*m/n) for w1 = min((i+1)*m, (jl+1)*n) - i*m and b-step jl + 1 for the rest (m - w1).
    # Every number is an integer below 2**53, so float64 holds it exactly, and a correctly rounded division of
    # two such integers never rounds across an integer (its distance to one is at least 1/(n*m)).
    fn, fm = float(n), float(m)
    total = 0.0
    for i0 in range(0, n, _CHUNK):  # chunks keep the temporaries in cache
        i = np.arange(i0, min(i0 + _CHUNK, n), dtype=np.float64)
        start = i * fm
        jl = np.floor(start / fn)
        w1 = np.minimum(start + fm, (jl + 1.0) * fn) - start
        jl_idx = jl.astype(np.int64)
        a = sorted_a[i0:i0 + i.size]
        share = w1 / (fn * fm)  # weights first, so huge values cannot overflow
        part = share * np.abs(a - sorted_b[jl_idx]) + (1.0 / fn - share) * np.abs(a - sorted_b[np.minimum(jl_idx + 1, m - 1)])
        total += float(np.sum(part))
    return total


# --------------------------------------------------------------------------- categorical


def aligned_shares(baseline: CategoryCounts, current: CategoryCounts) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Both windows' counts over the union of their categories (baseline's order first, then new ones)."""
    index = {c: k for k, c in enumerate(baseline.categories)}
    cats = list(baseline.categories)
    for c in current.categories:
        if c not in index:
            index[c] = len(cats)
            cats.append(c)
    b = np.zeros(len(cats), dtype=np.int64)
    c_ = np.zeros(len(cats), dtype=np.int64)
    b[: len(baseline.categories)] = baseline.counts
    if current.categories:
        c_[np.fromiter((index[c] for c in current.categories), dtype=np.int64, count=len(current.categories))] = current.counts
    return tuple(cats), b, c_


def jensen_shannon(baseline_counts: np.ndarray, current_counts: np.ndarray) -> float | None:
    """Jensen-Shannon distance, base 2, in [0, 1]; equal to scipy.spatial.distance.jensenshannon(p, q, base=2)."""
    p = np.asarray(baseline_counts, dtype=np.float64)
    q = np.asarray(current_counts, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return None
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    js = (np.sum(special.rel_entr(p, m)) + np.sum(special.rel_entr(q, m))) / 2 / math.log(2)
    return float(math.sqrt(max(js, 0.0)))


def chi2_pvalue(baseline_counts: np.ndarray, current_counts: np.ndarray) -> float | None:
    """p-value of Pearson's chi-squared test of the 2 x K table (no continuity correction)."""
    b = np.asarray(baseline_counts, dtype=np.float64)
    c = np.asarray(current_counts, dtype=np.float64)
    keep = (b + c) > 0
    b, c = b[keep], c[keep]
    nb, nc = b.sum(), c.sum()
    if nb <= 0 or nc <= 0:
        return None
    k = b.size
    if k < 2:
        return 1.0
    col = b + c
    total = nb + nc
    eb, ec = col * nb / total, col * nc / total
    stat = float(np.sum((b - eb) ** 2 / eb) + np.sum((c - ec) ** 2 / ec))
    return float(sps.chi2.sf(stat, k - 1))


def two_proportion_pvalue(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """Chi-squared (no correction) p-value for two rates k1/n1 vs k2/n2; used for null-rate jumps."""
    if n1 == 0 or n2 == 0:
        return None
    return chi2_pvalue(np.array([k1, n1 - k1]), np.array([k2, n2 - k2]))
