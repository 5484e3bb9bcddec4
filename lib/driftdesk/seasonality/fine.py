"""Points at full resolution for data finer than the hourly model (1 to 30 minutes).

The model (seasonal fit, level, drift tests) runs on hourly means; each point is then judged against its hour's
expected value. Its score is its residual over a robust scale (1.4826 x MAD) of the residuals of the last week of
points, measured before each day starts in causal mode (over the whole series in batch mode), never below the
hourly model's scale, and for counts never below Poisson's sqrt(expected). A point is an anomaly when its score
passes both ``anomaly_z`` and the largest score of the week before its day (see ``_rate_threshold``: about one
alert a week at most on a quiet series, whatever its noise looks like). Drift flags come from the hourly
model: in causal mode a point carries the flags of the last hour completed by it (an hour's mean is only known
once the hour is over), so no flag reads a later point.
"""

from __future__ import annotations

import numpy as np

from driftdesk.seasonality.rowstats import MAD_SCALE
from driftdesk.seasonality.state import ANOMALY, DRIFT, NORMAL

SCALE_DAYS = 7


def full_resolution(values: np.ndarray, k: int, *, trend: np.ndarray, seasonal: np.ndarray, sigma: np.ndarray,
                    model_flags: np.ndarray, calendar: np.ndarray, relative: bool, day_steps: int, anomaly_z: float,
                    causal: bool) -> dict[str, np.ndarray]:
    """trend, seasonal, resid, score and flag per point of a series whose model steps are k points each.
    ``trend``, ``seasonal`` (raw scale), ``sigma`` (working scale), ``model_flags`` and ``calendar`` per model step."""
    n = len(values)
    hour = np.arange(n) // k
    expected = trend[hour] + seasonal[hour]
    resid = values - expected
    with np.errstate(divide="ignore", invalid="ignore"):
        r = resid / np.abs(expected) if relative else resid
    cal = calendar[hour]
    live = np.isfinite(sigma[hour]) if causal else np.ones(n, dtype=bool)
    ok = np.isfinite(r) & ~cal & live
    floor = np.nan_to_num(sigma[hour], nan=0.0)
    finite = values[np.isfinite(values)]
    if finite.size and (finite >= 0).all() and np.allclose(finite, np.round(finite)):
        with np.errstate(divide="ignore", invalid="ignore"):
            poisson = np.sqrt(np.maximum(np.abs(expected), 1.0))
            floor = np.fmax(floor, poisson / np.abs(expected) if relative else poisson)
    scale = _trailing_scale(r, ok, k * day_steps, causal)
    scale = np.fmax(np.nan_to_num(scale, nan=np.inf), np.fmax(floor, 1e-12))
    score = np.where(ok, r / scale, np.nan)
    thr = _rate_threshold(np.abs(score), k * day_steps, anomaly_z, causal)
    anomaly = ok & (np.abs(np.nan_to_num(score)) >= thr)
    point = np.arange(n)
    done = (point + 1) // k - 1 if causal else hour  # the model step whose flag a point may carry
    carried = np.where(done >= 0, model_flags[np.clip(done, 0, None)], NORMAL)
    last_of_hour = (point + 1) % k == 0 if causal else np.ones(n, dtype=bool)
    flag = np.where(carried == DRIFT, DRIFT,
                    np.where(anomaly | ((carried == ANOMALY) & last_of_hour), ANOMALY, NORMAL)).astype(np.int8)
    flag = np.where(cal, NORMAL, flag).astype(np.int8)
    score = np.where(np.isfinite(values), score, np.nan)
    return {"trend": trend[hour], "seasonal": seasonal[hour], "resid": resid, "score": score, "flag": flag}


def _trailing_scale(r: np.ndarray, ok: np.ndarray, day: int, causal: bool) -> np.ndarray:
    """Robust scale of the residuals: per day, over the week before it (causal) or over everything (batch)."""
    n = len(r)
    good = np.where(ok, r, np.nan)
    if not causal:
        v = good[np.isfinite(good)]
        return np.full(n, MAD_SCALE * np.median(np.abs(v - np.median(v))) if v.size else np.nan)
    out = np.full(n, np.nan)
    for d0 in range(0, n, day):
        past = good[max(0, d0 - SCALE_DAYS * day):d0]
        past = past[np.isfinite(past)]
        if past.size >= day // 4:
            out[d0:d0 + day] = MAD_SCALE * np.median(np.abs(past - np.median(past)))
    return out


def _rate_threshold(a: np.ndarray, day: int, z: float, causal: bool) -> np.ndarray:
    """The anomaly threshold per point: ``z``, and at least the largest score of the week before the point's
    day (causal; in batch mode the w-th largest of the whole series, w its number of weeks). Points are many
    (2,016 a week at 5 minutes) and real fine-grained noise has heavier tails than a normal's, so a fixed z
    flags several points a week on a quiet series; beating the last week's record happens about once in eight
    days on a series with nothing in it, whatever the shape of its noise."""
    n = len(a)
    finite = a[np.isfinite(a)]
    if not causal:
        weeks = max(1, int(round(n / (SCALE_DAYS * day))))
        top = float(np.partition(finite, finite.size - weeks)[finite.size - weeks]) if finite.size >= weeks else z
        return np.full(n, max(z, top))
    out = np.full(n, z)
    for d0 in range(0, n, day):
        past = a[max(0, d0 - SCALE_DAYS * day):d0]
        past = past[np.isfinite(past)]
        if past.size:
            out[d0:d0 + day] = max(z, float(past.max()))
    return out
