"""Plain-words verdicts and events: what a person reads about one series.

Status, in order of precedence: ``empty`` (no values), ``too_short``, ``constant``, ``data_break`` (a gap
of at least ``break_days``), ``drift`` (a level shift or trend change), ``anomaly`` (one-off points),
``variance_change``, ``seasonal`` (nothing but the expected: the calendar's pattern, if any). The statuses are
JSON values consumers key on, so ``seasonal`` stays the status of a series with no clear pattern (its sentence
says so, with its seasonal strength); where the status is shown beside the sentence (the CLI's table, the pages)
it reads ``no clear pattern`` instead (``shown_status``), so no line says "seasonal: no clear seasonal pattern".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from driftdesk.seasonality.grid import DAY, Grid, period_words, span_words
from driftdesk.seasonality.scales import from_working
from driftdesk.seasonality.state import ANOMALY, DRIFT, DriftAlarm
from driftdesk.seasonality.strength import MIN_STRENGTH

# the kinds of event a series' result lists (JSON ``events[].kind``), each a code with its meaning
EVENT_KINDS: dict[str, str] = {
    "level_shift": "the level moved and stayed (drift)",
    "trend_change": "the level kept moving one way over several alarms (drift)",
    "anomaly": "a short departure that comes back",
    "variance_change": "the noise widened while the level held",
    "data_break": "a stretch with no data",
}
# verdict kinds (JSON ``verdicts[].status``), most in need of a look first
VERDICT_KINDS: tuple[str, ...] = ("drift", "data_break", "anomaly", "variance_change", "seasonal", "constant",
                                  "too_short", "empty")

EVENT_KINDS = ("level_shift", "trend_change", "anomaly", "data_break")
# how ``seasonal`` reads beside the sentence of a series without a clear pattern
NO_CLEAR_PATTERN = "no clear pattern"


def clear_pattern(periods: Sequence[int], strength: float | None) -> bool:
    """Whether a series' periods make a pattern worth the word: it has periods, and they explain at least
    ``MIN_STRENGTH`` of its detrended variation (or too few cycles are detrended to tell: unknown is not weak)."""
    return bool(len(periods)) and not (strength is not None and np.isfinite(strength) and strength < MIN_STRENGTH)


def shown_status() -> pl.Expr:
    """A verdicts frame's status as people read it beside the sentence: ``seasonal`` without a clear pattern
    (``clear_pattern`` on the ``periods`` and ``seasonal_strength`` columns) reads ``no clear pattern``; every
    other status is itself. JSON keeps the status."""
    weak = (pl.col("periods").fill_null("") == "") | (pl.col("seasonal_strength").fill_nan(None) < MIN_STRENGTH)
    return (pl.when((pl.col("status") == "seasonal") & weak.fill_null(False)).then(pl.lit(NO_CLEAR_PATTERN))
            .otherwise(pl.col("status")).alias("status"))


def when(value: dt.datetime, step: dt.timedelta) -> str:
    """'14 Oct 09:00' for sub-daily data, '14 Oct' for daily, 'Oct 2026' for monthly or coarser."""
    if step >= dt.timedelta(days=28):
        return f"{value:%b %Y}"
    if step >= DAY:
        return f"{value.day} {value:%b}"
    return f"{value.day} {value:%b} {value:%H:%M}"


def day(value: dt.datetime, step: dt.timedelta = DAY) -> str:
    """'14 Oct'; 'Oct 2026' for monthly or coarser data."""
    return f"{value:%b %Y}" if step >= dt.timedelta(days=28) else f"{value.day} {value:%b}"


def pct(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x * 100:+.0f}%"


def merge_alarms(alarms: Sequence[DriftAlarm], *, chain_steps: int, log: bool = False,
                 deseasonalised: np.ndarray | None = None, measure_steps: int = 72, sqrt: bool = False) -> list[dict]:
    """Drift events of one series: consecutive alarms in the same direction within chain_steps are one trend
    change (a gradual drift keeps re-triggering the detector); a lone alarm is a level shift. A ``recovery``
    alarm ends the event before it (``recovered_step``) and is no event of its own."""
    events: list[dict] = []
    for a in sorted(alarms, key=lambda a: a.alarm):
        last = events[-1] if events else None
        if a.trigger == "recovery":
            if last is not None:
                last["end_step"] = max(a.start - 1, last["start_step"])
                last["recovered_step"] = a.start
                last["recovered_alarm_step"] = a.alarm
            continue
        if last and a.direction == last["direction_sign"] and a.start - last["end_step"] <= chain_steps:
            last["end_step"] = max(last["end_step"], a.end)
            last["new_level"] = a.new_level
            last["kind"] = "trend_change"
            last["alarms"] += 1
            continue
        events.append({"start_step": a.start, "alarm_step": a.alarm, "end_step": a.end, "direction_sign": a.direction,
                       "old_level": a.old_level, "new_level": a.new_level, "kind": "level_shift", "alarms": 1})
    for k, e in enumerate(events):
        old, new = e["old_level"], e["new_level"]
        if deseasonalised is not None and e["kind"] != "trend_change":
            # the size of a shift, reported after the fact (flags are not affected): the median over its first
            # ``measure_steps`` (three days of hours) or until the next change, not only the steps the alarm saw
            stop = e["start_step"] + max(measure_steps, e["end_step"] - e["start_step"] + 1)
            if k + 1 < len(events):
                stop = min(stop, events[k + 1]["start_step"])
            stop = min(stop, e.get("recovered_step", stop))
            seg = deseasonalised[e["start_step"]:max(stop, e["alarm_step"] + 1)]
            seg = seg[np.isfinite(seg)]
            if seg.size:
                new = float(np.median(seg))
        e["delta_level"] = new - old if np.isfinite(old) and np.isfinite(new) else 0.0
        if log:  # levels are logs: the relative change is exp(new - old) - 1
            e["magnitude"] = float(np.expm1(new - old))
            e["magnitude_abs"] = float(np.exp(new) - np.exp(old))
            continue
        if sqrt:  # levels are square roots (counts): back on the counts' own scale
            old, new = float(from_working(np.float64(old), "sqrt")), float(from_working(np.float64(new), "sqrt"))
        e["magnitude"] = (new - old) / abs(old) if np.isfinite(old) and old != 0 else float("nan")
        e["magnitude_abs"] = new - old
    return events


def flag_runs(flags: np.ndarray, kind: int) -> list[tuple[int, int]]:
    """Runs [a, b] (inclusive) of a flag value along a grid."""
    hit = (flags == kind).astype(np.int8)
    if not hit.any():
        return []
    edges = np.diff(np.concatenate([[0], hit, [0]]))
    return [(int(a), int(b) - 1) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def anomaly_events(flags: np.ndarray, values: np.ndarray, expected: np.ndarray, score: np.ndarray) -> list[dict]:
    out = []
    for a, b in flag_runs(flags, ANOMALY):
        seg = np.abs(np.nan_to_num(score[a:b + 1], nan=0.0))
        peak = a + int(np.argmax(seg))
        exp = expected[peak]
        rel = (values[peak] - exp) / abs(exp) if np.isfinite(exp) and exp != 0 else float("nan")
        out.append({"kind": "anomaly", "start_step": a, "end_step": b, "peak_step": peak,
                    "direction_sign": int(np.sign(score[peak])) if np.isfinite(score[peak]) else 0,
                    "magnitude": rel, "magnitude_abs": values[peak] - exp if np.isfinite(exp) else float("nan"),
                    "peak_score": float(score[peak])})
    return out


def drift_flags(n: int, events: list[dict], *, causal: bool) -> np.ndarray:
    """Steps flagged drift: from the alarm (causal) or from the estimated start (batch) to the event's end."""
    mask = np.zeros(n, dtype=bool)
    for e in events:
        a = e["alarm_step"] if causal else e["start_step"]
        mask[a:e["end_step"] + 1] = True
    return mask


def status_and_sentence(grid: Grid | None, *, periods: Sequence[int], dropped: Sequence[str], events: list[dict],
                        breaks: list[tuple[int, int]], special: tuple[str, str] | None,
                        relative: bool = True, strength: float = float("nan")) -> tuple[str, str]:
    """(status, verdict sentence) for one series. ``relative=False`` (a series that takes negative values, where a
    percentage of a level near zero means nothing) states changes in the series' own units. ``strength``
    (``seasonality.strength``): a series its periods explain less than ``MIN_STRENGTH`` of is said to have no clear
    pattern, with the strength, rather than a seasonal one."""

    def size(e: dict) -> str:
        if relative:
            return pct(e["magnitude"])
        x = e["magnitude_abs"]
        return f"{x:+.3g}" if x is not None and np.isfinite(x) else "n/a"

    if special is not None:
        return special
    assert grid is not None
    step = grid.step
    ts0 = grid.start
    notes = list(dropped)

    def at(i: int) -> dt.datetime:
        return ts0 + step * i

    parts: list[str] = []
    status = "seasonal"
    if breaks:
        a, b = max(breaks, key=lambda r: r[1] - r[0])
        more = f" (and {len(breaks) - 1} more)" if len(breaks) > 1 else ""
        parts.append(f"data break: no data from {when(at(a), step)} to {when(at(b), step)} "
                     f"({span_words(b - a, step)}){more}")
        status = "data_break"
    drifts = [e for e in events if e["kind"] in ("level_shift", "trend_change")]
    anomalies = [e for e in events if e["kind"] == "anomaly"]
    if drifts:
        big = max(drifts, key=lambda e: abs(np.nan_to_num(e["magnitude" if relative else "magnitude_abs"])))
        word = "level shift" if big["kind"] == "level_shift" else "trend change"
        more = f" (and {len(drifts) - 1} more drift event{'s' if len(drifts) > 2 else ''})" if len(drifts) > 1 else ""
        if "recovered_step" in big:
            span = f"from {day(at(big['start_step']), step)}, back by {when(at(big['recovered_step']), step)}"
        else:
            span = f"since {day(at(big['start_step']), step)}"
        parts.append(f"{word} of {size(big)} {span}{more}")
        status = "drift" if status == "seasonal" else status
    if anomalies:
        big = max(anomalies, key=lambda e: abs(np.nan_to_num(e["peak_score"])))
        more = f" and {len(anomalies) - 1} more" if len(anomalies) > 1 else ""
        parts.append(f"anomaly on {when(at(big['peak_step']), step)} ({size(big)}){more}")
        status = "anomaly" if status == "seasonal" else status
    variances = [e for e in events if e["kind"] == "variance_change"]
    if variances:
        last = variances[-1]
        more = f" (and {len(variances) - 1} more)" if len(variances) > 1 else ""
        parts.append(f"variance change: noise {'wider' if last['direction_sign'] > 0 else 'narrower'} "
                     f"(spread x{last['ratio']:.2g}) from {when(at(last['start_step']), step)}{more}")
        status = "variance_change" if status == "seasonal" else status
    if not parts:
        cycles = " + ".join(period_words(p, step) for p in periods)
        if not cycles:
            parts.append("no seasonal period fits, no drift")
        elif not clear_pattern(periods, strength):
            parts.append(f"no clear seasonal pattern ({cycles} explain {strength:.0%} of the detrended variation), "
                         f"no drift")
        else:
            parts.append(f"seasonal pattern ({cycles}), no drift")
    sentence = "; ".join(parts)
    if notes:
        sentence += " (" + "; ".join(notes) + ")"
    return status, sentence


def too_short_sentence(period: int, step: dt.timedelta, n: int) -> str:
    return (f"too short to separate {period_words(period, step)} seasonality: need "
            f"{span_words(2 * period, step)}, have {span_words(n, step)}")


__all__ = ["EVENT_KINDS", "DRIFT", "NO_CLEAR_PATTERN", "anomaly_events", "clear_pattern", "drift_flags", "merge_alarms",
           "shown_status", "status_and_sentence"]
