"""A numeric column too large to sort in memory, reduced to a fine histogram with a stated error bound.

The bins are fixed in advance, not fitted to the data, so any engine (polars streaming, Spark) builds the same
histogram with one group-by, windows and partitions merge by adding counts, and two windows share bins. Bin k
holds the values x with ``gamma^(k-1) < |x| <= gamma^k``, ``gamma = (1 + ALPHA) / (1 - ALPHA)`` (the relative-error
bins of DDSketch, Masson, Rim and Lee 2019), signed so that bin order is value order; values with
``|x| < TINY`` share bin 0. Per bin and window the reduction keeps the count, the smallest and largest value and
the sum of values and of squares: every value is known to lie in ``[lo, hi]`` of its bin, a bin with
``lo == hi`` holds one distinct value exactly.

What the statistics read off two such histograms, and how far they can be from the exact (sorted-array) ones:

* **KS**: both ECDFs are exact at every bin's largest value, so ``ks`` is the largest gap there, a lower bound
  of the exact statistic. Inside a bin where both windows hold several distinct values the gap is unknown but at
  most ``max(F_a(hi) - F_b(lo-), F_b(hi) - F_a(lo-))``; the largest of those is the upper bound. ``ks_error`` =
  upper - lower, so ``ks <= KS_exact <= ks + ks_error``.
* **Wasserstein**: each bin's values replaced by their mean (an exact sum); moving every value to its bin's mean
  moves each distribution by at most ``sum_bins n_k (hi_k - lo_k) / n`` in Wasserstein-1, so
  ``|wasserstein - W_exact| <= wasserstein_error``, the sum of both windows' terms (at most
  ``2 ALPHA (E|a| + E|b|)``).
* **PSI**: edges at the baseline's deciles read on the bins: each exact decile lies in a bin; the edge is put
  at that bin's upper boundary, so both windows' counts per PSI bin are exact for these edges. The exact PSI
  (edges at the exact deciles) differs only in where the edge bins' values fall: each PSI bin's share lies in
  an interval, every PSI term ``(q - p) ln(q / p)`` is monotone in p and q on either side of ``p = q``, so its
  extremes over the box of shares are at corners (0 if the box crosses ``p = q``); ``psi_low <= PSI_exact <=
  psi_high``. Two deciles inside one bin may be two exact edges or one; the bound takes the larger case.

The tests check every bound against the exact statistics on random data (hypothesis).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk import stats as st

ALPHA = 2.0**-10  # relative half-width of a bin: values are known to within 0.1%
GAMMA = (1 + ALPHA) / (1 - ALPHA)
LOG_GAMMA = math.log(GAMMA)
TINY = 1e-300
OFFSET = 1_000_000  # keeps every bin index of a value above TINY positive (|log_gamma(1e-300)| < 400,000)
COLUMNS = ("bin", "count", "lo", "hi", "sum", "sq")


def bin_expr(column: str | pl.Expr) -> pl.Expr:
    """The bin of each value as a polars expression (Int64; null for null, NaN and infinite values)."""
    x = (pl.col(column) if isinstance(column, str) else column).cast(pl.Float64)
    k = (x.abs().log() / LOG_GAMMA).ceil().cast(pl.Int64) + OFFSET
    return (pl.when(x.is_nan() | x.is_infinite()).then(None)
            .when(x > TINY).then(k).when(x < -TINY).then(-k).otherwise(0).cast(pl.Int64))


def bin_of(values: np.ndarray) -> np.ndarray:
    """``bin_expr`` in numpy (for tests and small inputs)."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.ceil(np.log(np.abs(x)) / LOG_GAMMA) + OFFSET
    return np.where(x > TINY, k, np.where(x < -TINY, -k, 0)).astype(np.int64)


def histogram_aggs(column: str) -> list[pl.Expr]:
    """The per-bin aggregations, after a group-by on ``bin_expr``."""
    x = pl.col(column).cast(pl.Float64)
    return [pl.len().cast(pl.Float64).alias("count"), x.min().alias("lo"), x.max().alias("hi"), x.sum().alias("sum"),
            (x * x).sum().alias("sq")]


@dataclass(frozen=True)
class HistogramSketch:
    """One numeric column in one window: per bin (sorted) the count, range, sum and sum of squares, plus the
    rows left out (null or NaN, infinite)."""

    bins: np.ndarray
    count: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    sum: np.ndarray
    sq: np.ndarray
    n_rows: int
    n_missing: int
    n_infinite: int

    @property
    def n(self) -> int:
        return int(self.count.sum())

    @property
    def null_rate(self) -> float | None:
        return self.n_missing / self.n_rows if self.n_rows else None

    @property
    def mean(self) -> float | None:
        return float(self.sum.sum() / self.n) if self.n else None

    @property
    def std(self) -> float | None:
        n = self.n
        if n < 2:
            return None
        mean = self.sum.sum() / n
        return math.sqrt(max(float(self.sq.sum() - n * mean * mean), 0.0) / (n - 1))


def from_frame(hist: pl.DataFrame, *, n_rows: int, n_missing: int, n_infinite: int) -> HistogramSketch:
    """A sketch from a group-by's rows (columns ``COLUMNS``, any order; bins summed if repeated)."""
    h = hist.filter(pl.col("bin").is_not_null()).group_by("bin").agg(
        pl.col("count").sum(), pl.col("lo").min(), pl.col("hi").max(), pl.col("sum").sum(), pl.col("sq").sum()
    ).sort("bin")
    arr = {c: h[c].to_numpy().astype(np.float64) for c in COLUMNS[1:]}
    return HistogramSketch(h["bin"].to_numpy().astype(np.int64), arr["count"], arr["lo"], arr["hi"], arr["sum"],
                           arr["sq"], n_rows, n_missing, n_infinite)


def from_values(values: np.ndarray) -> HistogramSketch:
    """The sketch of an in-memory array (the reference the engines' group-bys must equal)."""
    x = np.asarray(values, dtype=np.float64)
    finite = x[np.isfinite(x)]
    frame = pl.DataFrame({"x": finite}).group_by(bin_expr("x").alias("bin")).agg(histogram_aggs("x"))
    return from_frame(frame, n_rows=int(x.size), n_missing=int(np.isnan(x).sum()), n_infinite=int(np.isinf(x).sum()))


def _aligned(a: HistogramSketch, b: HistogramSketch):
    """Both sketches on the union of their bins: counts, and the range of the values in each bin (both windows)."""
    bins = np.union1d(a.bins, b.bins)
    out = []
    for s in (a, b):
        idx = np.searchsorted(bins, s.bins)
        count = np.zeros(bins.size)
        count[idx] = s.count
        lo = np.full(bins.size, np.inf)
        hi = np.full(bins.size, -np.inf)
        lo[idx], hi[idx] = s.lo, s.hi
        out.append((count, lo, hi))
    return bins, out


def ks_bounds(a: HistogramSketch, b: HistogramSketch) -> tuple[float, float] | None:
    """(lower, upper) bounds of the exact two-sample KS statistic (see the module docstring)."""
    if not a.n or not b.n:
        return None
    _, ((ca, lo_a, hi_a), (cb, lo_b, hi_b)) = _aligned(a, b)
    fa, fb = np.cumsum(ca) / ca.sum(), np.cumsum(cb) / cb.sum()
    fa0, fb0 = np.concatenate(([0.0], fa[:-1])), np.concatenate(([0.0], fb[:-1]))
    lower = float(np.max(np.abs(fa - fb)))
    # inside a bin, one window with no values or a single value is a step the other can be read against exactly;
    # only bins where both windows hold several distinct values leave the gap open
    single_a, single_b = (ca == 0) | (lo_a == hi_a), (cb == 0) | (lo_b == hi_b)
    both_single = single_a & single_b
    # exact inside a bin of two single values (or one empty window): the gaps before, between and after the steps
    first_a = lo_a <= lo_b  # whose step comes first (an empty window never steps)
    between = np.where(ca == 0, np.abs(fa0 - fb), np.where(cb == 0, np.abs(fa - fb0),
                       np.where(lo_a == lo_b, np.abs(fa - fb), np.where(first_a, np.abs(fa - fb0), np.abs(fa0 - fb)))))
    exact_inside = np.maximum(np.abs(fa0 - fb0), np.maximum(between, np.abs(fa - fb)))
    open_gap = np.maximum(np.abs(fa0 - fb0), np.maximum(np.maximum(fa - fb0, fb - fa0), np.abs(fa - fb)))
    inside = np.where(both_single, exact_inside, open_gap)
    lower = max(lower, float(np.max(np.where(both_single, exact_inside, 0.0))))
    return lower, max(lower, float(np.max(inside)))


def wasserstein_estimate(a: HistogramSketch, b: HistogramSketch) -> tuple[float, float] | None:
    """(estimate, error bound) of the Wasserstein-1 distance: each bin's values at their mean."""
    if not a.n or not b.n:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        w = st.weighted_wasserstein(a.sum / a.count, a.count, b.sum / b.count, b.count)
        err = float(np.dot(a.count, a.hi - a.lo) / a.n + np.dot(b.count, b.hi - b.lo) / b.n)
    return (w or 0.0), err


def psi_estimate(a: HistogramSketch, b: HistogramSketch, *, bins: int = st.DEFAULT_PSI_BINS,
                 epsilon: float = st.PSI_EPSILON) -> tuple[float, float, float] | None:
    """(estimate, lower, upper) of the PSI with bins at the baseline's deciles (see the module docstring)."""
    if not a.n or not b.n:
        return None
    keys, ((ca, lo_a, hi_a), (cb, _, _)) = _aligned(a, b)
    n, m = ca.sum(), cb.sum()
    cum = np.cumsum(ca)
    pos = np.floor(np.arange(1, bins) / bins * (n - 1))
    # the bins holding the ranks either side of each decile: the exact edge lies between their values
    k_lo = np.searchsorted(cum, pos, side="right")
    k_hi = np.minimum(np.searchsorted(cum, pos + 1, side="right"), keys.size - 1)
    cuts, which = np.unique(k_lo, return_inverse=True)
    # the estimate: edges at the upper boundary of each decile's bin, where both windows' counts are exact
    ccum_a, ccum_b = np.concatenate(([0.0], np.cumsum(ca))), np.concatenate(([0.0], np.cumsum(cb)))
    at = np.concatenate(([0], cuts + 1, [keys.size]))
    pa, pb = np.diff(ccum_a[at]) / n, np.diff(ccum_b[at]) / m
    # how far the exact edges can move each share: the baseline's whole edge bin when the decile falls inside a
    # bin of several values (else its counts are exact), the current window's bins from the decile's first to
    # its last bin
    open_a = (k_lo == k_hi) & (lo_a[k_lo] != hi_a[k_lo])
    slack_a = np.zeros(cuts.size)
    np.maximum.at(slack_a, which, np.where(open_a, ca[k_lo] / n, 0.0))
    first = np.full(cuts.size, keys.size)
    last = np.zeros(cuts.size, dtype=np.int64)
    np.minimum.at(first, which, k_lo)
    np.maximum.at(last, which, k_hi)
    slack_b = (ccum_b[last + 1] - ccum_b[first]) / m
    da = np.concatenate((slack_a, [0.0])) + np.concatenate(([0.0], slack_a))
    db = np.concatenate((slack_b, [0.0])) + np.concatenate(([0.0], slack_b))
    estimate = st.psi_from_counts(pa, pb, epsilon=epsilon)
    low, high = _term_range(pa, da, pb, db, epsilon)
    # deciles sharing one bin may be distinct exact edges: each extra exact bin lies inside the slack
    extra_bins = np.bincount(which, minlength=cuts.size) - 1
    extra = sum(int(e) * _term_range(np.zeros(1), np.array([sa]), np.zeros(1), np.array([sb]), epsilon)[1]
                for e, sa, sb in zip(extra_bins, slack_a, slack_b) if e > 0)
    return float(estimate), float(low), float(high + extra)


def _term_range(p: np.ndarray, dp: np.ndarray, q: np.ndarray, dq: np.ndarray, eps: float) -> tuple[float, float]:
    """The smallest and largest sum of PSI terms over shares p +- dp, q +- dq (clipped to [0, 1])."""
    p0, p1 = np.clip(p - dp, 0, 1), np.clip(p + dp, 0, 1)
    q0, q1 = np.clip(q - dq, 0, 1), np.clip(q + dq, 0, 1)

    def f(pp, qq):
        pp, qq = np.maximum(pp, eps), np.maximum(qq, eps)
        return (qq - pp) * np.log(qq / pp)

    corners = np.stack([f(p0, q0), f(p0, q1), f(p1, q0), f(p1, q1)])
    crosses = (p0 <= q1) & (q0 <= p1)
    return float(np.where(crosses, 0.0, corners.min(axis=0)).sum()), float(corners.max(axis=0).sum())


def out_of_range_share(baseline: HistogramSketch, current: HistogramSketch) -> float | None:
    """The current window's share outside the baseline's range, counting only its bins wholly outside (a lower
    bound: values in the bins at the baseline's ends are counted inside) plus its infinite values."""
    denom = current.n + current.n_infinite
    if not baseline.n or not denom:
        return None
    a_min, a_max = float(baseline.lo.min()), float(baseline.hi.max())
    outside = float(current.count[(current.hi < a_min) | (current.lo > a_max)].sum())
    return (outside + current.n_infinite) / denom


def quantiles(s: HistogramSketch, probs: np.ndarray) -> np.ndarray:
    """numpy's 'linear' quantiles read off a sketch: exact where the two ranks either side of a quantile fall in
    different bins (their values are a bin's largest and the next bin's smallest) or in a bin of one value;
    otherwise the bin's largest value, within ``2 ALPHA |x|`` of the exact quantile."""
    probs = np.asarray(probs, dtype=np.float64)
    if not s.n:
        return np.full(probs.shape, np.nan)
    cum = np.cumsum(s.count)
    pos = probs * (s.n - 1)
    f = np.floor(pos)
    k_lo = np.minimum(np.searchsorted(cum, f, side="right"), s.bins.size - 1)
    k_hi = np.minimum(np.searchsorted(cum, np.minimum(f + 1, s.n - 1), side="right"), s.bins.size - 1)
    a = np.where(k_lo == k_hi, s.hi[k_lo], s.hi[k_lo])
    b = np.where(k_lo == k_hi, s.hi[k_hi], s.lo[k_hi])
    return a + (b - a) * (pos - f)
