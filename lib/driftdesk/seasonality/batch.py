"""The batch view (the whole history decomposed at once, for exploring): STL of the series with the causal
scan's drift events taken out as level steps, robust scores of the residuals and anomaly flags."""

from __future__ import annotations

import numpy as np

from driftdesk.seasonality.config import DetectConfig
from driftdesk.seasonality.rowstats import MAD_SCALE, nanmedian_rows
from driftdesk.seasonality.state import ANOMALY, CausalScan
from driftdesk.seasonality.stl import decompose_rows, default_specs


def batch_view(values: np.ndarray, work: np.ndarray, cal: np.ndarray, scan: CausalScan, drifts: list[list[dict]],
               *, periods: tuple[int, ...], config: DetectConfig) -> tuple[np.ndarray, ...]:
    """(trend, trend + seasonal, score, flag) per series (m x n) on the working scale ``work`` (``values`` on
    the log scale, or the values themselves); scores only where a value was observed.

    The level step of each drift event comes out before STL and goes back into the trend (a smooth trend would
    smear a step over days and call the days around it anomalies). Points the scan called anomalies only
    because its level was stale (between a change and its alarm, or a return and its confirmation) belong to
    the new level, so they stay in the fit; other anomalies, calendar days and gaps enter it as the scan's
    expected value."""
    n = work.shape[1]
    stale, steps = _stale_and_steps(drifts, cal, work)
    expected = scan.level + scan.seasonal
    fill = np.where(np.isfinite(work) & ~cal & ((scan.flag != ANOMALY) | stale), work, expected)
    fill = interpolate_rows(fill) - steps
    # every series at once through STL's sparse smoothers (cost linear in the series' length)
    if periods:
        specs = default_specs(periods, jump=config.jump, seasonal_deg=config.seasonal_deg)
        trend, seasonals, resid_fit = decompose_rows(fill, specs)
        seasonal = seasonals.sum(axis=0)
    else:  # a robust level model: the median level between drift events
        trend = np.repeat(np.median(fill, axis=1, keepdims=True), n, axis=1)
        seasonal = np.zeros_like(fill)
        resid_fit = fill - trend
    trend = trend + steps
    total = trend + seasonal
    resid = work - total
    clean = np.isfinite(work) & ~cal
    score = robust_z(np.where(np.isfinite(resid), resid, resid_fit), clean, floor=0.5 * nanmedian_rows(scan.sigma))
    score = np.where(np.isfinite(values), score, np.nan)
    flags = np.where(clean & (np.abs(np.nan_to_num(score)) >= config.anomaly_z), ANOMALY, 0).astype(np.int8)
    return trend, total, score, flags


def _stale_and_steps(drifts: list[list[dict]], cal: np.ndarray, work: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per series: the steps between each change (or return) and its confirmation, and the level of each drift
    event added up over its span (an episode that recovered holds its level only until the return)."""
    n = work.shape[1]
    stale = np.zeros_like(cal)
    steps = np.zeros_like(work)
    for idx, events in enumerate(drifts):
        for e in events:
            stale[idx, e["start_step"]:e["alarm_step"] + 1] = True
            if "recovered_step" in e:
                stale[idx, e["recovered_step"]:e["recovered_alarm_step"] + 1] = True
            steps[idx, e["start_step"]:e.get("recovered_step", n)] += e["delta_level"]
    return stale, steps


def robust_z(resid: np.ndarray, clean: np.ndarray, *, floor: np.ndarray | None = None) -> np.ndarray:
    """(resid - median) / (1.4826 * MAD) per row, median and MAD over the clean points only.

    ``floor``: a lower bound for the scale. With few cycles STL fits the noise into the seasonal component
    and the residual MAD collapses; half the typical one-step forecast error keeps scores honest then.
    """
    r = np.where(clean, resid, np.nan)
    med = np.nanmedian(np.where(clean.any(axis=1)[:, None], r, 0.0), axis=1)
    mad = MAD_SCALE * np.nanmedian(np.where(clean.any(axis=1)[:, None], np.abs(r - med[:, None]), 0.0), axis=1)
    floor_abs = 1e-12 * np.fmax(np.nanmax(np.abs(np.where(clean, resid, 0.0)), axis=1), 1.0)
    mad = np.fmax(mad, floor_abs)
    if floor is not None:
        mad = np.fmax(mad, np.nan_to_num(floor, nan=0.0))
    return (resid - med[:, None]) / mad[:, None]


def interpolate_rows(values: np.ndarray) -> np.ndarray:
    """NaN in each row filled by linear interpolation (ends: the nearest value; an empty row: zeros)."""
    out = values.copy()
    x = np.arange(values.shape[1])
    for i in range(values.shape[0]):
        ok = np.isfinite(out[i])
        if ok.all():
            continue
        out[i, ~ok] = np.interp(x[~ok], x[ok], out[i, ok]) if ok.any() else 0.0
    return out
