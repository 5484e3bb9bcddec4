"""Evaluate the causal seasonality detector on real series, at default settings, as a user would run it.

    .venv/bin/python benchmarks/eval_real.py [--tweets DIR] [--alerts OUT_DIR] [--json out.json]

1. **Tweet volumes** (ten real 5-minute series of the Numenta Anomaly Benchmark with labelled anomaly windows, in
   ``DIR``: ``data/*.csv``, ``windows.json``, ``score.py``, ``published_scores.json``). driftdesk runs in causal
   mode at default settings (``detect(frame, causal=True)``, nothing set for these series); an alert is where a
   run of non-normal flags starts, written as one CSV per series (``timestamp,alert``) for the scorer shipped
   with the data, whose score (never alerting 0, perfect 100) is printed beside the published detectors', with
   each series' share. The scorer rewards early alerts, so an alert must carry the time the detector could have
   raised it: a point's flag in causal mode uses only the points up to it (an hour's flag lands on its last
   point, when its mean is known).
2. **Package-shipped real series** (statsmodels' datasets: Mauna Loa CO2 weekly, yearly sunspots, the Nile's
   yearly flow): no labels, so what is measured is that each gets a verdict (or a clear refusal: calendar years
   differ in length, and the grid is fixed) and how many alerts a year it raises.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from driftdesk.seasonality import SeasonalityError, detect

TWEETS = Path(os.environ.get("DRIFTDESK_REALDATA", "../shared/realdata")) / "tweets"
PUBLISHED = ("ARTime", "contextOSE", "earthgeckoSkyline", "numenta", "knncad", "twitterADVec", "windowedGaussian",
             "randomCutForest")


def alert_starts(flags: np.ndarray) -> np.ndarray:
    """1 where a run of non-normal flags starts (the CLI contract's alert)."""
    abnormal = flags != "normal"
    return (abnormal & ~np.concatenate([[False], abnormal[:-1]])).astype(int)


def run_tweets(folder: Path, out: Path) -> dict:
    """Alerts per series written to ``out``; seconds, verdicts and alert counts per series."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in sorted((folder / "data").glob("*.csv")):
        frame = pl.read_csv(path)
        start = time.perf_counter()
        result = detect(frame, ts="timestamp", value="value", causal=True, source=path.name)
        seconds = time.perf_counter() - start
        points = result.points  # one per input row, in input order
        alerts = alert_starts(points["flag"].to_numpy())
        pl.DataFrame({"timestamp": frame["timestamp"], "alert": alerts}).write_csv(out / path.name)
        v = result.verdicts.row(0, named=True)
        rows.append({"series": path.stem, "points": frame.height, "seconds": seconds, "alerts": int(alerts.sum()),
                     "suppressed": v["suppressed_alerts"], "status": v["status"], "verdict": v["verdict"]})
    return {"series": rows}


def score_tweets(folder: Path, alerts: Path) -> dict:
    """The scorer shipped with the data, per profile; and the published detectors' scores."""
    spec = importlib.util.spec_from_file_location("nab_score", folder / "score.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    windows = json.loads((folder / "windows.json").read_text())
    out, per_series = {}, []
    for profile, (a_tp, _, a_fn) in scorer.PROFILES.items():
        raw, n_windows, tp, fp, fn = 0.0, 0, 0, 0, 0
        for name in sorted(windows):
            data = pl.read_csv(folder / "data" / name)
            got = pl.read_csv(alerts / name)
            s, info = scorer.score_series(data["timestamp"].to_list(), got["alert"].to_numpy() == 1, windows[name],
                                          profile)
            raw += s
            n_windows += info["windows"]
            if profile == "standard":
                per_series.append({"series": Path(name).stem, "raw": s, **info})
            tp, fp, fn = tp + info["tp"], fp + info["fp"], fn + info["fn"]
        out[profile] = {"score": 100.0 * (raw + a_fn * n_windows) / ((a_tp + a_fn) * n_windows), "tp": tp, "fp": fp,
                        "fn": fn, "windows": n_windows}
    published = json.loads((folder / "published_scores.json").read_text())
    return {"driftdesk": out, "per_series": per_series,
            "published": {k: published[k] for k in PUBLISHED if k in published}}


def package_series() -> list[dict]:
    """Real series shipped with statsmodels: verdict, alerts and alerts a year, causal mode, defaults."""
    import datetime as dt

    from statsmodels import datasets

    co2 = datasets.co2.load_pandas().data.reset_index()
    frames = {
        "co2 (Mauna Loa, weekly, 1958-2001)": pl.DataFrame({"ts": co2["index"].to_numpy(),
                                                             "value": co2["co2"].to_numpy()}),
        "sunspots (yearly, 1700-2008)": _yearly(datasets.sunspots.load_pandas().data, "YEAR", "SUNACTIVITY"),
        "nile (yearly flow, 1871-1970)": _yearly(datasets.nile.load_pandas().data, "year", "volume"),
    }
    out = []
    for name, frame in frames.items():
        try:
            result = detect(frame, causal=True, source=name)
        except SeasonalityError as exc:  # calendar years differ in length: refused with the reason
            out.append({"series": name, "points": frame.height, "status": "refused", "alerts": 0,
                        "alerts_per_year": 0.0, "verdict": str(exc).split(": ", 2)[-1]})
            continue
        v = result.verdicts.row(0, named=True)
        years = (frame["ts"].max() - frame["ts"].min()) / dt.timedelta(days=365.25)
        alerts = int(alert_starts(result.points["flag"].to_numpy()).sum())
        out.append({"series": name, "points": frame.height, "status": v["status"], "alerts": alerts,
                    "alerts_per_year": alerts / years, "verdict": v["verdict"]})
    return out


def _yearly(data, year: str, value: str) -> pl.DataFrame:
    import datetime as dt

    return pl.DataFrame({"ts": [dt.datetime(int(y), 1, 1) for y in data[year]], "value": data[value].to_numpy()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tweets", type=Path, default=TWEETS, help="the tweet-volume folder (data/, windows.json, score.py)")
    ap.add_argument("--alerts", type=Path, help="where to write the alert CSVs (default: a temporary folder)")
    ap.add_argument("--json")
    args = ap.parse_args()
    alerts = args.alerts or Path(tempfile.mkdtemp(prefix="driftdesk-alerts-"))
    run = run_tweets(args.tweets, alerts)
    scores = score_tweets(args.tweets, alerts)
    print(f"tweet volumes: {len(run['series'])} series, alerts in {alerts}")
    print("| series | points | seconds | alerts | suppressed | verdict |")
    print("|---|---:|---:|---:|---:|---|")
    for r in run["series"]:
        print(f"| {r['series']} | {r['points']} | {r['seconds']:.1f} | {r['alerts']} | {r['suppressed']} | {r['status']} |")
    print("\n| detector | standard | low_fp | low_fn |\n|---|---:|---:|---:|")
    d = scores["driftdesk"]
    print(f"| **driftdesk (causal, defaults)** | **{d['standard']['score']:.1f}** | {d['low_fp']['score']:.1f} "
          f"| {d['low_fn']['score']:.1f} |")
    for name, p in scores["published"].items():
        print(f"| {name} | {p['standard']:.1f} | {p['low_fp']:.1f} | {p['low_fn']:.1f} |")
    s = d["standard"]
    print(f"\ndriftdesk, standard profile: {s['tp']} of {s['windows']} windows caught, {s['fp']} alerts outside them")
    print("| series | raw score (standard) | windows caught | missed | alerts outside |\n|---|---:|---:|---:|---:|")
    for r in scores["per_series"]:
        print(f"| {r['series']} | {r['raw']:.2f} | {r['tp']} of {r['windows']} | {r['fn']} | {r['fp']} |")
    pkg = package_series()
    print("\n| package series | points | verdict kind | alerts | alerts / year | verdict |\n|---|---:|---|---:|---:|---|")
    for r in pkg:
        print(f"| {r['series']} | {r['points']} | {r['status']} | {r['alerts']} | {r['alerts_per_year']:.2f} "
              f"| {r['verdict'][:160]} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"tweets": run, "scores": scores, "package": pkg}, indent=2, default=str))


if __name__ == "__main__":
    main()
