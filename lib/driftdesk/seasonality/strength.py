"""How much of a series the seasonal pattern explains, so a verdict does not call noise seasonal.

The model fits its periods to any series; the verdict should say "seasonal pattern" only where the data repeats.
The measure is classical: detrend by a centred moving average of the longest period (as statsmodels'
``seasonal_decompose``), then the adjusted R^2 of the detrended values on their position in that period (one mean
per position, as a regression on position dummies). A daily pattern repeats within the week, so the longest
period's positions carry the shorter ones too. Adjusted, the measure is about 0 for noise whatever the number of
cycles (two weeks of hourly data have 2 values per weekly position); it is 1 for a pure cycle.
"""

from __future__ import annotations

import numpy as np

# a verdict names its periods as a pattern when they explain at least this share of the detrended variance
MIN_STRENGTH = 0.1


def centred_moving_average(values: np.ndarray, period: int) -> np.ndarray:
    """Per row (series x steps): the centred moving average over one period (2 x period for an even period, as
    ``seasonal_decompose``); NaN at the ends and wherever the window holds a missing value."""
    x = np.atleast_2d(np.asarray(values, dtype=float))
    m, n = x.shape
    out = np.full((m, n), np.nan)
    if period < 1 or n < period + (period % 2 == 0):
        return out
    missing = ~np.isfinite(x)
    zero = np.zeros((m, 1))
    csum = np.concatenate([zero, np.cumsum(np.where(missing, 0.0, x), axis=1)], axis=1)
    cmiss = np.concatenate([zero, np.cumsum(missing, axis=1)], axis=1)
    window = (csum[:, period:] - csum[:, :-period]) / period  # mean of x[t : t + period], t = 0 .. n - period
    holes = cmiss[:, period:] - cmiss[:, :-period]
    window = np.where(holes > 0, np.nan, window)
    half = period // 2
    if period % 2:
        out[:, half:n - half] = window
    else:  # the 2 x period average: half weight on both ends
        out[:, half:n - half] = (window[:, :-1] + window[:, 1:]) / 2
    return out


def seasonal_strength(values: np.ndarray, period: int, *, exclude: np.ndarray | None = None) -> np.ndarray:
    """Per row: the adjusted R^2 of the detrended values on their position in ``period`` (clipped at 0), NaN
    where fewer than two cycles of detrended values are known. ``exclude`` (same shape): steps left out, such as
    calendar days."""
    x = np.atleast_2d(np.asarray(values, dtype=float))
    m, n = x.shape
    out = np.full(m, np.nan)
    if period < 2:
        return out
    detrended = x - centred_moving_average(x, period)
    ok = np.isfinite(detrended)
    if exclude is not None:
        ok &= ~np.atleast_2d(exclude)
    slot = np.arange(n) % period
    for i in range(m):  # one pass per series (a handful), each vectorised over its steps
        d, s = detrended[i, ok[i]], slot[ok[i]]
        count = np.bincount(s, minlength=period)
        groups = int((count > 0).sum())
        if d.size < 2 * period or d.size - groups < 1:
            continue
        means = np.bincount(s, weights=d, minlength=period) / np.maximum(count, 1)
        within = float(((d - means[s]) ** 2).sum())
        total = float(((d - d.mean()) ** 2).sum())
        if total <= 0:
            continue
        adjusted = 1 - (within / (d.size - groups)) / (total / (d.size - 1))
        out[i] = max(0.0, adjusted)
    return out
