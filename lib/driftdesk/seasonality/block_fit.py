"""The refit at the start of each block (a day of hourly data): from the trailing window that ends where the
block starts, the seasonal forecast for the block, the level, the score's scale, the within-day correlation of
scores and the mean test's yardstick. Everything here reads the scan's state and writes nothing to it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftdesk.seasonality.config import ScanSettings
from driftdesk.seasonality.rowstats import (
    block_means,
    fill_rows,
    mad_rows_of,
    nanmedian_rows,
    running_sums,
    t_threshold,
    variance_inflation,
    window_mean_sd,
)
from driftdesk.seasonality.state import BlockFit, ScanState
from driftdesk.seasonality.stl import default_specs, operator_for


@dataclass(frozen=True)
class _Rows:
    fore: np.ndarray  # (R, L): seasonal forecast for the next R steps
    seasonal_tail: np.ndarray  # (K, L): fitted seasonal of the last K steps
    fit_tail: np.ndarray  # (K2, L): fitted trend + seasonal of the last K2 steps


_ROWS: dict[tuple, _Rows] = {}


def _rows_for(n: int, periods: tuple[int, ...], s: ScanSettings) -> _Rows:
    """The rows of the linear STL operator a block needs, as matrices applied to every series at once. Without
    a period (a level model) the forecast is the level alone and the in-sample fit is the window's mean."""
    key = (n, periods, s.refit, s.level_steps, s.scale_steps, s.config.jump, s.config.seasonal_deg)
    if key in _ROWS:
        return _ROWS[key]
    k, k2 = min(n, s.level_steps), min(n, s.scale_steps)
    if not periods:
        rows = _Rows(np.zeros((s.refit, n)), np.zeros((k, n)), np.full((k2, n), 1.0 / n))
    else:
        op = operator_for(n, default_specs(periods, jump=s.config.jump, seasonal_deg=s.config.seasonal_deg))
        fore = np.zeros((s.refit, n))
        for spec, seas in zip(op.specs, op.seasonals):
            for j in range(s.refit):
                back = n + j - spec.period * (1 + j // spec.period)
                fore[j] += seas[back]
        total_s = sum(op.seasonals)
        rows = _Rows(fore, total_s[n - k:], (op.trend + total_s)[n - k2:])
    if len(_ROWS) > 64:
        _ROWS.clear()
    _ROWS[key] = rows
    return rows


def fit_block(state: ScanState, s: ScanSettings, t0: int) -> BlockFit:
    """Refit on the trailing window that ends at ``t0`` (``s.window`` steps, fewer but whole cycles early on),
    with the periods two cycles of have been seen by then."""
    active = s.active_periods(t0)
    pmax = active[-1] if active else 1
    if active:
        length = s.window if t0 >= s.window else (t0 // pmax) * pmax
        length = max(length, 2 * pmax)
    else:
        length = min(s.window, t0)
    rows = _rows_for(length, active, s)
    win = fill_rows(state.filled[:, t0 - length:t0])
    fit_ok = np.isfinite(win).all(axis=1)
    win = np.where(fit_ok[:, None], win, 0.0)
    level = _start_level(state, win, rows, t0)
    sigma, cycle_diff = _score_scale(state, s, win, rows, t0, pmax, level)
    seasoned = t0 >= state.model_from + 7 * s.refit
    mean_sd, mean_thr = _mean_yardstick(state, s, win, t0, pmax)
    vif = _day_vif(state, s, cycle_diff, t0)
    return BlockFit(
        forecast=win @ rows.fore.T, level=np.where(fit_ok, level, np.nan), sigma=sigma,
        vif=vif, root_vif=np.sqrt(vif), seasoned=seasoned,
        cusum_h=s.config.cusum_h if seasoned or s.refit == 1 else 1.5 * s.config.cusum_h,
        mean_sd=mean_sd, mean_thr=mean_thr,
    )


def _start_level(state: ScanState, win: np.ndarray, rows: _Rows, t0: int) -> np.ndarray:
    """The median of the last ``level_steps`` deseasonalised clean values, since the last detected change (all
    of them if the change is younger than any clean value). Recent steps are deseasonalised with the forecast
    made before they were seen: a shift near the window's end would otherwise leak into the refit's seasonal
    component and hide in the level."""
    k = rows.seasonal_tail.shape[0]
    seen = state.seasonal[:, t0 - k:t0].copy()
    seen[:, :max(0, state.model_from - (t0 - k))] = np.nan  # forecasts of a simpler model miss a cycle
    known = np.isfinite(seen)
    if known.all():  # the refit's own seasonal is read only where no forecast was made
        deseas = win[:, -k:] - seen
    else:
        deseas = np.where(known, win[:, -k:] - seen, win[:, -k:] - win @ rows.seasonal_tail.T)
    clean = state.history.clean[:, t0 - k:t0]
    pos = np.arange(t0 - k, t0)
    keep = clean & (pos[None, :] >= state.regime[:, None])
    level = nanmedian_rows(np.where(keep, deseas, np.nan))
    if np.isfinite(level).all():
        return level
    fallback = nanmedian_rows(np.where(clean, deseas, np.nan))
    return np.where(np.isfinite(level), level, fallback)


def _score_scale(state: ScanState, s: ScanSettings, win: np.ndarray, rows: _Rows, t0: int, pmax: int,
                 level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The score's scale: a robust spread of recent forecast residuals, never below the fit's in-sample one
    (inflated: in-sample residuals are smaller than forecast errors). Before three days of forecast residuals
    exist, a cycle-over-cycle difference stands in for them (twice the noise variance). Also returns those
    differences (NaN where either end is no clean value) for the within-day correlation."""
    clean, length = state.history.clean, win.shape[1]
    inflation = s.config.in_sample_inflation
    k2 = rows.fit_tail.shape[0]
    in_resid = win[:, -k2:] - win @ rows.fit_tail.T
    recent = state.history.forecast[:, max(0, t0 - s.scale_steps, state.model_from):t0]
    measured = np.isfinite(recent).sum(axis=1) >= 3 * s.refit
    k3 = min(k2, length - pmax)
    diff = win[:, length - k3:] - win[:, length - k3 - pmax:length - pmax]
    both = clean[:, t0 - k3:t0] & clean[:, t0 - k3 - pmax:t0 - pmax]
    # each spread is computed only if a series reads it, all of them in one sort (the same numbers)
    some, every = measured.any(), measured.all()
    spreads = iter(mad_rows_of([np.where(clean[:, t0 - k2:t0], in_resid, np.nan)] + ([recent] if some else [])
                               + ([] if every else [np.where(both, diff, np.nan)])))
    sigma_in = next(spreads) * inflation
    sigma_out = next(spreads) if some else sigma_in
    if every:
        sigma_naive = sigma_in
    else:
        sigma_naive = next(spreads) / np.sqrt(2.0) * inflation
        sigma_naive = np.where(np.isfinite(sigma_naive), sigma_naive, sigma_in)
    sigma = np.where(measured, np.fmax(sigma_in, sigma_out), np.fmax(sigma_in, sigma_naive))
    if state.active != s.periods:
        # a longer cycle is not in the model yet (a weekday against the days before it): the score's scale takes
        # in how much whole cycles differ from one another (root mean square, so the days a weekly pattern
        # moves most count), or that cycle would be flagged as anomalies until it joins
        sq = np.where(both, diff, 0.0) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = np.sqrt(sq.sum(axis=1) / both.sum(axis=1) / 2.0) * inflation
        sigma = np.fmax(sigma, np.nan_to_num(spread, nan=0.0))
    floor = 1e-9 * np.fmax(np.abs(level), 1e-12)
    sigma = np.where(np.isfinite(sigma), np.fmax(sigma, floor), np.nan)
    return sigma, np.where(both, diff, np.nan)


def _day_vif(state: ScanState, s: ScanSettings, cycle_diff: np.ndarray, t0: int) -> np.ndarray:
    """Variance inflation of a block mean of scores: day-level noise makes consecutive scores move together,
    and a CUSUM that ignores it raises false drift alarms. Estimated from cycle-over-cycle differences in the
    window, and from the block means of recent scores once there are a week of them; between 1 and ``refit``."""
    m = cycle_diff.shape[0]
    lo = max(0, t0 - s.vif_steps, state.model_from)
    measured = t0 - lo >= 7 * s.refit and s.refit > 1
    # rowstats.vif_rows of the differences and (standardised) of the recent scores, their spreads in one sort
    means = block_means(cycle_diff, s.refit)
    recent = block_means(state.history.scores[:, lo:t0], s.refit) if measured else None
    spreads = mad_rows_of(([] if means is None else [means, cycle_diff]) + ([] if recent is None else [recent]))
    vif = np.ones(m) if means is None else variance_inflation(s.refit, spreads[0], spreads[1])
    if measured:
        vif = np.fmax(vif, np.ones(m) if recent is None else variance_inflation(s.refit, spreads[-1], np.ones(m)))
    # NaN counts as 1 (np.nan_to_num(nan=1.0), then clipped to [1, refit])
    return np.minimum(np.maximum(np.where(np.isnan(vif), 1.0, vif), 1.0), float(s.refit))


def _mean_yardstick(state: ScanState, s: ScanSettings, win: np.ndarray, t0: int,
                    pmax: int) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Per mean window w: the measured spread of w-step means of forecast residuals (older than ``lag``, at
    most ``ref_steps`` back; needs ``mean_min`` of them, until then the other tests work) and the threshold
    for a mean over it (Student's t with one degree of freedom per w steps measured).

    The spread is never below that of w-step means of the window's cycle-over-cycle differences / sqrt(2):
    those cover the whole window, and a week of forecast residuals alone holds few independent day means, so it
    underestimates the spread now and then, and an underestimate is a false alarm. Once the day-mean CUSUM is
    half way to an alarm, the residuals since it last sat at zero are left out too: a shift building up there
    would widen the yardstick it is measured with and never be called. Cutting every stretch where the CUSUM
    left zero would keep only the calm stretches and bias the yardstick low: hence half way."""
    if not s.mean_windows:
        return {}, {}
    clean, length = state.history.clean, win.shape[1]
    cyc = np.where(clean[:, t0 - length + pmax:t0] & clean[:, t0 - length:t0 - pmax], win[:, pmax:] - win[:, :-pmax],
                   np.nan)
    lo, hi = max(0, t0 - s.ref_steps - s.lag, state.model_from), max(0, t0 - s.lag, state.model_from)
    half, day = 0.5 * s.config.block_h, state.day
    since = np.minimum(np.where(day.plus > half, day.zero_plus, t0), np.where(day.minus > half, day.zero_minus, t0))
    ref = np.where(np.arange(lo, hi)[None, :] < since[:, None], state.history.clipped[:, lo:hi], np.nan)
    mean_sd, mean_thr = {}, {}
    cyc = cyc[:, :max(cyc.shape[1] - s.lag, 0)]
    ref_sums, cyc_sums = running_sums(ref), running_sums(cyc)
    for w in s.mean_windows:
        sd_fc, n_fc = window_mean_sd(ref, w, s.mean_min, ref_sums)
        sd_in = window_mean_sd(cyc, w, 1, cyc_sums)[0] / np.sqrt(2.0)
        mean_sd[w] = np.where(np.isfinite(sd_fc) & (sd_fc > 0), np.fmax(sd_fc, sd_in), np.nan)
        # overlapping w-step means over L steps carry about L / w independent ones
        mean_thr[w] = t_threshold(s.config.mean_z, n_fc / w)
    return mean_sd, mean_thr
