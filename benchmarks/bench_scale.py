"""Benchmark: drift and calibration on a decisions log larger than memory, on polars' streaming engine and on Spark.

    .venv/bin/python benchmarks/bench_scale.py --rows 2000000                      # a quick run
    .venv/bin/python benchmarks/bench_scale.py --rows 100000000 --budget 3G --spark-rows 10000000

The log (N rows x 25 columns: a timestamp, 5 categorical segments, 17 numeric features, score and label) is
written by this script into a temporary folder in chunks of 2,000,000 rows, so the generator stays small in
memory; half the rows are the baseline window, half the current one (with a few shifted columns). Each
measurement runs in a fresh process, which reports its wall time and peak resident memory. Prints:

  * drift (``compare_windows`` over every column) time / one streaming read of the same columns, and its peak RSS;
  * calibration (``calibration_curve`` with quantile bins) time / one streaming read of score and label, peak RSS;
  * the path each numeric column took (exact while it fits ``--budget``, else the sketch);
  * Spark (local mode, ``--engine spark``) time / polars time on the same data (the first ``--spark-rows`` rows),
    both including their own reading.

The folder is deleted at the end unless ``--keep`` (or ``--folder`` names an existing one).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import polars as pl

CHUNK = 2_000_000
SEGMENTS = {"geo": 40, "device": 4, "source": 6, "ad_format": 12, "browser": 9}
N_FEATURES = 17


def _chunk(rng: np.random.Generator, rows: int, start: np.datetime64, current: bool) -> pl.DataFrame:
    """One chunk of the log, built from normal draws (the fastest numpy makes) shaped into the features' laws."""
    cols: dict[str, object] = {"ts": pl.Series(start + np.sort(rng.integers(0, 86_400_000_000, rows))
                                               .astype("timedelta64[us]")).cast(pl.Datetime("us"))}
    for j, (name, levels) in enumerate(SEGMENTS.items()):
        cum = np.cumsum(np.random.default_rng(j).dirichlet(np.ones(levels)))
        codes = np.minimum(np.searchsorted(cum, rng.random(rows, dtype=np.float32)), levels - 1)
        if current and j == 0:
            codes = (codes + 1) % levels
        cols[name] = pl.Series([f"{name}_{i}" for i in range(levels)]).gather(codes)
    for j in range(N_FEATURES):
        z = rng.standard_normal(rows, dtype=np.float32).astype(np.float64) + (0.1 if current and j % 6 == 0 else 0.0)
        x = [z, np.exp(z), np.round(3 * np.abs(z)), z * z][j % 4]
        x[rng.random(rows, dtype=np.float32) < 0.01 * (1 + j % 3)] = np.nan
        cols[f"f_{j:02d}"] = x
    score = 1 / (1 + np.exp(-(np.nan_to_num(cols["f_00"]) * 0.8 - 2 + (0.2 if current else 0.0))))
    cols["score"] = score
    cols["label"] = (rng.random(rows, dtype=np.float32) < score).astype(np.int8)
    return pl.DataFrame(cols)


def generate(rows: int, folder: Path, seed: int = 17) -> Path:
    """baseline/ and current/ folders of Parquet chunks, rows/2 each; written once, reused when present."""
    done = folder / f".complete-{rows}"
    if done.exists():
        return folder
    rng = np.random.default_rng(seed)
    for k, window in enumerate(("baseline", "current")):
        (folder / window).mkdir(parents=True, exist_ok=True)
        left, part = rows // 2, 0
        while left > 0:
            n = min(CHUNK, left)
            _chunk(rng, n, np.datetime64("2026-10-01") + np.timedelta64(k, "D"), k == 1).write_parquet(
                folder / window / f"part-{part:05d}.parquet", row_group_size=500_000, compression="lz4")
            left, part = left - n, part + 1
    done.touch()
    return folder


CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import polars as pl
    args = json.loads(sys.argv[1])
    t0 = time.perf_counter()
    out = {}
    if args["what"] == "read":
        lf = pl.scan_parquet(args["paths"])  # decode every value: sums (a count could be read off the footers)
        schema = lf.collect_schema()
        lf.select([pl.col(c).str.len_bytes().sum() if schema[c] == pl.String else pl.col(c).sum()
                   for c in args["columns"]]).collect(engine="streaming")
    elif args["what"] == "drift":
        from driftdesk.drift import compare_windows
        if args["engine"] == "spark":
            from driftdesk.engine import spark
            b, c = spark.read_parquet(args["baseline"]), spark.read_parquet(args["current"])
        else:
            b, c = pl.scan_parquet(args["baseline"] + "/*.parquet"), pl.scan_parquet(args["current"] + "/*.parquet")
        res = compare_windows(b, c, columns=args["columns"], workers=1)
        numeric = res.columns.filter(pl.col("kind") == "numeric")
        out["methods"] = numeric["method"].drop_nulls().value_counts().sort("method").rows()
        out["status"] = res.status
        out["alerts"] = res.columns.filter(pl.col("status") == "alert")["column"].to_list()
    elif args["what"] == "calibration":
        from driftdesk.calibration import calibration_curve
        res = calibration_curve(pl.scan_parquet(args["paths"]), bins=10, strategy="quantile")
        out["ece"] = res.ece
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""")


def measure(what: str, env: dict, **kw) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps({"what": what, **kw})], capture_output=True,
                          text=True, env=env, check=False)
    if proc.returncode:
        raise SystemExit(f"{what} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def subset(folder: Path, rows: int, out: Path) -> Path:
    """The first rows/2 of each window, for the Spark comparison (whole chunks)."""
    for window in ("baseline", "current"):
        (out / window).mkdir(parents=True, exist_ok=True)
        for part in sorted((folder / window).glob("*.parquet"))[: max(1, rows // 2 // CHUNK)]:
            target = out / window / part.name
            if not target.exists():
                os.link(part, target)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--budget", default="3G", help="DRIFTDESK_MEMORY_BUDGET for the runs (several: 3G,1G)")
    ap.add_argument("--spark-rows", type=int, default=0, help="rows for the Spark comparison (0: skip)")
    ap.add_argument("--folder", type=Path, help="where the log is (written there if missing)")
    ap.add_argument("--keep", action="store_true", help="keep the generated folder")
    ap.add_argument("--only-reads", action="store_true", help="measure only the two reads (the floors)")
    args = ap.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="driftdesk-scale-"))
    budgets = args.budget.split(",")
    env = {**os.environ, "DRIFTDESK_MEMORY_BUDGET": budgets[0],
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1] / "lib"),
                                          os.environ.get("PYTHONPATH", "")])}
    try:
        t0 = time.perf_counter()
        generate(args.rows, folder)
        print(f"log: {args.rows:,} rows x 25 columns in {folder} (generated in {time.perf_counter() - t0:.0f} s, "
              f"{sum(p.stat().st_size for p in folder.rglob('*.parquet')) / 2**30:.2f} GiB of Parquet)")
        schema = pl.read_parquet_schema(next((folder / "baseline").glob("*.parquet")))
        columns = [c for c in schema if c != "ts"]
        everything = str(folder / "*" / "*.parquet")
        read = measure("read", env, paths=everything, columns=columns)
        print(f"streaming read of {len(columns)} columns: {read['seconds']:.1f} s, peak RSS {read['peak_mb']:.0f} MB")
        if args.only_reads:
            read2 = measure("read", env, paths=everything, columns=["score", "label"])
            print(f"streaming read of score and label: {read2['seconds']:.1f} s")
            return
        for budget in budgets:
            drift = measure("drift", {**env, "DRIFTDESK_MEMORY_BUDGET": budget}, engine="polars",
                            baseline=str(folder / "baseline"), current=str(folder / "current"), columns=columns)
            print(f"drift (polars, budget {budget}): {drift['seconds']:.1f} s = "
                  f"{drift['seconds'] / read['seconds']:.1f} x the read; peak RSS {drift['peak_mb']:.0f} MB; "
                  f"paths {drift['methods']}; alerts {drift['alerts']}", flush=True)
        read2 = measure("read", env, paths=everything, columns=["score", "label"])
        cal = measure("calibration", env, paths=everything)
        print(f"calibration (quantile bins): {cal['seconds']:.1f} s = {cal['seconds'] / read2['seconds']:.1f} x a read "
              f"of score and label ({read2['seconds']:.1f} s); peak RSS {cal['peak_mb']:.0f} MB; ECE {cal['ece']:.4f}")
        if args.spark_rows:
            small = subset(folder, args.spark_rows, folder / f"subset-{args.spark_rows}")
            kw = {"baseline": str(small / "baseline"), "current": str(small / "current"), "columns": columns}
            polars_t = measure("drift", env, engine="polars", **kw)
            spark_t = measure("drift", env, engine="spark", **kw)
            print(f"Spark local mode vs polars, drift on {args.spark_rows:,} rows: {spark_t['seconds']:.1f} s vs "
                  f"{polars_t['seconds']:.1f} s = {spark_t['seconds'] / polars_t['seconds']:.1f} x "
                  f"(same paths {spark_t['methods'] == polars_t['methods']}, same alerts "
                  f"{spark_t['alerts'] == polars_t['alerts']})")
    finally:
        if not args.keep and not args.folder:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
