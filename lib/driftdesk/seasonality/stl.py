"""STL and MSTL: the only module that imports statsmodels' STL.

Two ways to decompose:

* ``stl_direct``: statsmodels' own STL / MSTL on one series (robust if asked). Slow on long periods.
* ``operator_for`` + ``apply_operator``: non-robust STL is linear in the series, so for a given length and
  set of periods the whole decomposition is a matrix. We build it once from impulse responses (statsmodels
  fits of unit vectors, using STL's jump parameters to make each fit cheap), compose MSTL's iterations with
  matrix products, cache it (memory and disk) and apply it to any number of equal-length series with one
  matrix product. Equal to statsmodels to about 1e-12 (tests/lib/seasonality/test_stl.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from statsmodels.tsa.seasonal import MSTL, STL

log = logging.getLogger(__name__)

_CACHE: dict[tuple, StlOperator] = {}
_LOCK = threading.Lock()
OPERATOR_VERSION = 1


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


def _impulse_block(args: tuple[int, int, int, dict]) -> tuple[np.ndarray, np.ndarray]:
    """Responses of STL (trend, seasonal) to the unit vectors e_start..e_stop-1."""
    n, start, stop, kw = args
    trend = np.empty((n, stop - start))
    seasonal = np.empty((n, stop - start))
    e = np.zeros(n)
    for j in range(start, stop):
        e[j] = 1.0
        res = STL(e, **kw).fit()
        trend[:, j - start] = res.trend
        seasonal[:, j - start] = res.seasonal
        e[j] = 0.0
    return trend, seasonal


def _stl_matrices(n: int, spec: StlSpec, workers: int) -> tuple[np.ndarray, np.ndarray]:
    kw = spec.kwargs()
    if workers <= 1 or n < 400:
        return _impulse_block((n, 0, n, kw))
    edges = np.linspace(0, n, workers * 2 + 1).astype(int)
    blocks = [(n, int(a), int(b), kw) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    # spawn, not fork: the caller may hold polars / BLAS threads, and a forked child can deadlock on their locks
    with _main_hidden_from_workers(), ProcessPoolExecutor(max_workers=workers,
                                                          mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_impulse_block, blocks))
    return np.hstack([p[0] for p in parts]), np.hstack([p[1] for p in parts])


@contextlib.contextmanager
def _main_hidden_from_workers():
    """A spawned worker first re-runs the caller's main script, which in a script without an
    ``if __name__ == "__main__"`` guard calls this again (and redoes whatever came before it). The workers only
    need this module, so the script is hidden from them while they start (multiprocessing looks for it in
    ``__main__.__spec__`` and ``__main__.__file__``)."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    spec, has_file, file = getattr(main, "__spec__", None), hasattr(main, "__file__"), getattr(main, "__file__", None)
    try:
        main.__spec__ = None
        if has_file:
            del main.__file__
        yield
    finally:
        main.__spec__ = spec
        if has_file:
            main.__file__ = file


def _compose_mstl(n: int, mats: list[tuple[np.ndarray, np.ndarray]], iterate: int) -> tuple[np.ndarray, list]:
    """MSTL's loop (statsmodels.tsa.stl.mstl.MSTL.fit) with matrices in place of vectors."""
    k = len(mats)
    iterate = 1 if k == 1 else iterate
    seasonal = [np.zeros((n, n)) for _ in range(k)]
    deseas = np.eye(n)
    trend = np.zeros((n, n))
    for _ in range(iterate):
        for i, (t_op, s_op) in enumerate(mats):
            deseas = deseas + seasonal[i]
            seasonal[i] = s_op @ deseas
            trend = t_op @ deseas
            deseas = deseas - seasonal[i]
    return trend, seasonal


def _cache_dir() -> Path | None:
    root = os.environ.get("DRIFTDESK_STL_CACHE")
    if root == "off":
        return None
    path = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "driftdesk" / "stl"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path


def operator_cached(n: int, specs: Sequence[StlSpec], *, iterate: int = 2) -> bool:
    """Whether the operator is ready (in memory or on disk), so applying it costs no impulse fits."""
    specs = tuple(specs)
    key = (n, specs, iterate)
    if key in _CACHE:
        return True
    folder = _cache_dir()
    if folder is None:
        return False
    digest = hashlib.sha1(repr((OPERATOR_VERSION, key)).encode()).hexdigest()[:16]
    return (folder / f"op-{n}-{digest}.npz").exists()


def operator_for(n: int, specs: Sequence[StlSpec], *, iterate: int = 2, workers: int | None = None) -> StlOperator:
    """The (cached) linear MSTL operator for series of length n. Built from n impulse fits per period."""
    specs = tuple(specs)
    key = (n, specs, iterate)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    digest = hashlib.sha1(repr((OPERATOR_VERSION, key)).encode()).hexdigest()[:16]
    folder = _cache_dir()
    file = folder / f"op-{n}-{digest}.npz" if folder else None
    op = None
    if file is not None and file.exists():
        try:
            data = np.load(file)
            op = StlOperator(n, specs, data["trend"], tuple(data[f"s{i}"] for i in range(len(specs))))
        except (OSError, ValueError, KeyError):
            op = None
    if op is None:
        workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        where = f"then cached in {folder}" if folder else "not cached: DRIFTDESK_STL_CACHE=off"
        log.info("building the STL operator for %d-step windows (periods %s; %d fits, once, %s)", n,
                 ", ".join(str(sp.period) for sp in specs), n * len(specs), where)
        mats = [_stl_matrices(n, spec, workers) for spec in specs]
        trend, seasonal = _compose_mstl(n, mats, iterate)
        op = StlOperator(n, specs, trend, tuple(seasonal))
        if file is not None:
            tmp = file.with_suffix(f".{os.getpid()}.tmp.npz")
            try:
                np.savez(tmp, trend=trend, **{f"s{i}": s for i, s in enumerate(seasonal)})
                os.replace(tmp, file)
            except OSError:
                pass
    with _LOCK:
        _CACHE[key] = op
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
