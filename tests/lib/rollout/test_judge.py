"""Rollout decisions: a broken segment rolls back and is named, a quiet candidate continues, no control traffic is
"not enough data", consecutive breaches are required, the replay never looks ahead; the sample's v2.0 canary."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftdesk.errors import DriftdeskError, PolicyError
from driftdesk.gates.policy import parse_policy
from driftdesk.rollout import default_rollout_policy, judge_rollout, rollout_policy

T0 = dt.datetime(2026, 3, 2)
POLICY = """
[policy]
name = "t"
[[gate]]
name = "cr"
metric = "cr"
comparison = "release"
change = "relative"
threshold = -0.2
direction = "below"
window = "48h"
every = "12h"
consecutive = 2
min_sample = 200
action = "rollback"
"""


def canary(*, hours: int = 96, broken: str | None = "DE", drop: float = 0.5, control_rows: bool = True,
           seed: int = 1) -> pl.DataFrame:
    """Per-request rows: 20% candidate traffic, two geos, bought leads (decision) convert at 30%."""
    rng = np.random.default_rng(seed)
    n = hours * 120
    ts = [T0 + dt.timedelta(seconds=int(s)) for s in np.sort(rng.uniform(0, hours * 3600, n))]
    geo = rng.choice(["US", "DE"], n)
    cand = rng.random(n) < 0.2
    p = np.where(cand & (geo == broken), 0.3 * (1 - drop), 0.3)
    label = (rng.random(n) < p).astype(np.int8)
    frame = pl.DataFrame({"ts": ts, "geo": geo, "decision": np.ones(n, np.int8), "label": label,
                          "spend": rng.gamma(4, 1.0, n), "score": rng.random(n),
                          "model_version": np.where(cand, "v2", "v1")})
    return frame if control_rows else frame.filter(pl.col("model_version") == "v2")


def test_a_broken_segment_rolls_back_and_is_named():
    result = judge_rollout(canary(), control="v1", candidate="v2", policy=parse_policy(POLICY), segments=["geo"])
    assert result.decision == "rollback"
    assert "geo=DE" in result.broken_segments and "geo=US" not in result.broken_segments
    de = result.segments.filter((pl.col("segment") == "geo=DE") & (pl.col("gate") == "cr")).row(0, named=True)
    assert de["verdict"] == "breach" and de["ci_high"] < 0 and de["change"] < -0.2
    us = result.segments.filter(pl.col("segment") == "geo=US").row(0, named=True)
    assert us["verdict"] == "ok"
    # two breaches in a row: the first evaluation that breaches (in any segment) does not decide yet
    first_breach = result.evaluations.filter(pl.col("verdict") == "breach")["ts"].min()
    assert result.decided_at > first_breach
    assert result.to_dict()["segments"][0].keys() >= {"geo", "metric", "control", "candidate", "change", "ci_low",
                                                      "ci_high", "verdict"}


def test_a_quiet_candidate_continues():
    result = judge_rollout(canary(broken=None), control="v1", candidate="v2", policy=parse_policy(POLICY),
                           segments=["geo"])
    assert result.decision == "continue"
    assert not result.broken_segments


def test_no_control_traffic_is_not_enough_data():
    frame = canary(control_rows=False)
    with_control_elsewhere = pl.concat([frame, canary().filter(pl.col("model_version") == "v1")
                                        .with_columns(pl.col("ts") - dt.timedelta(days=30))])
    result = judge_rollout(with_control_elsewhere, control="v1", candidate="v2", policy=parse_policy(POLICY))
    assert result.decision == "not_enough_data"
    assert any("no control traffic" in n for n in result.notes)
    assert set(result.evaluations["verdict"].unique()) == {"not_enough_data"}


def test_a_segment_without_candidate_traffic_is_not_judged():
    frame = canary().filter(~((pl.col("geo") == "DE") & (pl.col("model_version") == "v2")))
    result = judge_rollout(frame, control="v1", candidate="v2", policy=parse_policy(POLICY), segments=["geo"])
    de = result.evaluations.filter(pl.col("segment") == "geo=DE")
    assert set(de["verdict"]) == {"not_enough_data"}
    assert "no candidate traffic" in de["note"][0]


def test_the_replay_does_not_look_ahead():
    frame = canary()
    full = judge_rollout(frame, control="v1", candidate="v2", policy=parse_policy(POLICY), segments=["geo"])
    cut = T0 + dt.timedelta(hours=60)
    early = judge_rollout(frame.filter(pl.col("ts") < cut), control="v1", candidate="v2", policy=parse_policy(POLICY),
                          segments=["geo"], start=full.span.start, end=cut)
    before = full.timeline.filter(pl.col("ts") <= cut)
    assert early.timeline.filter(pl.col("ts") <= cut).equals(before)


def test_bad_names_and_policies_are_clear():
    with pytest.raises(DriftdeskError, match="no column holds both"):
        judge_rollout(canary(), control="v0", candidate="v2")
    with pytest.raises(DriftdeskError, match="both 'v1'"):
        judge_rollout(canary(), control="v1", candidate="v1")
    with pytest.raises(PolicyError, match="comparison = \"release\""):
        rollout_policy(parse_policy(POLICY.replace('comparison = "release"', 'comparison = "week_over_week"')))
    bad = parse_policy(POLICY.replace('metric = "cr"', 'metric = "latency_p95_ms"'))
    with pytest.raises(PolicyError, match="mean:<latency column>"):
        judge_rollout(canary().with_columns(latency_p95_ms=pl.lit(1.0), requests=pl.lit(1.0)), control="v1",
                      candidate="v2", policy=bad)


def test_the_default_policy_reads_as_a_gate_policy():
    policy = default_rollout_policy()
    assert {g.comparison for g in policy.gates} == {"release"}
    assert {g.action for g in policy.gates} >= {"rollback", "pause_for_review"}


@pytest.fixture(scope="module")
def sample_canary(sample_dataset):
    table = sample_dataset["decisions"]
    return judge_rollout(table.frame, control="v1.9", candidate="v2.0", segments=table.segments)


def test_the_sample_canary_pauses_during_its_canary_days_and_rolls_back_naming_de(sample_canary):
    """The canary (2026-10-05 to the full rollout on 10-07) has a few hundred candidate rows a day: with the error
    rate split over the rollout's looks, segments and gates, the score shift pauses it on its first day, and DE's
    miscalibration is beyond the noise a day after the full rollout, while the control still has rows."""
    assert sample_canary.decision == "rollback"
    paused = sample_canary.timeline.filter(pl.col("decision") == "pause_for_review")["ts"].min()
    assert dt.datetime(2026, 10, 5) < paused < dt.datetime(2026, 10, 7)
    assert dt.datetime(2026, 10, 7) <= sample_canary.decided_at < dt.datetime(2026, 10, 9)
    assert "geo=DE" in sample_canary.broken_segments
    assert sample_canary.arm_column == "model_version"


def test_the_sample_canary_says_not_enough_data_once_the_control_is_gone(sample_canary):
    late = sample_canary.timeline.filter(pl.col("ts") >= dt.datetime(2026, 10, 9, 6))
    assert late.height and set(late["decision"]) == {"not_enough_data"}


def test_each_evaluations_decision_names_the_gates_and_segments_that_made_it():
    """Decisions worked out by hand: a rollback gate that fired wins over a pause gate that fired, which wins over a
    notify gate (continue, naming what fired); nothing judged is not_enough_data; one breach of a gate that needs
    two in a row does not act."""
    from driftdesk.rollout.judge import _decide

    policy = parse_policy("\n".join(
        f'[[gate]]\nname = "{name}"\nmetric = "cr"\ncomparison = "release"\nthreshold = -0.2\ndirection = "below"\n'
        f'consecutive = {runs}\naction = "{action}"\n'
        for name, action, runs in (("rb", "rollback", 2), ("pause", "pause_for_review", 1), ("note", "notify", 1),
                                   ("zz", "rollback", 1))), source="test")
    t = [T0 + dt.timedelta(hours=6 * i) for i in range(5)]
    rows = [  # (time, gate, action, segment, verdict)
        (0, "rb", "rollback", "all", "not_enough_data"), (0, "note", "notify", "all", "not_enough_data"),
        (1, "rb", "rollback", "geo=DE", "breach"), (1, "note", "notify", "geo=US", "breach"),
        (1, "note", "notify", "geo=DE", "breach"), (1, "pause", "pause_for_review", "all", "ok"),
        (2, "rb", "rollback", "geo=DE", "breach"), (2, "rb", "rollback", "all", "ok"),
        (2, "pause", "pause_for_review", "geo=US", "breach"), (2, "zz", "rollback", "all", "breach"),
        (3, "pause", "pause_for_review", "geo=US", "breach"), (3, "pause", "pause_for_review", "all", "breach"),
        (3, "rb", "rollback", "geo=DE", "ok"),
        (4, "rb", "rollback", "geo=DE", "ok")]
    evals = pl.DataFrame([{"ts": t[i], "gate": g, "action": a, "segment": s, "verdict": v} for i, g, a, s, v in rows],
                         schema={"ts": pl.Datetime("us"), "gate": pl.String, "action": pl.String,
                                 "segment": pl.String, "verdict": pl.String})
    got = _decide(evals, policy)
    assert got.schema == {"ts": pl.Datetime("us"), "decision": pl.String, "segments": pl.String, "gates": pl.String}
    assert got.rows() == [
        (t[0], "not_enough_data", "", ""),
        (t[1], "continue", "geo=DE, geo=US", "note"),  # the notify gate fired; rb's first breach does not act
        (t[2], "rollback", "geo=DE, all", "rb, zz"),  # gates in name order, segments gate by gate
        (t[3], "pause_for_review", "all, geo=US", "pause"),
        (t[4], "continue", "", ""),
    ]
    assert _decide(evals.head(0), policy).schema == got.schema and _decide(evals.head(0), policy).height == 0


def test_the_rollout_span_runs_from_the_hour_of_the_first_row_to_the_end_of_the_hour_of_the_last():
    from driftdesk.rollout.judge import rollout_span

    first, last = dt.datetime(2026, 3, 2, 9, 41, 7), dt.datetime(2026, 3, 5, 17, 0, 0, 1)
    span = rollout_span(first, last)
    assert (span.start, span.end) == (dt.datetime(2026, 3, 2, 9), dt.datetime(2026, 3, 5, 18))
    given = rollout_span(None, None, dt.datetime(2026, 3, 3), dt.datetime(2026, 3, 4))
    assert (given.start, given.end) == (dt.datetime(2026, 3, 3), dt.datetime(2026, 3, 4))
    with pytest.raises(DriftdeskError, match="no rows"):
        rollout_span(None, None)
    with pytest.raises(DriftdeskError, match="is empty"):
        rollout_span(first, last, start=dt.datetime(2026, 3, 6))
