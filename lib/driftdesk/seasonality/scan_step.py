"""One step of the causal scan for every series at once: score the new values against the block's fit, record
them, and run the tests that may call a change (a run of anomalies, the hourly CUSUM, the mean test and, at the
end of a whole day, the day-mean CUSUM). Raising the alarm itself is ``alarms.handle_alarms``."""

from __future__ import annotations

import numpy as np

from driftdesk.seasonality.config import ScanSettings
from driftdesk.seasonality.rowstats import finite_or_zero
from driftdesk.seasonality.state import ANOMALY, DRIFT, NORMAL, BlockFit, Observation, ScanState, Triggered


def relevel(state: ScanState, t: int) -> None:
    """Re-estimate the level of regimes that began in this block (median of their clean deseasonalised values
    so far): their level rests on few points and the block's fit predates them."""
    y, seas, clean = state.values, state.seasonal, state.history.clean
    for i in np.flatnonzero(state.relevel):
        sl = slice(state.regime[i], t)
        d = y[i, sl] - seas[i, sl]
        d = d[clean[i, sl] & np.isfinite(d)]
        if d.size:
            state.current_level[i] = float(np.median(d))


def observe(state: ScanState, fit: BlockFit, s: ScanSettings, t: int, j: int) -> Observation:
    """Score step t (the j-th of its block): (value - level - seasonal forecast) / scale."""
    expected = state.current_level + fit.forecast[:, j]
    yt = state.values[:, t]
    z = (yt - expected) / fit.sigma
    scored = np.isfinite(yt) & np.isfinite(z) & ~state.calendar[:, t]
    anomaly = scored & (np.abs(z) >= s.config.anomaly_z)
    return Observation(yt, expected, z, scored, anomaly, scored & ~anomaly)


def record(state: ScanState, fit: BlockFit, s: ScanSettings, obs: Observation, t: int) -> None:
    """Write step t's outputs and history: an anomaly, a calendar day or a missing value enters later fits as
    its expected value, so one spike does not bend the seasonal pattern. The flag holds ``drift`` while an
    alarm's hold lasts. The block's scale and seasonal forecast are written by ``causal._scan_block``."""
    h, calm = state.history, obs.calm
    state.level[:, t] = state.current_level
    state.score[:, t] = np.where(np.isfinite(obs.value), obs.z, np.nan)
    holding = t < state.episodes.hold_until
    state.flag[:, t] = np.where(holding, DRIFT, np.where(obs.anomaly, ANOMALY, NORMAL))
    state.filled[:, t] = np.where(calm, obs.value, np.where(np.isfinite(obs.expected), obs.expected, np.nan))
    h.clean[:, t] = calm
    h.forecast[:, t] = np.where(calm, obs.value - obs.expected, np.nan)
    h.scores[:, t] = np.where(calm, obs.z, np.nan)
    h.calm_count[:, t + 1] = h.calm_count[:, t] + calm
    rcl = np.clip(finite_or_zero(obs.value - obs.expected), -s.config.clip_z * fit.sigma, s.config.clip_z * fit.sigma)
    counted = obs.scored & np.isfinite(rcl)
    h.clipped[:, t] = np.where(counted, rcl, np.nan)
    h.all_sum[:, t + 1] = h.all_sum[:, t] + np.where(counted, rcl, 0.0)
    h.all_count[:, t + 1] = h.all_count[:, t] + counted
    h.calm_sum[:, t + 1] = h.calm_sum[:, t] + np.where(calm & counted, rcl, 0.0)
    h.clipped_clean[:, t] = np.where(calm, rcl, np.nan)


def update_run(state: ScanState, obs: Observation, t: int) -> None:
    """Extend or restart each series' run of same-sign anomalies; a scored normal point ends it."""
    run = state.run
    sign = np.sign(obs.z)
    cont = obs.anomaly & (run.length > 0) & (sign == run.sign)
    run.start = np.where(obs.anomaly & ~cont, t, run.start)
    run.length = np.where(obs.scored, np.where(obs.anomaly, np.where(cont, run.length + 1, 1), 0), run.length)
    run.sign = np.where(obs.anomaly, sign, run.sign)


def update_cusum(state: ScanState, fit: BlockFit, s: ScanSettings, obs: Observation, t: int) -> None:
    """The two-sided CUSUM of clipped scores of calm points, scaled down by the within-day correlation."""
    c, k = state.cusum, s.config.cusum_k
    zc = np.clip(finite_or_zero(obs.z), -s.config.clip_z, s.config.clip_z) / fit.root_vif
    c.plus = np.where(obs.calm, np.maximum(0.0, c.plus + zc - k), c.plus)
    c.minus = np.where(obs.calm, np.maximum(0.0, c.minus - zc - k), c.minus)
    c.zero_plus = np.where(obs.calm & (c.plus == 0), t, c.zero_plus)
    c.zero_minus = np.where(obs.calm & (c.minus == 0), t, c.zero_minus)


def mean_test(state: ScanState, fit: BlockFit, s: ScanSettings, t: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fires, start) per series: the mean clipped forecast residual of the last w steps (none before the last
    handled change) is beyond its threshold in units of its measured spread, and the mean over the calm points
    of that stretch is at least half way there with the same sign, so a spike of a few hours is an anomaly, not
    a level shift. A young regime's level is itself a short mean: its error widens the spread. The first
    ``refit`` steps after a change are not tested (its level rests on too few points).

    ``t`` may be an array of steps (the scan's block path tests a stretch of steps at once, the state of the
    regimes unchanged along it): the answers are then (m x len(t))."""
    steps = np.atleast_1d(t)[None, :]
    m = state.values.shape[0]
    fire, start = np.zeros((m, steps.shape[1]), dtype=bool), np.zeros((m, steps.shape[1]), dtype=np.int64)
    settled = steps - state.tests_from[:, None] >= s.refit
    if s.mean_windows and settled.any():
        h, rows, regime = state.history, np.arange(m)[:, None], state.regime[:, None]
        young = (regime > 0) & (steps - regime < s.level_steps)
        if young.any():
            age = np.maximum(steps - regime, 1).astype(float)
            level_var = np.where(young, fit.day_sd[:, None] ** 2 * np.maximum(1.0, max(s.mean_windows) / age), 0.0)
        else:  # adding zeros changes no spread
            level_var = 0.0
        at = steps[0] + 1
        all_count, all_sum = h.all_count[:, at], h.all_sum[:, at]
        with np.errstate(divide="ignore", invalid="ignore"):
            for w in s.mean_windows:
                lo = np.maximum(steps + 1 - w, state.tests_from[:, None])
                c_all = all_count - h.all_count[rows, lo]
                scale = np.sqrt(fit.mean_sd[w][:, None] ** 2 + level_var)
                stat = finite_or_zero((all_sum - h.all_sum[rows, lo]) / np.maximum(c_all, 1.0) / scale)
                thr = fit.mean_thr[w][:, None]
                beyond = (c_all >= 0.75 * w) & (np.abs(stat) > thr) & ~fire & settled
                if not beyond.any():  # nothing to corroborate: the calm points' mean is not needed
                    continue
                c_calm = h.calm_count[:, at] - h.calm_count[rows, lo]
                stat_calm = finite_or_zero((h.calm_sum[:, at] - h.calm_sum[rows, lo]) / np.maximum(c_calm, 1.0) / scale)
                corroborated = (c_calm > 0) & (stat * stat_calm > 0) & (np.abs(stat_calm) >= 0.5 * thr)
                hit = beyond & corroborated
                start = np.where(hit, lo, start)
                fire |= hit
    if np.ndim(t) == 0:
        return fire[:, 0], start[:, 0]
    return fire, start


def day_test(state: ScanState, fit: BlockFit, s: ScanSettings, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
    """At the end of a whole day (never a partial one: the result may not depend on where the data ends), add
    the day's mean score to the day CUSUMs: one scaled by the modelled within-day correlation, one (once the
    day spread is measured) by the measured spread of day means. Where both exist, both must pass ``block_h``:
    the modelled one alone misreads a day-level factor as drift now and then. Returns (fires, measured)."""
    day, cfg = state.day, s.config
    scores = state.history.scores[:, t0:t1]
    cnt = np.isfinite(scores).sum(axis=1)
    clipped = np.minimum(np.maximum(scores, -cfg.clip_z), cfg.clip_z)  # np.clip's numbers, NaN kept
    zb = np.where(cnt > 0, np.where(np.isnan(clipped), 0.0, clipped).sum(axis=1)  # np.nansum's
                  / np.sqrt(np.maximum(cnt, 1) * fit.vif), 0.0)
    active = cnt >= s.refit // 2
    day.plus = np.where(active, np.maximum(0.0, day.plus + zb - cfg.block_k), day.plus)
    day.minus = np.where(active, np.maximum(0.0, day.minus - zb - cfg.block_k), day.minus)
    day.zero_plus = np.where(active & (day.plus == 0), t1, day.zero_plus)
    day.zero_minus = np.where(active & (day.minus == 0), t1, day.zero_minus)
    if s.refit in fit.mean_sd:
        with np.errstate(divide="ignore", invalid="ignore"):
            day_clean = state.history.clipped_clean[:, t0:t1]
            zm = np.where(np.isnan(day_clean), 0.0, day_clean).sum(axis=1) / np.maximum(cnt, 1) / fit.mean_sd[s.refit]
        measured = np.isfinite(zm)
        zm = finite_or_zero(zm)
        day.measured_plus = np.where(active, np.maximum(0.0, day.measured_plus + zm - cfg.block_k), day.measured_plus)
        day.measured_minus = np.where(active, np.maximum(0.0, day.measured_minus - zm - cfg.block_k),
                                      day.measured_minus)
    else:
        measured = np.zeros(state.values.shape[0], dtype=bool)
    ok_plus = ~measured | (day.measured_plus > cfg.block_h)
    ok_minus = ~measured | (day.measured_minus > cfg.block_h)
    return ((day.plus > cfg.block_h) & ok_plus) | ((day.minus > cfg.block_h) & ok_minus), measured


def run_tests(state: ScanState, fit: BlockFit, s: ScanSettings, t: int, t0: int, t1: int,
              mean: tuple[np.ndarray, np.ndarray] | None = None) -> Triggered:
    """Every test at step t; a series whose drift flag still holds raises no new alarm, and none is raised
    before every period has joined the model. ``mean``: the mean test's answer at t, when the caller has it."""
    m = state.values.shape[0]
    holding = t < state.episodes.hold_until
    if state.active == s.periods and not holding.all():
        mean_fire, mean_start = mean_test(state, fit, s, t) if mean is None else mean
    else:  # nothing may fire: the mean test's answer would not be read
        mean_fire, mean_start = np.zeros(m, dtype=bool), np.zeros(m, dtype=np.int64)
    if t == t0 + s.refit - 1 and s.refit > 1 and fit.seasoned:
        day_fire, measured = day_test(state, fit, s, t0, t1)
    else:
        day_fire, measured = np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
    fire = state.cusum.over(fit.cusum_h) | (state.run.length >= s.persist) | mean_fire | day_fire
    fire &= ~holding
    # a level shift cannot be told from a longer cycle not yet in the model (a weekend against a daily-only
    # fit): until every period has joined, only anomalies are flagged
    fire &= state.active == s.periods
    return Triggered(fire, mean_fire, mean_start, day_fire, measured)
