"""Speed of the seasonality module: decomposition and scoring of many series, batch and causal, in one process.

    .venv/bin/python benchmarks/bench_seasonality.py [--series 1000] [--weeks 8] [--naive 5]
    .venv/bin/python benchmarks/bench_seasonality.py --minutes 5 [--points 22000] [--series 1000]

Hourly (default): seconds per series and in total for
* the naive floor: statsmodels MSTL(24, 168) fitted series by series (timed on ``--naive`` series);
* building the linear STL operators the causal scan needs (from sparse smoothers, in the calling thread);
* the batch view of all series (causal scan for drift + full-history decomposition + scores + verdicts);
* the causal replay of the whole period (a trailing-window refit every day, applied forward).
Targets: batch of 1,000 x 8 weeks under 60 s, causal replay under 10 minutes, on 2 cores.

``--minutes 5``: one series of ``--points`` 5-minute points in batch and causal mode (target under 20 s each),
then ``--series`` such series in causal mode (target under 10 minutes), with the peak memory of the process.
No worker processes are started anywhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time

import numpy as np
import polars as pl

T0 = dt.datetime(2026, 1, 5)


def make_series(n_series: int, points: int, minutes: int = 60, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(points) * minutes / 60  # hours
    k = 60 // minutes
    level = rng.uniform(200, 5000, (n_series, 1))
    daily = 1 + rng.uniform(0.2, 0.5, (n_series, 1)) * np.sin(2 * np.pi * (t - rng.integers(0, 24, (n_series, 1))) / 24)
    weekly = 1 + rng.uniform(0.05, 0.2, (n_series, 1)) * np.sin(2 * np.pi * (t - rng.integers(0, 168, (n_series, 1))) / 168)
    y = level * daily * weekly * np.exp(rng.normal(0, 0.03 * np.sqrt(k), (n_series, points)))
    shifted = rng.random(n_series) < 0.2
    at = rng.integers(21 * 24, max(t[-1] - 24, 21 * 24 + 1), n_series)
    y[shifted] *= np.where(t[None, :] >= at[shifted, None], 1.15, 1.0)
    ts = pl.datetime_range(T0, T0 + dt.timedelta(minutes=minutes * (points - 1)), f"{minutes}m", eager=True)
    return pl.DataFrame({
        "series": np.repeat([f"s{i:04d}" for i in range(n_series)], points),
        "ts": pl.concat([ts] * n_series),
        "value": y.ravel(),
    })


def timed(frame: pl.DataFrame, *, causal: bool, by: str | None = "series") -> tuple[float, int]:
    from driftdesk.seasonality import detect

    t = time.perf_counter()
    res = detect(frame, by=by, causal=causal)
    return time.perf_counter() - t, res.events.height


def naive_mstl(frame: pl.DataFrame, k: int) -> float:
    from statsmodels.tsa.seasonal import MSTL

    ids = frame["series"].unique(maintain_order=True).to_list()[:k]
    t = time.perf_counter()
    for sid in ids:
        MSTL(frame.filter(pl.col("series") == sid)["value"].to_numpy(), periods=(24, 168)).fit()
    return (time.perf_counter() - t) / max(k, 1)


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def hourly(args) -> None:
    from driftdesk.seasonality.causal import DetectConfig
    from driftdesk.seasonality.stl import default_specs, operator_for

    n = args.weeks * 168
    frame = make_series(args.series, n)
    per = naive_mstl(frame, args.naive) if args.naive else float("nan")
    print(f"{args.series} hourly series x {args.weeks} weeks ({n} points each), one process")
    print(f"naive MSTL(24, 168) loop: {per:.3f} s/series -> {per * args.series:.0f} s for all (extrapolated)")
    specs = default_specs((24, 168), seasonal_deg=DetectConfig().seasonal_deg)
    t = time.perf_counter()
    for length in sorted({min(n, x) for x in (336, 504, 672)}):
        operator_for(length, specs)
    print(f"STL operators for the causal windows (336, 504, 672 steps; kept in memory): {time.perf_counter() - t:.2f} s")
    batch, events = timed(frame, causal=False)
    print(f"batch view: {batch:.1f} s total, {batch / args.series * 1000:.1f} ms/series, {events} events (target < 60 s)")
    causal, events = timed(frame, causal=True)
    print(f"causal replay of {args.weeks} weeks: {causal:.1f} s total, {causal / args.series * 1000:.1f} ms/series, "
          f"{events} events (target < 600 s)")
    print(f"speed-up over the naive loop: batch x{per * args.series / batch:.0f}, causal replay (daily refits) "
          f"x{per * args.series / causal:.0f}")


def fine(args) -> None:
    one = make_series(1, args.points, args.minutes).drop("series")
    print(f"one {args.minutes}-minute series of {args.points:,} points ({args.points * args.minutes / 1440:.0f} days)")
    for causal in (False, True):
        seconds, events = timed(one, causal=causal, by=None)
        print(f"  {'causal' if causal else 'batch'}: {seconds:.2f} s, {events} events (target < 20 s)")
    if args.series:
        many = make_series(args.series, args.points, args.minutes)
        seconds, events = timed(many, causal=True)
        print(f"{args.series:,} such series, causal: {seconds:.1f} s ({seconds / args.series * 1000:.0f} ms/series, "
              f"{many.height:,} points), {events} events, peak memory {peak_gb():.1f} GB (target < 600 s)")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up when piped
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--naive", type=int, default=5, help="series to time the naive MSTL loop on")
    ap.add_argument("--minutes", type=int, default=60, help="sampling interval; below 60: the fine-grained run")
    ap.add_argument("--points", type=int, default=22_000, help="with --minutes: points per series")
    args = ap.parse_args()
    if args.minutes < 60:
        fine(args)
    else:
        hourly(args)


if __name__ == "__main__":
    main()
