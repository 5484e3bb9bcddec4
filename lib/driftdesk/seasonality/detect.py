"""detect / causal_flags / decompose: from a frame of rows to flags, events and verdicts per series.

``detect`` reads like statsmodels' STL: validate and prepare the series (``prepare``), fit each group of
equal grids (the causal scan, and the batch view when asked), then each series' events and verdict, and
finally the three frames of the result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk.seasonality.batch import batch_view, interpolate_rows
from driftdesk.seasonality.calendar import CalendarInput, calendar_days
from driftdesk.seasonality.causal import causal_scan
from driftdesk.seasonality.config import DetectConfig, steps_per_day, warmup_steps
from driftdesk.seasonality.episodes import EpisodeCounts, group_episodes
from driftdesk.seasonality.fine import full_resolution
from driftdesk.seasonality.grid import DAY, HOUR, WEEK, SeasonalityError, describe_step, gaps
from driftdesk.seasonality.prepare import Frame, PreparedSeries, group_series, prepare_series
from driftdesk.seasonality.result import Decomposition, SeasonalityResult
from driftdesk.seasonality.scales import from_working, to_working
from driftdesk.seasonality.state import ANOMALY, DRIFT, FLAG_NAMES, NORMAL, CausalScan
from driftdesk.seasonality.stl import default_specs, stl_direct
from driftdesk.seasonality.strength import seasonal_strength
from driftdesk.seasonality.variance import variance_changes
from driftdesk.seasonality.verdicts import anomaly_events, drift_flags, merge_alarms, status_and_sentence, when

Progress = Callable[[float, str], None]
POINT_ARRAYS = ("trend", "seasonal", "resid", "score")


def detect(frame: Frame, *, ts: str = "ts", value: str = "value", by: str | Sequence[str] | None = None,
           periods: int | Sequence[int] | None = None, causal: bool = False, calendar: CalendarInput = None,
           scope: Mapping[str, object] | None = None, config: DetectConfig | None = None,
           progress: Progress | None = None, source: str = "input", duplicates: str = "mean",
           strict: bool = False, scans: SharedScans | None = None) -> SeasonalityResult:
    """Flags, events and a verdict for every series in ``frame`` (one series per value of ``by``).

    ``causal=True``: a flag at t uses only rows with ts <= t (for gates and backtests); otherwise the whole
    history is decomposed at once (for exploring). ``calendar``: holiday / promotion days that are calendar,
    not drift (a frame with ``date`` and optional ``segment`` such as ``geo=US``, or a list of dates);
    ``scope`` names the segment the whole frame belongs to (e.g. {'geo': 'US'}) for matching the calendar.
    Periods default from the sampling interval (hourly: 24 and 168; finer data is modelled on hourly means).
    Rows that repeat a timestamp are combined by ``duplicates`` (mean, sum, first, last) and irregular spacing is
    put on a regular grid at its typical step, both counted in the verdicts and in ``result.notes``;
    ``strict=True`` refuses them instead. ``scans``: causal scans already run on these series among others
    (``shared_scans``): a series found there with the same values, calendar, grid and configuration reads its
    scan from there instead of being scanned again (the same bits: a scan treats every series as if alone).
    """
    config = config or DetectConfig()
    days = calendar_days(calendar)
    base, series, by = prepare_series(frame, ts=ts, value=value, by=by, periods=periods, source=source,
                                      calendar=days, scope=scope or {}, causal=causal, duplicates=duplicates,
                                      strict=strict)
    outcomes: dict[int, _Outcome] = {}  # by id of the series, in the order they were done

    def done(s: PreparedSeries, outcome: _Outcome) -> None:
        outcomes[id(s)] = outcome
        if progress is not None:
            progress(len(outcomes) / max(len(series), 1), f"{len(outcomes)} of {max(len(series), 1)} series")

    for key, members in group_series(series, config).items():
        fitted = _fit_group(members, key, config, causal=causal, scans=scans)
        for idx, s in enumerate(members):
            done(s, _series_outcome(s, fitted, idx, config, causal=causal))
    for s in series:
        if s.special is not None:
            done(s, _special_outcome(s))
    cfg = {**config.to_dict(), "periods": _periods_echo(periods), "calendar_days": [str(d.date) for d in days],
           "duplicates": duplicates, "strict": strict}
    return SeasonalityResult(_points_frame(base, series, outcomes, by, causal=causal),
                             _events_frame(base, list(outcomes.values()), by),
                             _verdicts_frame(base, series, list(outcomes.values()), by), by, causal, cfg,
                             _input_notes(series, by, source))


def _input_notes(series: list[PreparedSeries], by: tuple[str, ...], source: str) -> tuple[str, ...]:
    """One line per series whose rows were combined or regridded (the CLI prints them on stderr)."""
    out = []
    for s in series:
        if s.grid is None:
            continue
        for sentence in s.grid.notes.sentences(s.grid.step):
            name = ", ".join(f"{c}={s.key[c]}" for c in by)
            out.append(f"{source}{' (' + name + ')' if name else ''}: {sentence}")
    return tuple(out)


def _periods_echo(periods) -> list[int] | None:
    """The periods as asked for, for the printed configuration."""
    if periods is None:
        return None
    return [periods] if isinstance(periods, int) else list(periods)


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class _GroupFit:
    """A group of equal grids fitted together: per series (m x n) on the series' own scale."""

    step: dt.timedelta
    periods: tuple[int, ...]
    log: bool
    scale: str  # the working scale (``scales``)
    values: np.ndarray
    trend: np.ndarray
    seasonal: np.ndarray
    resid: np.ndarray
    score: np.ndarray
    flags: np.ndarray  # the scan's flags (causal) or the batch view's anomaly flags
    drifts: list[list[dict]]  # per series: drift events (merged alarms)
    variances: list[list[dict]]  # per series: variance-change events
    causal_score: np.ndarray  # the scan's scores (an event's peak score when it has none of its own)
    sigma: np.ndarray  # the scan's score scale (working scale; NaN in the warm-up)
    level_w: np.ndarray  # trend and seasonal on the working scale (logs for a log model), and the log offset
    seasonal_w: np.ndarray
    offset: np.ndarray
    strength: np.ndarray  # per series: how much of it the longest period explains (``strength``), NaN if unknown


def _fit_group(members: list[PreparedSeries], key: tuple, config: DetectConfig, *, causal: bool,
               scans: SharedScans | None = None) -> _GroupFit:
    """The causal scan of a group's series (on the log scale when they are strictly positive; read from
    ``scans`` when every series is there), its alarms merged into drift events, and in batch mode the whole
    history decomposed around those events."""
    _, step, n, periods, scale = key
    use_log = scale == "log"
    values, offset, work, cal = _group_arrays(members, scale)
    scan = scans.scan_of([s.key for s in members], key, work, cal, config) if scans is not None else None
    if scan is None:
        scan = causal_scan(work, cal, step=step, periods=periods, config=config, log=use_log, scale=scale)
    drifts = _drift_events(scan, work, cal, step, config, scale=scale)
    if causal:
        trend_w, total_w, score, flags = scan.level, scan.level + scan.seasonal, scan.score, scan.flag.copy()
    else:
        trend_w, total_w, score, flags = batch_view(values, work, cal, scan, drifts, periods=periods, config=config)
    trend, expected = from_working(trend_w, scale, offset), from_working(total_w, scale, offset)
    counts = np.array([s.counts for s in members])
    variances = _variance_events(scan, work, cal, step, config, drifts, stabilised=_counts_residuals(
        values, from_working(scan.level + scan.seasonal, scale, offset), counts))
    strength = np.full(values.shape[0], np.nan)
    for period in sorted(periods, reverse=True):  # the longest period with two cycles detrended, else a shorter
        unknown = np.isnan(strength)
        if unknown.any():
            strength[unknown] = seasonal_strength(work[unknown], period, exclude=cal[unknown])
    return _GroupFit(step, periods, use_log, scale, values, trend, expected - trend, values - expected, score, flags,
                     drifts, variances, scan.score, scan.sigma, trend_w, total_w - trend_w, offset[:, 0], strength)


def _drift_events(scan: CausalScan, work: np.ndarray, cal: np.ndarray, step: dt.timedelta, config: DetectConfig,
                  *, scale: str) -> list[list[dict]]:
    """Per series: the scan's alarms as drift events; their sizes measured after the fact over a change's first
    three days (outside calendar days), consecutive alarms within ``chain_days`` one trend change."""
    spd = steps_per_day(step)
    chain = int(round(config.chain_days * spd))
    out = []
    for idx in range(work.shape[0]):
        deseas = np.where(cal[idx], np.nan, work[idx] - scan.seasonal[idx])
        out.append(merge_alarms([a for a in scan.alarms if a.series == idx], chain_steps=chain, log=scale == "log",
                                deseasonalised=deseas, measure_steps=3 * spd, sqrt=scale == "sqrt"))
    return out


def _counts_residuals(values: np.ndarray, expected: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Forecast residuals of count series on Anscombe's square-root scale (NaN for the others): there the
    noise of counts is as wide at every level, where on the log scale it widens whenever the level falls."""
    out = to_working(values, "sqrt") - to_working(expected, "sqrt")
    return np.where(counts[:, None], out, np.nan)


def _group_arrays(members: Sequence[PreparedSeries], scale: str) -> tuple[np.ndarray, ...]:
    """A group's values on the model's grid, their log offsets, the values on the working scale and the calendar
    masks, a row per series: what its causal scan reads."""
    values = np.stack([s.model_grid().values for s in members])
    offset = np.array([s.log_offset for s in members])[:, None]
    return values, offset, to_working(values, scale, offset), np.stack([s.calendar for s in members])


def _variance_events(scan: CausalScan, work: np.ndarray, cal: np.ndarray, step: dt.timedelta,
                     config: DetectConfig, drifts: list[list[dict]], *, stabilised: np.ndarray) -> list[list[dict]]:
    """Per series: changes in the spread of the scan's forecast residuals (``variance``), in both modes from the
    causal scan, as drift events are; for counts the residuals on the square-root scale (``stabilised``).
    Anomalies, calendar days and each level shift until a day after its alarm (while the level is re-estimated)
    stay out: they are told apart already."""
    resid = work - (scan.level + scan.seasonal)
    resid = np.where(np.isnan(stabilised).all(axis=1)[:, None], resid, stabilised)
    ok = np.isfinite(resid) & ~cal & np.isfinite(scan.sigma) & (scan.flag != ANOMALY)
    day = steps_per_day(step)
    for i, events in enumerate(drifts):
        for e in events:
            ok[i, e["start_step"]:e["alarm_step"] + day + 1] = False
    model = np.asarray(scan.periods_used)
    return [variance_changes(resid[i], ok[i], model, day=day, config=config) for i in range(work.shape[0])]


@dataclass(frozen=True)
class _Scanned:
    """One group's causal scan in ``SharedScans``, and what it was run on (working-scale values, calendar)."""

    key: tuple
    config: DetectConfig
    scan: CausalScan
    work: np.ndarray
    cal: np.ndarray


@dataclass(frozen=True)
class SharedScans:
    """Causal scans of many series run at once (``shared_scans``), for ``detect(scans=...)`` to read each
    series' rows from: a series is found by its key (the values of ``fixed`` columns and its own ``by`` values)
    and its grid, periods and scale."""

    by: tuple[str, ...]
    rows: Mapping[tuple, tuple[_Scanned, int]]  # (the series' values of ``by``, its group) -> (a scan, its row)
    fixed: Mapping[str, object] | None = None

    def restricted(self, **fixed: object) -> SharedScans:
        """The series whose columns ``fixed`` hold these values (a series to look up then names the others)."""
        return SharedScans(self.by, self.rows, {**(self.fixed or {}), **fixed})

    def scan_of(self, keys: Sequence[Mapping[str, object]], group: tuple, work: np.ndarray, cal: np.ndarray,
                config: DetectConfig) -> CausalScan | None:
        """The rows of a group's series (their ``keys``) out of the scans, as if scanned together alone; None
        unless every series was scanned on the same grid, periods and scale, with the same configuration, values
        and calendar (a scan treats each series as if alone, so its rows may come from several scans)."""
        fixed = self.fixed or {}
        found = [self.rows.get((tuple(fixed[c] if c in fixed else k.get(c) for c in self.by), group)) for k in keys]
        if not found or any(f is None for f in found) or len({(id(f[0]), f[1]) for f in found}) != len(found):
            return None
        for i, (scanned, row) in enumerate(found):
            if (scanned.config != config or not np.array_equal(scanned.work[row], work[i], equal_nan=True)
                    or not np.array_equal(scanned.cal[row], cal[i])):
                return None
        scans = [scanned.scan for scanned, _ in found]
        if any(not np.array_equal(sc.periods_used, scans[0].periods_used) for sc in scans):
            return None
        alarms = [dataclasses.replace(a, series=i) for i, (scanned, row) in enumerate(found)
                  for a in scanned.scan.alarms if a.series == row]

        def rows(name: str) -> np.ndarray:
            return np.stack([getattr(scanned.scan, name)[row] for scanned, row in found])

        return CausalScan(rows("level"), rows("seasonal"), rows("score"), rows("flag"), rows("filled"), alarms,
                          scans[0].periods_used, None if scans[0].sigma is None else rows("sigma"))


def shared_scans(frame: Frame, *, ts: str = "ts", value: str = "value", by: str | Sequence[str] | None = None,
                 calendar: CalendarInput = None, config: DetectConfig | None = None,
                 source: str = "input") -> SharedScans:
    """The causal scan of every series of ``frame`` (one per value of ``by``), series on one grid at once: the
    part of ``detect`` whose cost is per time step rather than per series, the same in both modes. Each series'
    scan is the same, bit for bit, as scanning it alone (every product and reduction reads its own row:
    ``rowstats.rows_times``), so ``detect(part, scans=shared)`` of any part of the series gives what ``detect``
    gives without it. Series are prepared as the batch mode prepares them: one the causal mode models otherwise
    (too short for a period yet, or 5-minute data ending inside an hour) is not found there, and scanned again."""
    config = config or DetectConfig()
    _, series, names = prepare_series(frame, ts=ts, value=value, by=by, periods=None, source=source,
                                      calendar=calendar_days(calendar), scope={})
    rows: dict[tuple, tuple[_Scanned, int]] = {}
    for key, members in group_series(series, config).items():
        _, step, _, periods, scale = key
        _, _, work, cal = _group_arrays(members, scale)
        scan = causal_scan(work, cal, step=step, periods=periods, config=config, log=scale == "log", scale=scale)
        scanned = _Scanned(key, config, scan, work, cal)
        for i, s in enumerate(members):
            rows[tuple(s.key[c] for c in names), key] = (scanned, i)
    return SharedScans(names, rows)


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class _Outcome:
    """One series: its point arrays on its grid (none for a special series), event rows and verdict row."""

    arrays: dict[str, np.ndarray] | None
    flags: np.ndarray | None
    events: list[dict]
    verdict: dict


def _series_outcome(s: PreparedSeries, fit: _GroupFit, idx: int, config: DetectConfig, *, causal: bool) -> _Outcome:
    """Flags (calendar days are normal; in batch mode drift spans each event; finer data judged point by point
    against its hour), episodes and the alert budget, events and the verdict."""
    n = fit.values.shape[1]
    drifts, variances = fit.drifts[idx], fit.variances[idx]
    flags = fit.flags[idx]
    if not causal:  # causal flags come from the scan as they were raised; batch ones span each event
        flags = np.where(drift_flags(n, drifts, causal=False), DRIFT, flags).astype(np.int8)
    flags = np.where(s.calendar, NORMAL, flags).astype(np.int8)
    arrays = {"trend": fit.trend[idx], "seasonal": fit.seasonal[idx], "resid": fit.resid[idx],
              "score": fit.score[idx]}
    k = s.per_model_step
    if k > 1:
        arrays = full_resolution(s.grid.values, k, level_w=fit.level_w[idx], seasonal_w=fit.seasonal_w[idx],
                                 scale=fit.scale, offset=float(fit.offset[idx]), sigma=fit.sigma[idx],
                                 model_flags=flags, calendar=s.calendar, day_steps=steps_per_day(fit.step),
                                 anomaly_z=config.anomaly_z, causal=causal, counts=s.counts,
                                 record_days=config.record_days, persist_steps=config.persist_steps,
                                 cycles=fit.periods)
        flags = arrays.pop("flag")
        drifts = [_finer(d, k) for d in drifts]
        variances = [_finer(v, k) for v in variances]
    step = s.grid.step
    flags, counts = group_episodes(flags, gap=max(1, int(round(config.episode_hours * HOUR / step))),
                                   budget=config.alert_budget, week=int(round(WEEK / step)))
    values = s.grid.values
    expected = arrays["trend"] + arrays["seasonal"]
    # points inside a drift episode, or between a return and its confirmation, belong to that episode
    spans = [(d["start_step"], max(d["end_step"], d.get("recovered_alarm_step", -1))) for d in drifts]
    anomalies = [a for a in anomaly_events(flags, values, expected, arrays["score"])
                 if not any(lo <= a["start_step"] <= hi for lo, hi in spans)]
    breaks = gaps(s.grid, min_steps=max(1, int(round(config.break_days * DAY / step))))
    events = drifts + anomalies + variances
    status, sentence = status_and_sentence(s.grid, periods=[p * k for p in fit.periods], dropped=s.dropped,
                                           events=events,
                                           breaks=breaks, special=None, relative=fit.log or not (fit.values[idx] < 0).any(),
                                           strength=fit.strength[idx])
    sentence += _notes_sentence(s, fit, idx, counts, config, causal=causal)
    causal_score = np.repeat(fit.causal_score[idx], k)[:s.grid.n] if k > 1 else fit.causal_score[idx]
    rows = [_event_row(s, e, causal_score) for e in events]
    rows += [_break_row(s, a, b) for a, b in breaks]
    verdict = _verdict_row(s, status, sentence, fit.periods, fit.step)
    verdict.update(alerts=counts.alerts, episodes=counts.episodes, suppressed_alerts=counts.suppressed,
                   live_from=_live_from(s), seasonal_strength=_finite(fit.strength[idx]))
    return _Outcome(arrays, flags, rows, verdict)


def _live_from(s: PreparedSeries) -> dt.datetime:
    """When flags start: the end of the warm-up (two cycles of the shortest period, or the level model's)."""
    grid = s.model_grid()
    return grid.start + grid.step * warmup_steps(s.periods, grid.step)


def _finer(event: dict, k: int) -> dict:
    """A drift or variance event on the hourly model's steps, on the k-times finer grid of the points: it starts
    at its first hour's first point; it was detected (and a return confirmed) at the last point of the hour
    that showed it, when that hour's mean is known, and it ends at its last hour's last point."""
    out = dict(event)
    for key in ("start_step", "recovered_step"):
        if key in out:
            out[key] = out[key] * k
    for key in ("alarm_step", "recovered_alarm_step", "end_step"):
        if key in out:
            out[key] = out[key] * k + k - 1
    return out


def _notes_sentence(s: PreparedSeries, fit: _GroupFit, idx: int, counts: EpisodeCounts, config: DetectConfig, *,
                    causal: bool) -> str:
    """What the verdict adds about the input and the alerts: duplicates combined, regridding, the model on
    hourly means, the warm-up, episodes and the alert budget."""
    notes = list(s.grid.notes.sentences(s.grid.step))
    combined = s.grid.notes.duplicate_rows or s.grid.notes.combined_rows
    if combined and s.declared_counts is None and s.counts:
        notes.append(f"judged as counts on its rows before they were combined (whole numbers): the "
                     f"{s.grid.notes.rule} of a step's counts is still a count, not a measurement")
    if s.per_model_step > 1:
        of_counts = " of counts, on their square roots" if fit.scale == "sqrt" else ""
        notes.append(f"modelled on hourly means{of_counts}, points judged {describe_step(s.grid.step)}")
    if causal and not np.isfinite(fit.sigma[idx]).any():
        grid = s.model_grid()
        notes.append(f"warming up until {when(_live_from(s), grid.step)}: no flags yet")
    if counts.continued or counts.suppressed:
        notes.append(f"{counts.alerts} alerts for {counts.episodes} episodes"
                     + (f", {counts.suppressed} over the budget of {config.alert_budget} a week suppressed"
                        if counts.suppressed else ""))
    return (" [" + "; ".join(notes) + "]") if notes else ""


def _special_outcome(s: PreparedSeries) -> _Outcome:
    """A series that is empty, too short or constant: its verdict says so; a constant one is its own trend."""
    status, sentence = s.special
    arrays = None
    if status == "constant" and s.grid is not None:
        v = s.grid.values
        zero = np.where(np.isfinite(v), 0.0, np.nan)
        arrays = {"trend": v, "seasonal": zero, "resid": zero, "score": zero}
    if s.grid is not None:
        notes = s.grid.notes.sentences(s.grid.step)
        sentence += (" [" + "; ".join(notes) + "]") if notes else ""
    return _Outcome(arrays, None, [], _verdict_row(s, status, sentence, s.periods,
                                                   s.model_grid().step if s.grid else None))


def _verdict_row(s: PreparedSeries, status: str, sentence: str, periods, step: dt.timedelta | None) -> dict:
    """``periods`` are in steps of the model (``model_step_seconds``: hourly for finer data); ``step_seconds`` is
    the data's own step; ``duplicate_rows`` were combined into their step, ``regridded`` rows put on a grid."""
    notes = s.grid.notes if s.grid is not None else None
    return {**s.key, "status": status, "verdict": sentence, "periods": ", ".join(map(str, periods)),
            "step_seconds": s.grid.step.total_seconds() if s.grid is not None else None, "n_points": len(s.rows),
            "model_step_seconds": step.total_seconds() if step is not None else None,
            "duplicate_rows": notes.duplicate_rows if notes else 0,
            "regridded": bool(notes.regridded) if notes else False,
            "alerts": 0, "episodes": 0, "suppressed_alerts": 0, "live_from": None, "seasonal_strength": None}


def _event_row(s: PreparedSeries, e: dict, causal_score: np.ndarray) -> dict:
    step, t0 = s.grid.step, s.grid.start
    sign = e["direction_sign"]
    detected = e.get("alarm_step", e["start_step"])
    score = e.get("peak_score")
    if score is None:
        seg = causal_score[e["start_step"]:detected + 1]
        score = float(np.nanmax(np.abs(seg))) * sign if np.isfinite(seg).any() else None
    return {**s.key, "start": t0 + step * e["start_step"], "end": t0 + step * e["end_step"], "kind": e["kind"],
            "direction": "up" if sign > 0 else "down" if sign < 0 else None,
            "magnitude": _finite(e["magnitude"]), "magnitude_abs": _finite(e["magnitude_abs"]),
            "detected_at": t0 + step * detected, "score": _finite(score)}


def _break_row(s: PreparedSeries, a: int, b: int) -> dict:
    step, t0 = s.grid.step, s.grid.start
    return {**s.key, "start": t0 + step * a, "end": t0 + step * (b - 1), "kind": "data_break", "direction": None,
            "magnitude": None, "magnitude_abs": float(b - a), "detected_at": t0 + step * b, "score": None}


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


# --------------------------------------------------------------------------- the result frames


def _points_frame(base: pl.DataFrame, series: list[PreparedSeries], outcomes: dict[int, _Outcome],
                  by: tuple[str, ...], *, causal: bool) -> pl.DataFrame:
    """by..., ts, value, trend, seasonal, resid, score, flag, calendar: one row per input row, input order. In
    causal mode a row shows the last step complete at its time (on a regridded series a step is complete at its
    end, after the rows in it), in batch mode its own step."""
    out = {k: np.full(base.height, np.nan) for k in POINT_ARRAYS}
    out_flag = np.zeros(base.height, dtype=np.int8)
    out_cal = np.zeros(base.height, dtype=bool)
    for s in series:
        o = outcomes[id(s)]
        if o.arrays is None:
            continue
        pos = s.grid.known_positions() if causal else s.grid.row_pos
        seen = pos >= 0
        rows, pos = s.rows[seen], pos[seen]
        for k in POINT_ARRAYS:
            out[k][rows] = o.arrays[k][pos]
        if o.flags is not None:
            out_flag[rows] = o.flags[pos]
            out_cal[s.rows] = s.calendar[s.grid.row_pos // s.per_model_step]
    points = base.select(
        *[pl.col(c) for c in by],
        pl.col("__ts").alias("ts"),
        pl.col("__v").alias("value"),
        *[pl.Series(k, v).fill_nan(None).alias(k) for k, v in out.items()],
        # the names by code: converting a numpy array of strings costs ten times more
        pl.Series("flag", out_flag).replace_strict(dict(enumerate(FLAG_NAMES)), return_dtype=pl.String).alias("flag"),
        pl.Series("calendar", out_cal).alias("calendar"),
    ).with_columns(pl.col("value").fill_nan(None))
    points = points.with_columns(pl.when(pl.col(c).is_infinite()).then(None).otherwise(pl.col(c)).alias(c)
                                 for c in ("value", *POINT_ARRAYS))
    # a row combined with others into its step keeps its own value: its residual is its own too
    return points.with_columns(pl.coalesce(pl.col("value") - pl.col("trend") - pl.col("seasonal"), pl.col("resid"))
                               .alias("resid"))


def _events_frame(base: pl.DataFrame, outcomes: list[_Outcome], by: tuple[str, ...]) -> pl.DataFrame:
    schema = {**{c: base.schema[c] for c in by}, "start": pl.Datetime("us"), "end": pl.Datetime("us"),
              "kind": pl.String, "direction": pl.String, "magnitude": pl.Float64, "magnitude_abs": pl.Float64,
              "detected_at": pl.Datetime("us"), "score": pl.Float64}
    rows = [r for o in outcomes for r in o.events]
    events = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return events.with_columns(pl.col("magnitude", "magnitude_abs", "score").fill_nan(None)).sort([*by, "start"])


def _verdicts_frame(base: pl.DataFrame, series: list[PreparedSeries], outcomes: list[_Outcome],
                    by: tuple[str, ...]) -> pl.DataFrame:
    """One row per series, in the input's order of series."""
    schema = {**{c: base.schema[c] for c in by}, "status": pl.String, "verdict": pl.String, "periods": pl.String,
              "step_seconds": pl.Float64, "n_points": pl.Int64, "model_step_seconds": pl.Float64,
              "duplicate_rows": pl.Int64, "regridded": pl.Boolean, "alerts": pl.Int64, "episodes": pl.Int64,
              "suppressed_alerts": pl.Int64, "live_from": pl.Datetime("us"), "seasonal_strength": pl.Float64}
    verdicts = pl.DataFrame([o.verdict for o in outcomes], schema=schema)
    if not by:
        return verdicts
    order = {tuple(s.key.values()): i for i, s in enumerate(series)}
    return verdicts.with_columns(pl.struct(list(by)).map_elements(lambda r: order.get(tuple(r.values()), 0),
                                                                  return_dtype=pl.Int64).alias("__o")).sort("__o").drop("__o")


# --------------------------------------------------------------------------- the other entry points


def causal_flags(frame: Frame, *, ts: str = "ts", value: str = "value", by: str | Sequence[str] | None = None,
                 periods: int | Sequence[int] | None = None, calendar: CalendarInput = None,
                 scope: Mapping[str, object] | None = None, config: DetectConfig | None = None) -> pl.DataFrame:
    """by..., ts, value, score, flag: the causal mode's per-point flags (a flag at t uses only ts <= t)."""
    res = detect(frame, ts=ts, value=value, by=by, periods=periods, causal=True, calendar=calendar, scope=scope,
                 config=config)
    return res.points.select(*res.by, "ts", "value", "score", "flag")


def decompose(frame: Frame, *, ts: str = "ts", value: str = "value", periods: int | Sequence[int] | None = None,
              robust: bool = False, jump: bool = True, fill: bool = False, source: str = "input") -> Decomposition:
    """STL (one period) or MSTL (several) of one series, with every check statsmodels skips.

    Gaps and nulls are errors unless ``fill=True`` (then filled by linear interpolation, and marked in the
    ``filled`` column); too short for a period is an error naming what is needed.
    """
    _, series, _ = prepare_series(frame, ts=ts, value=value, by=None, periods=periods, source=source, calendar=(),
                                  scope={})
    s = series[0]
    if s.special is not None and s.special[0] != "constant":
        raise SeasonalityError(f"{source}: column {value!r}: {s.special[1]}")
    grid = s.grid
    missing = ~grid.present
    if missing.any() and not fill:
        ex = ", ".join(f"{(grid.start + grid.step * a):%Y-%m-%d %H:%M}" + (f" ({b - a} steps)" if b - a > 1 else "")
                       for a, b in gaps(grid)[:5])
        raise SeasonalityError(
            f"{source}: column {value!r}: {int(missing.sum())} of {grid.n} {describe_step(grid.step)} steps have no "
            f"value (missing rows, nulls or non-finite), e.g. {ex}. STL cannot skip them: aggregate, fill, or pass fill=True")
    y = interpolate_rows(grid.values[None, :])[0]
    specs = default_specs(s.periods, jump=jump)
    trend, seasonals, resid = stl_direct(y, specs, robust=robust)
    cols = {"ts": grid.timestamps(), "observed": y, "trend": trend, "seasonal": seasonals.sum(axis=0)}
    for spec, sc in zip(specs, seasonals):
        cols[f"seasonal_{spec.period}"] = sc
    cols["resid"] = resid
    cols["filled"] = missing
    frame_out = pl.DataFrame(cols).with_columns(pl.col("ts").cast(pl.Datetime("us")))
    return Decomposition(frame_out, tuple(s.period for s in specs), robust)


__all__ = ["SharedScans", "causal_flags", "decompose", "detect", "shared_scans"]
