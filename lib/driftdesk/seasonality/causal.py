"""The causal detector: each flag at time t uses only values at or before t.

For many equal-grid series at once (rows of a matrix). Once per block of steps (a day of hourly data, one step
of daily data) the decomposition is refit on the trailing window that ends where the block starts, with the
shared linear STL operator, and applied forward:

* expected value = level + seasonal forecast, where the seasonal forecast for step t is the fitted seasonal
  component one cycle earlier and the level is the median of the deseasonalised values of the last
  ``level_days`` (only since the last detected change);
* score = (value - expected) / scale, the scale a robust one (1.4826 x MAD) of recent forecast residuals,
  never below the in-sample residual scale of the fit;
* anomaly: |score| >= anomaly_z. Anomalies, calendar days and missing values are kept out of later fits
  (replaced by their expected value), so one spike does not bend the seasonal pattern;
* drift: the mean residual of the last 12 or 24 steps (3 or 7 on daily data; each clipped at ``clip_z``
  scales, hourly anomalies included) is far from zero against the spread of such means: as far as ``mean_z``
  standard deviations of a normal are, by Student's t with the degrees of freedom of that spread (measured on
  forecast residuals, so a day-level factor and seasonal misfit are in it; only on residuals older than
  ``mean_lag_days`` and from before the day-mean CUSUM last left zero, so a shift that is building up does not
  widen its own yardstick), a CUSUM of day means passes ``block_h`` (scaled both by
  the modelled within-day correlation and, once measured, by the spread of day means: both must agree), a
  two-sided CUSUM of the clipped scores (anomalies excluded) passes ``cusum_h``, or ``persist`` anomalies in a
  row with the same sign. The change is dated at the least-squares split of the deseasonalised values (searched
  from where the CUSUM last left zero or the window that fired begins); its size is the new regime's median
  against the median before that split (the running level may have taken in part of the shift by then). It is
  flagged ``drift`` for ``drift_hold`` steps from the alarm, and the level is re-estimated from the new regime
  only, so the flag does not linger. A change back to the level before the last alarm within ``recover_days``
  ends that episode without an alarm of its own.

The model grows with the history: the first fit comes after two cycles of the shortest period, a longer period
joins once two of its cycles are seen (every test and scale starts again then, ``state.model_from``, and the
simpler model's anomalies that recur one cycle of it apart feed the fits again: they were that cycle; before it
joins, an anomaly that repeats one a cycle earlier is flagged normal), and the drift tests run only once every
period has joined (before, a weekend could not be told from a level shift). With
no period at all the forecast is the level alone (a robust level model).

The code follows those parts: ``config.scan_settings`` turns the thresholds into steps, ``state.ScanState``
holds what evolves along the scan, and ``causal_scan`` below runs, block by block, ``block_fit`` (the refit),
then the block's steps, and ``alarms`` (a change called) where a test fires.

``scan_step`` is the scan's plain definition, one step at a time (score, record, test). Within a block the fit
is fixed, so ``scan_block`` does the same for a stretch of steps at once (scores, records, the running sums, the
runs of anomalies, the CUSUMs and the mean test, as arrays over series x steps), up to the first step at which
any test may fire (else the block's last, where the day test runs); that step's tests and alarms run as in the
step path, and the next stretch starts after it. Alarms are rare, so most blocks are one stretch. The outputs
are the step path's bit for bit (``_per_step=True`` runs the step path; daily data, one step per block, always
does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from driftdesk.seasonality.alarms import handle_alarms
from driftdesk.seasonality.block_fit import fit_block
from driftdesk.seasonality.config import DetectConfig, ScanSettings, scan_settings
from driftdesk.seasonality.scan_block import (
    levels_stretch,
    may_fire,
    observe_stretch,
    record_stretch,
    sequential_stretch,
)
from driftdesk.seasonality.scan_step import observe, record, relevel, run_tests, update_cusum, update_run
from driftdesk.seasonality.state import ANOMALY, NORMAL, BlockFit, CausalScan, ScanState

__all__ = ["CausalScan", "DetectConfig", "causal_scan"]

# a block in which tests fired at more steps than this sends the next one step by step: each such step ends a
# stretch, and the steps after it are scored again (with many series, tests fire somewhere most hours)
BUSY_BLOCK = 1


def causal_scan(values: np.ndarray, calendar: np.ndarray | None, *, step: dt.timedelta, periods: Sequence[int],
                config: DetectConfig, log: bool = False, scale: str | None = None,
                _per_step: bool = False) -> CausalScan:
    """Run the causal detector over the rows of ``values`` (m x n, NaN = missing) on a shared grid.

    Block by block (a day of hourly data): refit, then score, record and test the block's steps and handle the
    alarms. Nothing at step t reads anything after t. ``_per_step``: one step at a time (the same outputs, for
    tests)."""
    y = np.atleast_2d(np.asarray(values, dtype=float))
    cal = np.zeros(y.shape, dtype=bool) if calendar is None else np.atleast_2d(np.asarray(calendar, dtype=bool))
    s = scan_settings(config, step=step, periods=periods, log=log, scale=scale)
    state = ScanState.start(y, cal)
    busy = False
    for t0 in range(0, state.n, s.refit):
        t1 = min(state.n, t0 + s.refit)
        if s.in_warmup(t0):
            _warm_up(state, t0, t1)
        else:
            busy = _scan_block(state, s, t0, t1, per_step=_per_step or busy) > BUSY_BLOCK
    _recurring_not_anomalies(state, s)
    return CausalScan(state.level, state.seasonal, state.score, state.flag, state.filled, state.episodes.alarms,
                      state.periods_used, state.sigma)


def recurs(y: np.ndarray, y_then: np.ndarray, expected_then: np.ndarray, sig: np.ndarray, anomaly_z: float,
           clip_z: float) -> np.ndarray:
    """Whether value ``y`` repeats the deviation of ``y_then``, one cycle of a longer period earlier, from what a
    simpler model expected then (``expected_then``): the cycle that model does not know yet. Both values are off
    that expectation the same way by at least ``clip_z`` x ``sig`` (no ordinary noise), and within ``anomaly_z``
    of each other in units of the scale of such a difference (sqrt(2) x ``sig``: two noisy values). Both are
    measured against the earlier expectation, so a model whose level moved in between does not hide the
    repeat. A deviation seen in one cycle only (a spike, a value back to normal a cycle later) does not recur."""
    r, r_then = y - expected_then, y_then - expected_then
    with np.errstate(invalid="ignore"):
        return ((np.abs(y - y_then) < anomaly_z * np.sqrt(2.0) * sig) & (r * r_then > 0)
                & (np.abs(r) >= clip_z * sig) & (np.abs(r_then) >= clip_z * sig))


def _warm_up(state: ScanState, t0: int, t1: int) -> None:
    """Before two cycles of the longest period there is nothing to compare with: observations outside the
    calendar are only kept for the first fit (flags normal, scores missing)."""
    obs = np.isfinite(state.values[:, t0:t1]) & ~state.calendar[:, t0:t1]
    state.filled[:, t0:t1] = np.where(obs, state.values[:, t0:t1], np.nan)
    state.history.clean[:, t0:t1] = obs


def _new_model(state: ScanState, active: tuple[int, ...], t0: int, anomaly_z: float, clip_z: float) -> None:
    """A longer period joins the model at ``t0`` (or the first model starts): every test starts again there.

    The simpler model's anomalies were left out of its fits (replaced by expected values). Those whose
    deviation recurs one cycle of the joining period earlier or later are that cycle (a deep weekend against a
    daily-only fit): the new model's fits see them again. A fit that never saw them would forecast a weekday for
    the next weekend, whose first hours would be anomalies, and be left out, again, week after week. A deviation
    seen in one cycle only (a spike, a level shift the drift tests could not call yet) stays out."""
    if state.active:
        joining = [p for p in active if p not in state.active]
        _recurring_back(state, joining, state.model_from, t0, anomaly_z, clip_z)
    state.active, state.model_from = active, t0
    for i in range(state.values.shape[0]):
        state.reset_tests(i, t0 - 1)
    state.tests_from = np.maximum(state.tests_from, t0)


def _recurring_back(state: ScanState, joining: list[int], t_from: int, t0: int, anomaly_z: float,
                    clip_z: float) -> None:
    """Give back to the fits the observations in [t_from, t0) that were left out as anomalies and that recur
    (``recurs``) one cycle of a ``joining`` period apart, either way round: the later value repeats the
    earlier one's deviation from what the simpler model expected then. The scale is the smaller of the two
    steps' (the simpler model's grows as the longer cycle shows in its residuals)."""
    sl = slice(t_from, t0)
    y = state.values[:, sl]
    obs = np.isfinite(y) & ~state.calendar[:, sl]
    left_out = obs & ~state.history.clean[:, sl]
    if not left_out.any():
        return
    sigma = state.sigma[:, sl]
    expected = state.level[:, sl] + state.seasonal[:, sl]
    back = np.zeros_like(left_out)
    for p in joining:
        if p >= t0 - t_from:
            continue
        sig = np.fmin(sigma[:, p:], sigma[:, :-p])
        near = obs[:, p:] & obs[:, :-p] & recurs(y[:, p:], y[:, :-p], expected[:, :-p], sig, anomaly_z, clip_z)
        back[:, p:] |= near
        back[:, :-p] |= near
    back &= left_out
    state.filled[:, sl] = np.where(back, y, state.filled[:, sl])
    state.history.clean[:, sl] |= back
    state.rewrites[back.any(axis=1)] += 1  # sums carried from refit to refit over this history start again


def _recurring_not_anomalies(state: ScanState, s: ScanSettings) -> None:
    """Before a longer period has joined the model, an anomaly that repeats (``recurs``) the deviation one
    cycle of it earlier from what the simpler model expected then is that cycle showing (the second deep weekend
    against a daily-only fit), not an anomaly: it is flagged normal. It stays out of the simpler model's fits, as every
    anomaly does, and is given back to them when the period joins (``_recurring_back``, the same rule). The
    first cycle cannot be told from anomalies. Each flag reads the step and the one a cycle earlier only."""
    used, y = state.periods_used, state.values
    for p in s.periods:
        t = np.flatnonzero((used > 0) & (used < p))
        t = t[t >= p]
        if not t.size:
            continue
        flag = state.flag[:, t]
        anomaly = flag == ANOMALY
        if not anomaly.any():
            continue
        then = t - p
        expected_then = state.level[:, then] + state.seasonal[:, then]
        sig = np.fmin(state.sigma[:, t], state.sigma[:, then])
        seen = np.isfinite(y[:, then]) & ~state.calendar[:, then]
        cfg = s.config
        rec = anomaly & seen & recurs(y[:, t], y[:, then], expected_then, sig, cfg.anomaly_z, cfg.clip_z)
        state.flag[:, t] = np.where(rec, NORMAL, flag)


def _scan_block(state: ScanState, s: ScanSettings, t0: int, t1: int, *, per_step: bool = False) -> int:
    """One block: refit at its start, then its steps scored against that fit. Returns at how many steps a test
    fired."""
    active = s.active_periods(t0)
    if active != state.active or t0 == s.warmup:
        _new_model(state, active, t0, s.config.anomaly_z, s.config.clip_z)
    fit = fit_block(state, s, t0)
    state.periods_used[t0:t1] = active[-1] if active else 1
    state.current_level = fit.level.copy()
    state.relevel[:] = False
    state.sigma[:, t0:t1] = fit.sigma[:, None]
    state.seasonal[:, t0:t1] = fit.forecast[:, :t1 - t0]
    t, fired = t0, 0
    while t < t1:
        if per_step or s.coarse:
            fired += _step(state, fit, s, t, t0, t1)
            t += 1
        else:
            t, fire = _stretch(state, fit, s, t, t0, t1)
            fired, t = fired + fire, t + 1
    return fired


def _step(state: ScanState, fit: BlockFit, s: ScanSettings, t: int, t0: int, t1: int) -> bool:
    """Step t alone: re-level a new regime, score, record, update the run and the CUSUMs, test, handle alarms.
    Returns whether a test fired."""
    relevel(state, t)
    obs = observe(state, fit, s, t, t - t0)
    record(state, fit, s, obs, t)
    update_run(state, obs, t)
    update_cusum(state, fit, s, obs, t)
    trig = run_tests(state, fit, s, t, t0, t1)
    handle_alarms(state, fit, s, t, trig)
    return bool(trig.fire.any())


def _stretch(state: ScanState, fit: BlockFit, s: ScanSettings, a: int, t0: int, t1: int) -> tuple[int, bool]:
    """Steps a.. of the block at once: score and record the rest of the block, find the first step at which a
    test may call a change (else the block's last, where the day test runs), leave the level, the run and the
    CUSUMs as they are after it, and run its tests and alarms as ``_step`` does. The steps recorded after it are
    recorded again from the state it leaves. Returns that step and whether a test fired there."""
    level = levels_stretch(state, fit, s, a, t0, t1)
    obs = observe_stretch(state, fit, s, level, a, t0, t1)
    record_stretch(state, fit, s, obs, level, a)
    seq = sequential_stretch(state, fit, s, obs, a)
    fire, mean = may_fire(state, fit, s, seq, a)
    hits = np.flatnonzero(fire)
    j = int(hits[0]) if hits.size else t1 - 1 - a
    state.current_level = level[:, j].copy()
    seq.commit(state, j)
    mean_j = None if mean is None else (mean[0][:, j], mean[1][:, j])
    trig = run_tests(state, fit, s, a + j, t0, t1, mean_j)
    handle_alarms(state, fit, s, a + j, trig)
    return a + j, bool(trig.fire.any())
