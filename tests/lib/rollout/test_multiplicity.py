"""A rollout judged many times, in many segments, under several gates: the error rate ``1 - confidence`` is split
across gates and segments and held over each gate's overlapping looks (or split across them too, Bonferroni), so
identical arms are rarely rolled back, while a real regression still is."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from driftdesk.errors import DriftdeskError
from driftdesk.gates.policy import parse_policy
from driftdesk.rollout import judge_rollout
from driftdesk.rollout.judge import comparison_level, overlap_level

T0 = dt.datetime(2026, 6, 1)


def arms(seed: int, *, days: int = 4, per_day: int = 2000, shift: float = 0.0) -> pl.DataFrame:
    """Random m1 / m2 arms scored by one calibrated model (outcome ~ Bernoulli(score)); the candidate m2's outcome
    rate is scaled by ``1 + shift`` (0: an A/A rollout)."""
    rng = np.random.default_rng(100 + seed)
    n = days * per_day
    seconds = np.sort(rng.integers(0, days * 86400, n))
    score = rng.beta(2, 8, n)
    arm = rng.choice(["m1", "m2"], n)
    p = np.where(arm == "m2", np.clip(score * (1 + shift), 0, 1), score)
    return pl.DataFrame({"ts": pl.Series([T0 + dt.timedelta(seconds=int(s)) for s in seconds]), "score": score,
                         "label": (rng.random(n) < p).astype(np.int8), "model_version": arm,
                         "geo": rng.choice(["AT", "CH"], n), "spend": rng.gamma(3, 1.0, n)})


def test_a_live_rollout_is_judged_at_the_levels_of_its_planned_week():
    """Judged on its first day, then on its first six, a rollout's comparisons keep one level (its looks are those
    of a week), so what it decided on day one stands as data arrives; past a week the looks are the span's."""
    frame = arms(1, days=10).with_columns(decision=pl.lit(1))

    def levels(days: int) -> set[float]:
        result = judge_rollout(frame, control="m1", candidate="m2", segments=["geo"],
                               end=T0 + dt.timedelta(days=days))
        return set(result.evaluations.filter(pl.col("segment") == "geo=AT")["level"].drop_nulls().to_list())

    first, six, ten = levels(1), levels(6), levels(10)
    assert first == six and len(first) >= 1
    assert max(ten) > max(six)  # ten days hold more looks than the planned week: each comparison gets less


def test_the_level_of_one_comparison_by_hand():
    # 3 rollback gates judged over all traffic and per geo (6 comparisons), 16 looks, 2 geos: 0.05 / 192
    assert comparison_level(0.95, comparisons=6, looks=16, segments=2) == pytest.approx(1 - 0.05 / 192)
    assert comparison_level(0.95, comparisons=1, looks=1, segments=1) == pytest.approx(0.95)


def test_each_comparison_is_judged_at_its_share_of_the_error_rate():
    """One rollback gate every 12 hours over 96 hours, its looks counted over the planned week (14 looks), over all
    traffic and per geo (2 comparisons, 2 geos): all traffic at 1 - 0.05 / 28, each geo at 1 - 0.05 / 56;
    ``correction="none"`` keeps 0.95."""
    policy = parse_policy('[[gate]]\nname = "cr"\nmetric = "cr"\ncomparison = "release"\nchange = "relative"\n'
                          'threshold = -0.2\ndirection = "below"\nwindow = "48h"\nevery = "12h"\nconsecutive = 2\n'
                          'min_sample = 50\naction = "rollback"\n', source="test")
    frame = arms(0).filter(pl.col("ts") < T0 + dt.timedelta(hours=96)).with_columns(decision=pl.lit(1))
    result = judge_rollout(frame, control="m1", candidate="m2", policy=policy, segments=["geo"],
                           end=T0 + dt.timedelta(hours=96), correction="bonferroni")
    levels = dict(result.evaluations.group_by("segment").agg(pl.col("level").unique()).iter_rows())
    assert levels == {"all": [pytest.approx(1 - 0.05 / 28)], "geo=AT": [pytest.approx(1 - 0.05 / 56)],
                      "geo=CH": [pytest.approx(1 - 0.05 / 56)]}
    # a wider interval at that level: the z of a two-sided interval, as scipy gives it, against the row's own
    row = result.evaluations.filter(pl.col("segment") == "geo=AT").row(-1, named=True)
    plain = judge_rollout(frame, control="m1", candidate="m2", policy=policy, segments=["geo"],
                          end=T0 + dt.timedelta(hours=96), correction="none")
    same = plain.evaluations.filter(pl.col("segment") == "geo=AT").row(-1, named=True)
    assert same["level"] == 0.95 and same["change"] == pytest.approx(row["change"])
    assert row["ci_low"] < same["ci_low"] and row["ci_high"] > same["ci_high"]
    assert result.to_dict()["correction"] == "bonferroni" and plain.to_dict()["confidence"] == 0.95
    # the default holds each share (0.05 / 2 over all traffic, 0.05 / 4 per geo) over the 14 looks together
    overlap = judge_rollout(frame, control="m1", candidate="m2", policy=policy, segments=["geo"],
                            end=T0 + dt.timedelta(hours=96))
    levels = dict(overlap.evaluations.group_by("segment").agg(pl.col("level").unique()).iter_rows())
    by_hand = {n: overlap_level(0.95, comparisons=2, segments=n, window_hours=48, every_hours=12, looks=14)
               for n in (1, 2)}
    assert levels == {"all": [by_hand[1]], "geo=AT": [by_hand[2]], "geo=CH": [by_hand[2]]}
    assert 1 - 0.05 / 2 < by_hand[1] < 1 - 0.05 / 28 and 1 - 0.05 / 4 < by_hand[2] < 1 - 0.05 / 56
    narrower = overlap.evaluations.filter(pl.col("segment") == "geo=AT").row(-1, named=True)
    assert row["ci_low"] < narrower["ci_low"] < same["ci_low"] and overlap.to_dict()["correction"] == "overlap"
    with pytest.raises(DriftdeskError, match="unknown correction 'holm'"):
        judge_rollout(frame, control="m1", candidate="m2", policy=policy, segments=["geo"], correction="holm")


def test_identical_arms_are_rarely_rolled_back():
    """40 A/A rollouts of 4 days (2,000 rows a day, two geos) under the default policy: at most 3 roll back. At the
    stated rate of 5% the expected count is 2 (the overlap correction keeps the rate at or below it); a pointwise 95%
    interval judged every 6 hours rolled back about 4 in 10 of these (16 of these 40), and 3 or fewer of 40 at a
    rate of 0.4 has a binomial probability below 1e-5."""
    assert stats.binom.cdf(3, 40, 0.4) < 1e-5
    decisions = [judge_rollout(arms(seed), control="m1", candidate="m2", segments=["geo"],
                               decision_only=True).decision for seed in range(40)]
    assert decisions.count("rollback") <= 3


def test_a_real_regression_is_still_rolled_back():
    """The candidate's outcomes 30% below its scores (calibration off by 30%, beyond the 20% threshold; CPA 43%
    up) are rolled back within its first two days, in every one of 5 rollouts, and never later than under the
    Bonferroni split (narrower intervals breach whenever the wider ones do)."""
    for seed in range(5):
        result = judge_rollout(arms(seed, shift=-0.3), control="m1", candidate="m2", segments=["geo"],
                               decision_only=True)
        assert result.decision == "rollback"
        assert result.decided_at <= T0 + dt.timedelta(hours=48)
        split = judge_rollout(arms(seed, shift=-0.3), control="m1", candidate="m2", segments=["geo"],
                              decision_only=True, correction="bonferroni")
        assert split.decision == "rollback" and result.decided_at <= split.decided_at


def test_ece_and_psi_gates_keep_bonferronis_split_of_their_looks():
    """An ECE or a KS statistic is no sum over the window's rows, so the hours two windows share do not give their
    correlation: under the overlap correction their looks keep Bonferroni's split, the ratio gates do not."""
    result = judge_rollout(arms(0, days=2).with_columns(decision=pl.lit(1)), control="m1", candidate="m2",
                           segments=["geo"])
    level = dict(result.evaluations.filter(pl.col("segment") == "all").group_by("gate")
                 .agg(pl.col("level").first()).iter_rows())
    # the default policy: 3 rollback gates and 2 pause gates, each over all traffic and per geo; 28 looks a week
    assert level["ece"] == pytest.approx(comparison_level(0.95, comparisons=4, looks=28, segments=1))
    assert level["score_shift"] == level["ece"]
    assert level["calibration"] == overlap_level(0.95, comparisons=6, segments=1, window_hours=48, every_hours=6,
                                                 looks=28)
