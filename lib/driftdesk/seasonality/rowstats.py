"""Statistics along the rows of a matrix, one row per series: the detector scores many series at once, so every
median, spread and threshold here is vectorised over rows (NaN = missing)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy import special

MAD_SCALE = 1.482602218505602  # 1 / Phi^-1(3/4): MAD of a normal sample -> its standard deviation
_LARGEST = np.finfo(np.float64).max


def finite_or_zero(x: np.ndarray) -> np.ndarray:
    """``np.nan_to_num`` of a float array (NaN -> 0, +-inf -> +-largest float), without its per-call overhead:
    the causal scan calls it several times per step."""
    return np.minimum(np.maximum(np.where(np.isnan(x), 0.0, x), -_LARGEST), _LARGEST)


def rows_times(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``rows @ matrix.T`` (m x k from m x n and k x n), each row by itself: one matrix-vector product per row.
    A matrix product's rounding depends on how many rows it multiplies (BLAS picks its kernels and blocks by
    shape), so a series scored beside others would move in its last digits; row by row it is the same bits
    alone or in any batch."""
    return np.matmul(rows[:, None, :], matrix.T)[:, 0, :]


def fill_rows(window: np.ndarray) -> np.ndarray:
    """NaN in each row replaced by the previous value (then the next one for a leading gap); a row without any
    value stays empty."""
    out = window.copy()
    mask = np.isnan(out)
    if not mask.any():
        return out
    gaps = np.flatnonzero(mask.any(axis=1) & ~mask.all(axis=1))  # rows with a gap and a value to fill it from
    if gaps.size:
        out[gaps] = _filled(out[gaps], mask[gaps])
    return out


def _filled(out: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m, n = out.shape
    idx = np.where(~mask, np.arange(n), 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    out = out[np.arange(m)[:, None], idx]
    mask = np.isnan(out)
    if mask.any():
        rev = out[:, ::-1]
        rmask = np.isnan(rev)
        ridx = np.where(~rmask, np.arange(n), 0)
        np.maximum.accumulate(ridx, axis=1, out=ridx)
        rev = rev[np.arange(m)[:, None], ridx]
        out = rev[:, ::-1]
    return out


def nanmedian_rows(a: np.ndarray) -> np.ndarray:
    """Median of the finite values of each row (NaN for a row without any); sorts once, no masked arrays."""
    m, n = a.shape
    if n == 0:
        return np.full(m, np.nan)
    srt = np.sort(np.where(np.isfinite(a), a, np.nan), axis=1)  # NaN sort last
    k = np.isfinite(srt).sum(axis=1)
    rows = np.arange(m)
    # the middle one or two of the k finite values (a row without any reads its first place, NaN)
    return 0.5 * (srt[rows, np.maximum(k - 1, 0) // 2] + srt[rows, k // 2])


def median_1d(x: np.ndarray) -> float:
    """``np.median`` of a non-empty array of finite values, the same number (the middle value, or the mean of the
    middle two), without its generic layer: the scan and the variance test ask for many small ones."""
    h = x.size // 2
    if x.size % 2:
        return float(np.partition(x, h)[h])
    p = np.partition(x, (h - 1, h))
    return float((p[h - 1] + p[h]) / 2.0)


def _stacked(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """The rows of several arrays in one, NaN past each array's own width, and where each array's rows end."""
    width = max(a.shape[1] for a in arrays)
    ends = list(itertools.accumulate(a.shape[0] for a in arrays))
    out = np.full((ends[-1], width), np.nan)
    for a, end in zip(arrays, ends):
        out[end - a.shape[0]:end, :a.shape[1]] = a
    return out, ends[:-1]


def nanmedian_rows_of(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``nanmedian_rows`` of each array, in one sort: the refit asks for several per block, and each call costs
    more in overhead than in sorting. The rows are padded with NaN, which a row's median leaves out: the same
    numbers as one call per array."""
    if len(arrays) <= 1:
        return [nanmedian_rows(a) for a in arrays]
    stacked, ends = _stacked(arrays)
    medians = nanmedian_rows(stacked)
    return [medians[a:b] for a, b in zip([0, *ends], [*ends, len(medians)])]  # np.split's pieces


def mad_rows(a: np.ndarray) -> np.ndarray:
    """Robust standard deviation of each row: 1.4826 x the median absolute deviation of its finite values."""
    med = nanmedian_rows(a)
    return MAD_SCALE * nanmedian_rows(np.abs(a - med[:, None]))


def mad_rows_of(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``mad_rows`` of each array, in two sorts (``nanmedian_rows_of``): the same numbers."""
    meds = nanmedian_rows_of(arrays)
    return [MAD_SCALE * d for d in nanmedian_rows_of([np.abs(a - med[:, None]) for a, med in zip(arrays, meds)])]


def medians_and_spreads(medians: Sequence[np.ndarray],
                        spreads: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``nanmedian_rows`` of each of ``medians`` and ``mad_rows`` of each of ``spreads``, in two sorts for all of
    them (``nanmedian_rows_of``): the same numbers as one call each."""
    meds = nanmedian_rows_of([*medians, *spreads])
    deviations = nanmedian_rows_of([np.abs(a - med[:, None]) for a, med in zip(spreads, meds[len(medians):])])
    return meds[:len(medians)], [MAD_SCALE * d for d in deviations]


def block_means(a: np.ndarray, block: int) -> np.ndarray | None:
    """Per row, the means of the whole blocks of ``block`` values that end the row (NaN for a block with fewer
    than half its values); None for fewer than three blocks, or blocks shorter than 2."""
    m, n = a.shape
    nb = n // block
    if nb < 3 or block < 2:
        return None
    blocks = a[:, n - nb * block:].reshape(m, nb, block)
    cnt = np.isfinite(blocks).sum(axis=2)
    held = np.where(cnt[..., None] > 0, blocks, 0.0)
    gap = np.isnan(held)  # np.nanmean's sum and count, without its per-call overhead (the scan asks every refit)
    return np.where(cnt >= block // 2, np.where(gap, 0.0, held).sum(axis=2) / (~gap).sum(axis=2), np.nan)


def variance_inflation(block: int, sd_mean: np.ndarray, sd_one: np.ndarray) -> np.ndarray:
    """block x (spread of block means / spread of single values)^2: 1 when the values are independent."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return block * (sd_mean / sd_one) ** 2


def vif_rows(a: np.ndarray, block: int, *, standardised: bool = False) -> np.ndarray:
    """block x (robust variance of block means) / (robust variance of single values), per row: how much a
    block mean varies beyond independent values (1 when they are independent, and with fewer than three
    blocks). ``standardised``: the values' spread is 1."""
    means = block_means(a, block)
    if means is None:
        return np.ones(a.shape[0])
    if standardised:
        return variance_inflation(block, mad_rows(means), np.ones(a.shape[0]))
    return variance_inflation(block, *mad_rows_of([means, a]))


def running_sums(resid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the sum and the number of the finite values before each position (m x n+1): any stretch's mean in
    two look-ups. ``window_mean_sd`` of several window lengths over the same residuals shares them."""
    m, n = resid.shape
    ok = np.isfinite(resid)
    c, k = np.zeros((m, n + 1)), np.zeros((m, n + 1))
    np.cumsum(np.where(ok, resid, 0.0), axis=1, out=c[:, 1:])
    np.cumsum(ok, axis=1, out=k[:, 1:])
    return c, k


def window_mean_sd(resid: np.ndarray, w: int, min_windows: int,
                   sums: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the spread (root mean square) of the means of w consecutive residuals, over every w-step stretch
    with at least 3/4 of its points (NaN with fewer than ``min_windows`` stretches), and the number of stretches.
    ``sums``: ``running_sums(resid)``, when the caller has them.

    Measured directly, it carries whatever makes neighbouring residuals move together (a day-level factor, a
    seasonal misfit, the error of the level) without a model of that correlation. The root mean square, not a
    median: a robust scale of a few dozen correlated means is too noisy for a threshold far in the tail."""
    m, n = resid.shape
    if n < w:
        return np.full(m, np.nan), np.zeros(m, dtype=np.int64)
    c, k = running_sums(resid) if sums is None else sums
    cnt = k[:, w:] - k[:, :-w]
    full = cnt >= 0.75 * w
    nwin = full.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(full, (c[:, w:] - c[:, :-w]) / cnt, 0.0)
        sd = np.sqrt((means ** 2).sum(axis=1) / nwin)
    return np.where(nwin >= min_windows, sd, np.nan), nwin


def t_threshold(z: float, df: np.ndarray) -> np.ndarray:
    """The threshold for a mean divided by a spread estimated with ``df`` degrees of freedom that is as rare as
    ``z`` standard deviations of a normal: Student's t quantile at the normal tail probability of ``z``. A spread
    measured on a week of day means misses by a third now and then; a fixed threshold either fires on such a
    week or waits too long once months of residuals have pinned the spread down. (``scipy.stats``' ``t.isf`` and
    ``norm.sf`` compute these same functions, bit for bit, behind a generic layer that costs more than they do:
    the causal scan asks at every refit.)"""
    df = np.asarray(df, dtype=float)
    if df.size > 64 or not np.isfinite(df).all():
        return _t_threshold_of(z, df)
    # the scan's few series: the same degrees of freedom come back refit after refit (and metric after metric)
    known = _T_THRESHOLDS.setdefault(z, {})
    values = df.ravel().tolist()
    out = [known.get(d) for d in values]
    if None in out:
        missing = sorted({d for d, o in zip(values, out) if o is None})
        got = dict(zip(missing, _t_threshold_of(z, np.array(missing)).tolist()))
        if len(known) > 100_000:
            known.clear()
        known.update(got)
        out = [got[d] if o is None else o for d, o in zip(values, out)]
    return np.array(out).reshape(df.shape)


_T_THRESHOLDS: dict[float, dict[float, float]] = {}  # z -> degrees of freedom -> threshold


def _t_threshold_of(z: float, df: np.ndarray) -> np.ndarray:
    out = np.full(df.shape, np.inf)
    ok = df >= 1
    out[ok] = -special.stdtrit(df[ok], special.ndtr(-z))
    return out


def date_change(d: np.ndarray, ok: np.ndarray, first: int, direction: int) -> int:
    """Where a shift in ``direction`` most likely began, at or after ``first``: the split of the valid values of
    ``d`` that maximises the two-sample statistic (mean after - mean before) x sqrt(n_before n_after / n), the
    least-squares estimate of a single change point. Values before ``first`` only serve as the 'before' side."""
    v = np.where(ok, d, 0.0)
    c = np.concatenate([[0.0], np.cumsum(v)])
    k = np.concatenate([[0], np.cumsum(ok)])
    total, count = c[-1], k[-1]
    splits = np.arange(max(first, 0), len(d))
    nb, na = k[splits], count - k[splits]
    valid = (nb >= 2) & (na >= 2)
    if not valid.any():
        return int(max(first, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = (total - c[splits]) / na - c[splits] / nb
        stat = np.where(valid, direction * gap * np.sqrt(nb * na / count), -np.inf)
    return int(splits[int(np.argmax(stat))])
