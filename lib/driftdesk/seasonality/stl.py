"""STL and MSTL: the only module that imports statsmodels' STL.

Two ways to decompose:

* ``stl_direct``: statsmodels' own STL / MSTL on one series (robust if asked).
* ``mstl_apply`` and ``operator_for`` + ``apply_operator``: non-robust STL is linear in the series. Every smoother
  in it (the loess of each cycle-subseries, the low-pass filter's moving averages and loess, the trend loess,
  with STL's jump parameters interpolating between loess fits) is a fixed sparse matrix that depends only on the
  positions, built here from the same formulas as statsmodels' code (``statsmodels/tsa/stl/_stl.pyx``:
  ``_est``, ``_ess``, ``_ss``, ``_fts``). ``mstl_apply`` runs STL's inner loop and MSTL's iterations on a whole
  matrix of series at once (one column per series); run on the identity it gives the decomposition as an
  operator (n x n), of which the causal scan needs only a few rows. Equal to statsmodels to about 1e-12
  (tests/lib/seasonality/test_stl.py).

Everything runs in the calling thread: no worker processes are started, so nothing can outlive the call. An
operator for a 4-week hourly window takes a fraction of a second, so operators are kept in memory only (a bounded
cache); one build per key at a time, shared by every thread that asks for it (the app's sessions).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse
from statsmodels.tsa.seasonal import MSTL, STL

CACHE_SIZE = 12  # operators kept in memory (a 4-week hourly window's is 10 MB)
_CACHE: OrderedDict[tuple, StlOperator] = OrderedDict()
_LOCK = threading.Lock()
_KEY_LOCKS: dict[tuple, threading.Lock] = {}
INNER_ITER = 5  # statsmodels' inner iterations of a non-robust fit


def _odd(x: float) -> int:
    v = int(math.ceil(x))
    return v if v % 2 else v + 1


@dataclass(frozen=True)
class StlSpec:
    """The parameters of one STL fit (statsmodels' names). Windows are odd; jumps interpolate loess fits."""

    period: int
    seasonal: int
    trend: int
    low_pass: int
    seasonal_jump: int = 1
    trend_jump: int = 1
    low_pass_jump: int = 1
    seasonal_deg: int = 1

    @classmethod
    def default(cls, period: int, seasonal: int, *, jump: bool = True, seasonal_deg: int = 1) -> StlSpec:
        """statsmodels' default trend and low-pass windows; jumps of about a tenth of a window (R's default)."""
        trend = _odd(1.5 * period / (1 - 1.5 / seasonal))
        low_pass = _odd(period + 1)
        if not jump:
            return cls(period, seasonal, trend, low_pass, seasonal_deg=seasonal_deg)
        return cls(period, seasonal, trend, low_pass, math.ceil(seasonal / 10), math.ceil(trend / 10),
                   math.ceil(low_pass / 10), seasonal_deg)

    def kwargs(self) -> dict:
        return {"period": self.period, "seasonal": self.seasonal, "trend": self.trend, "low_pass": self.low_pass,
                "seasonal_jump": self.seasonal_jump, "trend_jump": self.trend_jump,
                "low_pass_jump": self.low_pass_jump, "seasonal_deg": self.seasonal_deg}


def default_specs(periods: Sequence[int], *, jump: bool = True, seasonal_deg: int = 1) -> tuple[StlSpec, ...]:
    """One spec per period, shortest first, with MSTL's default seasonal windows 11, 15, 19, ..."""
    ordered = sorted(int(p) for p in periods)
    return tuple(StlSpec.default(p, 7 + 4 * (i + 1), jump=jump, seasonal_deg=seasonal_deg)
                 for i, p in enumerate(ordered))


@dataclass(frozen=True)
class StlOperator:
    """Decomposition of any length-n series y: trend = T @ y, seasonal_i = S[i] @ y, resid = y - trend - sum(S)."""

    n: int
    specs: tuple[StlSpec, ...]
    trend: np.ndarray  # (n, n)
    seasonals: tuple[np.ndarray, ...]  # each (n, n)


# --------------------------------------------------------------------------- the smoothers as sparse matrices


def _est_weights(n: int, span: int, deg: int, xs: int, nleft: int, nright: int) -> np.ndarray | None:
    """The loess fit at position ``xs`` (1-based) from the points nleft..nright: its weights on those points
    (statsmodels' ``_est`` without robustness weights); None where no point has weight (the fit is the value)."""
    h = float(max(xs - nleft, nright - xs))
    if span > n:
        h += (span - n) // 2
    j = np.arange(nleft, nright + 1, dtype=float)  # 1-based positions
    r = np.abs(j - xs)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(r <= 0.999 * h, np.where(r <= 0.001 * h, 1.0, (1.0 - (r / h) ** 3) ** 3), 0.0)
    a = w.sum()
    if a <= 0:
        return None
    w = w / a
    if h > 0 and deg > 0:
        centre = float((w * j).sum())
        c = float((w * (j - centre) ** 2).sum())
        if math.sqrt(c) > 0.001 * (n - 1.0):
            w = w * ((xs - centre) / c * (j - centre) + 1.0)
    return w


class _Rows:
    """Rows of a sparse matrix, collected one smoothing weight vector at a time."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []

    def add(self, row: int, first_col: int, weights: np.ndarray) -> None:
        self.r.append(np.full(len(weights), row))
        self.c.append(np.arange(first_col, first_col + len(weights)))
        self.v.append(weights)

    def matrix(self, shape: tuple[int, int]) -> sparse.csr_matrix:
        if not self.r:
            return sparse.csr_matrix(shape)
        return sparse.csr_matrix((np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
                                 shape=shape)


def _fit(rows: _Rows, row: int, n: int, span: int, deg: int, xs: int, nleft: int, nright: int,
         col0: int = 0) -> None:
    w = _est_weights(n, span, deg, xs, nleft, nright)
    if w is None:  # statsmodels keeps the value itself there
        rows.add(row, col0 + xs - 1, np.ones(1))
    else:
        rows.add(row, col0 + nleft - 1, w)


@lru_cache(maxsize=256)
def _ess(n: int, span: int, deg: int, jump: int) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """statsmodels' ``_ess`` (loess at every ``jump``-th point, linear interpolation between) as two sparse
    matrices: the fits (k x n, one row per fitted point) and the interpolation (n x k)."""
    if n < 2:
        return sparse.identity(n, format="csr"), sparse.identity(n, format="csr")
    nj = min(jump, n - 1)
    fits = _Rows()
    at: list[int] = []  # 0-based positions with a loess fit, in the order of the rows of ``fits``
    nleft = nright = 0
    if span >= n:
        nleft, nright = 1, n
        positions = range(0, n, nj)
        for i in positions:
            _fit(fits, len(at), n, span, deg, i + 1, nleft, nright)
            at.append(i)
    elif nj == 1:
        nsh = (span + 2) // 2
        nleft, nright = 1, span
        for i in range(n):
            if i + 1 > nsh and nright != n:
                nleft, nright = nleft + 1, nright + 1
            _fit(fits, len(at), n, span, deg, i + 1, nleft, nright)
            at.append(i)
    else:
        nsh = (span + 1) // 2
        for i in range(0, n, nj):
            if i + 1 < nsh:
                nleft, nright = 1, span
            elif i + 1 >= n - nsh + 1:
                nleft, nright = n - span + 1, n
            else:
                nleft, nright = i + 1 - nsh + 1, span + i + 1 - nsh
            _fit(fits, len(at), n, span, deg, i + 1, nleft, nright)
            at.append(i)
    if nj == 1:
        return fits.matrix((len(at), n)), sparse.identity(n, format="csr")
    k_last = ((n - 1) // nj) * nj + 1  # 1-based: the last fitted point of the regular grid
    if k_last != n:
        _fit(fits, len(at), n, span, deg, n, nleft, nright)
        at.append(n - 1)
    index = {pos: r for r, pos in enumerate(at)}
    interp = _Rows()
    for j in range(n):
        if j in index:
            interp.add(j, index[j], np.ones(1))
            continue
        if j < k_last - 1:
            lo = (j // nj) * nj
            hi, width = lo + nj, nj
        else:
            lo, hi = k_last - 1, n - 1
            width = n - k_last
        f = (j - lo) / width
        interp.r.append(np.array([j, j]))
        interp.c.append(np.array([index[lo], index[hi]]))
        interp.v.append(np.array([1.0 - f, f]))
    return fits.matrix((len(at), n)), interp.matrix((n, len(at)))


def _smooth(x: np.ndarray, n: int, span: int, deg: int, jump: int) -> np.ndarray:
    fits, interp = _ess(n, span, deg, jump)
    return interp @ (fits @ x)


@lru_cache(maxsize=64)
def _cycle_subseries(n: int, spec: StlSpec) -> sparse.csr_matrix:
    """statsmodels' ``_ss``: each cycle-subseries smoothed and extended by one cycle at both ends, as one
    (n + 2 period) x n matrix."""
    p, ns, deg = spec.period, spec.seasonal, spec.seasonal_deg
    rows = _Rows()
    for j in range(p):
        k = (n - (j + 1)) // p + 1
        cols = j + p * np.arange(k)
        fits, interp = _ess(k, ns, deg, spec.seasonal_jump)
        inner = (interp @ fits).tocoo()
        rows.r.append((inner.row + 1) * p + j)
        rows.c.append(cols[inner.col])
        rows.v.append(inner.data)
        for out, xs, nleft, nright, fallback in ((0, 0, 1, min(ns, k), 0), (k + 1, k + 1, max(1, k - ns + 1), k, k - 1)):
            w = _est_weights(k, ns, deg, xs, nleft, nright)
            if w is None:  # statsmodels copies the neighbouring smoothed value
                neighbour = (interp @ fits)[fallback].tocoo()
                rows.r.append(np.full(neighbour.nnz, out * p + j))
                rows.c.append(cols[neighbour.col])
                rows.v.append(neighbour.data)
            else:
                rows.r.append(np.full(len(w), out * p + j))
                rows.c.append(cols[nleft - 1:nright])
                rows.v.append(w)
    return rows.matrix((n + 2 * p, n))


def _moving_average(x: np.ndarray, length: int) -> np.ndarray:
    c = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    return (c[length:] - c[:-length]) / length


def stl_apply(x: np.ndarray, spec: StlSpec) -> tuple[np.ndarray, np.ndarray]:
    """Non-robust STL of every column of ``x`` (n x m): (trend, seasonal), each n x m; statsmodels' inner loop."""
    n, p = x.shape[0], spec.period
    ss = _cycle_subseries(n, spec)
    trend = np.zeros_like(x)
    seasonal = trend
    for _ in range(INNER_ITER):
        cyc = ss @ (x - trend)
        low = _moving_average(_moving_average(_moving_average(cyc, p), p), 3)
        low = _smooth(low, n, spec.low_pass, 1, spec.low_pass_jump)
        seasonal = cyc[p:p + n] - low
        trend = _smooth(x - seasonal, n, spec.trend, 1, spec.trend_jump)
    return trend, seasonal


def mstl_apply(x: np.ndarray, specs: Sequence[StlSpec], *, iterate: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """MSTL's loop (statsmodels.tsa.stl.mstl.MSTL.fit) over the columns of ``x`` (n x m): trend (n x m) and the
    seasonals (k x n x m), shortest period first."""
    specs = tuple(specs)
    x = np.asarray(x, dtype=float)
    seasonal = np.zeros((len(specs), *x.shape))
    deseas, trend = x.copy(), np.zeros_like(x)
    for _ in range(1 if len(specs) == 1 else iterate):
        for i, spec in enumerate(specs):
            deseas = deseas + seasonal[i]
            trend, seasonal[i] = stl_apply(deseas, spec)
            deseas = deseas - seasonal[i]
    return trend, seasonal


def decompose_rows(values: np.ndarray, specs: Sequence[StlSpec], *, iterate: int = 2):
    """Non-robust MSTL of the rows of ``values`` (m x n, no NaN): trend (m x n), seasonals (k x m x n), resid."""
    y = np.atleast_2d(np.asarray(values, dtype=float))
    trend, seasonal = mstl_apply(y.T, specs, iterate=iterate)
    trend, seasonal = trend.T, np.transpose(seasonal, (0, 2, 1))
    return trend, seasonal, y - trend - seasonal.sum(axis=0)


# --------------------------------------------------------------------------- operators


def operator_for(n: int, specs: Sequence[StlSpec], *, iterate: int = 2) -> StlOperator:
    """The linear MSTL operator for series of length n (cached in memory). Threads asking for the same operator
    while it is being built wait for that one build."""
    specs = tuple(specs)
    key = (n, specs, iterate)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        with _LOCK:
            if key in _CACHE:
                return _CACHE[key]
        trend, seasonal = mstl_apply(np.eye(n), specs, iterate=iterate)
        op = StlOperator(n, specs, trend, tuple(seasonal))
        with _LOCK:
            _CACHE[key] = op
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
            _KEY_LOCKS.pop(key, None)
    return op


def apply_operator(op: StlOperator, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decompose the rows of ``values`` (m x n, no NaN): trend (m x n), seasonals (k x m x n), resid (m x n)."""
    y = np.atleast_2d(np.asarray(values, dtype=float))
    trend = y @ op.trend.T
    seasonals = np.stack([y @ s.T for s in op.seasonals]) if op.seasonals else np.zeros((0, *y.shape))
    resid = y - trend - seasonals.sum(axis=0)
    return trend, seasonals, resid


def stl_direct(values: np.ndarray, specs: Sequence[StlSpec], *, robust: bool = False,
               iterate: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """statsmodels' own STL (one period) or MSTL (several) on one series: trend, seasonals (k x n), resid."""
    y = np.asarray(values, dtype=float)
    specs = tuple(specs)
    if len(specs) == 1:
        res = STL(y, robust=robust, **specs[0].kwargs()).fit()
        return np.asarray(res.trend), np.asarray(res.seasonal)[None, :], np.asarray(res.resid)
    common = specs[0]
    if any((s.seasonal_jump, s.trend_jump, s.low_pass_jump, s.seasonal_deg)
           != (common.seasonal_jump, common.trend_jump, common.low_pass_jump, common.seasonal_deg) for s in specs):
        # MSTL shares one set of STL keyword arguments across periods; run its loop with per-period STL fits.
        return _mstl_loop(y, specs, robust=robust, iterate=iterate)
    res = MSTL(y, periods=[s.period for s in specs], windows=[s.seasonal for s in specs], iterate=iterate,
               stl_kwargs={"robust": robust, "seasonal_jump": common.seasonal_jump,
                           "trend_jump": common.trend_jump, "low_pass_jump": common.low_pass_jump,
                           "seasonal_deg": common.seasonal_deg}).fit()
    return np.asarray(res.trend), np.asarray(res.seasonal).T, np.asarray(res.resid)


def _mstl_loop(y: np.ndarray, specs: tuple[StlSpec, ...], *, robust: bool, iterate: int):
    n, k = len(y), len(specs)
    seasonal = np.zeros((k, n))
    deseas = y.copy()
    res = None
    for _ in range(iterate if k > 1 else 1):
        for i, spec in enumerate(specs):
            deseas = deseas + seasonal[i]
            res = STL(deseas, robust=robust, **spec.kwargs()).fit()
            seasonal[i] = res.seasonal
            deseas = deseas - seasonal[i]
    trend = np.asarray(res.trend)
    return trend, seasonal, deseas - trend
