"""The replay draws an ECE gate's bootstrap interval only where a verdict reads it or the decision shows it; every
other interval is drawn on first use of ``evaluations``, the same number the replay would have drawn."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from driftdesk.gates.policy import parse_policy
from driftdesk.rollout import rollout_view
from driftdesk.rollout.compare import (
    ECE_BINS,
    RolloutMetric,
    calibration_layout,
    compare_calibration_arrays,
    ece_from_cells,
)
from driftdesk.rollout.judge import DEFERRED, _calibration_rows, draw_deferred

ECE = RolloutMetric("ece", "ECE", "calibration", ("score", "label"), "score", "labelled rows")


@pytest.fixture(scope="module")
def result(sample_dataset):
    return rollout_view(sample_dataset, control="v1.9", candidate="v2.0")


def test_what_the_replay_leaves_undrawn_is_only_what_no_verdict_and_not_the_decision_read(result):
    ece, psi = pl.col("metric") == "ece", pl.col("metric").str.starts_with("psi:")
    left = result.replayed.with_row_index("i").filter(pl.col("i").is_in([i for i, _ in result.deferred]))
    assert left.filter(ece).height > 0 and left.filter(psi).height > 0 and left.filter(~ece & ~psi).height == 0
    assert set(left["verdict"].to_list()) <= {"ok", "not_enough_data"}
    assert left.filter(pl.col("ts") == result.decided_at).height == 0
    assert left.filter(ece)["ci_low"].null_count() == left.filter(ece).height
    assert left.filter(psi)["p_value"].null_count() == left.filter(psi).height
    drawn = result.replayed.filter((ece & pl.col("change").is_not_null() & pl.col("ci_low").is_not_null())
                                   | (psi & pl.col("p_value").is_not_null()))
    assert drawn.filter(pl.col("verdict").is_in(["breach", "inconclusive"]) | (pl.col("ts") == result.decided_at)
                        ).height == drawn.height


def test_a_deferred_ks_p_value_is_scipys_on_the_windows_rows(sample_dataset, result):
    """Each PSI row's p-value, drawn by the replay or later, is scipy's asymptotic two-sample KS p-value of the
    two arms' scores in its window (48 hours up to the evaluation)."""
    import datetime as dt

    from scipy import stats as sps

    decisions = sample_dataset["decisions"].frame.filter(pl.col("model_version").is_in(["v1.9", "v2.0"]))
    rows = result.evaluations.with_row_index("i").filter(pl.col("metric") == "psi:score")
    undrawn = {i for i, _ in result.deferred}
    picked = [*rows.filter(pl.col("i").is_in(undrawn)).head(3).iter_rows(named=True),
              *rows.filter(~pl.col("i").is_in(undrawn) & pl.col("p_value").is_not_null()).head(3).iter_rows(named=True)]
    assert len(picked) == 6
    for row in picked:
        start = max(result.span.start, row["ts"] - dt.timedelta(hours=48))
        window = decisions.filter((pl.col("ts") >= start) & (pl.col("ts") < row["ts"]))
        if row["segment"] != "all":
            column, value = row["segment"].split("=")
            window = window.filter(pl.col(column) == value)
        b, c = (window.filter(pl.col("model_version") == v)["score"].drop_nulls().to_numpy() for v in ("v1.9", "v2.0"))
        assert (b.size, c.size) == (row["n_control"], row["n_candidate"])
        assert row["p_value"] == pytest.approx(sps.ks_2samp(b, c, method="asymp").pvalue, rel=1e-9, abs=1e-15)


def test_decision_only_gives_the_whole_replays_decision_and_ends_there(sample_dataset, result):
    """A caller that reads the decision only (the Incidents page's canary) gets the decision, its time, reason and
    verdicts of the whole replay; the replay ends at the first rollback and draws nothing only shown."""
    from driftdesk.rollout import judge_rollout

    table = sample_dataset["decisions"]
    full = judge_rollout(table.frame, control="v1.9", candidate="v2.0", segments=table.segments,
                         policy=result.policy)
    short = judge_rollout(table.frame, control="v1.9", candidate="v2.0", segments=table.segments,
                          policy=result.policy, decision_only=True)
    assert full.decision == "rollback" and full.timeline["ts"].max() > full.decided_at
    assert (short.decision, short.decided_at, short.reason) == (full.decision, full.decided_at, full.reason)
    assert short.broken_segments == full.broken_segments
    assert short.timeline["ts"].max() == full.decided_at
    assert_frame_equal(short.timeline, full.timeline.filter(pl.col("ts") <= full.decided_at))
    close = {"check_exact": False, "rel_tol": 1e-9, "abs_tol": 1e-12}  # polars' parallel sums: the last bit may differ
    assert_frame_equal(short.evaluations, full.evaluations.filter(pl.col("ts") <= full.decided_at), **close)
    undrawn = ("ci_low", "ci_high", "p_value")  # the decision's, where no verdict read them
    assert_frame_equal(short.segments.drop(undrawn), full.segments.drop(undrawn), **close)


def test_evaluations_hold_every_interval_and_the_replayed_ones_unchanged(result):
    full = result.evaluations
    assert full.filter((pl.col("metric") == "ece") & pl.col("change").is_not_null())["ci_low"].null_count() == 0
    drawn = pl.col("i").is_in([i for i, _ in result.deferred])
    assert_frame_equal(full.with_row_index("i").filter(~drawn), result.replayed.with_row_index("i").filter(~drawn),
                       check_exact=True)
    at = full.filter(pl.col("ts") == result.decided_at).select(result.segments.columns)
    assert_frame_equal(at, result.segments, check_exact=True)


def test_a_deferred_interval_is_the_one_drawn_at_once():
    rng = np.random.default_rng(5)
    cells = {}
    for seg in ("a", "b", "c"):
        arms = {}
        for arm, n in (("control", 900), ("candidate", 400)):
            count = rng.integers(1, n // 10, 2 * ECE_BINS).astype(float)
            score = count * (np.repeat(np.arange(ECE_BINS), 2) + rng.random(2 * ECE_BINS)) / ECE_BINS
            arms[arm] = (count, score, score**2 / np.maximum(count, 1) + rng.random(2 * ECE_BINS))
        cells[(seg,)] = arms
    gate = parse_policy('[policy]\nname = "p"\n[[gate]]\nname = "ece"\nmetric = "ece"\ncomparison = "release"\n'
                        'change = "difference"\nthreshold = 0.5\ndirection = "above"\nwindow = "6h"\n'
                        'min_sample = 1\naction = "notify"\n', source="test").gates[0]
    rows = _calibration_rows(cells, gate, ECE, ("seg",), confidence=0.9)
    assert all(DEFERRED in r for r in rows)  # a threshold of 0.5 ECE is never crossed: no verdict reads an interval
    for row, arms in zip(rows, cells.values()):
        at_once = compare_calibration_arrays(ECE, arms["control"], arms["candidate"], relative=False, confidence=0.9)
        frame = pl.DataFrame({"ci_low": [None], "ci_high": [None]}, schema={"ci_low": pl.Float64, "ci_high": pl.Float64})
        drawn = draw_deferred(frame, [(0, row[DEFERRED])], confidence=0.9).row(0, named=True)
        assert (drawn["ci_low"], drawn["ci_high"]) == (at_once["ci_low"], at_once["ci_high"])
        assert at_once["ci_low"] is not None and row["change"] == at_once["change"]


def test_ece_read_off_the_layout_equals_ece_picked_cell_by_cell():
    """The layout's reshape and the general path (any cell order) add the same numbers in the same order."""
    rng = np.random.default_rng(3)
    bins, labels = calibration_layout()
    counts = rng.integers(0, 50, (200, 2 * ECE_BINS)).astype(float)
    sums = counts * rng.random((200, 2 * ECE_BINS))
    fast = ece_from_cells(bins, labels, counts, sums)
    general = ece_from_cells(bins[::-1], labels[::-1], counts[:, ::-1], sums[:, ::-1])
    np.testing.assert_array_equal(fast, general)
    np.testing.assert_array_equal(ece_from_cells(bins, labels, counts[0], sums[0]), general[0])


def test_a_callers_interval_cache_gives_the_same_judgement(sample_dataset, result):
    """``interval_of`` draws the decision's intervals (and only those); kept ones give the same view. Numbers are
    compared to 1e-12: polars' multithreaded sums of a cell may differ in the last bit from one run to the next,
    which reaches the intervals (and the cache's keys); every verdict and label is compared exactly."""
    from driftdesk.rollout.compare import ece_change_interval

    kept: dict = {}

    def interval_of(control, candidate, relative, confidence):
        key = (tuple(a.tobytes() for a in (*control, *candidate)), relative, confidence)
        if key not in kept:
            kept[key] = ece_change_interval(control, candidate, relative=relative, confidence=confidence)
        return kept[key]

    shown = result.segments.filter((pl.col("metric") == "ece") & pl.col("change").is_not_null()
                                   & ~pl.col("verdict").is_in(["breach", "inconclusive"]))
    for run in range(2):
        again = rollout_view(sample_dataset, control="v1.9", candidate="v2.0", interval_of=interval_of)
        assert_frame_equal(again.segments, result.segments, check_exact=False, rel_tol=1e-12, abs_tol=1e-15)
        assert_frame_equal(again.replayed, result.replayed, check_exact=False, rel_tol=1e-12, abs_tol=1e-15)
        if run == 0:  # counted after one run: a second run's cells may differ in the last bit and miss the cache
            assert len(kept) == shown.height > 0
