"""How fast is a threshold sweep? 100 thresholds over 90 days of hourly data x 60 segments, under a second.

The sweep computes the gate's metric series once (hourly additive components per segment, then windowed
values with cumulative sums), then evaluates every threshold at once: each evaluation fires for an interval of
thresholds, so counts for all thresholds are two searchsorted calls; the direct way (breach masks for all
thresholds by broadcasting, run lengths from cumulative sums) is timed beside it and must agree. Printed: each step's time, and the sweep's time as a ratio
against a single pass over the metric series (one threshold evaluated: breaches, runs, alerts), and against
the naive way (one full backtest per threshold, timed on a few and extrapolated).

    .venv/bin/python benchmarks/bench_gates.py            # the sample advertiser: 91 days x 60 segments
    .venv/bin/python benchmarks/bench_gates.py --days 30   # smaller, while developing
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import polars as pl

from driftdesk.contract import Dataset, validate_frame
from driftdesk.gates.backtest import (
    backtest_policy,
    default_thresholds,
    gate_alerts,
    prepare_incidents,
    sweep_arrays,
)
from driftdesk.gates.engine import gate_values
from driftdesk.gates.metrics import metric_components
from driftdesk.gates.policy import Gate, Policy


def synthetic_kpis(days: int, seed: int = 7) -> pl.DataFrame:
    """Hourly kpis for 5 geos x 3 devices x 4 sources = 60 segments, with a daily cycle and noise."""
    rng = np.random.default_rng(seed)
    hours = days * 24
    ts = pl.datetime_range(dt.datetime(2026, 8, 3), dt.datetime(2026, 8, 3) + dt.timedelta(hours=hours - 1), "1h",
                           eager=True)
    segs = [(g, d, s) for g in ("US", "GB", "DE", "BR", "IN") for d in ("mobile", "desktop", "tablet")
            for s in ("search", "social", "affiliate", "display")]
    cycle = 1 + 0.5 * np.sin(np.arange(hours) / 24 * 2 * np.pi)
    clicks = rng.poisson(200 * cycle, size=(len(segs), hours)).astype(float)
    conv = rng.binomial(clicks.astype(int), 0.05).astype(float)
    spend = clicks * rng.lognormal(0, 0.1, size=clicks.shape)
    return pl.DataFrame({
        "ts": np.tile(ts.to_numpy(), len(segs)),
        "geo": np.repeat([s[0] for s in segs], hours), "device": np.repeat([s[1] for s in segs], hours),
        "source": np.repeat([s[2] for s in segs], hours),
        "impressions": (clicks * 30).ravel(), "clicks": clicks.ravel(), "conversions": conv.ravel(),
        "spend": spend.ravel(), "revenue": (spend * 2.5).ravel(),
    })


def timed(fn, repeat: int = 5):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--thresholds", type=int, default=100)
    args = ap.parse_args()

    kpis, _ = validate_frame(synthetic_kpis(args.days), "kpis", source="<bench>")
    ds = Dataset("<bench>", {"kpis": kpis})
    rng = np.random.default_rng(1)
    starts = sorted(rng.integers(24 * 8, args.days * 24 - 48, size=6))
    base = dt.datetime(2026, 8, 3)
    incidents = prepare_incidents(pl.DataFrame({
        "incident_id": [f"I{i}" for i in range(len(starts))],
        "start": [base + dt.timedelta(hours=int(h)) for h in starts],
        "end": [base + dt.timedelta(hours=int(h) + 24) for h in starts]}))
    gate = Gate(name="cpa", metric="cpa", by=("geo", "device", "source"), comparison="week_over_week",
                threshold=0.2, window_hours=24, consecutive=2)
    print(f"data: {kpis.frame.height:,} kpis rows = {args.days} days x 24 h x 60 segments; "
          f"gate: {gate.describe()}")

    t_series, series = timed(lambda: metric_components(ds, gate.metric, by=gate.by), repeat=3)
    t_values, gv = timed(lambda: gate_values(series, gate))
    span = (series.start, series.end)
    thresholds = default_thresholds(gv, n=args.thresholds)[: args.thresholds]
    if thresholds.size < args.thresholds:
        thresholds = np.linspace(0.0, 1.0, args.thresholds)
    t_single, _ = timed(lambda: gate_alerts(gv), repeat=20)
    t_sweep1, sweep1 = timed(lambda: sweep_arrays(gv, thresholds, [1], incidents, span=span, grace_hours=24))
    t_sweep3, sweep3 = timed(lambda: sweep_arrays(gv, thresholds, [1, 2, 3], incidents, span=span, grace_hours=24))
    t_broad1, broad1 = timed(lambda: sweep_arrays(gv, thresholds, [1], incidents, span=span, grace_hours=24,
                                                  method="broadcast"), repeat=3)
    assert broad1.equals(sweep1), "the two sweep methods disagree"
    policy = Policy(gates=(gate,))
    frame = incidents.frame
    t_bt, _ = timed(lambda: backtest_policy(ds, policy, incidents=frame), repeat=2)
    print(f"  metric series from rows (once)          {t_series * 1e3:8.1f} ms")
    print(f"  windowed values, all of history (once)  {t_values * 1e3:8.1f} ms   "
          f"({gv.values.shape[0]} segments x {gv.values.shape[1]} evaluations)")
    print(f"  single pass: one threshold -> alerts    {t_single * 1e3:8.1f} ms")
    print(f"  sweep, {thresholds.size} thresholds x 1 run length   {t_sweep1 * 1e3:8.1f} ms   "
          f"= {t_sweep1 / t_single:5.1f} x a single pass")
    print(f"  sweep, {thresholds.size} thresholds x 3 run lengths  {t_sweep3 * 1e3:8.1f} ms   "
          f"= {t_sweep3 / t_single:5.1f} x a single pass")
    print(f"  same sweep x 1, broadcast masks + cumsum runs {t_broad1 * 1e3:8.1f} ms   "
          f"= {t_broad1 / t_single:5.1f} x a single pass (the direct way, same figures)")
    total = t_series + t_values + t_sweep3
    print(f"  answer from rows (series + values + sweep x 3)   {total * 1e3:8.1f} ms "
          f"({'under' if total < 1 else 'OVER'} one second)")
    print(f"  naive: one full backtest per threshold  {t_bt * thresholds.size * 3:8.2f} s "
          f"(= {t_bt * 1e3:.0f} ms x {thresholds.size * 3}), {t_bt * thresholds.size * 3 / total:5.0f} x slower")
    assert sweep1.height == thresholds.size and sweep3.height == 3 * thresholds.size


if __name__ == "__main__":
    main()
