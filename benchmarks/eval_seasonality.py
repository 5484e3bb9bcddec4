"""Evaluate the causal seasonality detector on labelled synthetic series.

    .venv/bin/python benchmarks/eval_seasonality.py [--per-kind 40] [--weeks 8] [--seed 11] [--json out.json]
    .venv/bin/python benchmarks/eval_seasonality.py --bounds   # what any mean test could do on this noise
    .venv/bin/python benchmarks/eval_seasonality.py --daily    # daily series (the weekly period only)
    .venv/bin/python benchmarks/eval_seasonality.py --minutes 5   # the same kinds at 5 minutes

Every series is hourly, with a daily and a weekly multiplicative cycle, hourly noise and a day-level random
factor (real traffic has both). Kinds: seasonality only; level shifts of 5, 10, 20 and 50% (up and down);
a slow trend drift (-30% over two weeks); a variance change (noise x3); isolated outliers; calendar days
(holidays and promotions, given to the detector as a calendar); missing hours (random holes and a 12-hour
gap); deep weekends (Saturdays and Sundays at ``--weekend-factor`` of the weekday level, 0.5 by default, as
business-to-business traffic has), seasonality only and with a 20% level shift. Reported for the causal mode (each flag uses only earlier data), alerts being runs of non-normal flags:

* false drift alerts per series-week: drift alerts on series with no drift, or before a change starts;
* false anomaly alerts per series-week on series with nothing in them;
* detection: the share of changes flagged drift within 24 hours / at all, and the median delay in hours.

``--bounds`` puts the 10%-within-24-hours target against the noise: the forecast residuals of this generator
(a day factor of 1.5%, hourly noise of 2-5%, a forecast of each weekday from four earlier ones) simulated
directly, and the mean test of the last 12 / 24 hours run on them with a threshold that gives one chance in ten
of any false alarm on 40 seasonality-only series over 6 weeks. Once with the spread of the means known exactly
(a bound no detector reaches), once with it estimated like the detector does (from the residuals since the
warm-up, older than two days, Student-t threshold).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

import numpy as np
import polars as pl

from driftdesk.seasonality import causal_flags

T0 = dt.datetime(2026, 1, 5)  # a Monday


def base_series(rng: np.random.Generator, hours: int, day_sd: float = 0.015, per_hour: int = 1) -> np.ndarray:
    """``hours`` x ``per_hour`` points; finer points carry sqrt(per_hour) times the hourly noise, so their hourly
    means are as noisy as the hourly series."""
    t = np.arange(hours * per_hour) / per_hour
    level = rng.uniform(200, 5000)
    daily = 1 + rng.uniform(0.2, 0.5) * np.sin(2 * np.pi * (t - rng.integers(0, 24)) / 24)
    weekly = 1 + rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * (t - rng.integers(0, 168)) / 168)
    day_factor = np.repeat(rng.normal(0, day_sd, hours // 24 + 1), 24 * per_hour)[:t.size]
    noise = rng.normal(0, rng.uniform(0.02, 0.05) * np.sqrt(per_hour), t.size)
    return level * daily * weekly * np.exp(day_factor + noise)


def make_set(per_kind: int, weeks: int, seed: int, day_sd: float = 0.015, minutes: int = 60,
             weekend_factor: float = 0.5) -> tuple[pl.DataFrame, list[dict], list[dt.date]]:
    """Labelled series; ``minutes`` < 60 makes them that fine (positions below are in points, ``start`` in
    hours). The deep-weekend kinds come last, so the other kinds' series do not depend on them."""
    rng = np.random.default_rng(seed)
    k = 60 // minutes
    hours = weeks * 168
    frames, labels = [], []
    holidays = [(T0 + dt.timedelta(days=d)).date() for d in (24, 38)]
    kinds = ["seasonal_only", "shift_5", "shift_10", "shift_20", "shift_50", "trend_drift", "variance_change",
             "outliers", "holidays", "missing_hours", "deep_weekend", "deep_weekend_shift_20"]
    for kind in kinds:
        for i in range(per_kind):
            y = base_series(rng, hours, day_sd, k)
            n = y.size
            start = None
            if kind.startswith("deep_weekend"):
                weekday = (np.arange(n) // (24 * k) + T0.weekday()) % 7
                y *= np.where(weekday >= 5, weekend_factor, 1.0)
            if kind.startswith("shift_") or kind == "deep_weekend_shift_20":
                size = int(kind.split("_")[-1]) / 100 * (1 if i % 2 == 0 else -1)
                start = int(rng.integers(21 * 24, hours - 5 * 24))
                y[start * k:] *= 1 + size
            elif kind == "trend_drift":
                start = int(rng.integers(21 * 24, hours - 14 * 24))
                ramp = np.clip((np.arange(n) / k - start) / (14 * 24), 0, 1)
                y *= 1 - 0.3 * ramp
            elif kind == "variance_change":
                start = int(rng.integers(21 * 24, hours - 5 * 24))
                y[start * k:] *= np.exp(rng.normal(0, 0.08 * np.sqrt(k), n - start * k))
            elif kind == "outliers":
                spots = rng.choice(np.arange(15 * 24 * k, n), 5, replace=False)
                y[spots] *= rng.choice([0.4, 1.6], 5)
            elif kind == "holidays":
                for d, f in zip(holidays, (0.7, 1.45)):
                    a = (dt.datetime.combine(d, dt.time()) - T0) // dt.timedelta(hours=1)
                    y[a * k:(a + 24) * k] *= f
            elif kind == "missing_hours":
                y[rng.random(n) < 0.03] = np.nan
                g = int(rng.integers(20 * 24, hours - 2 * 24))
                y[g * k:(g + 12) * k] = np.nan
            sid = f"{kind}-{i:03d}"
            keep = np.isfinite(y) | (kind != "missing_hours")
            ts = [T0 + dt.timedelta(minutes=int(p) * minutes) for p in np.flatnonzero(keep)]
            frames.append(pl.DataFrame({"series": sid, "ts": ts, "value": y[keep]}))
            labels.append({"series": sid, "kind": kind, "start": start})
    return pl.concat(frames), labels, holidays


def alert_starts(flags: np.ndarray, which: tuple[str, ...]) -> np.ndarray:
    """Indices where a run of non-normal flags starts, keeping runs that contain one of ``which``."""
    abnormal = flags != "normal"
    starts = np.flatnonzero(abnormal & ~np.concatenate([[False], abnormal[:-1]]))
    out = []
    for s in starts:
        e = s
        while e + 1 < len(flags) and abnormal[e + 1]:
            e += 1
        if any(f in which for f in flags[s:e + 1]):
            out.append(s)
    return np.array(out, dtype=int)


def evaluate(frame: pl.DataFrame, labels: list[dict], holidays: list[dt.date], weeks: int, config=None) -> dict:
    t = time.perf_counter()
    flags = causal_flags(frame, by="series", calendar=holidays, config=config)
    seconds = time.perf_counter() - t
    by_series = {k[0]: g for k, g in flags.group_by(["series"], maintain_order=True)}
    scored_weeks = weeks - 2  # the first two weeks are warm-up (two weekly cycles)
    rows = []
    for lab in labels:
        g = by_series[lab["series"]].sort("ts")
        f = g["flag"].to_numpy()
        hours = ((g["ts"] - T0).dt.total_minutes() / 60).to_numpy()
        drift_alerts = hours[alert_starts(f, ("drift",))]
        anomaly_alerts = hours[alert_starts(f, ("anomaly",))]
        start = lab["start"]
        if start is None or lab["kind"] in ("variance_change",):
            false_drift = len(drift_alerts) if start is None else int((drift_alerts < start).sum())
            delay = None
        else:
            false_drift = int((drift_alerts < start - 6).sum())
            after = drift_alerts[drift_alerts >= start - 6]
            delay = float(max(0, after[0] - start)) if len(after) else None
        rows.append({"kind": lab["kind"], "false_drift": false_drift, "anomaly_alerts": len(anomaly_alerts),
                     "delay": delay, "has_change": start is not None,
                     "variance_flagged": lab["kind"] == "variance_change" and len(drift_alerts) + len(anomaly_alerts) > 0})
    df = pl.DataFrame(rows)
    table = []
    for kind, g in df.group_by("kind", maintain_order=True):
        kind = kind[0]
        n = g.height
        entry = {"kind": kind, "series": n,
                 "false_drift_per_week": float(g["false_drift"].sum() / (n * scored_weeks)),
                 "anomaly_alerts_per_week": float(g["anomaly_alerts"].sum() / (n * scored_weeks))}
        if "shift_" in kind or kind == "trend_drift":
            d = g["delay"].drop_nulls()
            entry["detected"] = float(d.len() / n)
            entry["within_24h"] = float((d <= 24).sum() / n)
            entry["median_delay_h"] = float(d.median()) if d.len() else None
        if kind == "variance_change":
            entry["flagged_any"] = float(g["variance_flagged"].mean())
        table.append(entry)
    return {"seconds": seconds, "series": len(labels), "weeks": weeks, "kinds": table}


DAY_SD, FORECAST_CYCLES, WARM_DAYS, MIN_DAYS, LAG_DAYS = 0.015, 4, 14, 7, 2


def _bound_residuals(rng: np.random.Generator, m: int, hours: int) -> tuple[np.ndarray, np.ndarray]:
    """Forecast residuals (log) of the generator: day factor + the error of a weekday forecast from earlier weeks
    + hourly noise; and each series' hourly noise level."""
    days = hours // 24 + 1
    day_sd = DAY_SD * np.sqrt(1 + 1 / FORECAST_CYCLES)
    noise = rng.uniform(0.02, 0.05, m)
    r = np.repeat(rng.normal(0, day_sd, (m, days)), 24, axis=1)[:, :hours]
    return r + rng.normal(0, 1, (m, hours)) * noise[:, None], noise


def _window_z(r: np.ndarray, noise: np.ndarray, w: int, estimated: bool) -> np.ndarray:
    """Mean of the last w hours over its spread, at every hour (0 before the test may run)."""
    from scipy import stats

    m, hours = r.shape
    c = np.concatenate([np.zeros((m, 1)), np.cumsum(r, axis=1)], axis=1)
    end = np.arange(w - 1, hours)
    mean = np.zeros((m, hours))
    mean[:, end] = (c[:, end + 1] - c[:, end + 1 - w]) / w
    z = np.zeros((m, hours))
    first = (WARM_DAYS + LAG_DAYS + MIN_DAYS) * 24
    if not estimated:
        # exact: the window's hours split over two calendar days, each with its own day factor
        a = np.minimum(np.arange(hours) % 24 + 1, w)
        share = (a / w) ** 2 + ((w - a) / w) ** 2
        var = (DAY_SD ** 2 * (1 + 1 / FORECAST_CYCLES)) * share[None, :] + (noise ** 2)[:, None] / w
        z[:, first:] = (mean / np.sqrt(var))[:, first:]
        return z
    sq = np.concatenate([np.zeros((m, 1)), np.cumsum(mean ** 2, axis=1)], axis=1)
    for d in range(first // 24, hours // 24):
        hi = (d - LAG_DAYS) * 24
        lo = WARM_DAYS * 24 + w - 1
        sd = np.sqrt((sq[:, hi] - sq[:, lo]) / (hi - lo))
        t = mean[:, d * 24:(d + 1) * 24] / sd[:, None]
        # the same tail as a normal's at the t statistic, with (hi - lo) / w degrees of freedom
        z[:, d * 24:(d + 1) * 24] = np.sign(t) * -stats.norm.ppf(stats.t.sf(np.abs(t), df=(hi - lo) / w))
    return z


def bounds(weeks: int = 8, seed: int = 11, null_series: int = 4000, shift_series: int = 2000) -> list[dict]:
    """Detection of 10% shifts within 24 hours by the mean test, spread known or estimated (see the docstring)."""
    rng = np.random.default_rng(seed)
    hours = weeks * 168
    out = []
    for estimated in (False, True):
        null, noise = _bound_residuals(rng, null_series, hours)
        peak = np.max([np.abs(_window_z(null, noise, w, estimated)).max(axis=1) for w in (12, 24)], axis=0)
        threshold = float(np.quantile(peak, 0.9 ** (1 / 40)))  # P(no alarm on 40 series) = 0.9
        caught = []
        for sign in (1, -1):
            r, noise = _bound_residuals(rng, shift_series, hours)
            start = rng.integers(21 * 24, hours - 5 * 24, shift_series)
            r = r + np.log(1 + 0.1 * sign) * (np.arange(hours)[None, :] >= start[:, None])
            hit = np.zeros(shift_series, dtype=bool)
            for w in (12, 24):
                z = np.abs(_window_z(r, noise, w, estimated))
                within = (np.arange(hours)[None, :] >= start[:, None]) & (np.arange(hours)[None, :] < start[:, None] + 24)
                hit |= ((z > threshold) & within).any(axis=1)
            caught.append(float(hit.mean()))
        out.append({"spread": "estimated" if estimated else "known", "threshold": threshold,
                    "within_24h_up": caught[0], "within_24h_down": caught[1]})
    return out


def daily(per_kind: int = 60, days: int = 540, seed: int = 0) -> list[dict]:
    """Daily series over 1.5 years: a weekly pattern, a slow yearly wave the model does not know (period 7 only)
    and 2-6% daily noise; seasonality only, or a 10% / 20% level shift (up and down) after day 120."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    start_day = dt.datetime(2024, 1, 1)
    frames, labels = [], []
    for kind in ("seasonal_only", "shift_10", "shift_20"):
        for i in range(per_kind):
            y = rng.uniform(100, 10_000) * (1 + rng.uniform(0.05, 0.3) * np.sin(2 * np.pi * (t - rng.integers(7)) / 7)) \
                * (1 + rng.uniform(0, 0.2) * np.sin(2 * np.pi * (t - rng.integers(365)) / 365)) \
                * np.exp(rng.normal(0, rng.uniform(0.02, 0.06), days))
            start = None
            if kind != "seasonal_only":
                start = int(rng.integers(120, days - 30))
                y[start:] *= 1 + int(kind.split("_")[1]) / 100 * (1 if i % 2 else -1)
            sid = f"{kind}-{i:03d}"
            frames.append(pl.DataFrame({"series": sid, "ts": [start_day + dt.timedelta(days=int(k)) for k in t], "value": y}))
            labels.append((sid, kind, start))
    flags = causal_flags(pl.concat(frames), by="series")
    by_series = {k[0]: g["flag"].to_numpy() for k, g in flags.group_by(["series"], maintain_order=True)}
    out = []
    for kind in ("seasonal_only", "shift_10", "shift_20"):
        false, delays = 0, []
        for sid, k, start in labels:
            if k != kind:
                continue
            drift = by_series[sid] == "drift"
            starts = np.flatnonzero(drift & ~np.concatenate([[False], drift[:-1]]))
            if start is None:
                false += len(starts)
                continue
            false += int((starts < start - 1).sum())
            after = starts[starts >= start - 1]
            delays.append(int(max(0, after[0] - start)) if len(after) else None)
        got = [d for d in delays if d is not None]
        out.append({"kind": kind, "series": per_kind, "false_drift_per_series_year": false / (per_kind * (days - 14) / 365),
                    "detected": len(got) / per_kind if delays else None,
                    "within_7_days": sum(d <= 7 for d in got) / per_kind if delays else None,
                    "median_delay_days": float(np.median(got)) if got else None})
    return out


def render(result: dict) -> str:
    deep = f", deep weekends at x{result['weekend_factor']:g}" if "weekend_factor" in result else ""
    lines = [f"{result['series']} series x {result['weeks']} weeks{deep}, causal mode, {result['seconds']:.1f} s",
             "",
             "| kind | series | false drift alerts / week | anomaly alerts / week | detected | within 24 h | median delay (h) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for e in result["kinds"]:
        det = f"{e['detected']:.0%}" if "detected" in e else (f"{e['flagged_any']:.0%} flagged" if "flagged_any" in e else "-")
        w24 = f"{e['within_24h']:.0%}" if "within_24h" in e else "-"
        med = f"{e['median_delay_h']:.0f}" if e.get("median_delay_h") is not None else "-"
        lines.append(f"| {e['kind']} | {e['series']} | {e['false_drift_per_week']:.3f} | {e['anomaly_alerts_per_week']:.3f} "
                     f"| {det} | {w24} | {med} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=40)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--day-sd", type=float, default=0.015, help="standard deviation of the day-level factor")
    ap.add_argument("--minutes", type=int, default=60, help="sampling interval (5: 5-minute series, hourly means "
                    "as noisy as the hourly set)")
    ap.add_argument("--weekend-factor", type=float, default=0.5, help="weekend level against weekdays in the "
                    "deep-weekend kinds")
    ap.add_argument("--json")
    ap.add_argument("--bounds", action="store_true", help="the mean test on simulated residuals, spread known or estimated")
    ap.add_argument("--daily", action="store_true", help="daily series: false alarms per series-year, shift detection")
    args = ap.parse_args()
    if args.daily:
        print(f"daily series x 540 days, causal mode, seed {args.seed}")
        print("| kind | series | false drift alerts / series-year | detected | within 7 days | median delay (days) |")
        print("|---|---:|---:|---:|---:|---:|")
        for e in daily(seed=args.seed):
            pct = lambda x: "-" if x is None else f"{x:.0%}"  # noqa: E731
            med = "-" if e["median_delay_days"] is None else f"{e['median_delay_days']:.0f}"
            print(f"| {e['kind']} | {e['series']} | {e['false_drift_per_series_year']:.3f} | {pct(e['detected'])} "
                  f"| {pct(e['within_7_days'])} | {med} |")
        return
    if args.bounds:
        print("| spread of the means | threshold (normal equivalent) | 10% up within 24 h | 10% down within 24 h |")
        print("|---|---:|---:|---:|")
        for b in bounds(args.weeks, args.seed):
            print(f"| {b['spread']} | {b['threshold']:.2f} | {b['within_24h_up']:.0%} | {b['within_24h_down']:.0%} |")
        return
    frame, labels, holidays = make_set(args.per_kind, args.weeks, args.seed, args.day_sd, args.minutes,
                                       args.weekend_factor)
    result = evaluate(frame, labels, holidays, args.weeks)
    result["weekend_factor"] = args.weekend_factor
    print(render(result))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
