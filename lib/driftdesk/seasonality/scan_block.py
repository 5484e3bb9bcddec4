"""A stretch of steps of the causal scan at once: within a block the fit is fixed, so every step of a stretch is
scored, recorded and tested in a few array operations over (series x steps) instead of one pass per step.

Each function does what its namesake in ``scan_step`` does for one step, for the steps ``a, a+1, ...`` of one
block, with the same arithmetic in the same order (the outputs are the same bit for bit): the running sums
are one ``np.add.accumulate`` that starts from the sum before the stretch, the CUSUM recursion is solved by
iterating it on the whole stretch until nothing changes (after k rounds its first k steps are exact, so it
stops at the one solution, in a round or two more than the longest excursion from zero), and a run of
anomalies is counted from where its sign last changed. ``causal._stretch`` commits a stretch up to the first
step at which any test may call a change and runs that step's tests and alarms as the step path does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftdesk.seasonality.config import ScanSettings
from driftdesk.seasonality.rowstats import finite_or_zero, median_1d
from driftdesk.seasonality.scan_step import mean_test
from driftdesk.seasonality.state import ANOMALY, DRIFT, NORMAL, BlockFit, Observation, ScanState

# rounds of the CUSUMs' iteration over a whole stretch; a CUSUM away from zero for longer (each round settles one
# more step of an excursion) is then run step by step
ROUNDS = 3


@dataclass(frozen=True)
class Stretch:
    """The sequential state after each step of a stretch (m x steps): the run of anomalies and the CUSUMs."""

    run_length: np.ndarray
    run_sign: np.ndarray
    run_start: np.ndarray
    plus: np.ndarray
    minus: np.ndarray
    zero_plus: np.ndarray
    zero_minus: np.ndarray

    def commit(self, state: ScanState, j: int) -> None:
        """Leave the state as it is after the stretch's j-th step."""
        run, c = state.run, state.cusum
        run.length, run.sign, run.start = self.run_length[:, j].copy(), self.run_sign[:, j].copy(), \
            self.run_start[:, j].copy()
        c.plus, c.minus = self.plus[:, j].copy(), self.minus[:, j].copy()
        c.zero_plus, c.zero_minus = self.zero_plus[:, j].copy(), self.zero_minus[:, j].copy()


def levels_stretch(state: ScanState, fit: BlockFit, s: ScanSettings, a: int, t0: int, t1: int) -> np.ndarray:
    """The running level at steps a..t1-1 (m x steps): the block's, but a regime that began in this block is
    re-levelled at every step as ``scan_step.relevel`` does (the median of its clean deseasonalised values
    before the step). Whether a step is clean depends on the level it was scored against, so that takes a short
    loop over those steps, for those series only."""
    level = np.repeat(state.current_level[:, None], t1 - a, axis=1)
    y, seas, cal, clean = state.values, state.seasonal, state.calendar, state.history.clean
    for i in np.flatnonzero(state.relevel):
        d = y[i, state.regime[i]:a] - seas[i, state.regime[i]:a]
        seen = list(d[clean[i, state.regime[i]:a] & np.isfinite(d)])
        current = state.current_level[i]
        for t in range(a, t1):
            if seen:
                current = median_1d(np.array(seen))
            level[i, t - a] = current
            z = (y[i, t] - (current + fit.forecast[i, t - t0])) / fit.sigma[i]
            calm = np.isfinite(y[i, t]) and np.isfinite(z) and not cal[i, t] and not abs(z) >= s.config.anomaly_z
            if calm and np.isfinite(y[i, t] - seas[i, t]):
                seen.append(y[i, t] - seas[i, t])
    return level


def observe_stretch(state: ScanState, fit: BlockFit, s: ScanSettings, level: np.ndarray, a: int, t0: int,
                    t1: int) -> Observation:
    """``scan_step.observe`` of steps a..t1-1 of the block that starts at t0, against the levels ``level``."""
    expected = level + fit.forecast[:, a - t0:t1 - t0]
    yt = state.values[:, a:t1]
    z = (yt - expected) / fit.sigma[:, None]
    scored = np.isfinite(yt) & np.isfinite(z) & ~state.calendar[:, a:t1]
    anomaly = scored & (np.abs(z) >= s.config.anomaly_z)
    return Observation(yt, expected, z, scored, anomaly, scored & ~anomaly)


def record_stretch(state: ScanState, fit: BlockFit, s: ScanSettings, obs: Observation, level: np.ndarray,
                   a: int) -> None:
    """``scan_step.record`` of the steps from a on (the running sums accumulated in step order)."""
    h, calm = state.history, obs.calm
    sl, cum = slice(a, a + calm.shape[1]), slice(a + 1, a + 1 + calm.shape[1])
    state.level[:, sl] = level
    state.score[:, sl] = np.where(np.isfinite(obs.value), obs.z, np.nan)
    holding = np.arange(sl.start, sl.stop)[None, :] < state.episodes.hold_until[:, None]
    state.flag[:, sl] = np.where(holding, DRIFT, np.where(obs.anomaly, ANOMALY, NORMAL))
    state.filled[:, sl] = np.where(calm, obs.value, np.where(np.isfinite(obs.expected), obs.expected, np.nan))
    h.clean[:, sl] = calm
    h.forecast[:, sl] = np.where(calm, obs.value - obs.expected, np.nan)
    h.scores[:, sl] = np.where(calm, obs.z, np.nan)
    bound = s.config.clip_z * fit.sigma[:, None]
    # np.clip's numbers (the bounds straddle zero), without its per-call overhead
    rcl = np.minimum(np.maximum(finite_or_zero(obs.value - obs.expected), -s.config.clip_z * fit.sigma[:, None]), bound)
    counted = obs.scored & np.isfinite(rcl)
    h.clipped[:, sl] = np.where(counted, rcl, np.nan)
    for total, add in ((h.calm_count, calm), (h.all_sum, np.where(counted, rcl, 0.0)), (h.all_count, counted),
                       (h.calm_sum, np.where(calm & counted, rcl, 0.0))):
        total[:, cum] = np.add.accumulate(np.concatenate([total[:, a:a + 1], add], axis=1), axis=1)[:, 1:]
    h.clipped_clean[:, sl] = np.where(calm, rcl, np.nan)


def sequential_stretch(state: ScanState, fit: BlockFit, s: ScanSettings, obs: Observation, a: int) -> Stretch:
    """``scan_step.update_run`` and ``update_cusum`` after each step of the stretch (the state is not changed)."""
    return Stretch(*_runs(state, obs, a), *_cusums(state, fit, s, obs, a))


def _runs(state: ScanState, obs: Observation, a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A scored step sets the run's key (the anomaly's sign, 0 for a normal point), an unscored one keeps it; an
    anomaly continues the run when the key before it has its sign, and the run's length is its anomalies since
    the key last changed (plus the run carried into the stretch)."""
    run = state.run
    m, n = obs.z.shape
    cols = np.arange(n + 1)
    key = np.concatenate([np.where(run.length > 0, run.sign, 0.0)[:, None],
                          np.where(obs.anomaly, np.sign(obs.z), 0.0)], axis=1)
    scored = np.concatenate([np.ones((m, 1), dtype=bool), obs.scored], axis=1)
    anomaly = np.concatenate([np.zeros((m, 1), dtype=bool), obs.anomaly], axis=1)
    rows = np.arange(m)[:, None]
    held = key[rows, np.maximum.accumulate(np.where(scored, cols, 0), axis=1)]
    change = np.concatenate([np.ones((m, 1), dtype=bool), held[:, 1:] != held[:, :-1]], axis=1)
    begins = np.maximum.accumulate(np.where(change, cols, 0), axis=1)
    weight = np.concatenate([run.length[:, None], anomaly[:, 1:].astype(np.int64)], axis=1)
    counted = np.cumsum(weight, axis=1)
    length = np.where(held != 0, counted - (counted - weight)[rows, begins], 0)
    started = np.maximum.accumulate(np.where(anomaly & change, cols, 0), axis=1)
    start = np.where(started > 0, a + started - 1, run.start[:, None])
    last = np.maximum.accumulate(np.where(anomaly, cols, 0), axis=1)
    sign = np.where(last > 0, key[rows, last], run.sign[:, None])
    return length[:, 1:], sign[:, 1:], start[:, 1:]


def _cusums(state: ScanState, fit: BlockFit, s: ScanSettings, obs: Observation,
            a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both CUSUMs after each step: S_t = max(0, S_{t-1} + x_t - k) at calm steps, S_{t-1} elsewhere, iterated
    on the whole stretch from S = 0 until it is its own update (the recursion's one solution); a row still
    moving after ``ROUNDS`` rounds is run step by step."""
    c, k, m = state.cusum, s.config.cusum_k, obs.z.shape[0]
    zc = np.minimum(np.maximum(finite_or_zero(obs.z), -s.config.clip_z), s.config.clip_z) / fit.root_vif[:, None]
    x = np.concatenate([zc, -zc])  # S - z is S + (-z) exactly
    calm = np.concatenate([obs.calm, obs.calm])
    out = np.zeros_like(x)
    before = np.empty_like(x)  # S_{t-1}: the CUSUM before the stretch, then the previous round's
    before[:, 0] = np.concatenate([c.plus, c.minus])
    for _ in range(ROUNDS):
        before[:, 1:] = out[:, :-1]
        new = np.where(calm, np.maximum(0.0, before + x - k), before)
        settled = (new == out).all(axis=1)
        out = new
        if settled.all():
            break
    else:  # a long excursion from zero: its rows step by step, the same arithmetic on Python floats
        for i in np.flatnonzero(~settled):
            out[i] = _cusum_row(float(before[i, 0]), x[i].tolist(), calm[i].tolist(), k)
    steps = np.arange(a, a + x.shape[1])
    zero = np.maximum.accumulate(np.where(calm & (out == 0), steps, -1), axis=1)
    zero = np.where(zero >= 0, zero, np.concatenate([c.zero_plus, c.zero_minus])[:, None])
    return out[:m], out[m:], zero[:m], zero[m:]


def _cusum_row(s: float, x: list[float], calm: list[bool], k: float) -> list[float]:
    """One CUSUM along a stretch: S_t = max(0, (S_{t-1} + x_t) - k) at calm steps, S_{t-1} elsewhere."""
    out = []
    for xt, ct in zip(x, calm):
        if ct:
            v = s + xt - k
            s = v if v > 0.0 else 0.0  # np.maximum(0.0, v): x is finite, and -0.0 gives 0.0
        out.append(s)
    return out


def may_fire(state: ScanState, fit: BlockFit, s: ScanSettings, seq: Stretch,
             a: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Per step of the stretch: could any series' tests (all but the end-of-day test) call a change there? The
    step path's ``run_tests`` decides; before the first such step none does. Also the mean test's answers
    (m x steps; None where no change may be called before every period has joined the model)."""
    n = seq.plus.shape[1]
    if state.active != s.periods:
        return np.zeros(n, dtype=bool), None
    steps = np.arange(a, a + n)
    mean = mean_test(state, fit, s, steps)
    fire = (seq.plus > fit.cusum_h) | (seq.minus > fit.cusum_h) | (seq.run_length >= s.persist) | mean[0]
    fire &= ~(steps[None, :] < state.episodes.hold_until[:, None])
    return fire.any(axis=0), mean
