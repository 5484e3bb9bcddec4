"""Benchmark: calibration on N scored rows and the mix/rate impact on hourly KPIs of S segments, with ratios.

    .venv/bin/python benchmarks/bench_calibration_impact.py --rows 20000000 --segments 2000   # full size
    .venv/bin/python benchmarks/bench_calibration_impact.py --rows 500000 --segments 100      # a quick run

Prints ratios measured in this run:
  * calibration_curve (reading the Parquet file lazily, uniform and quantile bins) / floor, where the floor
    is one polars pass reading score and label and summing them;
  * scikit-learn calibration_curve + brier_score_loss / driftdesk, on numpy arrays already in memory
    (reading excluded for scikit-learn, which favours it); scikit-learn also drops empty bins;
  * segment_impact (two windows, reading included) / floor, where the floor is one polars pass summing
    spend and conversions per segment and window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

T0 = dt.datetime(2026, 1, 5)


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def scored_file(rows: int, folder: Path) -> Path:
    path = folder / f"scored_{rows}.parquet"
    if not path.exists():
        rng = np.random.default_rng(3)
        s = rng.beta(2, 6, rows)
        pl.DataFrame({"score": s, "label": (rng.random(rows) < s).astype(np.int8)}).write_parquet(path)
    return path


def kpis_file(segments: int, days: int, folder: Path) -> Path:
    path = folder / f"kpis_{segments}_{days}.parquet"
    if not path.exists():
        rng = np.random.default_rng(4)
        hours = days * 24
        n = hours * segments
        ts = pl.datetime_range(T0, T0 + dt.timedelta(hours=hours - 1), "1h", eager=True)
        conv = rng.poisson(5, n).astype(float)
        pl.DataFrame({
            "ts": np.repeat(ts.to_numpy(), segments),
            "segment": np.tile(np.array([f"s{i:05d}" for i in range(segments)]), hours),
            "conversions": conv,
            "spend": conv * rng.gamma(20, 1, n) + 1,
        }).write_parquet(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "driftdesk_bench"))
    args = parser.parse_args()
    folder = Path(args.data)
    folder.mkdir(parents=True, exist_ok=True)

    from sklearn.calibration import calibration_curve as sk_curve
    from sklearn.metrics import brier_score_loss

    from driftdesk.business import segment_impact
    from driftdesk.calibration import calibration_curve

    path = scored_file(args.rows, folder)
    floor = timed(lambda: pl.scan_parquet(path).select(pl.col("score").sum(), pl.col("label").sum()).collect())
    uniform = timed(lambda: calibration_curve(pl.scan_parquet(path), bins=10))
    quantile = timed(lambda: calibration_curve(pl.scan_parquet(path), bins=10, strategy="quantile"))
    frame = pl.read_parquet(path)
    y, s = frame["label"].to_numpy(), frame["score"].to_numpy()
    sklearn = timed(lambda: (sk_curve(y, s, n_bins=10), brier_score_loss(y, s)))
    print(f"calibration, {args.rows:,} rows: driftdesk uniform {uniform:.3f}s ({uniform / floor:.1f}x floor "
          f"{floor:.3f}s), quantile {quantile:.3f}s ({quantile / floor:.1f}x floor); "
          f"scikit-learn {sklearn:.3f}s = {sklearn / uniform:.2f}x driftdesk uniform (reading excluded)")

    kpath = kpis_file(args.segments, args.days, folder)
    half = T0 + dt.timedelta(days=args.days // 2)
    end = T0 + dt.timedelta(days=args.days)
    baseline, current = f"{T0.isoformat()}/{half.isoformat()}", f"{half.isoformat()}/{end.isoformat()}"

    def floor_impact():
        return (pl.scan_parquet(kpath).group_by(pl.col("ts") >= half, "segment")
                .agg(pl.col("spend").sum(), pl.col("conversions").sum()).collect())

    kfloor = timed(floor_impact)
    impact = timed(lambda: segment_impact(pl.scan_parquet(kpath), baseline=baseline, current=current, by="segment"))
    rows = args.segments * args.days * 24
    print(f"impact, {rows:,} kpis rows ({args.segments:,} segments): segment_impact {impact:.3f}s = "
          f"{impact / kfloor:.1f}x floor {kfloor:.3f}s")


if __name__ == "__main__":
    main()
