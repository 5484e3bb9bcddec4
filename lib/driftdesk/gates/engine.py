"""Evaluate a gate over all of history at once: windowed values, breaches, and the alerts they raise.

Causal by construction. The value at evaluation time tau (an hour end) uses only the hours before tau: the
current window is the `window` hours ending at tau; the baseline is the same window shifted back one day or
one week, or the `baseline_days` right before the current window (trailing). Window sums come from
cumulative sums over the hourly components, so every window of history costs one subtraction.

A budget gate (``budget_burn:<column>``) sums the column from 00:00 UTC of the evaluation's day instead of over
`window`, and divides by the segment's daily budget. It is evaluated at 01:00 ... 23:00: at 00:00 the day is
over and a new budget begins, so a run of breaches never crosses midnight and every day that burns past the
threshold raises its own alert. A day that history starts in the middle of is not judged (what it spent before the
data starts is unknown).

An alert fires at the evaluation where a run of consecutive breaches reaches `consecutive`; a run longer
than that is still one alert, and the next alert needs the run to break first. An evaluation that cannot be
made (not enough history for the baseline, fewer than `min_sample`, an undefined value) is not a breach and
breaks the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftdesk.errors import PolicyError
from driftdesk.gates.metrics import MetricComponents, is_budget
from driftdesk.gates.policy import Gate


@dataclass(frozen=True)
class GateValues:
    """The compared value of one gate per segment at each evaluation time (an hour end), and where it is defined."""

    gate: Gate
    series: MetricComponents
    times: np.ndarray  # (E,) datetime64[us]: when each evaluation happens
    values: np.ndarray  # (S, E) float, NaN where undefined
    valid: np.ndarray  # (S, E) bool


def _window_sums(cum: np.ndarray, end: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums over hours [end - length, end) for each end index (into the zero-prepended cumulative sum)."""
    lo = end - length
    ok = lo >= 0
    hi_c = np.clip(end, 0, cum.shape[1] - 1)
    lo_c = np.clip(lo, 0, cum.shape[1] - 1)
    return cum[:, hi_c, :] - cum[:, lo_c, :], ok


def compare(current: np.ndarray, baseline: np.ndarray | None, *, gate: Gate, series: MetricComponents) -> np.ndarray:
    """The gate's value from window components: the level, its change against the baseline, or a distance."""
    if series.distance is not None:
        return series.distance(baseline, current)
    level = series.level(current)
    if baseline is None:
        return level
    base = series.level(baseline)
    with np.errstate(divide="ignore", invalid="ignore"):
        if gate.change == "difference":
            return level - base
        return np.where(base != 0, (level - base) / np.abs(np.where(base != 0, base, 1.0)), np.nan)


def gate_values(series: MetricComponents, gate: Gate) -> GateValues:
    """Values of a gate at every evaluation time of history (every `every_hours`, aligned to UTC midnight)."""
    if gate.release_only:
        raise PolicyError(f"gate {gate.name!r} is a release check ({gate.metric}, {gate.comparison}): it compares a "
                          "candidate with a baseline in `driftdesk gates check` and is not replayed on history")
    hours = series.hours
    cum = np.concatenate([np.zeros_like(series.components[:, :1, :]), np.cumsum(series.components, axis=1)], axis=1)
    # evaluation at hour end index e (data from hours < e); aligned to the clock so daily gates run at 00:00 UTC
    start_hour = int(np.datetime64(series.start, "h").astype(np.int64))
    ends = np.arange(1, hours + 1)
    ends = ends[((start_hour + ends) % gate.every_hours == 0) & (ends >= max(series.valid_from, 1))]
    w = gate.window_hours
    if is_budget(gate.metric):  # from 00:00 UTC of the day of the last hour; the 00:00 evaluation closes a day
        since_midnight = (start_hour + ends - 1) % 24 + 1
        current, ok = _window_sums(cum, ends, since_midnight)
        ok &= since_midnight < 24
    else:
        current, ok = _window_sums(cum, ends, w)
    valid = np.broadcast_to(ok, (current.shape[0], ends.size)).copy()
    sample_ok = series.sample(current) >= gate.min_sample
    baseline = None
    shift = gate.baseline_shift_hours
    if shift is not None:
        if gate.comparison == "trailing":
            baseline, bok = _window_sums(cum, ends - w, gate.baseline_days * 24)
        else:
            baseline, bok = _window_sums(cum, ends - shift, w)
        valid &= bok
        sample_ok &= series.sample(baseline) >= gate.min_sample
    values = compare(current, baseline, gate=gate, series=series)
    if is_budget(gate.metric):
        budgets = np.array([gate.budget_for(s) or np.nan for s in series.segments], dtype=np.float64)
        values = values / budgets[:, None]  # a segment without a budget is never judged
    valid &= sample_ok & np.isfinite(values)
    values = np.where(valid, values, np.nan)
    times = series.hour_ends()[ends - 1]
    return GateValues(gate, series, times, values, valid)


def breaches(values: np.ndarray, valid: np.ndarray, thresholds: np.ndarray, direction: str) -> np.ndarray:
    """Breach masks for many thresholds at once: shape (M, *values.shape)."""
    v = values[None, ...]
    t = np.asarray(thresholds, dtype=np.float64).reshape((-1,) + (1,) * values.ndim)
    with np.errstate(invalid="ignore"):
        if direction == "above":
            b = v > t
        elif direction == "below":
            b = v < t
        else:
            b = np.abs(v) > t
    return b & valid[None, ...]


def run_lengths(mask: np.ndarray) -> np.ndarray:
    """Length of the run of True ending at each position along the last axis (0 where False)."""
    c = np.cumsum(mask, axis=-1, dtype=np.int32)
    last_reset = np.maximum.accumulate(np.where(mask, 0, c), axis=-1)
    return c - last_reset


def fires(mask: np.ndarray, consecutive: int) -> np.ndarray:
    """Where an alert fires: the evaluation at which a run of breaches reaches `consecutive`."""
    return run_lengths(mask) == consecutive
