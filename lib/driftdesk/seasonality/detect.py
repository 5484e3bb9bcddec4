"""detect / causal_flags / decompose: from a frame of rows to flags, events and verdicts per series."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk.seasonality.causal import causal_scan
from driftdesk.seasonality.config import DetectConfig, steps_per_day, warmup_steps
from driftdesk.seasonality.grid import (
    DAY,
    Grid,
    SeasonalityError,
    default_periods,
    describe_step,
    gaps,
    period_words,
    span_words,
    timestamp_expr,
    to_grid,
    value_expr,
)
from driftdesk.seasonality.result import Decomposition, SeasonalityResult
from driftdesk.seasonality.rowstats import MAD_SCALE, nanmedian_rows
from driftdesk.seasonality.state import FLAG_NAMES, NORMAL
from driftdesk.seasonality.stl import apply_operator, default_specs, operator_cached, operator_for, stl_direct
from driftdesk.seasonality.verdicts import (
    anomaly_events,
    drift_flags,
    merge_alarms,
    status_and_sentence,
    too_short_sentence,
)

Frame = pl.DataFrame | pl.LazyFrame
Progress = Callable[[float, str], None]
CalendarInput = pl.DataFrame | Iterable | None


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class CalendarDay:
    """A holiday or promotion day (UTC date); ``segment`` like {'geo': 'US'} limits it to matching series."""

    date: dt.date
    segment: tuple[tuple[str, str], ...] = ()

    def applies_to(self, key: Mapping[str, object]) -> bool:
        return all(str(key[c]) == v for c, v in self.segment if c in key)


def _parse_segment(text) -> tuple[tuple[str, str], ...]:
    if text is None:
        return ()
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    out = []
    for p in parts:
        if "=" in p:
            c, v = p.split("=", 1)
            out.append((c.strip(), v.strip()))
    return tuple(out)


def calendar_days(calendar: CalendarInput) -> tuple[CalendarDay, ...]:
    """Normalise a calendar: a frame with ``date`` (and optional ``segment``), or a list of dates / ISO strings."""
    if calendar is None:
        return ()
    if isinstance(calendar, pl.LazyFrame):
        calendar = calendar.collect()
    if isinstance(calendar, pl.DataFrame):
        if "date" not in calendar.columns:
            raise SeasonalityError(f"calendar: needs a 'date' column; it has {', '.join(calendar.columns)}")
        dates = calendar["date"]
        if dates.dtype == pl.String:
            dates = dates.str.slice(0, 10).str.to_date(strict=False)
        elif isinstance(dates.dtype, pl.Datetime):
            dates = dates.dt.date()
        segs = calendar["segment"].to_list() if "segment" in calendar.columns else [None] * calendar.height
        return tuple(CalendarDay(d, _parse_segment(s)) for d, s in zip(dates.to_list(), segs) if d is not None)
    out = []
    for item in calendar:
        if isinstance(item, CalendarDay):
            out.append(item)
        elif isinstance(item, dt.datetime):
            out.append(CalendarDay(item.date()))
        elif isinstance(item, dt.date):
            out.append(CalendarDay(item))
        else:
            try:
                out.append(CalendarDay(dt.date.fromisoformat(str(item).strip()[:10])))
            except ValueError as exc:
                raise SeasonalityError(f"calendar: cannot read {item!r} as a date (YYYY-MM-DD)") from exc
    return tuple(out)


def _calendar_mask(grid: Grid, days: Sequence[CalendarDay], key: Mapping[str, object]) -> np.ndarray:
    if not days:
        return np.zeros(grid.n, dtype=bool)
    wanted = sorted({d.date for d in days if d.applies_to(key)})
    if not wanted:
        return np.zeros(grid.n, dtype=bool)
    stamps = grid.timestamps().astype("datetime64[D]")
    return np.isin(stamps, np.array(wanted, dtype="datetime64[D]"))


# --------------------------------------------------------------------------- preparing series


@dataclass
class _Series:
    key: dict
    rows: np.ndarray  # row ids in the input
    grid: Grid | None
    periods: tuple[int, ...] = ()
    dropped: tuple[str, ...] = ()
    special: tuple[str, str] | None = None
    calendar: np.ndarray | None = None
    log_offset: float = 0.0


def _as_frame(frame: Frame) -> pl.DataFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if isinstance(frame, pl.DataFrame):
        return frame
    raise SeasonalityError(f"expected a polars DataFrame or LazyFrame, got {type(frame).__name__}")


def _by_list(by) -> tuple[str, ...]:
    if by is None:
        return ()
    if isinstance(by, str):
        return tuple(c.strip() for c in by.split(",") if c.strip())
    return tuple(by)


def _prepare(frame: Frame, *, ts: str, value: str, by, periods, source: str,
             calendar: Sequence[CalendarDay], scope: Mapping[str, object],
             causal: bool = False) -> tuple[pl.DataFrame, list[_Series], tuple]:
    df = _as_frame(frame)
    by = _by_list(by)
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise SeasonalityError(f"{source}: no column {missing[0]!r} to split series by; columns are {', '.join(df.columns[:20])}")
    if value == ts or value in by:
        raise SeasonalityError(f"{source}: the value column {value!r} is also the timestamp or a split column")
    if periods is not None:
        periods = tuple(sorted({int(p) for p in ([periods] if isinstance(periods, int) else periods)}))
        bad = [p for p in periods if p < 2]
        if bad:
            raise SeasonalityError(f"{source}: --period must be at least 2 steps, got {bad[0]}")
    base = df.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"),
        *[pl.col(c) for c in by],
        timestamp_expr(df, ts, source=source).alias("__ts"),
        value_expr(df, value, source=source).alias("__v"),
    )
    groups = base.partition_by(list(by), maintain_order=True, as_dict=False) if by else [base]
    series = []
    for g in groups:
        key = {c: g[c][0] for c in by}
        label = "" if not by else " (series " + ", ".join(f"{c}={key[c]}" for c in by) + ")"
        rows = g["__row"].to_numpy()
        vals = g["__v"].to_numpy().astype(float)
        s = _Series(key, rows, None)
        series.append(s)
        if g.height == 0 or not np.isfinite(vals).any():
            s.special = ("empty", f"no values: all {g.height} rows are null or not finite")
            continue
        if g.height == 1:
            s.special = ("too_short", "one row: too short to tell the sampling interval or any seasonality")
            continue
        grid = to_grid(g["__ts"].to_numpy(), vals, ts=ts, source=source, label=label)
        s.grid = grid
        finite = grid.values[grid.present]
        wanted = periods if periods is not None else default_periods(grid.step)
        fits = tuple(p for p in wanted if grid.n >= 2 * p)
        if (periods is not None or causal) and len(fits) < len(wanted):
            # causal: the model may not depend on how much data comes later, so no period is dropped
            p = max(x for x in wanted if x not in fits)
            s.special = ("too_short", too_short_sentence(p, grid.step, grid.n))
        elif not wanted:
            s.special = ("too_short", f"no default seasonal period for data sampled {describe_step(grid.step)}; "
                                      "pass the periods explicitly (--period N)")
        elif not fits:
            s.special = ("too_short", too_short_sentence(min(wanted), grid.step, grid.n))
        else:
            s.periods = fits
            s.dropped = tuple(f"{period_words(p, grid.step)} seasonality not separated: need "
                              f"{span_words(2 * p, grid.step)}, have {span_words(grid.n, grid.step)}"
                              for p in wanted if p not in fits)
        if s.special is None and np.ptp(finite) == 0:
            s.special = ("constant", f"constant at {finite[0]:g}: no seasonality or drift to find")
        s.calendar = _calendar_mask(grid, calendar, {**dict(scope), **key})
    return base, series, by


# --------------------------------------------------------------------------- batch decomposition


def _decompose_many(values: np.ndarray, specs: tuple, *, use_operator: bool):
    if use_operator:
        trend, seasonals, resid = apply_operator(operator_for(values.shape[1], specs), values)
        return trend, seasonals.sum(axis=0), resid
    trend = np.empty_like(values)
    seas = np.empty_like(values)
    resid = np.empty_like(values)
    for i, row in enumerate(values):
        t, s, r = stl_direct(row, specs)
        trend[i], seas[i], resid[i] = t, s.sum(axis=0), r
    return trend, seas, resid


def _robust_z(resid: np.ndarray, clean: np.ndarray, *, floor: np.ndarray | None = None) -> np.ndarray:
    """(resid - median) / (1.4826 * MAD) per row, median and MAD over the clean points only.

    ``floor``: a lower bound for the scale. With few cycles STL fits the noise into the seasonal component
    and the residual MAD collapses; half the typical one-step forecast error keeps scores honest then.
    """
    r = np.where(clean, resid, np.nan)
    med = np.nanmedian(np.where(clean.any(axis=1)[:, None], r, 0.0), axis=1)
    mad = MAD_SCALE * np.nanmedian(np.where(clean.any(axis=1)[:, None], np.abs(r - med[:, None]), 0.0), axis=1)
    floor_abs = 1e-12 * np.fmax(np.nanmax(np.abs(np.where(clean, resid, 0.0)), axis=1), 1.0)
    mad = np.fmax(mad, floor_abs)
    if floor is not None:
        mad = np.fmax(mad, np.nan_to_num(floor, nan=0.0))
    return (resid - med[:, None]) / mad[:, None]


def _interpolate_rows(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    x = np.arange(values.shape[1])
    for i in range(values.shape[0]):
        ok = np.isfinite(out[i])
        if ok.all():
            continue
        out[i, ~ok] = np.interp(x[~ok], x[ok], out[i, ok]) if ok.any() else 0.0
    return out


# --------------------------------------------------------------------------- the entry points


def detect(frame: Frame, *, ts: str = "ts", value: str = "value", by: str | Sequence[str] | None = None,
           periods: int | Sequence[int] | None = None, causal: bool = False, calendar: CalendarInput = None,
           scope: Mapping[str, object] | None = None, config: DetectConfig | None = None,
           progress: Progress | None = None, source: str = "input") -> SeasonalityResult:
    """Flags, events and a verdict for every series in ``frame`` (one series per value of ``by``).

    ``causal=True``: a flag at t uses only rows with ts <= t (for gates and backtests); otherwise the whole
    history is decomposed at once (for exploring). ``calendar``: holiday / promotion days that are calendar,
    not drift (a frame with ``date`` and optional ``segment`` such as ``geo=US``, or a list of dates);
    ``scope`` names the segment the whole frame belongs to (e.g. {'geo': 'US'}) for matching the calendar.
    Periods default from the sampling interval (hourly: 24 and 168).
    """
    config = config or DetectConfig()
    days = calendar_days(calendar)
    base, series, by = _prepare(frame, ts=ts, value=value, by=by, periods=periods, source=source,
                                calendar=days, scope=scope or {}, causal=causal)
    n_rows = base.height
    out = {k: np.full(n_rows, np.nan) for k in ("trend", "seasonal", "resid", "score")}
    out_flag = np.zeros(n_rows, dtype=np.int8)
    out_cal = np.zeros(n_rows, dtype=bool)
    event_rows: list[dict] = []
    verdict_rows: list[dict] = []

    groups: dict[tuple, list[_Series]] = {}
    for s in series:
        if s.special is None:
            # decided on the warm-up (the first two longest cycles) only, so the causal mode stays causal
            head = s.grid.values[:warmup_steps(s.periods)]
            head = head[np.isfinite(head)]
            use_log = head.size > 0 and (config.log is True or (config.log == "auto" and bool((head > 0).all())))
            s.log_offset = 1e-3 * float(np.median(np.abs(head))) if use_log else 0.0
            groups.setdefault((s.grid.start, s.grid.step, s.grid.n, s.periods, use_log), []).append(s)
    total = max(len(series), 1)
    done = 0
    results: dict[int, tuple[np.ndarray, ...]] = {}
    for (_, step, n, pers, use_log), members in groups.items():
        values = np.stack([s.grid.values for s in members])
        # strictly positive metrics (volumes, rates, CPA, latency) are modelled on the log scale: seasonality
        # and shifts are multiplicative there, and a doubling is the same shift at the peak and at night
        # log(max(y, 0) + c), c a thousandth of the warm-up's median: a later zero (an outage) stays visible
        offset = np.array([s.log_offset for s in members])[:, None]
        work = np.log(np.maximum(values, 0.0) + offset) if use_log else values
        cal = np.stack([s.calendar for s in members])
        scan = causal_scan(work, cal, step=step, periods=pers, config=config, log=use_log)
        spd = steps_per_day(step)
        chain = int(round(config.chain_days * spd))
        drifts_all = []
        for idx, s in enumerate(members):
            deseas = np.where(s.calendar, np.nan, work[idx] - scan.seasonal[idx])
            drifts_all.append(merge_alarms([a for a in scan.alarms if a.series == idx], chain_steps=chain, log=use_log,
                                           deseasonalised=deseas, measure_steps=3 * spd))
        if causal:
            trend_w, total_w = scan.level, scan.level + scan.seasonal
            score_m = scan.score
            flags_m = scan.flag.copy()
        else:
            expected_w = scan.level + scan.seasonal
            # per drift event: the points the scan called anomalies only because its level was stale (between a
            # change and its alarm, or a return and its confirmation) belong to the new level, so they stay; and
            # the level step comes out before STL and goes back into the trend (a smooth trend would smear a step
            # over days and call the days around it anomalies). An episode that recovered holds its level only
            # until the return.
            stale = np.zeros_like(cal)
            steps = np.zeros_like(work)
            for idx, drifts in enumerate(drifts_all):
                for e in drifts:
                    stale[idx, e["start_step"]:e["alarm_step"] + 1] = True
                    if "recovered_step" in e:
                        stale[idx, e["recovered_step"]:e["recovered_alarm_step"] + 1] = True
                    steps[idx, e["start_step"]:e.get("recovered_step", n)] += e["delta_level"]
            fill = np.where(np.isfinite(work) & ~cal & ((scan.flag != 1) | stale), work, expected_w)
            fill = _interpolate_rows(fill) - steps
            # the operator costs n impulse fits once; direct fits cost one per series
            specs = default_specs(pers, jump=config.jump, seasonal_deg=config.seasonal_deg)
            use_op = len(members) >= 8 and (len(members) >= n or operator_cached(n, specs))
            t_w, s_w, resid_fit = _decompose_many(fill, specs, use_operator=use_op)
            t_w = t_w + steps
            trend_w, total_w = t_w, t_w + s_w
            resid_w = work - total_w
            clean = np.isfinite(work) & ~cal
            score_m = _robust_z(np.where(np.isfinite(resid_w), resid_w, resid_fit), clean,
                                floor=0.5 * nanmedian_rows(scan.sigma))
            score_m = np.where(np.isfinite(values), score_m, np.nan)
            flags_m = np.where(clean & (np.abs(np.nan_to_num(score_m)) >= config.anomaly_z), 1, 0).astype(np.int8)
        trend_m = np.exp(trend_w) - offset if use_log else trend_w
        expected = np.exp(total_w) - offset if use_log else total_w
        seas_m = expected - trend_m
        resid_m = values - expected
        for idx, s in enumerate(members):
            drifts = drifts_all[idx]
            flags = flags_m[idx]
            if not causal:  # causal flags come from the scan as they were raised; batch ones span each event
                flags = np.where(drift_flags(n, drifts, causal=False), 2, flags).astype(np.int8)
            flags = np.where(s.calendar, NORMAL, flags).astype(np.int8)
            exp_i = trend_m[idx] + seas_m[idx]
            # points inside a drift episode, or between a return and its confirmation, belong to that episode
            spans = [(d["start_step"], max(d["end_step"], d.get("recovered_alarm_step", -1))) for d in drifts]
            anomalies = [a for a in anomaly_events(flags, values[idx], exp_i, score_m[idx])
                         if not any(lo <= a["start_step"] <= hi for lo, hi in spans)]
            breaks = gaps(s.grid, min_steps=max(1, int(round(config.break_days * spd))))
            s_events = drifts + anomalies
            status, sentence = status_and_sentence(s.grid, periods=pers, dropped=s.dropped, events=s_events,
                                                   breaks=breaks, special=None,
                                                   relative=use_log or not (values[idx] < 0).any())
            results[id(s)] = (trend_m[idx], seas_m[idx], resid_m[idx], score_m[idx], flags)
            for e in s_events:
                event_rows.append(_event_row(s, e, scan.score[idx]))
            for a, b in breaks:
                event_rows.append({**s.key, "start": s.grid.start + step * a, "end": s.grid.start + step * (b - 1),
                                   "kind": "data_break", "direction": None, "magnitude": None,
                                   "magnitude_abs": float(b - a), "detected_at": s.grid.start + step * b,
                                   "score": None})
            verdict_rows.append({**s.key, "status": status, "verdict": sentence,
                                 "periods": ", ".join(map(str, pers)), "step_seconds": step.total_seconds(),
                                 "n_points": len(s.rows)})
            done += 1
            if progress is not None:
                progress(done / total, f"{done} of {total} series")
    for s in series:
        pos = s.grid.row_pos if s.grid is not None else None
        if s.special is not None:
            status, sentence = s.special
            verdict_rows.append({**s.key, "status": status, "verdict": sentence,
                                 "periods": ", ".join(map(str, s.periods)),
                                 "step_seconds": s.grid.step.total_seconds() if s.grid is not None else None,
                                 "n_points": len(s.rows)})
            if status == "constant" and pos is not None:
                v = s.grid.values[pos]
                out["trend"][s.rows] = v
                out["seasonal"][s.rows] = np.where(np.isfinite(v), 0.0, np.nan)
                out["resid"][s.rows] = np.where(np.isfinite(v), 0.0, np.nan)
                out["score"][s.rows] = np.where(np.isfinite(v), 0.0, np.nan)
            done += 1
            if progress is not None:
                progress(done / total, f"{done} of {total} series")
            continue
        trend, seas, resid, score, flags = results[id(s)]
        out["trend"][s.rows] = trend[pos]
        out["seasonal"][s.rows] = seas[pos]
        out["resid"][s.rows] = resid[pos]
        out["score"][s.rows] = score[pos]
        out_flag[s.rows] = flags[pos]
        out_cal[s.rows] = s.calendar[pos]
    points = base.select(
        *[pl.col(c) for c in by],
        pl.col("__ts").alias("ts"),
        pl.col("__v").alias("value"),
        *[pl.Series(k, v).fill_nan(None).alias(k) for k, v in out.items()],
        pl.Series("flag", np.array(FLAG_NAMES)[out_flag]).alias("flag"),
        pl.Series("calendar", out_cal).alias("calendar"),
    ).with_columns(pl.col("value").fill_nan(None))
    points = points.with_columns(
        pl.when(pl.col(c).is_infinite()).then(None).otherwise(pl.col(c)).alias(c) for c in ("value", "trend", "seasonal", "resid", "score"))
    schema = {**{c: base.schema[c] for c in by}, "start": pl.Datetime("us"), "end": pl.Datetime("us"), "kind": pl.String,
              "direction": pl.String, "magnitude": pl.Float64, "magnitude_abs": pl.Float64,
              "detected_at": pl.Datetime("us"), "score": pl.Float64}
    events = pl.DataFrame(event_rows, schema=schema) if event_rows else pl.DataFrame(schema=schema)
    events = events.with_columns(pl.col("magnitude", "magnitude_abs", "score").fill_nan(None)).sort([*by, "start"])
    vschema = {**{c: base.schema[c] for c in by}, "status": pl.String, "verdict": pl.String, "periods": pl.String,
               "step_seconds": pl.Float64, "n_points": pl.Int64}
    verdicts = pl.DataFrame(verdict_rows, schema=vschema)
    if by:
        order = {tuple(s.key.values()): i for i, s in enumerate(series)}
        verdicts = verdicts.with_columns(pl.struct(list(by)).map_elements(lambda r: order.get(tuple(r.values()), 0),
                                                                         return_dtype=pl.Int64).alias("__o")).sort("__o").drop("__o")
    cfg = {**config.to_dict(), "periods": list(periods) if periods is not None else None,
           "calendar_days": [str(d.date) for d in days]}
    return SeasonalityResult(points, events, verdicts, by, causal, cfg)


def _event_row(s: _Series, e: dict, causal_score: np.ndarray) -> dict:
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


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


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
    base, series, _ = _prepare(frame, ts=ts, value=value, by=None, periods=periods, source=source, calendar=(),
                               scope={})
    s = series[0]
    if s.special is not None and s.special[0] != "constant":
        raise SeasonalityError(f"{source}: column {value!r}: {s.special[1]}")
    grid = s.grid
    pers = s.periods or tuple(p for p in (periods if periods is not None else default_periods(grid.step)))
    if s.dropped and periods is None:
        pers = s.periods
    missing = ~grid.present
    if missing.any() and not fill:
        runs = gaps(grid)
        ex = ", ".join(f"{(grid.start + grid.step * a):%Y-%m-%d %H:%M}" + (f" ({b - a} steps)" if b - a > 1 else "")
                       for a, b in runs[:5])
        raise SeasonalityError(
            f"{source}: column {value!r}: {int(missing.sum())} of {grid.n} {describe_step(grid.step)} steps have no "
            f"value (missing rows, nulls or non-finite), e.g. {ex}. STL cannot skip them: aggregate, fill, or pass fill=True")
    y = _interpolate_rows(grid.values[None, :])[0]
    specs = default_specs(pers, jump=jump)
    trend, seasonals, resid = stl_direct(y, specs, robust=robust)
    cols = {"ts": grid.timestamps(), "observed": y, "trend": trend, "seasonal": seasonals.sum(axis=0)}
    for spec, sc in zip(specs, seasonals):
        cols[f"seasonal_{spec.period}"] = sc
    cols["resid"] = resid
    cols["filled"] = missing
    frame_out = pl.DataFrame(cols).with_columns(pl.col("ts").cast(pl.Datetime("us")))
    return Decomposition(frame_out, tuple(s.period for s in specs), robust)


def period_names(periods: Sequence[int], step: dt.timedelta = dt.timedelta(hours=1)) -> list[str]:
    return [period_words(p, step) for p in periods]


__all__ = ["CalendarDay", "DAY", "calendar_days", "causal_flags", "decompose", "detect", "period_names"]
