"""The replay reduces rows once and reads every window off per-interval sums: each evaluation must equal the
figures computed straight from the window's rows (a hand-written reference), and the per-window path's intervals."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from driftdesk.gates.policy import parse_policy
from driftdesk.rollout import judge_rollout
from driftdesk.rollout.compare import rollout_metric
from driftdesk.rollout.judge import evaluate_window, rollout_units

T0 = dt.datetime(2026, 5, 4, 7)
GATES = {"cpa": ("cpa", "relative"), "cr": ("cr", "relative"), "o2p": ("observed_to_predicted", "relative"),
         "ece": ("ece", "difference"), "shift": ("psi:score", "difference")}
POLICY = "[policy]\nname = \"small\"\n" + "".join(
    f"[[gate]]\nname = \"{name}\"\nmetric = \"{metric}\"\ncomparison = \"release\"\nchange = \"{change}\"\n"
    f"threshold = 0.1\ndirection = \"either\"\nwindow = \"7h\"\nevery = \"3h\"\nconsecutive = 2\nmin_sample = 3\n"
    f"action = \"rollback\"\n" for name, (metric, change) in GATES.items())


def small_rollout() -> pl.DataFrame:
    """About 25 rows an hour over 20 hours, not on the hour; a geo that is sometimes missing, one only the
    candidate serves late, labels not yet known on some rows, a few leads not bought."""
    rng = np.random.default_rng(7)
    n = 500
    ts = [T0 + dt.timedelta(seconds=int(s)) for s in np.sort(rng.uniform(1200, 20 * 3600, n))]
    geo = rng.choice(["US", "DE", None], n, p=[0.5, 0.4, 0.1]).tolist()
    cand = rng.random(n) < 0.4
    geo = ["FR" if c and t > T0 + dt.timedelta(hours=12) and rng.random() < 0.3 else g
           for c, t, g in zip(cand, ts, geo)]
    score = rng.random(n)
    label = np.where(rng.random(n) < score, 1.0, 0.0)
    return pl.DataFrame({
        "ts": ts, "geo": geo, "decision": (rng.random(n) < 0.9).astype(np.int8),
        "label": pl.Series(label).set(pl.Series(rng.random(n) < 0.15), None), "score": score,
        "spend": rng.gamma(2, 1.5, n), "model_version": np.where(cand, "new", "old")}, strict=False)


def reference(rows: list[dict], gate: str) -> tuple[float | None, float]:
    """(value, sample) of one arm's rows, written out from each metric's definition."""
    labelled = [r for r in rows if r["label"] is not None]
    if gate == "cpa":
        conv = sum(r["label"] for r in labelled if r["decision"] == 1)
        return (sum(r["spend"] for r in labelled) / conv if conv else None), conv
    if gate == "cr":
        clicks = sum(r["decision"] for r in labelled)
        return (sum(r["label"] for r in labelled if r["decision"] == 1) / clicks if clicks else None), clicks
    if gate == "o2p":
        s = sum(r["score"] for r in labelled)
        return (sum(r["label"] for r in labelled) / s if s else None), s
    gap = 0.0
    for b in range(10):
        in_bin = [r for r in labelled if min(int(r["score"] * 10), 9) == b]
        gap += abs(sum(r["label"] for r in in_bin) - sum(r["score"] for r in in_bin))
    return (gap / len(labelled) if labelled else None), float(len(labelled))


def windows(result) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(max(result.span.start, t - dt.timedelta(hours=7)), t) for t in result.evaluations["ts"].unique().sort()]


def test_every_evaluation_equals_the_figures_of_its_rows():
    frame = small_rollout()
    start = T0 + dt.timedelta(minutes=20)  # a span that does not start on the hour
    result = judge_rollout(frame, control="old", candidate="new", policy=parse_policy(POLICY), segments=["geo"],
                           start=start)
    evals = result.evaluations.filter(pl.col("gate") != "shift")
    records = frame.to_dicts()
    seen = 0
    for lo, hi in windows(result):
        inside = [r for r in records if lo <= r["ts"] < hi]
        for gate in ("cpa", "cr", "o2p", "ece"):
            got = evals.filter((pl.col("ts") == hi) & (pl.col("gate") == gate))
            rows = inside if gate != "ece" else [r for r in inside if r["label"] is not None]
            segments = {"all": rows}
            for r in rows:
                segments.setdefault(f"geo={r['geo']}", []).append(r)
            assert sorted(got["segment"].to_list()) == sorted(segments)
            for name, seg_rows in segments.items():
                row = got.filter(pl.col("segment") == name).row(0, named=True)
                for arm, version in (("control", "old"), ("candidate", "new")):
                    value, sample = reference([r for r in seg_rows if r["model_version"] == version], gate)
                    assert row[f"n_{arm}"] == pytest.approx(sample, rel=1e-12, abs=1e-12)
                    assert (row[arm] is None) == (value is None)
                    if value is not None:
                        assert row[arm] == pytest.approx(value, rel=1e-12, abs=1e-12)
                if row["control"] and row["candidate"] is not None:
                    want = (row["candidate"] - row["control"] if gate == "ece"
                            else row["candidate"] / row["control"] - 1)
                    assert row["change"] == pytest.approx(want, rel=1e-12, abs=1e-12)
                seen += 1
    assert seen > 100


def test_intervals_and_verdicts_equal_the_window_by_window_path():
    frame = small_rollout()
    policy = parse_policy(POLICY)
    result = judge_rollout(frame, control="old", candidate="new", policy=policy, segments=["geo"], correction="none")
    units = rollout_units(frame, column="model_version", control="old", candidate="new")
    for lo, hi in windows(result):
        part = units.filter((pl.col("ts") >= lo) & (pl.col("ts") < hi))
        for gate in policy.gates:
            for keys in ((), ("geo",)):
                metric = rollout_metric(gate.metric, units.columns)
                want = evaluate_window(part, gate, metric, keys, confidence=0.95)
                got = result.evaluations.filter(
                    (pl.col("ts") == hi) & (pl.col("gate") == gate.name)
                    & (pl.col("segment").str.starts_with("geo=") == bool(keys))).to_dicts()
                assert [r["segment"] for r in got] == [r["segment"] for r in want]
                for g, w in zip(got, want):
                    assert g["verdict"] == w["verdict"] and g["note"] == w["note"]
                    for key in ("control", "candidate", "change", "ci_low", "ci_high", "p_value", "n_control",
                                "n_candidate"):
                        assert (g[key] is None) == (w[key] is None), key
                        if g[key] is not None:
                            assert math.isclose(g[key], w[key], rel_tol=1e-9, abs_tol=1e-12), key
