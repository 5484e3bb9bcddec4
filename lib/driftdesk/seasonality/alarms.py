"""From a test that fired to a drift alarm: which test it was, where the change began, the levels before and
after it, whether it is big enough to matter or a return from the last episode, and a new level regime."""

from __future__ import annotations

import numpy as np

from driftdesk.seasonality.config import ScanSettings
from driftdesk.seasonality.rowstats import date_change
from driftdesk.seasonality.scales import from_working, relative_change, to_working
from driftdesk.seasonality.state import DRIFT, BlockFit, DriftAlarm, ScanState, Triggered


def handle_alarms(state: ScanState, fit: BlockFit, s: ScanSettings, t: int, trig: Triggered) -> None:
    """Every series whose tests fired at step t: date the change and measure it. Too small to matter (below
    ``min_drift``): the tests start again, no alarm. Otherwise a drift alarm, or a recovery when it returns to
    the level before the last alarm soon after; either way the level is re-estimated from the new regime only,
    so the flag does not linger."""
    for i in np.flatnonzero(trig.fire):
        trigger, start, direction = _which_test(state, fit, s, trig, i, t)
        start = max(start, int(state.regime[i]), 0)
        start, old_level = _date_and_old_level(state, s, i, t, start, trigger, direction)
        new_level = _new_level(state, i, start, t)
        state.rewrites[i] += 1
        _observations_from(state, i, start, t)
        if abs(relative_change(old_level, new_level, s.scale)) < s.config.min_drift:
            state.reset_tests(i, t)
            continue
        if np.isfinite(old_level) and np.isfinite(new_level):
            # later fits see the history before the change moved to the new level, so the step does not leak
            # into their seasonal component
            state.filled[i, :start] += new_level - old_level
        ep = state.episodes
        # measured on the working scale (logs: relative), so a series around zero needs no relative size
        tolerance = _tolerance(float(ep.last_old[i]), s)
        if ep.recovers(i, t, direction, new_level, tolerance=tolerance, within=s.recover_steps):
            # a passing episode (the batch view shows it from its start to here), not a drift alarm of its own
            ep.close(DriftAlarm(int(i), start, t, start - 1, direction, old_level, new_level, "recovery"))
        else:
            end = min(state.n - 1, t + s.hold - 1)
            ep.open(DriftAlarm(int(i), start, t, end, direction, old_level, new_level, trigger), s.hold)
            state.flag[i, t] = DRIFT
        _start_regime(state, i, start, t, new_level)


def _which_test(state: ScanState, fit: BlockFit, s: ScanSettings, trig: Triggered, i: int,
                t: int) -> tuple[str, int, int]:
    """(trigger, first step of the change, direction). The hourly CUSUM's word counts over the mean and day
    tests; a run of anomalies over all: each dates the change its own way (where the CUSUM last sat at zero,
    where the window that fired begins, the first anomaly of the run)."""
    cusum, day, h = state.cusum, state.day, s.config.block_h
    cusum_over = cusum.plus[i] > fit.cusum_h or cusum.minus[i] > fit.cusum_h
    if state.run.length[i] >= s.persist:
        return "run", int(state.run.start[i]), int(state.run.sign[i])
    if trig.mean_fire[i] and not cusum_over:
        start = int(trig.mean_start[i])
        total = state.history.all_sum[i, t + 1] - state.history.all_sum[i, start]
        return "mean", start, 1 if total > 0 else -1
    if trig.day_fire[i] and not cusum_over:
        up = day.plus[i] > h and (not trig.day_measured[i] or day.measured_plus[i] > h)
        return "day", int(day.zero_plus[i] if up else day.zero_minus[i]), 1 if up else -1
    if cusum.plus[i] > fit.cusum_h:
        return "cusum", int(cusum.zero_plus[i]) + 1, 1
    return "cusum", int(cusum.zero_minus[i]) + 1, -1


def _date_and_old_level(state: ScanState, s: ScanSettings, i: int, t: int, start: int, trigger: str,
                        direction: int) -> tuple[int, float]:
    """The change's start, re-dated by least squares on the deseasonalised values (a run of anomalies dates
    itself), and the level before it: the median of the regime's clean deseasonalised values before the start
    (the running level may have taken in part of the shift by now)."""
    lo = max(int(state.regime[i]), start - s.level_steps, 0)
    d = state.values[i, lo:t + 1] - state.seasonal[i, lo:t + 1]
    ok = state.history.clean[i, lo:t + 1] & np.isfinite(d)
    if trigger in ("cusum", "day", "mean") and t - start > 1:
        start = date_change(d, ok, start - lo, direction) + lo
    before = d[:start - lo][ok[:start - lo]]
    old_level = float(np.median(before)) if before.size >= s.refit else float(state.current_level[i])
    return start, old_level


def _new_level(state: ScanState, i: int, start: int, t: int) -> float:
    """The median of the deseasonalised observations since the change (the running level if there are none)."""
    sl = slice(start, t + 1)
    y, seas = state.values[i, sl], state.seasonal[i, sl]
    obs = np.isfinite(y) & ~state.calendar[i, sl]
    d = (y - seas)[obs & np.isfinite(seas)]
    return float(np.median(d)) if d.size else float(state.current_level[i])


def _observations_from(state: ScanState, i: int, start: int, t: int) -> None:
    """Since the change, every observation outside the calendar (anomalies too: they were the new level) feeds
    later fits, and its forecast residuals, made with the old level, leave the scale and the yardstick."""
    sl = slice(start, t + 1)
    y = state.values[i, sl]
    obs = np.isfinite(y) & ~state.calendar[i, sl]
    state.filled[i, sl] = np.where(obs, y, state.filled[i, sl])
    state.history.clean[i, sl] = obs
    state.history.forecast[i, sl] = np.nan
    state.history.clipped[i, sl] = np.nan


def _start_regime(state: ScanState, i: int, start: int, t: int, new_level: float) -> None:
    """A new level regime from ``start``: the tests start again after t on its scores only, and its level is
    re-estimated at every step of this block."""
    state.regime[i] = start
    state.reset_tests(i, t)
    state.history.scores[i, start:t + 1] = np.nan
    state.history.clipped_clean[i, start:t + 1] = np.nan
    state.tests_from[i] = t + 1
    state.run.length[i] = 0
    state.current_level[i] = new_level
    state.relevel[i] = True


def _tolerance(old_w: float, s: ScanSettings) -> float:
    """``min_drift`` of the level before the last alarm, as a distance on the working scale."""
    if s.log:
        return float(np.log1p(s.config.min_drift))
    if s.scale == "sqrt":
        old = float(from_working(np.float64(np.nan_to_num(old_w)), "sqrt"))
        return float(to_working(np.float64(max(old, 0.0) * (1 + s.config.min_drift)), "sqrt") - np.nan_to_num(old_w))
    return s.config.min_drift * abs(np.nan_to_num(old_w))
