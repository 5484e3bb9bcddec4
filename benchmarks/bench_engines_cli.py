"""Benchmark: the commands that read a folder's row tables, on polars and on Spark (local mode), end to end.

    .venv/bin/python benchmarks/bench_engines_cli.py --data sample_data
    .venv/bin/python benchmarks/bench_engines_cli.py --scale 4          # the sample written 4 x larger first

Each command runs in a fresh process (``python -m driftdesk.cli ... --format json``) once with ``--engine polars``
and once with ``--engine spark``; the wall time includes reading the folder (and, for Spark, starting its JVM and
the contract's checks as Spark jobs). Prints each command's times, the ratio Spark / polars, and whether both
engines printed the same JSON (texts and counts equal, numbers to 1e-9).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "overview": ["overview", "--data", "{d}"],
    "seasonality --data (cpa by geo, hourly)": ["seasonality", "--data", "{d}", "--metric", "cpa", "--by", "geo"],
    "canary (v2.0 vs v1.9)": ["canary", "--data", "{d}", "--control", "v1.9", "--candidate", "v2.0"],
    "incident INC-c": ["incident", "--data", "{d}", "--id", "INC-c"],
    "gates backtest (with a seasonality_flag gate)": ["gates", "backtest", "--data", "{d}", "--policy", "{p}"],
}
FLAG_GATE = ('\n[[gate]]\nname = "cpa_flags"\nmetric = "seasonality_flag:cpa"\ncomparison = "absolute"\n'
             'threshold = 0.25\ndirection = "above"\nwindow = "24h"\n')


def same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, int | float) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def run(args: list[str]) -> tuple[float, int, dict | None]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "driftdesk.cli", *args, "--format", "json"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    took = time.perf_counter() - start
    try:
        return took, proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(proc.stderr.strip().splitlines()[-1:] or proc.returncode, file=sys.stderr)
        return took, proc.returncode, None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="a folder with the sample's tables (default: the sample, written)")
    ap.add_argument("--scale", type=int, default=1, help="with no --data: write the sample this many times larger")
    ap.add_argument("--only", help="run only the commands whose label starts with this")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data
        if folder is None:
            folder = Path(tmp) / "sample"
            subprocess.run([sys.executable, "-m", "driftdesk.cli", "sample", "--out", str(folder), "--scale",
                            str(args.scale)], check=True, capture_output=True)
        policy = Path(tmp) / "policy.toml"
        policy.write_text((folder / "policy.toml").read_text(encoding="utf-8") + FLAG_GATE, encoding="utf-8")
        print(f"{'command':<48} {'polars s':>9} {'spark s':>9} {'spark/polars':>13}  same")
        for label, command in COMMANDS.items():
            if args.only and not label.startswith(args.only):
                continue
            argv = [a.format(d=folder, p=policy) for a in command]
            t_pl, code_pl, doc_pl = run(argv)
            t_sp, code_sp, doc_sp = run([*argv, "--engine", "spark"])
            agree = code_pl == code_sp and doc_pl is not None and same(doc_sp, doc_pl)
            print(f"{label:<48} {t_pl:>9.1f} {t_sp:>9.1f} {t_sp / t_pl:>13.1f}  {'yes' if agree else 'NO'}",
                  flush=True)


if __name__ == "__main__":
    main()
