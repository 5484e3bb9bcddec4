"""Changes in the spread of a series' noise, kept apart from level shifts and anomalies.

Causal, per series, on the model's forecast residuals r (working scale): the test reads successive differences
d_t = r_t - r_(t-1), which a level shift moves at one step only. Each |d| is compared with the upper quartile of
|d| over the ``variance_ref_days`` before the current day (before the CUSUM last left zero: a change under way does
not widen its own yardstick): before any change it lies beyond it with probability 1/4 whatever the shape of the
noise (real residuals have heavy tails and a normal's likelihood would read each spike as evidence), and one value
moves the test by a bounded amount. Page's CUSUM adds the Bernoulli log-likelihood ratio of a doubled variance
(for normal noise the chance becomes 2 P(|Z| > q / sqrt 2) = 0.416, q the normal's quartile of |Z|) against 1/4,
and a change is called when it passes ``variance_h``. Its start is where the CUSUM last sat at zero, its size the
ratio of the spreads (1.4826 x MAD) of d since then and in the reference. Only widening is called: the forecast
residuals of a model narrow as it sees more cycles, so a narrowing is mostly the model settling. After a change,
or when a longer period joins the model (its residuals are another series), the reference starts again and the
test waits until ``variance_min_days`` of it (at least ``MIN_REFERENCE`` values) are seen. The caller leaves
anomalies and the residuals of level shifts out (``ok``). Nothing at step t reads anything after t.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from driftdesk.seasonality.config import DetectConfig
from driftdesk.seasonality.rowstats import MAD_SCALE, median_1d

# values the reference's spread rests on, at least (the MAD's relative standard error is about 8% then), and the
# reference spans at least twice that: on daily data two weeks are 14 values, too few to know a spread by
MIN_REFERENCE = 100


# a value of |d| beyond the reference's upper quartile: probability 1/4 before any change, whatever the shape of
# the noise; 2 P(|Z| > q / sqrt 2), q normal's two-sided quartile, once a normal noise's variance doubled
P_BEFORE = 0.25
P_DOUBLED = float(2 * stats.norm.sf(stats.norm.isf(P_BEFORE / 2) / np.sqrt(2.0)))


_LLR_BEYOND = float(np.log(P_DOUBLED / P_BEFORE))
_LLR_WITHIN = float(np.log((1 - P_DOUBLED) / (1 - P_BEFORE)))


def exceedance_llr(beyond: bool) -> float:
    """The evidence one value gives for a doubled variance: log P(x | doubled) - log P(x | before), x whether
    |d| is beyond the reference's upper quartile (a Bernoulli likelihood ratio)."""
    return _LLR_BEYOND if beyond else _LLR_WITHIN


def _quantile(x: np.ndarray, q: float) -> float:
    """``np.quantile(x, q)`` (linear interpolation) of a non-empty array of finite values, the same number, the
    same way (numpy's interpolation, from the far end past the middle), without its generic layer."""
    v = (x.size - 1) * q
    if v >= x.size - 1:
        return float(np.max(x))
    lo = math.floor(v)
    part = np.partition(x, (lo, lo + 1))
    a, b, g = part[lo], part[lo + 1], v - lo
    return float(b - (b - a) * (1 - g)) if g >= 0.5 else float(a + (b - a) * g)


def _no_spread(x: np.ndarray) -> bool:
    """Whether the MAD of a non-empty array of finite values is 0, without taking it: it is 0 exactly when more
    than half the values are one value (then the middle one or two of the sorted values are that value, the
    median, and more than half the absolute deviations from it are 0), and that value is then the middle one."""
    h = x.size // 2
    return 2 * int(np.count_nonzero(x == np.partition(x, h)[h])) > x.size


def variance_changes(resid: np.ndarray, ok: np.ndarray, model: np.ndarray, *, day: int,
                     config: DetectConfig) -> list[dict]:
    """Variance-change events of one series: ``resid`` forecast residuals per step, ``ok`` where they count
    (observed, outside the calendar, after the warm-up), ``model`` an id of the model in use per step (a new
    id restarts the reference), ``day`` steps per day."""
    n = len(resid)
    good = ok & np.isfinite(resid)
    d = np.full(n, np.nan)
    both = good[1:] & good[:-1]
    d[1:] = np.where(both & (model[1:] == model[:-1]), resid[1:] - resid[:-1], np.nan)
    ref_steps = max(2 * MIN_REFERENCE, int(round(config.variance_ref_days * day)))
    min_steps = max(MIN_REFERENCE, int(round(config.variance_min_days * day)))
    finite = np.isfinite(d)
    values = d[finite]  # a reference is the finite values of a stretch: those between two of these counts
    counts = np.concatenate([[0], np.cumsum(finite)]).tolist()
    # the CUSUM runs step by step on Python floats, not numpy scalars (NaN: not a finite difference)
    sizes = np.where(finite, np.abs(d), np.nan).tolist()
    models = model.tolist()
    events: list[dict] = []
    since = 0  # the reference starts here (after a change or a new model)
    up, zero_up = 0.0, 0
    for d0 in range(0, n, day):
        if d0 > 0 and models[d0] != models[d0 - 1]:
            since, up, zero_up = d0, 0.0, d0
        end = min(d0, zero_up + 1)  # an excursion under way stays out of its own reference
        past = values[counts[max(since, end - ref_steps, 0)]:counts[max(end, 0)]]
        if past.size < min_steps:
            zero_up = d0
            continue
        quartile = _quantile(np.abs(past), 1 - P_BEFORE)
        if not quartile > 0 or _no_spread(past):  # the reference's spread (its MAD) is 0
            continue
        for t in range(d0, min(n, d0 + day)):
            x = sizes[t]  # up = max(0, up + exceedance_llr(x > quartile)) at finite x, written out
            if x > quartile:
                up += _LLR_BEYOND
            elif x == x:
                up += _LLR_WITHIN
            else:
                continue
            if not up > 0.0:
                up, zero_up = 0.0, t
            elif up > config.variance_h:
                sign = 1
                start = zero_up + 1
                seg = d[start:t + 1]
                seg = seg[np.isfinite(seg)]
                new = MAD_SCALE * median_1d(np.abs(seg - median_1d(seg))) if seg.size else np.nan
                scale = MAD_SCALE * median_1d(np.abs(past - median_1d(past)))
                events.append({"kind": "variance_change", "start_step": start, "alarm_step": t, "end_step": t,
                               "direction_sign": sign, "magnitude": new / scale - 1.0,
                               "magnitude_abs": None, "ratio": new / scale})
                since, up, zero_up = t + 1, 0.0, t + 1
                break
    return events
