"""The data of the causal scan, grouped by the part of the algorithm that owns it; the functions that move it
along live in ``block_fit`` (the refit at each block's start), ``scan_step`` (score, record, test one step),
``scan_block`` (the same for a stretch of steps at once) and ``alarms`` (a change called), and
``causal.causal_scan`` runs them.

``ScanState`` is what evolves from one step to the next (m series on a shared grid of n steps); the step
functions update only the parts named in their docstrings, and everything a flag at step t depends on was
written at or before t. ``BlockFit`` (one block's fit), ``Observation`` (one step, or a stretch, scored) and
``Triggered`` (which tests called a change) are the frozen values passed between those functions;
``CausalScan`` is what the scan returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NORMAL, ANOMALY, DRIFT = 0, 1, 2
FLAG_NAMES = ("normal", "anomaly", "drift")


@dataclass
class DriftAlarm:
    """A change called in one series; levels on the working scale (logs for a series modelled on the log scale)."""

    series: int
    start: int  # first step of the change (estimated)
    alarm: int  # step at which it was confirmed
    end: int  # last step flagged drift
    direction: int
    old_level: float
    new_level: float
    trigger: str = ""  # which test fired: cusum, mean, day (block CUSUM), run (anomalies in a row)
    # or ``recovery`` (a return to the level before the last alarm: ends that episode, raises no alarm)


@dataclass
class TwoSidedCusum:
    """Upper and lower CUSUM per series, and the step each last sat at zero (where the change it signals began)."""

    plus: np.ndarray
    minus: np.ndarray
    zero_plus: np.ndarray
    zero_minus: np.ndarray

    @classmethod
    def start(cls, m: int, zero_at: int) -> TwoSidedCusum:
        return cls(np.zeros(m), np.zeros(m), np.full(m, zero_at, dtype=np.int64), np.full(m, zero_at, dtype=np.int64))

    def reset(self, i: int, zero_at: int) -> None:
        self.plus[i] = self.minus[i] = 0.0
        self.zero_plus[i] = self.zero_minus[i] = zero_at

    def over(self, h: float) -> np.ndarray:
        return (self.plus > h) | (self.minus > h)


@dataclass
class DayCusum(TwoSidedCusum):
    """The CUSUM of day means of scores (slow, small sustained shifts; zeros are the first step of the next
    day), beside the same CUSUM on day means scaled by their measured spread (``measured_*``)."""

    measured_plus: np.ndarray
    measured_minus: np.ndarray

    @classmethod
    def start(cls, m: int, zero_at: int) -> DayCusum:
        zeros = np.full(m, zero_at, dtype=np.int64)
        return cls(np.zeros(m), np.zeros(m), zeros, zeros.copy(), np.zeros(m), np.zeros(m))

    def reset(self, i: int, zero_at: int) -> None:
        super().reset(i, zero_at)
        self.measured_plus[i] = self.measured_minus[i] = 0.0


@dataclass
class AnomalyRun:
    """The current run of anomalies with one sign, per series: ``persist`` of them in a row are a change."""

    length: np.ndarray
    sign: np.ndarray
    start: np.ndarray

    @classmethod
    def none(cls, m: int) -> AnomalyRun:
        return cls(np.zeros(m, dtype=np.int64), np.zeros(m), np.zeros(m, dtype=np.int64))


@dataclass
class Episodes:
    """The drift alarms raised so far, and per series the last one (step, levels before and after, direction):
    a move back to the level before it soon after is a recovery that ends the episode, not a new drift."""

    alarms: list[DriftAlarm]
    last_alarm: np.ndarray
    last_old: np.ndarray
    last_new: np.ndarray
    last_dir: np.ndarray
    hold_until: np.ndarray  # the drift flag holds before this step

    @classmethod
    def none(cls, m: int) -> Episodes:
        return cls([], np.full(m, -(10 ** 12), dtype=np.int64), np.full(m, np.nan), np.full(m, np.nan),
                   np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64))

    def recovers(self, i: int, t: int, direction: int, new_level: float, *, tolerance: float, within: int) -> bool:
        """Series i moved back, within ``within`` steps of its last alarm, to closer to the level before it than
        half that change (or ``tolerance``): the first hours of a new level are a noisy median, so an exact
        return is too much to ask."""
        return bool(direction == -self.last_dir[i] and t - self.last_alarm[i] <= within
                    and abs(new_level - self.last_old[i])
                    < max(tolerance, 0.5 * abs(self.last_new[i] - self.last_old[i])))

    def open(self, alarm: DriftAlarm, hold: int) -> None:
        """A drift alarm: its flag holds for ``hold`` steps, and it is the one a return would end."""
        i = alarm.series
        self.alarms.append(alarm)
        self.hold_until[i] = alarm.alarm + hold
        self.last_alarm[i], self.last_old[i], self.last_new[i] = alarm.alarm, alarm.old_level, alarm.new_level
        self.last_dir[i] = alarm.direction

    def close(self, recovery: DriftAlarm) -> None:
        """A return to the level before the last alarm: that episode ends here, no alarm of its own."""
        self.alarms.append(recovery)
        self.last_dir[recovery.series] = 0


@dataclass
class History:
    """Per series and step (m x n), what later fits and tests read back.

    ``clean``: an observed value outside the calendar that is no anomaly (it feeds later fits and levels);
    ``forecast``: forecast residuals of clean points (the score's scale); ``scores``: scores of clean points
    (the within-day correlation, the day CUSUM); ``clipped``: forecast residuals of every observed point outside
    the calendar, clipped at ``clip_z`` scales (the mean test's yardstick); ``clipped_clean``: those of clean
    points (day means). The running sums (m x n+1) give the mean of any stretch in two look-ups: ``all_*`` over
    the clipped residuals, ``calm_*`` over the clean points."""

    clean: np.ndarray
    forecast: np.ndarray
    scores: np.ndarray
    clipped: np.ndarray
    clipped_clean: np.ndarray
    all_sum: np.ndarray
    all_count: np.ndarray
    calm_sum: np.ndarray
    calm_count: np.ndarray

    @classmethod
    def empty(cls, m: int, n: int) -> History:
        def nan() -> np.ndarray:
            return np.full((m, n), np.nan)

        return cls(np.zeros((m, n), dtype=bool), nan(), nan(), nan(), nan(),
                   *(np.zeros((m, n + 1)) for _ in range(4)))


@dataclass
class ScanState:
    """Everything that evolves along a causal scan of m series over n steps.

    ``values`` and ``calendar`` are the input (never written). The outputs (m x n) are filled step by step:
    ``level``, ``seasonal`` (the forecast made before the step was seen), ``score``, ``flag``, ``sigma`` (the
    score's scale), ``filled`` (the series later fits see: observations, expected values where a point was no
    clean observation) and ``periods_used`` (n: the longest period of the fit, 0 in the warm-up).
    Per series: ``current_level`` (the running level), ``regime`` (first step of the current level regime),
    ``tests_from`` (the first step the mean test may reach back to: none before the last handled change),
    ``relevel`` (a change was handled in this block: the new regime's level is re-estimated at every step),
    ``rewrites`` (how many times a handled change rewrote the series' history: sums carried from one refit to the
    next, ``carried``, start again for it)."""

    values: np.ndarray
    calendar: np.ndarray
    level: np.ndarray
    seasonal: np.ndarray
    score: np.ndarray
    flag: np.ndarray
    sigma: np.ndarray
    filled: np.ndarray
    periods_used: np.ndarray
    history: History
    current_level: np.ndarray
    regime: np.ndarray
    tests_from: np.ndarray
    relevel: np.ndarray
    rewrites: np.ndarray
    cusum: TwoSidedCusum
    day: DayCusum
    run: AnomalyRun
    episodes: Episodes
    # the periods the fits use, and the step they began to: a longer period joining the model starts the
    # tests' and scales' history again (residuals of the simpler model are no yardstick for the new one)
    active: tuple[int, ...] = ()
    model_from: int = 0
    carried: dict = field(default_factory=dict)  # what the refits carry from one to the next (``carried``)

    @classmethod
    def start(cls, values: np.ndarray, calendar: np.ndarray) -> ScanState:
        m, n = values.shape

        def nan() -> np.ndarray:
            return np.full((m, n), np.nan)

        return cls(values=values, calendar=calendar, level=nan(), seasonal=nan(), score=nan(),
                   flag=np.zeros((m, n), dtype=np.int8), sigma=nan(), filled=nan(),
                   periods_used=np.zeros(n, dtype=np.int64), history=History.empty(m, n),
                   current_level=np.full(m, np.nan), regime=np.zeros(m, dtype=np.int64),
                   tests_from=np.zeros(m, dtype=np.int64), relevel=np.zeros(m, dtype=bool),
                   rewrites=np.zeros(m, dtype=np.int64),
                   cusum=TwoSidedCusum.start(m, -1), day=DayCusum.start(m, 0), run=AnomalyRun.none(m),
                   episodes=Episodes.none(m))

    @property
    def n(self) -> int:
        return self.values.shape[1]

    def reset_tests(self, i: int, t: int) -> None:
        """Start every CUSUM of series i again after step t (a change was handled there)."""
        self.cusum.reset(i, t)
        self.day.reset(i, t + 1)


@dataclass(frozen=True)
class BlockFit:
    """The fit one block of steps is scored with (per series unless noted)."""

    forecast: np.ndarray  # (m, refit): seasonal forecast of the block's steps
    level: np.ndarray  # the level at the block's start (NaN where the window could not be fitted)
    sigma: np.ndarray  # the score's scale
    vif: np.ndarray  # variance inflation of a day mean of scores (within-day correlation)
    root_vif: np.ndarray  # its square root: scores are divided by it before the hourly CUSUM
    seasoned: bool  # a week of forecast residuals has measured that correlation: the day test may run
    cusum_h: float  # the hourly CUSUM's threshold (higher before the correlation is measured)
    mean_sd: dict[int, np.ndarray]  # per mean window w: the measured spread of w-step mean residuals
    mean_thr: dict[int, np.ndarray]  # per mean window w: the threshold for the mean over that spread

    @property
    def day_sd(self) -> np.ndarray | None:
        """The spread of the longest mean (a day's): the error of a young regime's level is on top of it."""
        return self.mean_sd[max(self.mean_sd)] if self.mean_sd else None


@dataclass(frozen=True)
class Observation:
    """Step t of every series against the fit: value, expected value and score, and which points count."""

    value: np.ndarray
    expected: np.ndarray
    z: np.ndarray
    scored: np.ndarray  # observed, with a finite score, outside the calendar
    anomaly: np.ndarray  # scored and beyond anomaly_z
    calm: np.ndarray  # scored and no anomaly: feeds later fits, levels and the CUSUMs


@dataclass(frozen=True)
class Triggered:
    """Which tests call a change at step t, per series, and where the mean test dates its start."""

    fire: np.ndarray
    mean_fire: np.ndarray
    mean_start: np.ndarray
    day_fire: np.ndarray
    day_measured: np.ndarray  # the day spread was measured, so the measured day CUSUM had a say


@dataclass
class CausalScan:
    """Per-step arrays (m x n) and the drift alarms of a causal scan."""

    level: np.ndarray
    seasonal: np.ndarray
    score: np.ndarray
    flag: np.ndarray
    filled: np.ndarray
    alarms: list[DriftAlarm] = field(default_factory=list)
    periods_used: np.ndarray | None = None  # per step: the longest period used by the fit (0 = warm-up)
    sigma: np.ndarray | None = None  # the score's scale at each step (m x n)
