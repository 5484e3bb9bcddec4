"""Benchmark: the whole drift table for two windows of N rows x 25 columns, against a floor and Evidently.

    .venv/bin/python benchmarks/bench_drift.py --rows 5000000          # full size (a few minutes)
    .venv/bin/python benchmarks/bench_drift.py --rows 200000           # a quick run

Prints ratios measured in this run:
  * driftdesk time / floor, where the floor is reading every column of both Parquet files once (polars);
    driftdesk's time includes its own reading.
  * Evidently DataDriftPreset time / driftdesk time. Evidently runs in its own virtual environment (its pins
    never touch ours), in a subprocess, on the same Parquet files; its time counts only ``Report.run`` (reading
    into pandas is excluded, which favours Evidently).
  * peak memory / the data's in-memory size: peak RSS of a fresh process running driftdesk, minus that
    process's RSS after imports, over the size of both windows as polars frames.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import polars as pl

N_NUMERIC, LEVELS = 20, (5, 20, 50, 120, 200)


def generate(rows: int, folder: Path, seed: int = 11) -> tuple[Path, Path]:
    """Two windows with the same columns; the current one has a few shifted columns and a null jump."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / f"baseline_{rows}.parquet", folder / f"current_{rows}.parquet"
    if all(p.exists() for p in paths):
        return paths
    rng = np.random.default_rng(seed)
    for k, path in enumerate(paths):
        cols = {}
        for j in range(N_NUMERIC):
            shift = 0.2 if (k == 1 and j % 5 == 0) else 0.0
            kind = j % 4
            if kind == 0:
                x = rng.normal(shift, 1.0, rows)
            elif kind == 1:
                x = rng.lognormal(shift, 1.0, rows)
            elif kind == 2:
                x = np.round(rng.exponential(3.0 + shift, rows))  # integer-valued: heavy ties
            else:
                x = rng.gamma(2.0, 1.0 + shift, rows)
            null_rate = 0.01 + 0.02 * (j % 3) + (0.1 if (k == 1 and j == 3) else 0.0)
            cols[f"num_{j:02d}"] = pl.Series(x).scatter(np.flatnonzero(rng.random(rows) < null_rate), None)
        for j, levels in enumerate(LEVELS):
            p = np.random.default_rng(100 + j).dirichlet(np.ones(levels) * 2.0)  # the same in both windows
            if k == 1 and j == 0:
                p = np.roll(p, 1)  # the current window's first categorical changes its mix
            codes = rng.choice(levels, rows, p=p)
            names = np.array([f"c{j}_{i:03d}" for i in range(levels)])
            cols[f"cat_{j}"] = pl.Series(names[codes])
        pl.DataFrame(cols).write_parquet(path, row_group_size=1_000_000)
    return paths


def floor_seconds(paths: tuple[Path, Path]) -> tuple[float, int]:
    """Read every column of both files once (the least any tool must do); also the data's in-memory size."""
    t0 = time.perf_counter()
    frames = [pl.read_parquet(p) for p in paths]
    seconds = time.perf_counter() - t0
    return seconds, sum(int(f.estimated_size()) for f in frames)


DRIFTDESK_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import polars as pl
    from driftdesk.drift import compare_windows
    def rss_mb():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    base = rss_mb()
    t0 = time.perf_counter()
    result = compare_windows(pl.scan_parquet(sys.argv[1]), pl.scan_parquet(sys.argv[2]))
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = result.to_frame()
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "base_mb": base, "columns": table.height,
                      "flagged": table.filter(pl.col("status") != "ok")["column"].to_list()}))
""")

EVIDENTLY_CHILD = textwrap.dedent("""
    import json, sys, time, warnings
    warnings.filterwarnings("ignore")
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset
    ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
    num = [c for c in ref.columns if c.startswith("num_")]
    cat = [c for c in ref.columns if c.startswith("cat_")]
    definition = DataDefinition(numerical_columns=num, categorical_columns=cat)
    t0 = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, data_definition=definition),
                                               Dataset.from_pandas(ref, data_definition=definition))
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds}))
""")


def run_child(python: str, code: str, paths: tuple[Path, Path], timeout: float) -> dict:
    proc = subprocess.run([python, "-c", code, str(paths[0]), str(paths[1])], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows per window")
    parser.add_argument("--folder", default=str(Path(tempfile.gettempdir()) / "driftdesk-bench"), help="where the Parquet files go")
    parser.add_argument("--evidently-python", default=".venv-evidently/bin/python")
    parser.add_argument("--evidently-timeout", type=float, default=3600.0, help="seconds before giving up on Evidently")
    parser.add_argument("--skip-evidently", action="store_true")
    args = parser.parse_args()

    paths = generate(args.rows, Path(args.folder))
    on_disk = sum(p.stat().st_size for p in paths) / 1e6
    floor_seconds(paths)  # warm the page cache so the floor and driftdesk read from the same place
    floor, data_bytes = min(floor_seconds(paths) for _ in range(2))  # best of two
    runs = [run_child(sys.executable, DRIFTDESK_CHILD, paths, timeout=3600) for _ in range(2)]
    dd = min(runs, key=lambda r: r["seconds"])  # best of two, as for the floor: the machine is shared
    dd["peak_mb"] = max(r["peak_mb"] for r in runs)
    dd["base_mb"] = min(r["base_mb"] for r in runs)
    data_mb = data_bytes / 2**20
    peak_over_base = dd["peak_mb"] - dd["base_mb"]
    print(f"rows per window      {args.rows:,} x 25 columns ({N_NUMERIC} numeric with nulls, "
          f"{len(LEVELS)} categorical with {min(LEVELS)}-{max(LEVELS)} levels); {on_disk:.0f} MB of Parquet")
    print(f"machine              {os.cpu_count()} cores, shared with other work")
    print(f"floor (read all)     {floor:8.2f} s")
    print(f"driftdesk            {dd['seconds']:8.2f} s   ratio to floor {dd['seconds'] / floor:5.2f}x   "
          f"(target <= 3x); flagged {dd['flagged']}")
    print(f"peak memory          {peak_over_base:8.0f} MB over imports ({dd['peak_mb']:.0f} MB RSS) for "
          f"{data_mb:.0f} MB of data: {peak_over_base / data_mb:4.2f}x (target <= 2x)")
    out = {"rows": args.rows, "floor_s": floor, "driftdesk_s": dd["seconds"], "ratio_floor": dd["seconds"] / floor,
           "peak_mb": dd["peak_mb"], "base_mb": dd["base_mb"], "data_mb": data_mb,
           "memory_ratio": peak_over_base / data_mb}
    if not args.skip_evidently:
        if not Path(args.evidently_python).exists():
            print(f"evidently            not run: no interpreter at {args.evidently_python} "
                  "(python3 -m venv .venv-evidently && .venv-evidently/bin/pip install evidently 'pandas<3')")
        else:
            try:
                ev = run_child(args.evidently_python, EVIDENTLY_CHILD, paths, timeout=args.evidently_timeout)
                out["evidently_s"] = ev["seconds"]
                out["evidently_ratio"] = ev["seconds"] / dd["seconds"]
                print(f"evidently preset     {ev['seconds']:8.2f} s   Evidently / driftdesk {ev['seconds'] / dd['seconds']:6.1f}x"
                      f"   (target >= 20x)")
            except subprocess.TimeoutExpired:
                out["evidently_ratio_at_least"] = args.evidently_timeout / dd["seconds"]
                print(f"evidently preset     > {args.evidently_timeout:.0f} s (timed out): Evidently / driftdesk "
                      f">= {args.evidently_timeout / dd['seconds']:.1f}x")
            except RuntimeError as exc:
                print(f"evidently preset     failed: {exc}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
