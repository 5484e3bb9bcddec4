"""The Rollouts page's one call on another advertiser's decisions: a gate whose metric needs a column the table does
not have is left out with a note, and the other gates still judge the rollout."""

from __future__ import annotations

from dataclasses import replace

import pytest

from driftdesk.contract import load_dataset
from driftdesk.errors import DriftdeskError
from driftdesk.rollout import default_rollout_policy, rollout_view
from foreign_data import write_foreign_folder


def test_gates_the_table_cannot_judge_are_left_out_with_a_note(tmp_path):
    dataset = load_dataset(write_foreign_folder(tmp_path / "advertiser").folder)  # scored requests, no spend column
    result = rollout_view(dataset, control="gbm-7", candidate="gbm-8")
    assert [g.name for g in result.policy.gates if g.metric == "cpa"] == []
    assert any("needs the column 'spend'" in n and "left out" in n and "__arm" not in n for n in result.notes)
    assert result.policy.gates and result.decision in ("continue", "pause_for_review", "rollback", "not_enough_data")


def test_a_table_no_gate_can_judge_is_a_clear_error(tmp_path):
    dataset = load_dataset(write_foreign_folder(tmp_path / "advertiser").folder)
    default = default_rollout_policy()
    only_cpa = replace(default, gates=tuple(g for g in default.gates if g.metric == "cpa"))
    assert only_cpa.gates
    with pytest.raises(DriftdeskError, match="no gate of the rollout policy .* can be judged on this table: .*'spend'"):
        rollout_view(dataset, control="gbm-7", candidate="gbm-8", policy=only_cpa)


def test_a_gate_evaluations_kept_by_the_caller_give_the_same_judgement(sample_dataset):
    """A memo of one gate's evaluations per segmentation (the app's cache): a view asked again replays nothing, a
    view with other segment columns replays its segmentations at their own level (the error rate is split over
    fewer segmentations), and every view equals the one replayed from scratch."""
    from polars.testing import assert_frame_equal

    kept: dict = {}
    computed: list = []

    def memo(gate, keys, span, every, level, compute):
        key = (repr(gate), keys, span, every, level)
        if key not in kept:
            computed.append(keys)
            kept[key] = compute()
        return kept[key]

    for by in (None, ["geo"], ["geo", "device"], None, ["geo"]):
        shared = rollout_view(sample_dataset, control="v1.9", candidate="v2.0", by=by, memo=memo)
        alone = rollout_view(sample_dataset, control="v1.9", candidate="v2.0", by=by)
        assert_frame_equal(shared.evaluations, alone.evaluations)
        assert_frame_equal(shared.timeline, alone.timeline)
        assert (shared.decision, shared.decided_at, shared.reason) == (alone.decision, alone.decided_at, alone.reason)
    gates = len(default_rollout_policy().gates)
    assert computed.count(("geo",)) == 2 * gates  # the default view's and the by=geo view's, each once
    assert computed.count(("geo", "device")) == gates
