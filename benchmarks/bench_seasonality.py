"""Speed of the seasonality module: decomposition and scoring of many hourly series, batch and causal.

    .venv/bin/python benchmarks/bench_seasonality.py [--series 1000] [--weeks 8] [--workers 2] [--naive 5]

Reports seconds per series and in total for
* the naive floor: statsmodels MSTL(24, 168) fitted series by series (timed on ``--naive`` series);
* building the shared linear STL operators (once per series length, then cached on disk);
* the batch view of all series (causal scan for drift + full-history decomposition + scores + verdicts), cold
  (the full-length operator not built yet: one direct STL fit per series) and warm (the shared operator);
* the causal replay of the whole period (a trailing-window refit every day, applied forward).
Targets: batch of 1,000 x 8 weeks under 60 s, causal replay under 10 minutes, on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import polars as pl

T0 = dt.datetime(2026, 1, 5)


def make_series(n_series: int, weeks: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    hours = weeks * 168
    t = np.arange(hours)
    level = rng.uniform(200, 5000, (n_series, 1))
    daily = 1 + rng.uniform(0.2, 0.5, (n_series, 1)) * np.sin(2 * np.pi * (t - rng.integers(0, 24, (n_series, 1))) / 24)
    weekly = 1 + rng.uniform(0.05, 0.2, (n_series, 1)) * np.sin(2 * np.pi * (t - rng.integers(0, 168, (n_series, 1))) / 168)
    y = level * daily * weekly * np.exp(rng.normal(0, 0.03, (n_series, hours)))
    shifted = rng.random(n_series) < 0.2
    at = rng.integers(21 * 24, hours - 24, n_series)
    y[shifted] *= np.where(t[None, :] >= at[shifted, None], 1.15, 1.0)
    ts = pl.datetime_range(T0, T0 + dt.timedelta(hours=hours - 1), "1h", eager=True)
    return pl.DataFrame({
        "series": np.repeat([f"s{i:04d}" for i in range(n_series)], hours),
        "ts": pl.concat([ts] * n_series),
        "value": y.ravel(),
    })


def _run(args: tuple[pl.DataFrame, bool]) -> tuple[int, int]:
    from driftdesk.seasonality import detect

    frame, causal = args
    res = detect(frame, by="series", causal=causal)
    return res.points.height, res.events.height


def run_parallel(frame: pl.DataFrame, *, causal: bool, workers: int) -> tuple[float, int]:
    ids = frame["series"].unique(maintain_order=True).to_list()
    chunks = [frame.filter(pl.col("series").is_in(ids[i::workers])) for i in range(workers)]
    t = time.perf_counter()
    if workers == 1:
        out = [_run((chunks[0], causal))]
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            out = list(pool.map(_run, [(c, causal) for c in chunks]))
    return time.perf_counter() - t, sum(o[1] for o in out)


def naive_mstl(frame: pl.DataFrame, k: int) -> float:
    from statsmodels.tsa.seasonal import MSTL

    ids = frame["series"].unique(maintain_order=True).to_list()[:k]
    t = time.perf_counter()
    for sid in ids:
        MSTL(frame.filter(pl.col("series") == sid)["value"].to_numpy(), periods=(24, 168)).fit()
    return (time.perf_counter() - t) / max(k, 1)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up when piped
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--naive", type=int, default=5, help="series to time the naive MSTL loop on")
    args = ap.parse_args()
    os.environ.setdefault("DRIFTDESK_STL_CACHE", tempfile.mkdtemp(prefix="driftdesk-stl-"))
    from driftdesk.seasonality.causal import DetectConfig
    from driftdesk.seasonality.stl import default_specs, operator_for

    frame = make_series(args.series, args.weeks)
    n = args.weeks * 168
    per = naive_mstl(frame, args.naive) if args.naive else float("nan")
    print(f"{args.series} hourly series x {args.weeks} weeks ({n} points each), {args.workers} workers")
    print(f"naive MSTL(24, 168) loop: {per:.3f} s/series -> {per * args.series:.0f} s for all (extrapolated)")

    specs = default_specs((24, 168), seasonal_deg=DetectConfig().seasonal_deg)
    t = time.perf_counter()
    for length in sorted({min(n, x) for x in (336, 504, 672)}):
        operator_for(length, specs, workers=args.workers)
    build = time.perf_counter() - t
    print(f"STL operators for the causal windows (lengths 336, 504, 672; once, then cached on disk): {build:.1f} s")

    batch, events = run_parallel(frame, causal=False, workers=args.workers)
    print(f"batch view, cold ({n}-step operator not built: one direct STL fit per series): {batch:.1f} s total, "
          f"{batch / args.series * 1000:.1f} ms/series, {events} events (target < 60 s)")
    t = time.perf_counter()
    operator_for(n, specs, workers=args.workers)
    print(f"{n}-step operator built: {time.perf_counter() - t:.1f} s (once per series length, cached on disk)")
    batch_warm, _ = run_parallel(frame, causal=False, workers=args.workers)
    print(f"batch view, warm (shared operator): {batch_warm:.1f} s total, {batch_warm / args.series * 1000:.1f} ms/series")
    causal, events = run_parallel(frame, causal=True, workers=args.workers)
    print(f"causal replay of {args.weeks} weeks: {causal:.1f} s total, {causal / args.series * 1000:.1f} ms/series, "
          f"{events} events (target < 600 s)")
    print(f"speed-up over the naive loop: batch x{per * args.series / batch:.0f} cold, x{per * args.series / batch_warm:.0f}"
          f" warm; causal replay (42 daily refits per series) vs one naive fit per series x{per * args.series / causal:.0f}")


if __name__ == "__main__":
    main()
