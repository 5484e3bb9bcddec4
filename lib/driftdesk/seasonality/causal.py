"""The causal detector: each flag at time t uses only values at or before t.

For many equal-grid series at once (rows of a matrix). Once per block of ``refit_every`` steps (a day for
hourly data) the decomposition is refit on the trailing window that ends where the block starts, with the
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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm as normal
from scipy.stats import t as student_t

from driftdesk.seasonality.grid import DAY
from driftdesk.seasonality.stl import StlOperator, default_specs, operator_for

NORMAL, ANOMALY, DRIFT = 0, 1, 2
FLAG_NAMES = ("normal", "anomaly", "drift")
MAD_SCALE = 1.482602218505602  # 1 / Phi^-1(3/4): MAD of a normal sample -> its standard deviation


@dataclass(frozen=True)
class DetectConfig:
    """Thresholds of the detector. Scores are robust z-scores; steps are grid steps (hours on hourly data)."""

    anomaly_z: float = 5.0
    cusum_k: float = 0.75
    cusum_h: float = 18.0
    clip_z: float = 3.5
    persist_steps: int = 6
    block_k: float = 0.5
    block_h: float = 5.0
    vif_days: float = 21.0
    # the older window test on scores with a modelled within-day correlation: off by default, the mean test below
    # (whose spread is measured, not modelled) replaced it with fewer false alarms and earlier detection
    window_steps: tuple[int, ...] = ()
    window_z: float = 5.0
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

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class DriftAlarm:
    series: int
    start: int  # first step of the change (estimated)
    alarm: int  # step at which it was confirmed
    end: int  # last step flagged drift
    direction: int
    old_level: float
    new_level: float
    trigger: str = ""  # which test fired: cusum, window, mean, day (block CUSUM), run (anomalies in a row)
    # or ``recovery`` (a return to the level before the last alarm: ends that episode, raises no alarm)

    @property
    def magnitude(self) -> float:
        if not np.isfinite(self.old_level) or self.old_level == 0:
            return float("nan")
        return (self.new_level - self.old_level) / abs(self.old_level)


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


def steps_per_day(step: dt.timedelta) -> int:
    return max(1, int(round(DAY / step))) if step < DAY else 1


def _fill_rows(window: np.ndarray) -> np.ndarray:
    """NaN in each row replaced by the previous value (then the next one for a leading gap)."""
    out = window.copy()
    mask = np.isnan(out)
    if not mask.any():
        return out
    m, n = out.shape
    idx = np.where(~mask, np.arange(n), 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    out = out[np.arange(m)[:, None], idx]
    mask = np.isnan(out)
    if mask.any():
        rev = out[:, ::-1]
        rmask = np.isnan(rev)
        ridx = np.where(~rmask, np.arange(n), 0)
        np.maximum.accumulate(ridx, axis=1, out=ridx)
        rev = rev[np.arange(m)[:, None], ridx]
        out = rev[:, ::-1]
    return out


def _relative(old: float, new: float, log: bool) -> float:
    if log:
        return float(np.expm1(new - old))
    if not np.isfinite(old) or old == 0:
        return float("inf")
    return (new - old) / abs(old)


def _vif_rows(a: np.ndarray, block: int, *, standardised: bool = False) -> np.ndarray:
    """block x (robust variance of block means) / (robust variance of single values), per row."""
    m, n = a.shape
    nb = n // block
    if nb < 3 or block < 2:
        return np.ones(m)
    blocks = a[:, n - nb * block:].reshape(m, nb, block)
    cnt = np.isfinite(blocks).sum(axis=2)
    means = np.where(cnt >= block // 2, np.nanmean(np.where(cnt[..., None] > 0, blocks, 0.0), axis=2), np.nan)
    sd_mean = _mad_rows(means)
    sd_one = np.ones(m) if standardised else _mad_rows(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        return block * (sd_mean / sd_one) ** 2


def _window_mean_sd(resid: np.ndarray, w: int, min_windows: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the spread (root mean square) of the means of w consecutive residuals, over every w-step stretch
    with at least 3/4 of its points (NaN with fewer than ``min_windows`` stretches), and the number of stretches.

    Measured directly, it carries whatever makes neighbouring residuals move together (a day-level factor, a
    seasonal misfit, the error of the level) without a model of that correlation. The root mean square, not a
    median: a robust scale of a few dozen correlated means is too noisy for a threshold far in the tail."""
    m, n = resid.shape
    if n < w:
        return np.full(m, np.nan), np.zeros(m, dtype=np.int64)
    ok = np.isfinite(resid)
    c = np.concatenate([np.zeros((m, 1)), np.cumsum(np.where(ok, resid, 0.0), axis=1)], axis=1)
    k = np.concatenate([np.zeros((m, 1)), np.cumsum(ok, axis=1)], axis=1)
    cnt = k[:, w:] - k[:, :-w]
    full = cnt >= 0.75 * w
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(full, (c[:, w:] - c[:, :-w]) / cnt, 0.0)
    nwin = full.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt((means ** 2).sum(axis=1) / nwin)
    return np.where(nwin >= min_windows, sd, np.nan), nwin


def _t_threshold(z: float, df: np.ndarray) -> np.ndarray:
    """The threshold for a mean divided by a spread estimated with ``df`` degrees of freedom that is as rare as
    ``z`` standard deviations of a normal: Student's t quantile at the normal tail probability of ``z``. A spread
    measured on a week of day means misses by a third now and then; a fixed threshold either fires on such a
    week or waits too long once months of residuals have pinned the spread down."""
    df = np.asarray(df, dtype=float)
    out = np.full(df.shape, np.inf)
    ok = df >= 1
    out[ok] = student_t.isf(normal.sf(z), df[ok])
    return out


def _date_change(d: np.ndarray, ok: np.ndarray, first: int, direction: int) -> int:
    """Where a shift in ``direction`` most likely began, at or after ``first``: the split of the valid values of
    ``d`` that maximises the two-sample statistic (mean after - mean before) x sqrt(n_before n_after / n), the
    least-squares estimate of a single change point. Values before ``first`` only serve as the 'before' side."""
    v = np.where(ok, d, 0.0)
    c = np.concatenate([[0.0], np.cumsum(v)])
    k = np.concatenate([[0], np.cumsum(ok)])
    total, count = c[-1], k[-1]
    splits = np.arange(max(first, 0), len(d))
    nb, na = k[splits], count - k[splits]
    valid = (nb >= 2) & (na >= 2)
    if not valid.any():
        return int(max(first, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = (total - c[splits]) / na - c[splits] / nb
        stat = np.where(valid, direction * gap * np.sqrt(nb * na / count), -np.inf)
    return int(splits[int(np.argmax(stat))])


def _nanmedian_rows(a: np.ndarray) -> np.ndarray:
    """Median of the finite values of each row (NaN for a row without any); sorts once, no masked arrays."""
    a = np.where(np.isfinite(a), a, np.nan)
    srt = np.sort(a, axis=1)  # NaN sort last
    k = np.isfinite(srt).sum(axis=1)
    lo = np.clip((k - 1) // 2, 0, None)
    hi = np.clip(k // 2, 0, None)
    rows = np.arange(a.shape[0])
    if a.shape[1] == 0:
        return np.full(a.shape[0], np.nan)
    out = 0.5 * (srt[rows, np.minimum(lo, a.shape[1] - 1)] + srt[rows, np.minimum(hi, a.shape[1] - 1)])
    return np.where(k > 0, out, np.nan)


def _mad_rows(a: np.ndarray) -> np.ndarray:
    med = _nanmedian_rows(a)
    return MAD_SCALE * _nanmedian_rows(np.abs(a - med[:, None]))


@dataclass(frozen=True)
class _Rows:
    fore: np.ndarray  # (R, L): seasonal forecast for the next R steps
    seasonal_tail: np.ndarray  # (K, L): fitted seasonal of the last K steps
    fit_tail: np.ndarray  # (K2, L): fitted trend + seasonal of the last K2 steps


_ROWS: dict[tuple, _Rows] = {}


def _rows_for(op: StlOperator, refit: int, level_steps: int, scale_steps: int) -> _Rows:
    key = (op.n, op.specs, refit, level_steps, scale_steps)
    if key in _ROWS:
        return _ROWS[key]
    n = op.n
    fore = np.zeros((refit, n))
    for spec, s in zip(op.specs, op.seasonals):
        for j in range(refit):
            back = n + j - spec.period * (1 + j // spec.period)
            fore[j] += s[back]
    total_s = sum(op.seasonals)
    k = min(n, level_steps)
    k2 = min(n, scale_steps)
    rows = _Rows(fore, total_s[n - k:], (op.trend + total_s)[n - k2:])
    _ROWS[key] = rows
    return rows


def causal_scan(values: np.ndarray, calendar: np.ndarray, *, step: dt.timedelta, periods: Sequence[int],
                config: DetectConfig, log: bool = False) -> CausalScan:
    """Run the causal detector over the rows of ``values`` (m x n, NaN = missing) on a shared grid."""
    y = np.atleast_2d(np.asarray(values, dtype=float))
    m, n = y.shape
    cal = np.zeros((m, n), dtype=bool) if calendar is None else np.atleast_2d(np.asarray(calendar, dtype=bool))
    spd = steps_per_day(step)
    refit = spd if step < DAY else 1
    day_steps = max(1, int(round(DAY / step))) if step < DAY else 1
    window = max(int(round(config.window_days * day_steps)), 1)
    level_steps = max(int(round(config.level_days * day_steps)), 1)
    scale_steps = max(int(round(config.scale_days * day_steps)), 1)
    periods = tuple(sorted(int(p) for p in periods))
    if periods and refit == 1:
        # coarse data (daily): a week of points is too few for a level or a scale. The level's median spans at
        # most 28 steps: over two cycles of weekly data (104 weeks) it would trail a steady trend by a year
        level_steps = max(level_steps, min(2 * periods[-1], 28))
        scale_steps = max(scale_steps, 4 * periods[-1])
    persist = min(config.persist_steps, max(2, level_steps // 4))

    level = np.full((m, n), np.nan)
    seas = np.full((m, n), np.nan)
    score = np.full((m, n), np.nan)
    flag = np.zeros((m, n), dtype=np.int8)
    filled = np.full((m, n), np.nan)
    clean = np.zeros((m, n), dtype=bool)  # an observed value that feeds later fits and levels
    fc_resid = np.full((m, n), np.nan)  # forecast residuals of clean points, for the scale
    used = np.zeros(n, dtype=np.int64)
    sigma_out_all = np.full((m, n), np.nan)

    s_plus = np.zeros(m)
    s_minus = np.zeros(m)
    zero_plus = np.full(m, -1, dtype=np.int64)
    zero_minus = np.full(m, -1, dtype=np.int64)
    run_len = np.zeros(m, dtype=np.int64)
    run_sign = np.zeros(m)
    run_start = np.zeros(m, dtype=np.int64)
    regime = np.zeros(m, dtype=np.int64)  # first step of the current level regime
    # the last drift alarm of each series (step, level before it, direction): a move back to that level soon
    # after is a recovery, not a new drift
    last_alarm = np.full(m, -(10 ** 12), dtype=np.int64)
    last_old = np.full(m, np.nan)
    last_new = np.full(m, np.nan)  # and after it
    last_dir = np.zeros(m, dtype=np.int64)
    recover_steps = int(round(config.recover_days * day_steps))
    # the drift flag holds for drift_hold_steps, at most half a day: on daily data 12 steps would hide 12 days
    # and keep the detector from seeing the level come back
    hold = max(1, min(config.drift_hold_steps, day_steps // 2))
    hold_until = np.zeros(m, dtype=np.int64)
    b_plus = np.zeros(m)  # block-level CUSUM (means of a day's scores): slow, small sustained shifts
    b_minus = np.zeros(m)
    bm_plus = np.zeros(m)  # the same CUSUM on day means scaled by their measured spread
    bm_minus = np.zeros(m)
    r_hist = np.full((m, n), np.nan)  # clipped forecast residuals of clean points, for those day means
    b_zero_plus = np.zeros(m, dtype=np.int64)  # first step of the block after the block CUSUM last sat at zero
    b_zero_minus = np.zeros(m, dtype=np.int64)
    z_hist = np.full((m, n), np.nan)  # scores of clean points, for the within-day correlation (vif)
    vif_steps = max(int(round(config.vif_days * day_steps)), refit)
    windows = tuple(w for w in config.window_steps if w <= refit) if refit > 1 else ()
    csum = np.zeros((m, n + 1))  # running sums of clipped clean scores and their counts, for the window test
    ccnt = np.zeros((m, n + 1))
    reset_at = np.zeros(m, dtype=np.int64)
    mean_windows = (tuple(w for w in config.mean_steps if 1 < w <= refit) if refit > 1
                    else tuple(w for w in config.coarse_mean_steps if w > 1))
    # the mean test and its yardstick: forecast residuals of every observed point outside the calendar, clipped at
    # clip_z scales. Hourly anomalies stay in, clipped: a 10% shift on a quiet series puts half its hours past
    # anomaly_z, and dropping them would both bias the mean toward zero and leave too few points to test. The
    # test fires only if the hours that are not anomalies moved the same way too (``usum``: their sums), so a
    # spike of a few hours is an anomaly, not a level shift
    m_resid = np.full((m, n), np.nan)
    rsum = np.zeros((m, n + 1))
    rcnt = np.zeros((m, n + 1))
    usum = np.zeros((m, n + 1))
    mean_min = int(round(config.mean_days * day_steps))
    ref_steps = int(round(config.mean_ref_days * day_steps))
    lag = int(round(config.mean_lag_days * day_steps))
    if refit == 1 and mean_windows and periods:
        # coarse data: 56 days are 56 points, too few for a yardstick; and a shift under way must not enter it
        ref_steps = max(ref_steps, 26 * periods[-1])
        lag = max(lag, max(mean_windows))
    alarms: list[DriftAlarm] = []
    rows_idx = np.arange(m)

    for t0 in range(0, n, refit):
        t1 = min(n, t0 + refit)
        usable = periods if periods and t0 >= 2 * periods[-1] else ()
        if not usable:
            # warm-up: nothing to compare with yet
            obs = np.isfinite(y[:, t0:t1]) & ~cal[:, t0:t1]
            filled[:, t0:t1] = np.where(obs, y[:, t0:t1], np.nan)
            clean[:, t0:t1] = obs
            continue
        pmax = usable[-1]
        length = window if t0 >= window else (t0 // pmax) * pmax
        length = max(length, 2 * pmax)
        used[t0:t1] = pmax
        op = operator_for(length, default_specs(usable, jump=config.jump, seasonal_deg=config.seasonal_deg))
        rows = _rows_for(op, refit, level_steps, scale_steps)
        win = _fill_rows(filled[:, t0 - length:t0])
        fit_ok = np.isfinite(win).all(axis=1)
        win = np.where(fit_ok[:, None], win, 0.0)
        sfc = win @ rows.fore.T  # (m, refit)
        k = rows.seasonal_tail.shape[0]
        # deseasonalise recent steps with the seasonal forecast made before they were seen (a shift near the
        # window's end would otherwise leak into the refit's seasonal component)
        deseas = np.where(np.isfinite(seas[:, t0 - k:t0]), win[:, -k:] - seas[:, t0 - k:t0],
                          win[:, -k:] - win @ rows.seasonal_tail.T)
        pos = np.arange(t0 - k, t0)
        keep = clean[:, t0 - k:t0] & (pos[None, :] >= regime[:, None])
        lvl = _nanmedian_rows(np.where(keep, deseas, np.nan))
        fallback = _nanmedian_rows(np.where(clean[:, t0 - k:t0], deseas, np.nan))
        lvl = np.where(np.isfinite(lvl), lvl, fallback)
        k2 = rows.fit_tail.shape[0]
        in_resid = win[:, -k2:] - win @ rows.fit_tail.T
        sigma_in = _mad_rows(np.where(clean[:, t0 - k2:t0], in_resid, np.nan)) * config.in_sample_inflation
        lo = max(0, t0 - scale_steps)
        recent = fc_resid[:, lo:t0]
        n_recent = np.isfinite(recent).sum(axis=1)
        sigma_out = _mad_rows(recent)
        # before enough forecast residuals exist: one cycle-over-cycle difference has twice the noise variance
        k3 = min(k2, length - pmax)
        diff = win[:, length - k3:] - win[:, length - k3 - pmax:length - pmax]
        both = clean[:, t0 - k3:t0] & clean[:, t0 - k3 - pmax:t0 - pmax]
        sigma_naive = _mad_rows(np.where(both, diff, np.nan)) / np.sqrt(2.0) * config.in_sample_inflation
        sigma_naive = np.where(np.isfinite(sigma_naive), sigma_naive, sigma_in)
        sigma = np.where(n_recent >= 3 * refit, np.fmax(sigma_in, sigma_out), np.fmax(sigma_in, sigma_naive))
        floor = 1e-9 * np.fmax(np.abs(lvl), 1e-12)
        sigma = np.where(np.isfinite(sigma), np.fmax(sigma, floor), np.nan)
        lvl = np.where(fit_ok, lvl, np.nan)
        # variance inflation of a block mean: day-level noise makes consecutive scores move together, and a
        # CUSUM that ignores it raises false drift alarms (estimated from cycle-over-cycle differences in the
        # window, and from the block means of recent scores once there are enough)
        vif = _vif_rows(np.where(both, diff, np.nan), refit)
        lo_v = max(0, t0 - vif_steps)
        if t0 - lo_v >= 7 * refit and refit > 1:
            vif = np.fmax(vif, _vif_rows(z_hist[:, lo_v:t0], refit, standardised=True))
        vif = np.clip(np.nan_to_num(vif, nan=1.0), 1.0, float(refit))
        root_vif = np.sqrt(vif)
        # the window and day tests lean on the within-day correlation: only once a week of forecast
        # residuals has measured it (before that the hourly CUSUM and runs of anomalies still work)
        seasoned = t0 >= 2 * periods[-1] + 7 * refit
        cusum_h = config.cusum_h if seasoned or refit == 1 else 1.5 * config.cusum_h
        rho = np.clip((vif - 1.0) / max(refit - 1, 1), 0.0, 1.0)  # within-day correlation of scores
        # mean test: the mean forecast residual of the last w steps against the measured spread of such means in
        # the trailing window's forecast residuals (needs mean_days of them; until then the other tests work),
        # never below the spread of w-step means of the window's cycle-over-cycle differences / sqrt(2): those
        # cover the whole window, and a week of forecast residuals alone holds few independent day means, so
        # it underestimates the spread now and then, and an underestimate is a false alarm
        cyc = np.where(clean[:, t0 - length + pmax:t0] & clean[:, t0 - length:t0 - pmax],
                       win[:, pmax:] - win[:, :-pmax], np.nan) if mean_windows else None
        mean_sd = {}
        if mean_windows:
            # the yardstick leaves out the last ``lag`` steps and, once the day-mean CUSUM is half way to an alarm,
            # the residuals since it last sat at zero: a shift building up there would widen the yardstick it is
            # measured with and never be called. Cutting every stretch where the CUSUM left zero would keep only
            # the calm stretches and bias the yardstick low: hence half way.
            lo_fc, hi_fc = max(0, t0 - ref_steps - lag), max(0, t0 - lag)
            half = 0.5 * config.block_h
            since = np.minimum(np.where(b_plus > half, b_zero_plus, t0), np.where(b_minus > half, b_zero_minus, t0))
            ref = m_resid[:, lo_fc:hi_fc]
            ref = np.where(np.arange(lo_fc, hi_fc)[None, :] < since[:, None], ref, np.nan)
        mean_thr = {}
        for w in mean_windows:
            sd_fc, n_fc = _window_mean_sd(ref, w, mean_min)
            sd_in = _window_mean_sd(cyc[:, :max(cyc.shape[1] - lag, 0)], w, 1)[0] / np.sqrt(2.0)
            mean_sd[w] = np.where(np.isfinite(sd_fc) & (sd_fc > 0), np.fmax(sd_fc, sd_in), np.nan)
            # overlapping w-step means over L steps carry about L / w independent ones
            mean_thr[w] = _t_threshold(config.mean_z, n_fc / w)
        # for the level of a young regime (a few hours or days since a detected change): its error is the spread of
        # a mean over that stretch, on top of the spread measured with a week-long level
        sd_day = mean_sd[max(mean_windows)] if mean_windows else None
        live: set[int] = set()

        for t in range(t0, t1):
            j = t - t0
            for i in live:
                sl = slice(regime[i], t)
                d = y[i, sl] - seas[i, sl]
                d = d[clean[i, sl] & np.isfinite(d)]
                if d.size:
                    lvl[i] = float(np.median(d))
            expected = lvl + sfc[:, j]
            yt = y[:, t]
            z = (yt - expected) / sigma
            ok = np.isfinite(yt) & np.isfinite(z)
            upd = ok & ~cal[:, t]
            level[:, t] = lvl
            sigma_out_all[:, t] = sigma
            seas[:, t] = sfc[:, j]
            score[:, t] = np.where(np.isfinite(yt), z, np.nan)
            big = upd & (np.abs(z) >= config.anomaly_z)
            sign = np.sign(z)
            cont = big & (run_len > 0) & (sign == run_sign)
            run_start = np.where(big & ~cont, t, run_start)
            run_len = np.where(upd, np.where(big, np.where(cont, run_len + 1, 1), 0), run_len)
            run_sign = np.where(big, sign, run_sign)
            use = upd & ~big
            zc = np.clip(np.nan_to_num(z), -config.clip_z, config.clip_z) / root_vif
            s_plus = np.where(use, np.maximum(0.0, s_plus + zc - config.cusum_k), s_plus)
            s_minus = np.where(use, np.maximum(0.0, s_minus - zc - config.cusum_k), s_minus)
            zero_plus = np.where(use & (s_plus == 0), t, zero_plus)
            zero_minus = np.where(use & (s_minus == 0), t, zero_minus)
            holding = t < hold_until
            flag[:, t] = np.where(holding, DRIFT, np.where(big, ANOMALY, NORMAL))
            good = upd & ~big
            filled[:, t] = np.where(good, yt, np.where(np.isfinite(expected), expected, np.nan))
            clean[:, t] = good
            fc_resid[:, t] = np.where(good, yt - expected, np.nan)
            z_hist[:, t] = np.where(use, z, np.nan)
            zcl = np.clip(np.nan_to_num(z), -config.clip_z, config.clip_z)
            csum[:, t + 1] = csum[:, t] + np.where(use, zcl, 0.0)
            ccnt[:, t + 1] = ccnt[:, t] + use
            rcl = np.clip(np.nan_to_num(yt - expected), -config.clip_z * sigma, config.clip_z * sigma)
            counted = upd & np.isfinite(rcl)
            m_resid[:, t] = np.where(counted, rcl, np.nan)
            rsum[:, t + 1] = rsum[:, t] + np.where(counted, rcl, 0.0)
            rcnt[:, t + 1] = rcnt[:, t] + counted
            usum[:, t + 1] = usum[:, t] + np.where(use & counted, rcl, 0.0)
            r_hist[:, t] = np.where(use, rcl, np.nan)
            # window test: the mean score of the last L steps against its variance under within-day correlation
            # (quick on clear shifts, where a CUSUM scaled for a whole day's correlation is slow)
            win_fire = np.zeros(m, dtype=bool)
            win_start = np.zeros(m, dtype=np.int64)
            for w in (windows if seasoned else ()):
                lo_w = np.maximum(t + 1 - w, reset_at)
                s_w = csum[:, t + 1] - csum[rows_idx, lo_w]
                c_w = ccnt[:, t + 1] - ccnt[rows_idx, lo_w]
                with np.errstate(divide="ignore", invalid="ignore"):
                    stat = s_w / np.sqrt(c_w * (1.0 + np.maximum(c_w - 1.0, 0.0) * rho))
                # a fresh regime's level rests on few points: give it a day before testing it again
                settled = t - reset_at >= refit
                hit = (c_w >= w // 2) & (np.abs(np.nan_to_num(stat)) > config.window_z) & ~win_fire & settled
                win_start = np.where(hit, lo_w, win_start)
                win_fire |= hit
            # mean test (a clear step of a few day-level standard deviations within a day): fires when the mean
            # of the last w residuals is mean_z of its measured spread away from zero
            mean_fire = np.zeros(m, dtype=bool)
            mean_start = np.zeros(m, dtype=np.int64)
            settled = t - reset_at >= refit
            young = (regime > 0) & (t - regime < level_steps)
            age = np.maximum(t - regime, 1).astype(float)
            level_var = np.where(young, sd_day ** 2 * np.maximum(1.0, max(mean_windows) / age), 0.0) \
                if mean_windows else 0.0
            for w in mean_windows:
                lo_w = np.maximum(t + 1 - w, reset_at)
                c_w = rcnt[:, t + 1] - rcnt[rows_idx, lo_w]
                c_use = ccnt[:, t + 1] - ccnt[rows_idx, lo_w]
                scale = np.sqrt(mean_sd[w] ** 2 + level_var)
                with np.errstate(divide="ignore", invalid="ignore"):
                    stat = (rsum[:, t + 1] - rsum[rows_idx, lo_w]) / np.maximum(c_w, 1.0) / scale
                    # the same mean over the hours that are not anomalies: at least half way, the same sign
                    stat_use = (usum[:, t + 1] - usum[rows_idx, lo_w]) / np.maximum(c_use, 1.0) / scale
                stat, stat_use = np.nan_to_num(stat), np.nan_to_num(stat_use)
                corroborated = (c_use > 0) & (stat * stat_use > 0) & (np.abs(stat_use) >= 0.5 * mean_thr[w])
                hit = ((c_w >= 0.75 * w) & (np.abs(stat) > mean_thr[w]) & corroborated & ~mean_fire
                       & settled)
                mean_start = np.where(hit, lo_w, mean_start)
                mean_fire |= hit
            win_start = np.where(win_fire, win_start, mean_start)
            win_fire |= mean_fire
            fire = ((s_plus > cusum_h) | (s_minus > cusum_h) | (run_len >= persist) | win_fire)
            block_fire = np.zeros(m, dtype=bool)
            if t == t0 + refit - 1 and refit > 1 and seasoned:  # a whole block only: never depends on where the data ends
                zb_all = z_hist[:, t0:t1]
                cnt = np.isfinite(zb_all).sum(axis=1)
                zb = np.where(cnt > 0, np.nansum(np.clip(zb_all, -config.clip_z, config.clip_z), axis=1)
                              / np.sqrt(np.maximum(cnt, 1) * vif), 0.0)
                active = cnt >= refit // 2
                b_plus = np.where(active, np.maximum(0.0, b_plus + zb - config.block_k), b_plus)
                b_minus = np.where(active, np.maximum(0.0, b_minus - zb - config.block_k), b_minus)
                b_zero_plus = np.where(active & (b_plus == 0), t1, b_zero_plus)
                b_zero_minus = np.where(active & (b_minus == 0), t1, b_zero_minus)
                if refit in mean_sd:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        zm = np.nansum(r_hist[:, t0:t1], axis=1) / np.maximum(cnt, 1) / mean_sd[refit]
                    measured = np.isfinite(zm)
                    zm = np.nan_to_num(zm)
                    bm_plus = np.where(active, np.maximum(0.0, bm_plus + zm - config.block_k), bm_plus)
                    bm_minus = np.where(active, np.maximum(0.0, bm_minus - zm - config.block_k), bm_minus)
                else:
                    measured = np.zeros(m, dtype=bool)
                # where the day spread is measured, both scalings must agree: the modelled one alone misreads
                # a day-level factor as drift now and then
                ok_plus = ~measured | (bm_plus > config.block_h)
                ok_minus = ~measured | (bm_minus > config.block_h)
                block_fire = ((b_plus > config.block_h) & ok_plus) | ((b_minus > config.block_h) & ok_minus)
            fire |= block_fire
            fire &= ~holding
            for i in rows_idx[fire]:
                trigger = "cusum"
                if run_len[i] >= persist:
                    start, direction = int(run_start[i]), int(run_sign[i])
                    trigger = "run"
                elif win_fire[i] and not (s_plus[i] > cusum_h or s_minus[i] > cusum_h):
                    lo_i = int(win_start[i])
                    start = lo_i
                    by_mean = bool(mean_fire[i]) and win_start[i] == mean_start[i]
                    total = (rsum if by_mean else csum)[i, t + 1] - (rsum if by_mean else csum)[i, lo_i]
                    direction = 1 if total > 0 else -1
                    trigger = "mean" if by_mean else "window"
                elif block_fire[i] and not (s_plus[i] > cusum_h or s_minus[i] > cusum_h):
                    up = b_plus[i] > config.block_h and (not measured[i] or bm_plus[i] > config.block_h)
                    start, direction = int(b_zero_plus[i] if up else b_zero_minus[i]), 1 if up else -1
                    trigger = "day"
                elif s_plus[i] > cusum_h:
                    start, direction = int(zero_plus[i]) + 1, 1
                else:
                    start, direction = int(zero_minus[i]) + 1, -1
                start = max(start, int(regime[i]), 0)
                # the level before the change: of the regime's clean deseasonalised values before it (the running
                # level may have taken in part of the shift by now)
                lo_i = max(int(regime[i]), start - level_steps, 0)
                d_all = y[i, lo_i:t + 1] - seas[i, lo_i:t + 1]
                ok_d = clean[i, lo_i:t + 1] & np.isfinite(d_all)
                if trigger in ("cusum", "day", "mean") and t - start > 1:
                    start = _date_change(d_all, ok_d, start - lo_i, direction) + lo_i
                before = d_all[:start - lo_i][ok_d[:start - lo_i]]
                old_level = float(np.median(before)) if before.size >= refit else float(lvl[i])
                sl = slice(start, t + 1)
                obs = np.isfinite(y[i, sl]) & ~cal[i, sl]
                filled[i, sl] = np.where(obs, y[i, sl], filled[i, sl])
                clean[i, sl] = obs
                fc_resid[i, sl] = np.nan
                m_resid[i, sl] = np.nan
                d = (y[i, sl] - seas[i, sl])[obs & np.isfinite(seas[i, sl])]
                new_level = float(np.median(d)) if d.size else float(lvl[i])
                if abs(_relative(old_level, new_level, log)) < config.min_drift:
                    # statistically clear but too small to matter: start the CUSUMs again, no alarm
                    s_plus[i] = s_minus[i] = b_plus[i] = b_minus[i] = bm_plus[i] = bm_minus[i] = 0.0
                    zero_plus[i] = zero_minus[i] = t
                    b_zero_plus[i] = b_zero_minus[i] = t + 1
                    continue
                if np.isfinite(old_level) and np.isfinite(new_level):
                    # later fits see the history before the change moved to the new level, so the step does
                    # not leak into their seasonal component
                    filled[i, :start] += new_level - old_level
                # "back": closer to the level before the last change than half that change (or min_drift); the
                # first hours of the new level are a noisy median, so an exact return is too much to ask. Measured
                # on the working scale (logs: relative), so a series around zero needs no relative size
                tolerance = np.log1p(config.min_drift) if log else config.min_drift * abs(np.nan_to_num(last_old[i]))
                recovery = (direction == -last_dir[i] and t - last_alarm[i] <= recover_steps
                            and abs(new_level - last_old[i]) < max(tolerance, 0.5 * abs(last_new[i] - last_old[i])))
                if recovery:
                    # back to the level before the last change within a few days: that change was a passing
                    # episode (the batch view shows it from start to here); not a drift alarm of its own
                    alarms.append(DriftAlarm(int(i), start, t, start - 1, direction, old_level, new_level, "recovery"))
                    last_dir[i] = 0
                else:
                    end = min(n - 1, t + hold - 1)
                    alarms.append(DriftAlarm(int(i), start, t, end, direction, old_level, new_level, trigger))
                    hold_until[i] = t + hold
                    flag[i, t] = DRIFT
                    last_alarm[i], last_old[i], last_new[i], last_dir[i] = t, old_level, new_level, direction
                regime[i] = start
                s_plus[i] = s_minus[i] = 0.0
                b_plus[i] = b_minus[i] = bm_plus[i] = bm_minus[i] = 0.0
                b_zero_plus[i] = b_zero_minus[i] = t + 1
                z_hist[i, start:t + 1] = np.nan
                r_hist[i, start:t + 1] = np.nan
                reset_at[i] = t + 1
                zero_plus[i] = zero_minus[i] = t
                run_len[i] = 0
                lvl[i] = new_level
                live.add(int(i))

    scan = CausalScan(level, seas, score, flag, filled, alarms, used, sigma_out_all)
    return scan
