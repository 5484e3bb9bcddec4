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
