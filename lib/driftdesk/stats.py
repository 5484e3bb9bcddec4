"""Every statistic driftdesk computes, once, as a pure function on aggregates, baseline first: ``f(baseline, current, ...)``.

The reduction from raw rows to aggregates (sorted arrays, category counts, per-bin sums, window sums) is the only
step that touches every row; every statistic below reads only aggregates, so the reduction can run elsewhere.
Where a statistic takes counts it works along the last axis, so one window pair (1-D counts, a float back) and
many windows at once (the gate backtest, an array back) are the same function.

Conventions (documented because they change numbers):

* Missing values are null or NaN. They count in the null rate and are left out of every distribution
  statistic. ±inf are left out too and counted as ``n_infinite`` (an infinite current value is outside
  the baseline's range).
* PSI: ``sum((q - p) * ln(q / p))`` over bins, p the baseline's share and q the current one, each floored at
  ``PSI_EPSILON`` (1e-4) so an empty bin gives a large but finite term; a bin empty in both windows adds
  exactly 0. Numeric bins are cut at the baseline's quantiles (deciles by default, numpy's "linear" quantile)
  with duplicate edges dropped, so ties and constant columns give fewer bins, never empty duplicates; bins are
  ``(-inf, e1], (e1, e2], ..., (ek, inf)``.
* KS: the two-sample statistic ``sup |F_b - F_c|`` exactly as ``scipy.stats.ks_2samp``; its p-value from the
  asymptotic Kolmogorov distribution: ``scipy.stats.kstwo.sf(D, round(n*m/(n+m)))`` (what
  ``ks_2samp(method="asymp")`` uses) up to an effective n of 20,000, the limiting distribution
  ``scipy.special.kolmogorov`` beyond (see ``ks_pvalue``; scipy's exact method is far slower).
* Wasserstein-1 equals ``scipy.stats.wasserstein_distance``; computed as the integral of the difference of
  the two quantile functions, which needs no merge or search (O(n + m) on sorted arrays).
* Jensen-Shannon *distance* in base 2 (so in [0, 1]), equal to ``scipy.spatial.distance.jensenshannon(p, q,
  base=2)``; chi-squared p-value of the 2 x K table as ``scipy.stats.chi2_contingency(..., correction=False)``.
* Two proportions: the pooled z-test (statsmodels' ``proportions_ztest``). Its square is Pearson's chi-squared
  of the 2 x 2 table without continuity correction, so the p-values are the same test's.
* Intervals: Wilson score or Jeffreys for a proportion; the delta method for a ratio of sums.
* Calibration: ECE, MCE, Brier and Brier's decomposition from per-bin sums (count, score sum, label sum).

scipy is imported inside the functions that need it: it costs a fraction of a second, and most callers of
this module never reach it.
"""

from __future__ import annotations

import math
import statistics
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from driftdesk.errors import DriftdeskError

PSI_EPSILON = 1e-4
DEFAULT_PSI_BINS = 10
_CHUNK = 1 << 17  # Wasserstein: steps per chunk
KS_FINITE_N_LIMIT = 20_000  # above this effective n, the limiting Kolmogorov p-value
_GRID_STEP = 64  # KS bound-and-refine: one grid point per this many baseline values
_HUGE, _HUGE_SCALE = 2.0**1000, 2.0**-24  # Wasserstein of values near 1.8e308 is summed scaled down


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


def psi_terms(baseline_counts: np.ndarray, current_counts: np.ndarray, *,
              epsilon: float = PSI_EPSILON) -> np.ndarray:
    """Each bin's PSI term ``(q - p) ln(q / p)`` along the last axis (shares floored at ``epsilon``).

    NaN in every bin of a window pair where either window is empty. A bin empty in both windows contributes
    exactly 0, so categories that only appear later never change an earlier value (a backtest stays causal).
    """
    b = np.asarray(baseline_counts, dtype=np.float64)
    c = np.asarray(current_counts, dtype=np.float64)
    b_n = b.sum(axis=-1, keepdims=True)
    c_n = c.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.maximum(b / np.where(b_n > 0, b_n, 1.0), epsilon)
        q = np.maximum(c / np.where(c_n > 0, c_n, 1.0), epsilon)
        terms = (q - p) * np.log(q / p)
    return np.where((b_n > 0) & (c_n > 0), terms, np.nan)


def psi_from_counts(baseline_counts: np.ndarray, current_counts: np.ndarray, *, epsilon: float = PSI_EPSILON):
    """Population stability index between bin counts, along the last axis.

    1-D counts (one window pair): a float, or None when either window is empty. Counts of shape (..., bins)
    (many windows at once, e.g. every hour of a backtest): an array of shape (...), NaN where undefined.
    """
    return _scalar(psi_terms(baseline_counts, current_counts, epsilon=epsilon).sum(axis=-1))


def _scalar(values: np.ndarray):
    """A 0-d result as a float (None when undefined); any other shape unchanged."""
    values = np.asarray(values)
    if values.ndim:
        return values
    return None if np.isnan(values) else float(values)


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

    The supremum is attained at a data point. Up to 20,000 values in all, both ECDFs are read at every distinct
    value from one merge of the two arrays (``_ks_merged``). Beyond, rather than evaluating both ECDFs at all n + m
    points, they are evaluated on a grid of every 64th baseline value (a lower bound); between two grid points each
    ECDF moves by a known amount, which bounds |F_a - F_b| there, and only the intervals whose bound beats the lower
    bound are evaluated point by point. The answer is exact; typically a few hundred points are refined.
    """
    n, m = sorted_a.size, sorted_b.size
    if n == 0 or m == 0:
        return None
    if n + m <= 20_000:
        return _ks_merged(sorted_a, sorted_b)
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


def _ks_merged(a: np.ndarray, b: np.ndarray) -> float:
    """sup |F_a - F_b| over every distinct value of both samples, from one merge of the two sorted arrays: the ECDFs
    at the last of each run of equal values are the counts of each sample up to it (the same counts, and the same
    divisions, as searching every distinct value in both arrays)."""
    both = np.concatenate((a, b))
    order = np.argsort(both, kind="stable")  # two sorted runs: a merge
    merged = both[order]
    from_a = np.cumsum(order < a.size)
    last = np.empty(merged.size, dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=last[:-1])
    last[-1] = True
    count_a = from_a[last]
    count_b = np.flatnonzero(last) + 1 - count_a
    return float(np.max(np.abs(count_a / a.size - count_b / b.size)))


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
    return float(ks_pvalues(np.array([statistic]), np.array([n]), np.array([m]))[0])


_KSTWO_KNOWN: OrderedDict[tuple[float, int], float] = OrderedDict()  # kstwo.sf by (D, n), the latest used last
_KSTWO_KEEP = 4096
_KSTWO_LOCK = threading.Lock()


def ks_pvalues(statistic: np.ndarray, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``ks_pvalue`` of many tests at once (one scipy call per distribution rather than one per test): arrays of
    statistics and sample sizes; NaN where a sample is empty.

    ``kstwo.sf`` (up to a few milliseconds a test: its exact sums) is kept for the latest 4,096 (D, n) it was
    computed for: a drift view compares a day with the day a week before, as its history did just before."""
    from scipy import special
    from scipy import stats as sps

    d = np.asarray(statistic, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    out = np.full(d.shape, np.nan)
    ok = (n > 0) & (m > 0) & ~np.isnan(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        en = n * m / (n + m)
    finite = ok & (en <= KS_FINITE_N_LIMIT)
    limit = ok & ~finite
    if finite.any():  # en < 0.5 only when n = m = 1
        at = np.flatnonzero(finite)
        keys = list(zip(d[at].tolist(), np.maximum(1, np.round(en[at])).astype(np.int64).tolist()))
        with _KSTWO_LOCK:
            known = {k: _KSTWO_KNOWN[k] for k in set(keys) if k in _KSTWO_KNOWN}
        todo = sorted(set(keys) - set(known))
        if todo:  # each test's value depends on its own (D, n) only
            got = sps.kstwo.sf(np.array([k[0] for k in todo]), np.array([k[1] for k in todo], dtype=np.int64))
            known.update(zip(todo, np.atleast_1d(got).tolist()))
        out[at] = [known[k] for k in keys]
        with _KSTWO_LOCK:
            for k in keys:
                _KSTWO_KNOWN[k] = known[k]
                _KSTWO_KNOWN.move_to_end(k)
            while len(_KSTWO_KNOWN) > _KSTWO_KEEP:
                _KSTWO_KNOWN.popitem(last=False)
    if limit.any():
        out[limit] = special.kolmogorov(np.sqrt(en[limit]) * d[limit])
    return np.where(ok, np.clip(out, 0.0, 1.0), np.nan)


def kolmogorov_pvalue(statistic: float, n: int, m: int) -> float:
    """The limiting (n, m -> inf) Kolmogorov p-value, for reference: scipy.special.kolmogorov(sqrt(en) * D)."""
    from scipy import special

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
    top = max(abs(sorted_a[0]), abs(sorted_a[-1]), abs(sorted_b[0]), abs(sorted_b[-1]))
    with np.errstate(over="ignore", invalid="ignore"):  # differences beyond 1.8e308 are inf, as in scipy
        if top <= _HUGE:
            return _wasserstein(sorted_a, sorted_b)
        # near 1.8e308: sum scaled down by a power of two (exact), and no further than the range, which bounds W
        spread = max(sorted_a[-1], sorted_b[-1]) - min(sorted_a[0], sorted_b[0])
        return min(_wasserstein(sorted_a * _HUGE_SCALE, sorted_b * _HUGE_SCALE) / _HUGE_SCALE, float(spread))


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


# --------------------------------------------------------------------------- many pairs of samples at once


def paired_numeric_stats(samples: Sequence[np.ndarray], baseline: np.ndarray, current: np.ndarray, *,
                         bins: int = DEFAULT_PSI_BINS, epsilon: float = PSI_EPSILON) -> dict[str, np.ndarray]:
    """The numeric statistics of many pairs of sorted samples at once: pair ``p`` compares
    ``samples[baseline[p]]`` (sorted, finite values) with ``samples[current[p]]``.

    Per pair: ``psi`` (``psi_numeric``), ``wasserstein``, ``sd`` (the baseline's ``np.std(ddof=1)``, 0 for one
    value), ``mean_baseline`` and ``mean_current`` (``np.mean``), ``below`` and ``above`` (the current values below
    the baseline's smallest and above its largest); NaN where either sample is empty. Each equals its function on
    the pair alone to the bit: a sample's mean, spread and quantile edges are computed once however many pairs read
    it, every pair's bin counts and range checks come from one binary search of the stacked samples side by side,
    and the PSI terms of all pairs with as many bins from one set of array operations. A sample's sums are taken
    one sample at a time, as numpy's pairwise summation of it (a grouped ``np.add.reduceat`` adds in another order),
    and the Wasserstein distance one pair at a time (``wasserstein``).
    """
    sizes = np.array([s.size for s in samples], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    values = np.concatenate([np.asarray(s, dtype=np.float64) for s in samples]) if samples else np.empty(0)
    baseline, current = np.asarray(baseline, dtype=np.int64), np.asarray(current, dtype=np.int64)
    names = ("psi", "wasserstein", "sd", "mean_baseline", "mean_current", "below", "above")
    out = {k: np.full(baseline.size, np.nan) for k in names}
    ok = np.flatnonzero((sizes[baseline] > 0) & (sizes[current] > 0)) if baseline.size else np.empty(0, np.int64)
    if ok.size == 0:
        return out
    bi, ci = baseline[ok], current[ok]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # huge values: inf, as one at a time
        mean = np.full(sizes.size, np.nan)
        for k in np.unique(np.concatenate((bi, ci))).tolist():
            mean[k] = np.add.reduce(samples[k]) / samples[k].size  # np.mean
        base = np.unique(bi)
        sd = np.zeros(sizes.size)
        for k in base[sizes[base] > 1].tolist():  # np.std(ddof=1)
            dev = samples[k] - mean[k]
            dev *= dev
            sd[k] = np.sqrt(np.add.reduce(dev) / (samples[k].size - 1))
        out["sd"][ok], out["mean_baseline"][ok], out["mean_current"][ok] = sd[bi], mean[bi], mean[ci]
        edges, n_edges = _stacked_quantile_edges(values, starts, sizes, base, bins)
        row = np.searchsorted(base, bi)  # each pair's baseline row of ``edges``
        width = edges.shape[1]
        # one binary search: the pairs' edges in their baseline and current samples, and the current samples'
        # values outside the baseline's range (left of its first value, right of its last)
        pair_edges = edges[row]
        first, last = values[starts[bi]], values[starts[bi + 1] - 1]
        queries = np.concatenate((pair_edges.ravel(), pair_edges.ravel(), first, last))
        sample = np.concatenate((np.repeat(bi, width), np.repeat(ci, width), ci, ci))
        right = np.ones(queries.size, dtype=bool)
        right[2 * bi.size * width:(2 * width + 1) * bi.size] = False  # below the first value: side="left"
        found = _stacked_searchsorted(values, starts[sample], starts[sample + 1], queries, right) - starts[sample]
        cum_b, cum_c, at_first, at_last = np.split(found, np.cumsum([bi.size * width, bi.size * width, bi.size]))
        out["below"][ok] = at_first
        out["above"][ok] = sizes[ci] - at_last
        cum_b, cum_c = cum_b.reshape(bi.size, width), cum_c.reshape(bi.size, width)
        psi = np.empty(ok.size)
        edges_of_pair = n_edges[row]
        for e in np.unique(edges_of_pair).tolist():  # psi_from_counts: pairs with as many bins summed together
            at = np.flatnonzero(edges_of_pair == e)
            counts = [np.diff(np.concatenate((np.zeros((at.size, 1), np.int64), cum[at, :e],
                                               sizes[which[at]][:, None]), axis=1))
                      for cum, which in ((cum_b, bi), (cum_c, ci))]
            psi[at] = psi_terms(*counts, epsilon=epsilon).sum(axis=-1)
        out["psi"][ok] = psi
        # Wasserstein a pair at a time: its O(n + m) steps on two samples in cache are cheaper than every pair's
        # steps as one set of arrays (three times slower on two weeks of 3,400-row days: memory traffic)
        out["wasserstein"][ok] = [wasserstein(samples[b], samples[c]) for b, c in zip(bi.tolist(), ci.tolist())]
    return out


def _stacked_quantile_edges(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray, which: np.ndarray,
                            bins: int) -> tuple[np.ndarray, np.ndarray]:
    """``quantile_edges`` of the stacked samples ``which`` (non-empty), a row each: the distinct edges first, in
    order (then padding), and how many there are."""
    if bins < 2:
        return np.empty((which.size, 0)), np.zeros(which.size, dtype=np.int64)
    n = sizes[which][:, None]
    pos = (np.arange(1, bins) / bins)[None, :] * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    a, b = values[starts[which][:, None] + lo], values[starts[which][:, None] + hi]
    edges = np.sort(np.where(frac == 0, a, a + (b - a) * frac), axis=1)
    keep = np.ones(edges.shape, dtype=bool)  # np.unique: equal values once, NaN (from inf - inf) once
    nan = np.isnan(edges)
    keep[:, 1:] = (edges[:, 1:] != edges[:, :-1]) & ~(nan[:, 1:] & nan[:, :-1])
    order = np.argsort(~keep, axis=1, kind="stable")  # the kept edges first, in order
    return np.take_along_axis(edges, order, axis=1), keep.sum(axis=1)


def _stacked_searchsorted(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, queries: np.ndarray,
                          right: np.ndarray) -> np.ndarray:
    """``np.searchsorted(values[lo:hi], query, side)`` + lo for every query at once (each its own sorted slice of
    finite values; ``right``: side="right", else "left"): one binary search on every slice side by side. A NaN
    query sorts after every value, as numpy sorts it."""
    lo, hi = lo.copy(), hi.copy()
    nan = np.isnan(queries)
    top = max(values.size - 1, 0)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) >> 1
        x = values[np.minimum(mid, top)]
        go = active & (np.where(right, x <= queries, x < queries) | nan)
        lo = np.where(go, mid + 1, lo)
        hi = np.where(active & ~go, mid, hi)


# --------------------------------------------------------------------------- weighted samples

SampleSize = Literal["weight_sum", "kish"]


@dataclass(frozen=True)
class WeightedValues:
    """A numeric column in one window with a weight per row (traffic: impressions, clicks, spend), reduced: its
    distinct finite values sorted, each with the sum of its rows' weights (all > 0), and the weight left out.

    ``sample_size`` is the number of units the tests (KS p-value, null-rate test) count over all rows; see
    ``sample_size``. ``n_rows`` and ``n`` stay row counts (the verdict's minimum rows).
    """

    values: np.ndarray
    weights: np.ndarray
    n_rows: int
    n_valid: int
    total_weight: float
    missing_weight: float
    infinite_weight: float
    sample_size: float
    valid_sample_size: float

    @property
    def n(self) -> int:
        return self.n_valid

    @property
    def null_rate(self) -> float | None:
        return self.missing_weight / self.total_weight if self.total_weight > 0 else None


@dataclass(frozen=True)
class WeightedCounts:
    """A categorical column in one window with a weight per row, reduced: each category's summed weight (a float
    count), the weight of null rows, and the sample sizes its tests count (see ``sample_size``)."""

    categories: tuple[str, ...]
    counts: np.ndarray
    n_rows: int
    n_valid: int
    total_weight: float
    missing_weight: float
    sample_size: float
    valid_sample_size: float

    @property
    def n(self) -> int:
        return self.n_valid

    @property
    def null_rate(self) -> float | None:
        return self.missing_weight / self.total_weight if self.total_weight > 0 else None


def sample_size(weights: np.ndarray, kind: SampleSize) -> float:
    """How many units weighted rows count for in a test.

    ``weight_sum``: the weight counts units itself (impressions, clicks, conversions), so the sample is the
    units: a window of 3 rows with 1,000 impressions each is 3,000 impressions. ``kish``: the weight is not a
    count (spend, revenue), so the sample is rows, discounted for unequal weights by Kish's effective sample
    size ``(sum w)^2 / sum w^2`` (equal weights give the row count).
    """
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    if kind == "weight_sum":
        return total
    if kind == "kish":
        sq = float(np.dot(w, w))
        return total * total / sq if sq > 0 else 0.0
    raise DriftdeskError(f"sample size must be 'weight_sum' or 'kish', got {kind!r}")


def weighted_values(values: np.ndarray, weights: np.ndarray, *, kind: SampleSize) -> WeightedValues:
    """Reduce one window's values and weights: NaN values count as missing, ±inf as infinite (by weight), rows
    of weight 0 carry no traffic and leave the distribution; the rest are summed per distinct value."""
    x = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    missing = np.isnan(x)
    infinite = np.isinf(x)
    keep = ~(missing | infinite) & (w > 0)
    vals, inverse = np.unique(x[keep], return_inverse=True)
    summed = np.bincount(inverse, weights=w[keep], minlength=vals.size) if vals.size else np.empty(0)
    valid_w = w[~(missing | infinite)]
    return WeightedValues(vals, summed, int(x.size), int(np.count_nonzero(keep)), float(w.sum()),
                          float(w[missing].sum()), float(w[infinite].sum()), sample_size(w, kind),
                          sample_size(valid_w, kind))


def _cdf_at(values: np.ndarray, cum: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A weighted ECDF (cumulative weights ``cum`` over sorted ``values``, normalised) at ``points``."""
    idx = np.searchsorted(values, points, side="right")
    return np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0) / cum[-1]


def weighted_ks(values_a: np.ndarray, weights_a: np.ndarray, values_b: np.ndarray, weights_b: np.ndarray) -> float | None:
    """Two-sample KS statistic of weighted samples, ``sup |F_a - F_b|`` with ``F(x)`` the weight share at or below
    x; with unit weights it is ``ks_2samp``'s statistic (the supremum is attained at a value of either sample)."""
    if values_a.size == 0 or values_b.size == 0 or weights_a.sum() <= 0 or weights_b.sum() <= 0:
        return None
    points = np.union1d(values_a, values_b)
    fa = _cdf_at(values_a, np.cumsum(weights_a), points)
    fb = _cdf_at(values_b, np.cumsum(weights_b), points)
    return float(np.max(np.abs(fa - fb)))


def weighted_wasserstein(values_a: np.ndarray, weights_a: np.ndarray, values_b: np.ndarray,
                         weights_b: np.ndarray) -> float | None:
    """Wasserstein-1 distance of weighted samples, ``integral |F_a - F_b| dx``: equal to
    ``scipy.stats.wasserstein_distance(a, b, u_weights, v_weights)``."""
    if values_a.size == 0 or values_b.size == 0 or weights_a.sum() <= 0 or weights_b.sum() <= 0:
        return None
    points = np.union1d(values_a, values_b)
    if points.size < 2:
        return 0.0
    fa = _cdf_at(values_a, np.cumsum(weights_a), points[:-1])
    fb = _cdf_at(values_b, np.cumsum(weights_b), points[:-1])
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sum(np.abs(fa - fb) * np.diff(points)))


def weighted_quantile_edges(values: np.ndarray, weights: np.ndarray, bins: int = DEFAULT_PSI_BINS) -> np.ndarray:
    """Interior bin edges at a weighted sample's quantiles, duplicates dropped.

    numpy's 'linear' quantile of the sample with each value repeated ``w`` times, written on cumulative weights
    so real weights work too: the quantile at q sits at rank ``q (W - 1)`` (W the total weight) and interpolates
    between the values at the ranks either side; the value at rank r is the first whose cumulative weight
    exceeds r. With whole-number weights the edges equal ``quantile_edges`` of the repeated sample.
    """
    if values.size == 0 or bins < 2:
        return np.empty(0)
    cum = np.cumsum(weights)
    last = max(float(cum[-1]) - 1.0, 0.0)
    pos = np.arange(1, bins) / bins * last
    lo = np.floor(pos)
    frac = pos - lo
    k_lo = np.minimum(np.searchsorted(cum, lo, side="right"), values.size - 1)
    k_hi = np.minimum(np.searchsorted(cum, np.minimum(lo + 1, last), side="right"), values.size - 1)
    a, b = values[k_lo], values[k_hi]
    edges = a + (b - a) * frac
    edges = np.where(frac == 0, a, edges)
    return np.unique(edges)


def weighted_bin_sums(values: np.ndarray, weights: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Weight in (-inf, e1], (e1, e2], ..., (ek, inf) of a sorted weighted sample."""
    cum = np.concatenate(([0.0], np.cumsum(weights)))
    return np.diff(cum[np.concatenate(([0], np.searchsorted(values, edges, side="right"), [values.size]))])


def weighted_psi(baseline: WeightedValues, current: WeightedValues, *, bins: int = DEFAULT_PSI_BINS,
                 epsilon: float = PSI_EPSILON) -> float | None:
    """PSI of weighted samples: bins cut at the baseline's weighted quantiles, shares of weight per bin."""
    if baseline.values.size == 0 or current.values.size == 0:
        return None
    edges = weighted_quantile_edges(baseline.values, baseline.weights, bins)
    return psi_from_counts(weighted_bin_sums(baseline.values, baseline.weights, edges),
                           weighted_bin_sums(current.values, current.weights, edges), epsilon=epsilon)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float | None:
    total = float(weights.sum())
    return float(np.dot(values, weights) / total) if values.size and total > 0 else None


def weighted_std(values: np.ndarray, weights: np.ndarray) -> float | None:
    """The weighted standard deviation with frequency weights, ``sqrt(sum w (x - m)^2 / (W - 1))`` (numpy's
    ``std(ddof=1)`` of the repeated sample); None when W <= 1."""
    total = float(weights.sum())
    if values.size == 0 or total <= 1:
        return None
    m = float(np.dot(values, weights) / total)
    return math.sqrt(float(np.dot(weights, (values - m) ** 2)) / (total - 1))


def scaled_counts(counts: np.ndarray, size: float) -> np.ndarray:
    """Weighted category counts rescaled to sum to ``size`` units (the sample a chi-squared test counts)."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    return c * (size / total) if total > 0 else c


# --------------------------------------------------------------------------- categorical


def aligned_shares(baseline: CategoryCounts, current: CategoryCounts) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Both windows' counts over the union of their categories (baseline's order first, then new ones).

    Counts stay integers for row counts and become floats for weighted counts (sums of a weight column).
    """
    index = {c: k for k, c in enumerate(baseline.categories)}
    cats = list(baseline.categories)
    for c in current.categories:
        if c not in index:
            index[c] = len(cats)
            cats.append(c)
    dtype = np.result_type(baseline.counts.dtype, current.counts.dtype)
    b = np.zeros(len(cats), dtype=dtype)
    c_ = np.zeros(len(cats), dtype=dtype)
    b[: len(baseline.categories)] = baseline.counts
    if current.categories:
        c_[np.fromiter((index[c] for c in current.categories), dtype=np.int64, count=len(current.categories))] = current.counts
    return tuple(cats), b, c_


def jensen_shannon(baseline_counts: np.ndarray, current_counts: np.ndarray) -> float | None:
    """Jensen-Shannon distance, base 2, in [0, 1]; equal to scipy.spatial.distance.jensenshannon(p, q, base=2)."""
    from scipy import special

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
    from scipy import stats as sps

    test = chi2_statistic(baseline_counts, current_counts)
    if test is None:
        return None
    stat, dof = test
    return 1.0 if dof == 0 else float(sps.chi2.sf(stat, dof))


def chi2_pvalues(statistic: np.ndarray, dof: np.ndarray) -> np.ndarray:
    """``chi2_pvalue`` of many tables at once from their ``chi2_statistic`` (one scipy call): 1 where dof is 0."""
    from scipy import stats as sps

    stat, k = np.asarray(statistic, dtype=np.float64), np.asarray(dof, dtype=np.float64)
    out = np.ones(stat.shape)
    some = k > 0
    if some.any():
        out[some] = sps.chi2.sf(stat[some], k[some])
    return out


def chi2_statistic(baseline_counts: np.ndarray, current_counts: np.ndarray) -> tuple[float, int] | None:
    """Pearson's chi-squared statistic of the 2 x K table and its degrees of freedom (categories seen, less one;
    0 for one category: the p-value is 1); None when a window is empty."""
    b = np.asarray(baseline_counts, dtype=np.float64)
    c = np.asarray(current_counts, dtype=np.float64)
    keep = (b + c) > 0
    b, c = b[keep], c[keep]
    nb, nc = b.sum(), c.sum()
    if nb <= 0 or nc <= 0:
        return None
    k = b.size
    if k < 2:
        return 0.0, 0
    col = b + c
    total = nb + nc
    eb, ec = col * nb / total, col * nc / total
    return float(np.sum((b - eb) ** 2 / eb) + np.sum((c - ec) ** 2 / ec)), k - 1


# --------------------------------------------------------------------------- two samples: proportions and means


def two_proportion_z(baseline_successes, baseline_n, current_successes, current_n):
    """Pooled two-proportion z, ``(p_c - p_b) / sqrt(p (1 - p) (1/n_b + 1/n_c))`` with p the pooled rate.

    As statsmodels' ``proportions_ztest``; z squared is the chi-squared statistic of the 2 x 2 table without
    continuity correction. Works elementwise on arrays. Undefined (None, or NaN in an array) when a window has
    no trials; when the pooled variance is 0 (nobody, or everybody, succeeded in both windows) the rates are
    equal and z is 0.
    """
    kb, nb, kc, nc = (np.asarray(x, dtype=np.float64) for x in (baseline_successes, baseline_n, current_successes,
                                                                 current_n))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (kb + kc) / (nb + nc)
        se = np.sqrt(np.clip(pooled * (1 - pooled), 0.0, None) * (1 / nb + 1 / nc))
        z = _standardised(kc / nc - kb / nb, se)
    return _scalar(np.where((nb > 0) & (nc > 0), z, np.nan))


def two_proportion_pvalue(baseline_successes, baseline_n, current_successes, current_n):
    """Two-sided p-value of the pooled two-proportion z-test, ``erfc(|z| / sqrt 2)``: 1 for equal rates.

    The same test as Pearson's chi-squared on the 2 x 2 table without correction (its p-value is equal).
    """
    from scipy import special

    z = np.asarray(two_proportion_z(baseline_successes, baseline_n, current_successes, current_n), dtype=np.float64)
    return _scalar(special.erfc(np.abs(z) / math.sqrt(2)))


def mean_difference_z(baseline_mean, baseline_sd, baseline_n, current_mean, current_sd, current_n):
    """Welch's z for two means, ``(m_c - m_b) / sqrt(s_b^2 / n_b + s_c^2 / n_c)``, elementwise.

    Undefined when a window has no values or a spread is unknown (NaN); with no spread at all, 0 for equal
    means and an infinite z for different ones.
    """
    mb, sb, nb, mc, sc, nc = (np.asarray(x, dtype=np.float64) for x in (baseline_mean, baseline_sd, baseline_n,
                                                                        current_mean, current_sd, current_n))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = _standardised(mc - mb, np.sqrt(sb**2 / nb + sc**2 / nc))
    return _scalar(np.where((nb > 0) & (nc > 0), z, np.nan))


def _standardised(diff: np.ndarray, se: np.ndarray) -> np.ndarray:
    """diff / se; where se is 0: 0 for no difference, an infinite z for any difference (NaN stays NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, diff / np.where(se > 0, se, 1.0),
                        np.where(diff == 0, 0.0, np.sign(diff) * np.inf) + se * 0.0)


# --------------------------------------------------------------------------- intervals

IntervalMethod = Literal["wilson", "jeffreys"]


def two_sided_z(confidence: float) -> float:
    """The normal quantile of a two-sided interval at ``confidence`` (1.96 at 0.95)."""
    if not 0 < confidence < 1:
        raise DriftdeskError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    return statistics.NormalDist().inv_cdf(0.5 + confidence / 2)


def proportion_interval(successes: np.ndarray, trials: np.ndarray, *, confidence: float = 0.95,
                        method: IntervalMethod = "wilson") -> tuple[np.ndarray, np.ndarray]:
    """Interval for k successes in n trials: Wilson score, or Jeffreys (Beta(k + 1/2, n - k + 1/2) quantiles).

    Equal to statsmodels' ``proportion_confint(k, n, method="wilson" | "jeffreys")``, except that Jeffreys takes
    Brown, Cai and DasGupta's (2001) boundary rule: lower bound 0 when k = 0, upper bound 1 when k = n.
    NaN where n = 0.
    """
    z = two_sided_z(confidence)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wilson":
            p = k / n
            denom = 1 + z * z / n
            centre = (p + z * z / (2 * n)) / denom
            half = z * np.sqrt(np.clip(p * (1 - p) / n + z * z / (4 * n * n), 0, None)) / denom
            low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
        elif method == "jeffreys":
            from scipy.stats import beta

            low = np.where(k > 0, beta.ppf(alpha / 2, k + 0.5, n - k + 0.5), 0.0)
            high = np.where(k < n, beta.ppf(1 - alpha / 2, k + 0.5, n - k + 0.5), 1.0)
        else:
            raise DriftdeskError(f"interval must be 'wilson' or 'jeffreys', got {method!r}")
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def ratio_of_sums(num_sum: pl.Expr, den_sum: pl.Expr, *, num_sq: pl.Expr, den_sq: pl.Expr, num_x_den: pl.Expr,
                  n: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """A ratio of sums ``R = sum y / sum x`` and its delta-method standard error, from per-unit sums.

    ``Var(R) ~= n/(n-1) * sum((y_i - R x_i)^2) / (sum x_i)^2`` with the square expanded into
    ``sum y^2 - 2 R sum xy + R^2 sum x^2``, so only sums are needed: the linearisation (Taylor) variance of a
    ratio estimator (Cochran, Sampling Techniques, 3rd ed., 6.3), each input row one sampling unit. Polars
    expressions, evaluated per group after the sums; the caller decides where R is undefined.
    """
    ratio = num_sum / den_sum
    ss = num_sq - 2 * ratio * num_x_den + ratio**2 * den_sq
    se = (n / (n - 1) * ss.clip(lower_bound=0.0)).sqrt() / den_sum
    return ratio, se


# --------------------------------------------------------------------------- calibration

CALIBRATION_KEYS = ("n", "n_positive", "ece", "mce", "brier", "reliability", "resolution", "uncertainty",
                    "within_bin_variance", "within_bin_covariance", "mean_score", "observed_rate")


def calibration_errors(count: np.ndarray, score_sum: np.ndarray, label_sum: np.ndarray, *,
                       score_sq: np.ndarray | None = None, score_label: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """ECE, MCE, Brier and its decomposition from per-bin sums, along the last axis (the bins).

    With n_b rows in bin b, mean score f_b = score_sum_b / n_b, observed rate o_b = label_sum_b / n_b, N rows
    and overall rate o:

    * ECE = sum_b n_b |o_b - f_b| / N = sum_b |label_sum_b - score_sum_b| / N; MCE = max over non-empty bins
      of |o_b - f_b|;
    * Brier = (sum s^2 - 2 sum s y + sum y) / N, which needs ``score_sq`` and ``score_label`` (else NaN);
    * reliability, resolution, uncertainty (Murphy 1973) and the within-bin variance and covariance of
      Stephenson et al. (2008), so that ``brier = reliability - resolution + uncertainty + within_bin_variance
      - 2 * within_bin_covariance`` exactly.

    Returns arrays keyed by ``CALIBRATION_KEYS`` with the bin axis removed; NaN where N is 0.
    """
    cnt = np.asarray(count, dtype=np.float64)
    s = np.asarray(score_sum, dtype=np.float64)
    y = np.asarray(label_sum, dtype=np.float64)
    n, pos = cnt.sum(axis=-1), y.sum(axis=-1)
    nonempty = cnt > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_cnt = np.where(nonempty, cnt, 1.0)
        f = np.where(nonempty, s / safe_cnt, 0.0)
        o = np.where(nonempty, y / safe_cnt, 0.0)
        total = np.where(n > 0, n, 1.0)
        ybar = pos / total
        out = {
            "n": n, "n_positive": pos,
            "ece": np.abs(y - s).sum(axis=-1) / total,
            "mce": np.where(nonempty, np.abs(o - f), -np.inf).max(axis=-1, initial=-np.inf),
            "reliability": (cnt * (f - o) ** 2).sum(axis=-1) / total,
            "resolution": (cnt * (o - ybar[..., None]) ** 2).sum(axis=-1) / total,
            "uncertainty": ybar * (1 - ybar),
            "mean_score": s.sum(axis=-1) / total,
            "observed_rate": ybar,
        }
        if score_sq is None or score_label is None:
            nan = np.full(np.shape(n), np.nan)
            out.update(brier=nan, within_bin_variance=nan, within_bin_covariance=nan)
        else:
            sq = np.asarray(score_sq, dtype=np.float64).sum(axis=-1)
            sl = np.asarray(score_label, dtype=np.float64).sum(axis=-1)
            out.update(brier=(sq - 2 * sl + pos) / total, within_bin_variance=(sq - (cnt * f * f).sum(axis=-1)) / total,
                       within_bin_covariance=(sl - (cnt * f * o).sum(axis=-1)) / total)
    undefined = n <= 0
    return {k: (out[k] if k in ("n", "n_positive") else np.where(undefined, np.nan, out[k])) for k in CALIBRATION_KEYS}
