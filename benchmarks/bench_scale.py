"""Benchmark: drift and calibration on a decisions log larger than memory, on polars' streaming engine and on Spark.

    .venv/bin/python benchmarks/bench_scale.py --rows 2000000                      # a quick run
    .venv/bin/python benchmarks/bench_scale.py --rows 100000000 --budget 3G --spark-rows 10000000

The log (N rows x 25 columns: a timestamp, 5 categorical segments, 17 numeric features, score and label) is
written by this script into a temporary folder in chunks of 2,000,000 rows, so the generator stays small in
memory; half the rows are the baseline window, half the current one (with a few shifted columns). Each
measurement runs in a fresh process, which reports its wall time and peak resident memory. Prints:

  * drift (``compare_windows`` over every column) time / one streaming read of the same columns, and its peak RSS;
  * calibration (``calibration_curve`` with quantile bins) time / one streaming read of score and label, peak RSS;
  * segment impact (CPA, two windows, by geo and device) on a kpis log and LLM metrics per model on an llm_calls
    log (``--side-rows`` rows each, written beside the decisions), each time / a streaming read of its columns;
  * the path each numeric column took (exact while it fits ``--budget``, else the sketch);
  * Spark (local mode, ``--engine spark``) time / polars time on the same data (drift and calibration on the first
    ``--spark-rows`` decisions, impact and LLM metrics on the side tables), both including their own reading, and
    whether both engines gave the same answer.

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
        lf.select([pl.col(c).str.len_bytes().sum() if schema[c] == pl.String else pl.col(c).to_physical().sum()
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
    elif args["what"] in ("calibration", "impact", "llm"):
        if args.get("engine") == "spark":
            from driftdesk.engine import spark
            rows = spark.read_parquet(args["folder"])
        else:
            rows = pl.scan_parquet(args["paths"])
        if args["what"] == "calibration":
            from driftdesk.calibration import calibration_by_segment, calibration_curve
            res = calibration_curve(rows, bins=10, strategy="quantile")
            out["ece"] = res.ece
            if args.get("by"):
                out["segments"] = calibration_by_segment(rows, by=args["by"], edges=res.edges).height
        elif args["what"] == "impact":
            from driftdesk.business import segment_impact
            res = segment_impact(rows, baseline=args["baseline"], current=args["current"], by=["geo", "device"])
            out["change"] = res.total["change"]
        else:
            from driftdesk.llm import summarize_calls
            out["p95"] = summarize_calls(rows, by=["model"])["latency_p95_ms"].to_list()
    elif args["what"] == "gates":  # the contract's checks of the table, then each gate metric's hourly series
        from driftdesk.gates.metrics import metric_components
        from driftdesk.contract import Table
        if not args["contract"]:  # rows as they are: the log's kpis rows are events, not unique per hour and segment
            from driftdesk.engine.spark import read_parquet
            rows = read_parquet(args["folder"]) if args["engine"] == "spark" else pl.scan_parquet(args["folder"])
            table = Table(args["table"], rows, args["folder"], ("geo", "device", "source"))
        elif args["engine"] == "spark":
            from driftdesk.engine.spark.contract import read_contract
            table = read_contract(args["folder"], args["table"])
        else:
            from driftdesk.engine.scan import scan_contract
            table = scan_contract(args["folder"], args["table"])
        out["contract_seconds"] = time.perf_counter() - t0
        out["sums"] = {}
        for metric, by in args["metrics"]:
            series = metric_components({args["table"]: table}, metric, by=tuple(by))
            out["sums"][metric] = float(series.components.sum())
    elif args["what"] == "keys":  # the contract's duplicate-key rule on a scan (lazy group-bys in hash slices)
        from driftdesk.engine.scan import scan_contract
        from driftdesk.errors import ContractError
        try:
            scan_contract(args["folder"], args["table"])
            out["found"] = "no duplicate key"
        except ContractError as exc:
            out["found"] = exc.violations[0].rule + f": {exc.violations[0].count} rows"
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""")


def side_tables(rows: int, folder: Path, seed: int = 23) -> tuple[Path, Path]:
    """kpis/ (hourly sums per geo, device and source) and llm/ (one row per call) of ``rows`` rows each, in chunks,
    over two days: the first day is impact's baseline window, the second its current one."""
    kpis, llm = folder / "kpis", folder / "llm"
    done = folder / f".complete-side-{rows}"
    if done.exists():
        return kpis, llm
    rng = np.random.default_rng(seed)
    kpis.mkdir(parents=True, exist_ok=True)
    llm.mkdir(parents=True, exist_ok=True)
    left, part = rows, 0
    while left > 0:
        n = min(CHUNK, left)
        ts = pl.Series(np.datetime64("2026-10-01") + np.sort(rng.integers(0, 2 * 86_400_000_000, n))
                       .astype("timedelta64[us]")).cast(pl.Datetime("us"))
        clicks = rng.poisson(40, n).astype(np.float64)
        pl.DataFrame({"ts": ts, "geo": pl.Series([f"geo_{i}" for i in range(40)]).gather(rng.integers(0, 40, n)),
                      "device": pl.Series(["ios", "android", "web", "tv"]).gather(rng.integers(0, 4, n)),
                      "source": pl.Series([f"src_{i}" for i in range(6)]).gather(rng.integers(0, 6, n)),
                      "impressions": clicks * 25, "clicks": clicks, "conversions": rng.binomial(clicks.astype(int), 0.05)
                      .astype(np.float64), "spend": clicks * rng.uniform(0.3, 0.9, n),
                      "revenue": clicks * rng.uniform(0.5, 2.0, n)}).write_parquet(kpis / f"part-{part:05d}.parquet")
        ok = rng.random(n) < 0.9
        pl.DataFrame({"ts": ts, "model": pl.Series(["m-a", "m-b", "m-c"]).gather(rng.integers(0, 3, n)),
                      "latency_ms": rng.lognormal(6, 0.5, n), "ttft_ms": rng.lognormal(5, 0.4, n),
                      "input_tokens": rng.integers(100, 2000, n), "output_tokens": rng.integers(10, 500, n),
                      "cost": rng.gamma(2.0, 0.002, n), "validator_ok": ok, "refusal": rng.random(n) < 0.03,
                      "error": rng.random(n) < 0.02}).write_parquet(llm / f"part-{part:05d}.parquet")
        left, part = left - n, part + 1
    done.touch()
    return kpis, llm


GATES = {  # table -> (folder under the log, the gate metrics measured with their segments, the columns they read)
    "decisions": ("decisions", [("null_rate:f_01", ["geo"]), ("ece", ["device"]), ("psi:browser", [])],
                  ["ts", "geo", "device", "browser", "f_01", "score", "label"]),
    "kpis": ("kpis", [("cpa", ["geo"]), ("share:spend", ["geo"])], ["ts", "geo", "spend", "conversions"]),
    "llm_calls": ("llm", [("validator_failure_rate", ["model"]), ("cost_per_call", ["model"])],
                  ["ts", "model", "validator_ok", "refusal", "error", "cost"]),
}


def decisions_folder(folder: Path) -> Path:
    """Both windows' files in one folder (links, not copies): the decisions table as a gate reads it."""
    out = folder / "decisions"
    out.mkdir(exist_ok=True)
    for window in ("baseline", "current"):
        for part in (folder / window).glob("*.parquet"):
            target = out / f"{window}-{part.name}"
            if not target.exists():
                os.link(part, target)
    return out


def gates(folder: Path, env: dict, *, engine: str = "polars", tables: tuple[str, ...] = tuple(GATES)) -> dict:
    """Per table: the gate series' time (the contract's checks included) against a streaming read of the columns
    they read, with peak RSS; returns each run's sums, to compare engines."""
    decisions_folder(folder)
    runs = {}
    for table in tables:
        sub, metrics, cols = GATES[table]
        floor = measure("read", env, paths=str(folder / sub / "*.parquet"), columns=cols)
        got = measure("gates", env, engine=engine, folder=str(folder / sub), table=table, metrics=metrics,
                      contract=table != "kpis")
        runs[table] = got
        print(f"gate series on {table} ({engine}; {', '.join(m for m, _ in metrics)}): {got['seconds']:.1f} s = "
              f"{got['seconds'] / floor['seconds']:.1f} x a read of their columns ({floor['seconds']:.1f} s), the "
              f"contract's checks {got['contract_seconds']:.1f} s of it; peak RSS {got['peak_mb']:.0f} MB", flush=True)
    if engine == "polars" and "kpis" in tables:
        floor = measure("read", env, paths=str(folder / "kpis" / "*.parquet"), columns=["ts", "geo", "device", "source"])
        keys = measure("keys", env, folder=str(folder / "kpis"), table="kpis")
        print(f"the contract's checks of kpis, duplicate keys included: {keys['seconds']:.1f} s = "
              f"{keys['seconds'] / floor['seconds']:.1f} x a read of the key columns ({floor['seconds']:.1f} s); "
              f"peak RSS {keys['peak_mb']:.0f} MB; {keys['found']}", flush=True)
    return runs


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
    ap.add_argument("--side-rows", type=int, default=0, help="rows of the kpis and llm tables (default: --rows)")
    ap.add_argument("--folder", type=Path, help="where the log is (written there if missing)")
    ap.add_argument("--keep", action="store_true", help="keep the generated folder")
    ap.add_argument("--only-reads", action="store_true", help="measure only the two reads (the floors)")
    ap.add_argument("--steps", default="drift,calibration,impact,llm,gates",
                    help="what to measure on polars (comma separated; the Spark comparison follows --spark-rows)")
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
              f"{sum(p.stat().st_size for w in ('baseline', 'current') for p in (folder / w).glob('*.parquet')) / 2**30:.2f}"
              " GiB of Parquet)")
        schema = pl.read_parquet_schema(next((folder / "baseline").glob("*.parquet")))
        columns = [c for c in schema if c != "ts"]
        everything = [str(folder / window / "*.parquet") for window in ("baseline", "current")]
        read = measure("read", env, paths=everything, columns=columns)
        print(f"streaming read of {len(columns)} columns: {read['seconds']:.1f} s, peak RSS {read['peak_mb']:.0f} MB")
        if args.only_reads:
            read2 = measure("read", env, paths=everything, columns=["score", "label"])
            print(f"streaming read of score and label: {read2['seconds']:.1f} s")
            return
        steps = set(args.steps.split(","))
        for budget in budgets if "drift" in steps else ():
            drift = measure("drift", {**env, "DRIFTDESK_MEMORY_BUDGET": budget}, engine="polars",
                            baseline=str(folder / "baseline"), current=str(folder / "current"), columns=columns)
            print(f"drift (polars, budget {budget}): {drift['seconds']:.1f} s = "
                  f"{drift['seconds'] / read['seconds']:.1f} x the read; peak RSS {drift['peak_mb']:.0f} MB; "
                  f"paths {drift['methods']}; alerts {drift['alerts']}", flush=True)
        if "calibration" in steps:
            read2 = measure("read", env, paths=everything, columns=["score", "label"])
            cal = measure("calibration", env, paths=everything)
            print(f"calibration (quantile bins): {cal['seconds']:.1f} s = {cal['seconds'] / read2['seconds']:.1f} x a "
                  f"read of score and label ({read2['seconds']:.1f} s); peak RSS {cal['peak_mb']:.0f} MB; "
                  f"ECE {cal['ece']:.4f}")
        side = side_tables(args.side_rows or args.rows, folder)
        windows = {"baseline": "2026-10-01T00:00/2026-10-02T00:00", "current": "2026-10-02T00:00/2026-10-03T00:00"}
        for what, table, cols, kw in (("impact", side[0], ["ts", "geo", "device", "spend", "conversions", "clicks",
                                                            "impressions", "revenue"], windows),
                                      ("llm", side[1], ["model", "latency_ms", "ttft_ms", "input_tokens",
                                                        "output_tokens", "cost", "validator_ok", "refusal", "error"], {})):
            if what not in steps:
                continue
            floor = measure("read", env, paths=str(table / "*.parquet"), columns=cols)
            got = measure(what, env, paths=str(table / "*.parquet"), **kw)
            print(f"{what} (polars streaming) on {args.side_rows or args.rows:,} rows: {got['seconds']:.1f} s = "
                  f"{got['seconds'] / floor['seconds']:.1f} x a read of its columns ({floor['seconds']:.1f} s); "
                  f"peak RSS {got['peak_mb']:.0f} MB", flush=True)
        if "gates" in steps:
            gates(folder, env)
        if args.spark_rows:
            small = subset(folder, args.spark_rows, folder / f"subset-{args.spark_rows}")
            kw = {"baseline": str(small / "baseline"), "current": str(small / "current"), "columns": columns}
            if "drift" in steps:
                polars_t = measure("drift", env, engine="polars", **kw)
                spark_t = measure("drift", env, engine="spark", **kw)
                print(f"Spark local mode vs polars, drift on {args.spark_rows:,} rows: {spark_t['seconds']:.1f} s vs "
                      f"{polars_t['seconds']:.1f} s = {spark_t['seconds'] / polars_t['seconds']:.1f} x "
                      f"(same paths {spark_t['methods'] == polars_t['methods']}, same alerts "
                      f"{spark_t['alerts'] == polars_t['alerts']})", flush=True)
            compared = [("calibration", small, {"by": ["geo"]}, "ece"), ("impact", side[0], windows, "change"),
                        ("llm", side[1], {}, "p95")]
            for what, where, kw, key in compared:
                if what not in steps:
                    continue
                paths = str(where / "*" / "*.parquet") if what == "calibration" else str(where / "*.parquet")
                p_t = measure(what, env, engine="polars", paths=paths, folder=str(where), **kw)
                s_t = measure(what, env, engine="spark", paths=paths, folder=str(where), **kw)
                same = np.allclose(np.asarray(s_t[key], dtype=float), np.asarray(p_t[key], dtype=float), rtol=1e-9)
                print(f"Spark local mode vs polars, {what}: {s_t['seconds']:.1f} s vs {p_t['seconds']:.1f} s = "
                      f"{s_t['seconds'] / p_t['seconds']:.1f} x (same {key} to 1e-9: {same})", flush=True)
            if "gates" not in steps:
                return
            p_g = gates(small, env, tables=("decisions",))["decisions"]
            s_g = gates(small, env, engine="spark", tables=("decisions",))["decisions"]
            shutil.rmtree(small / "decisions")  # links only; the Spark calibration above reads the whole subset
            same = all(np.isclose(s_g["sums"][m], p_g["sums"][m], rtol=1e-9) for m in p_g["sums"])
            print(f"Spark local mode vs polars, gate series on decisions: {s_g['seconds']:.1f} s vs "
                  f"{p_g['seconds']:.1f} s = {s_g['seconds'] / p_g['seconds']:.1f} x (same sums to 1e-9: {same})",
                  flush=True)
    finally:
        if not args.keep and not args.folder:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
