"""Points at full resolution for data finer than the hourly model (1 to 30 minutes).

The model (seasonal fit, level, drift tests) runs on hourly means; each point is then judged against its hour's
expected value (its seasonal part linear between the hours' centres). Its score is its residual on a scale where
noise is about as wide at every level (counts: Anscombe's square root; other series of a log model: logs) over a
robust scale of the residuals of the last week of points (1.4826 x MAD), measured before each day starts in causal
mode (over the whole series in batch mode), never below the hourly model's scale, and for counts never below
Poisson's 1/2. A point is an anomaly when its score passes both ``anomaly_z`` and the record of the days before its
day: the largest score of the last ``record_days``, and once twice that span (+1 day) is seen, the second-largest
daily maximum of it (see ``rate_threshold``: either way about one alert in record_days + 1 days at most on a quiet
series, whatever its noise looks like; the second one is not set by a single burst). An hour is judged the same
way from its points taken together (its total for counts, else its mean, against theirs expected), so a burst
spread over an hour is seen though no point of it stands out; its flag lands on the hour's last point. So is a
burst that lasts: ``persist_steps`` hours in a row each beyond ``anomaly_z`` on one side, though none beats the
record (one set by a bigger burst last week would otherwise hide a day-long one this week). Drift flags come from
the hourly model: in causal mode a point carries the flags of the last hour completed by it (an hour's mean is
only known once the hour is over), so no flag reads a later point.
"""

from __future__ import annotations

import numpy as np

from driftdesk.seasonality.rowstats import MAD_SCALE
from driftdesk.seasonality.scales import from_working
from driftdesk.seasonality.state import ANOMALY, DRIFT, NORMAL

SCALE_DAYS = 7
RECORD_DAYS = 14.0
RECORD_RANK = 2  # the record is the 2nd-largest daily maximum of 2 (RECORD_DAYS + 1) - 1 days, once seen


def full_resolution(values: np.ndarray, k: int, *, level_w: np.ndarray, seasonal_w: np.ndarray,
                    scale: str, offset: float, sigma: np.ndarray, model_flags: np.ndarray, calendar: np.ndarray,
                    day_steps: int, anomaly_z: float, causal: bool, counts: bool,
                    record_days: float = RECORD_DAYS, persist_steps: int = 6,
                    cycles: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
    """trend, seasonal, resid, score and flag per point of a series whose model steps are k points each.
    ``level_w``, ``seasonal_w`` and ``sigma`` per model step on the working ``scale`` (``scales``; ``offset``
    the log scale's), ``model_flags`` and ``calendar`` per model step; ``counts``: the series holds counts
    (decided on its warm-up)."""
    n = len(values)
    hour = np.arange(n) // k
    level = level_w[hour]
    seasonal_fine = _within_hours(seasonal_w, k, causal)[:n]
    trend = from_working(level, scale, offset)
    expected = from_working(level + seasonal_fine, scale, offset)
    offset = offset if scale == "log" else None
    resid = values - expected
    cal = calendar[hour]
    live = np.isfinite(sigma[hour]) if causal else np.ones(n, dtype=bool)
    sig = np.nan_to_num(sigma[hour], nan=0.0)
    score, anomaly = _judged(values, expected, level + seasonal_fine, offset, sig, ~cal & live,
                             day=k * day_steps, z=anomaly_z, causal=causal, counts=counts, record_days=record_days)
    hour_anomaly = _hour_anomalies(values, expected, offset, sigma, k, ~calendar & np.isfinite(sigma) if causal
                                   else ~calendar, day_steps=day_steps, z=anomaly_z, causal=causal, counts=counts,
                                   record_days=record_days, persist_steps=persist_steps, cycles=cycles)
    point = np.arange(n)
    done = (point + 1) // k - 1 if causal else hour  # the model step whose flag a point may carry
    carried = np.where(done >= 0, model_flags[np.clip(done, 0, None)], NORMAL)
    hour_flag = np.where(done >= 0, hour_anomaly[np.clip(done, 0, None)], False)
    last_of_hour = (point + 1) % k == 0 if causal else np.ones(n, dtype=bool)
    flag = np.where(carried == DRIFT, DRIFT,
                    np.where(anomaly | (hour_flag & last_of_hour), ANOMALY, NORMAL)).astype(np.int8)
    flag = np.where(cal, NORMAL, flag).astype(np.int8)
    score = np.where(np.isfinite(values), score, np.nan)
    return {"trend": trend, "seasonal": expected - trend, "resid": resid, "score": score, "flag": flag}


def _judged(values: np.ndarray, expected: np.ndarray, expected_w: np.ndarray, offset: float | None,
            sigma: np.ndarray, ok: np.ndarray, *, day: int, z: float, causal: bool, counts: bool,
            record_days: float) -> tuple[np.ndarray, np.ndarray]:
    """(score, anomaly) of each value against its expected value: a stabilised residual over its trailing robust
    scale, an anomaly where it passes ``z`` and the record of the last ``record_days`` (``day`` values a day)."""
    r, floor = _stabilised(values, expected, expected_w, offset, sigma, counts)
    ok = ok & np.isfinite(r)
    scale = _trailing_scale(r, ok, day, causal)
    scale = np.fmax(np.nan_to_num(scale, nan=np.inf), np.fmax(floor, 1e-12))
    score = np.where(ok, r / scale, np.nan)
    thr = rate_threshold(np.abs(score), day, z, causal, record_days)
    return score, ok & (np.abs(np.nan_to_num(score)) >= thr)


def _hour_anomalies(values: np.ndarray, expected: np.ndarray, offset: float | None, sigma: np.ndarray, k: int,
                    ok: np.ndarray, *, day_steps: int, z: float, causal: bool, counts: bool,
                    record_days: float, persist_steps: int, cycles: tuple[int, ...]) -> np.ndarray:
    """Per model step (hour): its points taken together are an anomaly. The hour's total (counts) or mean against
    the total or mean of its points' expected values, judged like a point, on the same stabilised scale and
    record rule: a burst spread over an hour, each point of it unremarkable, is one anomaly, and a noisy hour at
    night (a log model's scores of small counts are wide) does not alert more often than any other."""
    hours = len(sigma)
    v = np.full(hours * k, np.nan)
    v[:len(values)] = values
    e = np.full(hours * k, np.nan)
    e[:len(expected)] = expected
    v, e = v.reshape(hours, k), e.reshape(hours, k)
    present = np.isfinite(v) & np.isfinite(e)
    cnt = present.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        v_h = np.where(present, v, 0.0).sum(axis=1) / (1.0 if counts else cnt)
        e_h = np.where(present, e, 0.0).sum(axis=1) / (1.0 if counts else cnt)
    v_h, e_h = np.where(cnt > 0, v_h, np.nan), np.where(cnt > 0, e_h, np.nan)
    e_w = np.log(np.maximum(e_h, 0.0) + offset) if offset is not None else e_h
    score, anomaly = _judged(v_h, e_h, e_w, offset, np.nan_to_num(sigma, nan=0.0), ok & (cnt > 0), day=day_steps,
                             z=z, causal=causal, counts=counts, record_days=record_days)
    return anomaly | sustained(score, z, persist_steps, cycles)


def sustained(score: np.ndarray, z: float, steps: int, cycles: tuple[int, ...] = ()) -> np.ndarray:
    """True from the ``steps``-th of a run of scores beyond ``z`` on one side (a missing score ends a run): an
    excursion that lasts, though no single score of it beats the record (a burst smaller than last week's)."""
    a = np.nan_to_num(score)
    side = np.where(np.abs(a) >= z, np.sign(a), 0.0)
    recurring = np.zeros(side.size, dtype=bool)
    for p in cycles:  # the same excursion one cycle earlier: the cycle, not a burst (a weekend before weeks are modelled)
        recurring[p:] |= (side[p:] != 0) & (side[p:] == side[:-p])
    side = np.where(recurring, 0.0, side)
    i = np.arange(side.size)
    start = np.maximum.accumulate(np.where(np.r_[True, side[1:] != side[:-1]], i, 0))
    return (side != 0) & (i - start + 1 >= steps)


def _stabilised(values: np.ndarray, expected: np.ndarray, expected_w: np.ndarray, offset: float | None,
                sigma: np.ndarray, counts: bool) -> tuple[np.ndarray, np.ndarray]:
    """Residuals on a scale where the noise is about as wide at every level, and a lower bound for their scale:
    counts (non-negative whole numbers) on the square-root scale, where Poisson noise has a standard deviation of
    1/2 (Anscombe's sqrt(y + 3/8)); other series of a log model on the log scale (multiplicative noise; the
    hourly model's scale bounds it); anything else as it is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if counts:
            r = np.sqrt(np.maximum(values, 0.0) + 0.375) - np.sqrt(np.maximum(expected, 0.0) + 0.375)
            return r, np.full(len(values), 0.5)
        if offset is not None:
            return np.log(np.maximum(values, 0.0) + offset) - expected_w, sigma
    return values - expected, sigma


def _within_hours(seasonal: np.ndarray, k: int, causal: bool) -> np.ndarray:
    """The seasonal component at each of an hour's k points: an hour's mean sits at its centre, and a daily
    cycle can move several percent within an hour. In batch mode linear between the hours' centres; in causal
    mode the line through the hour before and this one, continued (the next hour's value is not used: where the
    data ends it does not exist, and a point's score may not depend on whether it does)."""
    prev = np.r_[seasonal[:1], seasonal[:-1]]
    prev = np.where(np.isfinite(prev), prev, seasonal)
    nxt = prev if causal else np.r_[seasonal[1:], seasonal[-1:]]
    nxt = np.where(np.isfinite(nxt), nxt, seasonal)
    u = (np.arange(k) + 0.5) / k - 0.5  # each point's offset from its hour's centre, in hours
    lo = (seasonal - prev)[:, None]
    hi = lo if causal else (nxt - seasonal)[:, None]
    return (seasonal[:, None] + np.where(u < 0, lo * u, hi * u)).ravel()


def _trailing_scale(r: np.ndarray, ok: np.ndarray, day: int, causal: bool) -> np.ndarray:
    """Robust scale (1.4826 x MAD) of the residuals: per day, over the week before it (causal), or over
    everything (batch)."""
    n = len(r)
    good = np.where(ok, r, np.nan)
    if not causal:
        v = good[np.isfinite(good)]
        return np.full(n, MAD_SCALE * np.median(np.abs(v - np.median(v))) if v.size else np.nan)
    out = np.full(n, np.nan)
    for d0 in range(0, n, day):
        past = good[max(0, d0 - SCALE_DAYS * day):d0]
        past = past[np.isfinite(past)]
        if past.size >= day // 2:
            out[d0:d0 + day] = MAD_SCALE * np.median(np.abs(past - np.median(past)))
    return out


def rate_threshold(a: np.ndarray, day: int, z: float, causal: bool, record_days: float) -> np.ndarray:
    """The anomaly threshold per value: ``z``, and at least the record of the days before the value's day
    (causal; in batch mode the w-th largest of the whole series, w its number of ``record_days`` spans). Points
    are many (2,016 a week at 5 minutes) and real fine-grained noise has heavier tails than a normal's, so a fixed
    z flags several points a week on a quiet series; beating the largest of the last d days happens about once in
    d + 1 days on a series with nothing in it, whatever the shape of its noise (14 days: about one alert in two
    weeks, where a week's record gave one in eight days). Once ``RECORD_RANK`` (d + 1) - 1 days are seen, the bar
    is the ``RECORD_RANK``-th largest of their daily maxima instead: beaten with the same chance, k / (k (d + 1)),
    but one burst alone no longer sets it for the next d days."""
    n = len(a)
    finite = a[np.isfinite(a)]
    if not causal:
        weeks = max(1, int(round(n / (record_days * day))))
        top = float(np.partition(finite, finite.size - weeks)[finite.size - weeks]) if finite.size >= weeks else z
        return np.full(n, max(z, top))
    out = np.full(n, z)
    daily = _daily_max(a, day)
    scored = np.flatnonzero(np.isfinite(daily))
    if scored.size == 0:
        return out
    span = int(round(record_days)) + 1  # days per rank: the k-th largest daily maximum of k * span - 1 days
    for j in range(scored[0] + 1, daily.size):
        rank = max(1, min(RECORD_RANK, (j - scored[0] + 1) // span))
        past = daily[max(0, j - (rank * span - 1)):j]
        past = np.sort(past[np.isfinite(past)])
        if past.size:
            out[j * day:(j + 1) * day] = max(z, float(past[-min(rank, past.size)]))
    return out


def _daily_max(a: np.ndarray, day: int) -> np.ndarray:
    """The largest finite value of each run of ``day`` values (NaN for one without any)."""
    days = -(-len(a) // day)
    pad = np.full(days * day, np.nan)
    pad[:len(a)] = a
    pad = pad.reshape(days, day)
    has = np.isfinite(pad).any(axis=1)
    out = np.full(days, np.nan)
    out[has] = np.nanmax(pad[has], axis=1)
    return out
