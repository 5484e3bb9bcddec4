"""The refit at the start of each block (a day of hourly data): from the trailing window that ends where the
block starts, the seasonal forecast for the block, the level, the score's scale, the within-day correlation of
scores and the mean test's yardstick. Everything here reads the scan's state and writes nothing to it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftdesk.seasonality.carried import WindowSpreads
from driftdesk.seasonality.config import ScanSettings
from driftdesk.seasonality.rowstats import (
    block_means,
    fill_rows,
    medians_and_spreads,
    nanmedian_rows,
    rows_times,
    t_threshold,
    variance_inflation,
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
    # the level's median and every spread of the scale and the within-day correlation, in two sorts for all
    level_rows = _level_rows(state, win, rows, t0)
    scale_rows = _ScaleRows.of(state, s, win, rows, t0, pmax)
    vif_rows = _VifRows.of(state, s, scale_rows.cycle_diff, t0)
    medians, spreads = medians_and_spreads(level_rows, scale_rows.arrays + vif_rows.arrays)
    level = medians[0]
    if not np.isfinite(level).all():  # since the last change no clean value: all of them
        fallback = medians[1] if len(medians) > 1 else nanmedian_rows(_level_rows(state, win, rows, t0, every=True)[1])
        level = np.where(np.isfinite(level), level, fallback)
    sigma = scale_rows.sigma(state, s, spreads[:len(scale_rows.arrays)], level)
    vif = vif_rows.vif(s, spreads[len(scale_rows.arrays):])
    seasoned = t0 >= state.model_from + 7 * s.refit
    mean_sd, mean_thr = _mean_yardstick(state, s, win, t0, pmax)
    return BlockFit(
        forecast=rows_times(win, rows.fore), level=np.where(fit_ok, level, np.nan), sigma=sigma,
        vif=vif, root_vif=np.sqrt(vif), seasoned=seasoned,
        cusum_h=s.config.cusum_h if seasoned or s.refit == 1 else 1.5 * s.config.cusum_h,
        mean_sd=mean_sd, mean_thr=mean_thr,
    )


def _level_rows(state: ScanState, win: np.ndarray, rows: _Rows, t0: int, *, every: bool = False) -> list[np.ndarray]:
    """The level is the median of the last ``level_steps`` deseasonalised clean values, since the last detected
    change (all of them where the change is younger than any clean value): those values (NaN elsewhere), and
    every clean one where a series needs them (or ``every`` time). Recent steps are deseasonalised with the
    forecast made before they were seen: a shift near the window's end would otherwise leak into the refit's
    seasonal component and hide in the level."""
    k = rows.seasonal_tail.shape[0]
    seen = state.seasonal[:, t0 - k:t0].copy()
    seen[:, :max(0, state.model_from - (t0 - k))] = np.nan  # forecasts of a simpler model miss a cycle
    known = np.isfinite(seen)
    if known.all():  # the refit's own seasonal is read only where no forecast was made
        deseas = win[:, -k:] - seen
    else:
        deseas = np.where(known, win[:, -k:] - seen, win[:, -k:] - rows_times(win, rows.seasonal_tail))
    clean = state.history.clean[:, t0 - k:t0]
    pos = np.arange(t0 - k, t0)
    keep = clean & (pos[None, :] >= state.regime[:, None])
    out = [np.where(keep, deseas, np.nan)]
    if every or not keep.any(axis=1).all():  # the deseasonalised values are finite: a row keeping none
        out.append(np.where(clean, deseas, np.nan))
    return out


@dataclass(frozen=True)
class _ScaleRows:
    """The score's scale: a robust spread of recent forecast residuals, never below the fit's in-sample one
    (inflated: in-sample residuals are smaller than forecast errors). Before three days of forecast residuals
    exist, a cycle-over-cycle difference stands in for them (twice the noise variance). ``arrays``: the rows
    whose spreads it reads (each only if a series reads it); ``cycle_diff``: those differences (NaN where either
    end is no clean value), for the within-day correlation."""

    arrays: list[np.ndarray]
    measured: np.ndarray
    diff: np.ndarray
    both: np.ndarray
    cycle_diff: np.ndarray

    @classmethod
    def of(cls, state: ScanState, s: ScanSettings, win: np.ndarray, rows: _Rows, t0: int, pmax: int) -> _ScaleRows:
        clean, length = state.history.clean, win.shape[1]
        k2 = rows.fit_tail.shape[0]
        in_resid = win[:, -k2:] - rows_times(win, rows.fit_tail)
        recent = state.history.forecast[:, max(0, t0 - s.scale_steps, state.model_from):t0]
        measured = np.isfinite(recent).sum(axis=1) >= 3 * s.refit
        k3 = min(k2, length - pmax)
        diff = win[:, length - k3:] - win[:, length - k3 - pmax:length - pmax]
        both = clean[:, t0 - k3:t0] & clean[:, t0 - k3 - pmax:t0 - pmax]
        cycle_diff = np.where(both, diff, np.nan)
        some, every = measured.any(), measured.all()
        arrays = ([np.where(clean[:, t0 - k2:t0], in_resid, np.nan)] + ([recent] if some else [])
                  + ([] if every else [cycle_diff]))
        return cls(arrays, measured, diff, both, cycle_diff)

    def sigma(self, state: ScanState, s: ScanSettings, spreads: list[np.ndarray], level: np.ndarray) -> np.ndarray:
        """The scale from the spreads of ``arrays``."""
        inflation, measured = s.config.in_sample_inflation, self.measured
        some, every = measured.any(), measured.all()
        spreads = iter(spreads)
        sigma_in = next(spreads) * inflation
        sigma_out = next(spreads) if some else sigma_in
        if every:
            sigma_naive = sigma_in
        else:
            sigma_naive = next(spreads) / np.sqrt(2.0) * inflation
            sigma_naive = np.where(np.isfinite(sigma_naive), sigma_naive, sigma_in)
        sigma = np.where(measured, np.fmax(sigma_in, sigma_out), np.fmax(sigma_in, sigma_naive))
        if state.active != s.periods:
            # a longer cycle is not in the model yet (a weekday against the days before it): the score's scale
            # takes in how much whole cycles differ from one another (root mean square, so the days a weekly
            # pattern moves most count), or that cycle would be flagged as anomalies until it joins
            sq = np.where(self.both, self.diff, 0.0) ** 2
            with np.errstate(invalid="ignore", divide="ignore"):
                spread = np.sqrt(sq.sum(axis=1) / self.both.sum(axis=1) / 2.0) * inflation
            sigma = np.fmax(sigma, np.nan_to_num(spread, nan=0.0))
        floor = 1e-9 * np.fmax(np.abs(level), 1e-12)
        return np.where(np.isfinite(sigma), np.fmax(sigma, floor), np.nan)


@dataclass(frozen=True)
class _VifRows:
    """Variance inflation of a block mean of scores: day-level noise makes consecutive scores move together,
    and a CUSUM that ignores it raises false drift alarms. Estimated from cycle-over-cycle differences in the
    window, and from the block means of recent scores once there are a week of them; between 1 and ``refit``.
    ``arrays``: the rows whose spreads it reads (``rowstats.vif_rows`` of the differences and, standardised, of
    the recent scores)."""

    arrays: list[np.ndarray]
    m: int
    has_means: bool
    measured: bool
    has_recent: bool

    @classmethod
    def of(cls, state: ScanState, s: ScanSettings, cycle_diff: np.ndarray, t0: int) -> _VifRows:
        lo = max(0, t0 - s.vif_steps, state.model_from)
        measured = t0 - lo >= 7 * s.refit and s.refit > 1
        means = block_means(cycle_diff, s.refit)
        recent = block_means(state.history.scores[:, lo:t0], s.refit) if measured else None
        arrays = ([] if means is None else [means, cycle_diff]) + ([] if recent is None else [recent])
        return cls(arrays, cycle_diff.shape[0], means is not None, measured, recent is not None)

    def vif(self, s: ScanSettings, spreads: list[np.ndarray]) -> np.ndarray:
        """The inflation from the spreads of ``arrays``."""
        m = self.m
        vif = variance_inflation(s.refit, spreads[0], spreads[1]) if self.has_means else np.ones(m)
        if self.measured:
            vif = np.fmax(vif, variance_inflation(s.refit, spreads[-1], np.ones(m)) if self.has_recent else np.ones(m))
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
    lo, hi = max(0, t0 - s.ref_steps - s.lag, state.model_from), max(0, t0 - s.lag, state.model_from)
    half, day = 0.5 * s.config.block_h, state.day
    since = np.minimum(np.where(day.plus > half, day.zero_plus, t0), np.where(day.minus > half, day.zero_minus, t0))
    # the w-step means of the residuals and of the cycle differences, from sums carried along the scan (rows
    # m.. are the cycle differences: of the window's values where both are clean observations, but the last
    # ``lag`` steps; where the window could not be fitted there are none)
    m = since.shape[0]
    c0 = t0 - win.shape[1] + pmax
    lo_rows = np.concatenate([np.full(m, lo), np.full(m, c0)])
    hi_rows = np.concatenate([np.full(m, hi), np.full(m, max(t0 - s.lag, c0))])
    until = np.concatenate([since, hi_rows[m:]])
    spreads = _carried_spreads(state, s, t0, pmax)
    sd, n = spreads.spread(lo_rows, hi_rows, until=until)  # (windows x rows)
    sd_fc = np.where(n[:, :m] >= s.mean_min, sd[:, :m], np.nan)
    sd_in = sd[:, m:] / np.sqrt(2.0)
    sd_all = np.where(np.isfinite(sd_fc) & (sd_fc > 0), np.fmax(sd_fc, sd_in), np.nan)
    # overlapping w-step means over L steps carry about L / w independent ones
    thr_all = t_threshold(s.config.mean_z, n[:, :m] / np.array(s.mean_windows)[:, None])
    mean_sd, mean_thr = dict(zip(s.mean_windows, sd_all)), dict(zip(s.mean_windows, thr_all))
    return mean_sd, mean_thr


def _carried_spreads(state: ScanState, s: ScanSettings, t0: int, pmax: int) -> WindowSpreads:
    """The mean test's two series summed up to the refit at ``t0`` (``carried.WindowSpreads``; m rows each): the
    clipped forecast residuals, and the cycle-over-cycle differences of the values later fits see where both are
    clean observations."""
    m, n, h = state.values.shape[0], state.n, state.history
    spreads = state.carried.get("yardstick")
    if spreads is None:
        spreads = state.carried["yardstick"] = WindowSpreads(2 * m, n, s.mean_windows)
    if state.carried.get("cycle") != pmax:  # a longer period joined the model: other differences
        spreads.forget(slice(m, 2 * m))
        state.carried["cycle"] = pmax

    def values(a: int, b: int, rows: np.ndarray | None) -> np.ndarray:
        rows = np.arange(2 * m) if rows is None else rows
        series, cycle = rows % m, rows >= m
        out = h.clipped[series, a:b]
        a0 = max(a, pmax)
        if b > a0 and cycle.any():
            i = series[cycle]
            both = h.clean[i, a0:b] & h.clean[i, a0 - pmax:b - pmax]
            out[cycle, :a0 - a] = np.nan
            out[cycle, a0 - a:] = np.where(both, state.filled[i, a0:b] - state.filled[i, a0 - pmax:b - pmax], np.nan)
        elif cycle.any():
            out[cycle] = np.nan
        return out

    spreads.update(values, max(0, t0 - s.lag), np.concatenate([state.rewrites, state.rewrites]))
    return spreads
