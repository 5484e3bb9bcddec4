"""The causal detector's settings, twice: as a person sets them (``DetectConfig``: days, robust z-scores) and
turned into grid steps for one sampling interval and set of periods (``ScanSettings``), so the scan itself
never converts units."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from driftdesk.seasonality.grid import DAY

# the settings of the window test on scores, which the mean test replaced: printed with the configuration, as
# the test was off ("no window steps"), while consumers of the printed configuration move off them
RETIRED_SETTINGS = {"window_steps": (), "window_z": 5.0}


@dataclass(frozen=True)
class DetectConfig:
    """Thresholds of the detector. Scores are robust z-scores; steps are grid steps (hours on hourly data)."""

    anomaly_z: float = 5.0
    cusum_k: float = 0.75
    cusum_h: float = 18.0
    clip_z: float = 3.5
    # anomalies in a row, one side, that are a change (hourly model); on finer data also hours in a row, each
    # beyond anomaly_z, that are an anomaly though no point beats the record (``fine``)
    persist_steps: int = 6
    block_k: float = 0.5
    block_h: float = 5.0
    vif_days: float = 21.0
    # mean test: the mean forecast residual of the last 12 / 24 steps against the spread of such means measured
    # in the trailing window; needs mean_days of forecast residuals. mean_z is a normal equivalent: a two-sided
    # 4-sigma tail (6e-5 a test, a few hundred independent tests per series-year) once the spread is known;
    # while it rests on a few days or weeks of means the threshold is Student t's quantile at that tail, with one
    # degree of freedom per w steps measured: for day means 33 after three days, 8.5 after one week, 4.7 after
    # four, 4.3 after eight (half-day means: 9.8, 5.6, 4.3, 4.2). A luckily calm week does not make it fire, and
    # only a clear step is called on the few days of residuals right after the warm-up
    mean_steps: tuple[int, ...] = (12, 24)
    # the same test on daily (or coarser) data, where a refit block is one step: the mean of the last 3 and 7
    # steps, its yardstick from up to 26 cycles of residuals older than the longest window (a week of days)
    coarse_mean_steps: tuple[int, ...] = (3, 7)
    mean_z: float = 4.0
    mean_days: float = 3.0
    # the spread of means is measured on forecast residuals older than this, so a shift in the last day or two
    # does not widen its own yardstick (an RMS over a window that holds the shift grows with the shift)
    mean_lag_days: float = 2.0
    mean_ref_days: float = 56.0  # how far back that spread is measured (longer than the refit window: less luck)
    min_drift: float = 0.04  # a level change smaller than this (relative) is not called drift
    # a change back toward the level before the last alarm (within half that change, or min_drift), within this
    # many days of it, is a recovery: the episode ends there and no new alarm is raised (a gate would otherwise
    # fire twice on one dip)
    recover_days: float = 7.0
    drift_hold_steps: int = 12
    window_days: float = 28.0
    level_days: float = 7.0
    scale_days: float = 7.0
    in_sample_inflation: float = 1.25
    chain_days: float = 2.0
    break_days: float = 1.0
    jump: bool = True
    # degree of STL's seasonal smoother: 0 (locally constant, R's stl default) forecasts a weekly pattern from
    # a few cycles with about a third of the error of statsmodels' default 1, whose end-point line fit through 4
    # weekly values swings with each one (the 24-hour forecast error fell from 2.0% to 1.7% on the eval set)
    seasonal_deg: int = 0
    log: bool | str = "auto"  # model strictly positive series on the log scale
    # values are counts of events per step (tweets per 5 minutes, clicks per hour): their noise grows as the
    # square root of the level, so finer-than-hourly counts are modelled and their points judged on the
    # square-root scale. "auto": the warm-up's rows are non-negative whole numbers (before duplicates or a regridded
    # step's rows are combined: their mean is still a count); a measurement in whole units (latency in
    # milliseconds) looks the same, so say counts=False for one
    counts: bool | str = "auto"
    # alerts: a run of abnormal flags within episode_hours of the last one of its kind continues that episode
    # (no new alert); at most alert_budget new episodes alert per series in any 7 days (None: no budget)
    episode_hours: float = 6.0
    alert_budget: int | None = 7
    # data finer than the model's hours: a point (or an hour of points) is an anomaly only if its score also
    # beats the largest of the last record_days days (once 2 record_days + 1 days are seen, the second-largest
    # daily maximum of those); on a series with nothing in it that happens about once in record_days + 1 days,
    # whatever the shape of its noise
    record_days: float = 14.0
    # variance changes (``variance``): Page's CUSUM for a doubling of the noise's variance (on how often values
    # pass the reference's upper quartile) passes variance_h (log-likelihood units), against a reference of the
    # variance_ref_days before each day, once variance_min_days of it are seen
    variance_h: float = 20.0
    variance_ref_days: float = 14.0
    variance_min_days: float = 7.0

    def to_dict(self) -> dict:
        return {**dict(self.__dict__), **RETIRED_SETTINGS}


def steps_per_day(step: dt.timedelta) -> int:
    """Grid steps in a day: 24 for hourly data, 1 for daily or coarser."""
    return max(1, int(round(DAY / step))) if step < DAY else 1


def warmup_steps(periods: Sequence[int], step: dt.timedelta) -> int:
    """Steps before the first fit: two cycles of the shortest period (the model then has something to compare
    with; longer periods join as two of their cycles are seen); with no period (a level model) half a day of
    steps, at least a handful."""
    if periods:
        return 2 * min(periods)
    return max(LEVEL_WARMUP, steps_per_day(step) // 2)


LEVEL_WARMUP = 8


@dataclass(frozen=True)
class ScanSettings:
    """A ``DetectConfig`` in grid steps, for one sampling interval and set of periods (shortest first)."""

    config: DetectConfig
    periods: tuple[int, ...]
    log: bool  # values are logs: level changes are relative (exp of the difference)
    scale: str  # the working scale (scales.SCALES): how a level change is measured on the series' own scale
    day_steps: int  # steps in a day (1 on daily or coarser data)
    refit: int  # steps between refits: a day of sub-daily data, one step of daily data
    warmup: int  # steps before the first fit (no fit at all without a period)
    seasoned: int  # first step at which a week of forecast residuals has measured the within-day correlation
    window: int  # length of the trailing window each fit sees
    level_steps: int  # how far back the level's median reaches
    scale_steps: int  # how far back the scale of recent forecast residuals reaches
    persist: int  # anomalies in a row (same sign) that are a change
    hold: int  # steps the drift flag holds from an alarm
    recover_steps: int  # how soon after an alarm a return to the old level ends its episode
    vif_steps: int  # how far back the within-day correlation of recent scores is measured
    mean_windows: tuple[int, ...]  # lengths of the means the mean test compares
    mean_min: int  # forecast residuals the mean test's yardstick needs
    ref_steps: int  # how far back that yardstick reaches
    lag: int  # the most recent steps left out of the yardstick

    @property
    def coarse(self) -> bool:
        """Daily or coarser data: one step per refit block, no within-day tests."""
        return self.refit == 1

    def in_warmup(self, t0: int) -> bool:
        return t0 < self.warmup

    def active_periods(self, t0: int) -> tuple[int, ...]:
        """The periods a fit at ``t0`` uses: those two cycles of have been seen."""
        return tuple(p for p in self.periods if t0 >= 2 * p)


def scan_settings(config: DetectConfig, *, step: dt.timedelta, periods: Sequence[int], log: bool,
                  scale: str | None = None) -> ScanSettings:
    """Days and rates of ``config`` turned into grid steps for data sampled every ``step`` (values on the working
    ``scale``; by default log when ``log``, else linear)."""
    day_steps = steps_per_day(step)
    refit = day_steps

    def days(x: float) -> int:
        return int(round(x * day_steps))

    periods = tuple(sorted(int(p) for p in periods))
    level_steps = max(days(config.level_days), 1)
    scale_steps = max(days(config.scale_days), 1)
    if periods and refit == 1:
        # coarse data (daily): a week of points is too few for a level or a scale. The level's median spans at
        # most 28 steps: over two cycles of weekly data (104 weeks) it would trail a steady trend by a year
        level_steps = max(level_steps, min(2 * periods[-1], 28))
        scale_steps = max(scale_steps, 4 * periods[-1])
    mean_windows = (tuple(w for w in config.mean_steps if 1 < w <= refit) if refit > 1
                    else tuple(w for w in config.coarse_mean_steps if w > 1))
    ref_steps, lag = days(config.mean_ref_days), days(config.mean_lag_days)
    if refit == 1 and mean_windows and periods:
        # coarse data: 56 days are 56 points, too few for a yardstick; and a shift under way must not enter it
        ref_steps = max(ref_steps, 26 * periods[-1])
        lag = max(lag, max(mean_windows))
    warmup = warmup_steps(periods, step)
    return ScanSettings(
        config=config, periods=periods, log=log, scale=scale or ("log" if log else "linear"), day_steps=day_steps, refit=refit, warmup=warmup,
        seasoned=warmup + 7 * refit,
        window=max(days(config.window_days), 1), level_steps=level_steps, scale_steps=scale_steps,
        persist=min(config.persist_steps, max(2, level_steps // 4)),
        # the drift flag holds for drift_hold_steps, at most half a day: on daily data 12 steps would hide 12
        # days and keep the detector from seeing the level come back
        hold=max(1, min(config.drift_hold_steps, day_steps // 2)),
        recover_steps=days(config.recover_days), vif_steps=max(days(config.vif_days), refit),
        mean_windows=mean_windows, mean_min=days(config.mean_days), ref_steps=ref_steps, lag=lag,
    )
