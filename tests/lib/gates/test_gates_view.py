"""gates_view: the Gates page's backtest and sweep are the direct calls, sharing one computation of gate values."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gate_histories import at, dataset, incidents_frame, kpis_frame
from polars.testing import assert_frame_equal

from driftdesk.errors import PolicyError
from driftdesk.gates import backtest_policy, parse_policy, sweep_gate
from driftdesk.gates.backtest import policy_values
from driftdesk.gates.view import default_policy, gates_view
from driftdesk.paths import sample_data_dir
from driftdesk.tracking import adopt_policy, adopted_thresholds

HOURS = 720
POLICY = parse_policy("""
[policy]
name = "view-test"
grace = "24h"

[[gate]]
name = "cpa_high"
metric = "cpa"
threshold = 20.0
window = "1h"
consecutive = 2

[[gate]]
name = "golden"
metric = "golden_pass_rate"
comparison = "release"
threshold = 0.05
direction = "below"
""")


def history():
    spend = np.full(HOURS, 100.0)
    spend[240:243] = 300.0
    spend[480:492] = 300.0
    incidents = incidents_frame([("A", at(480), at(492)), ("B", at(600), at(610))])
    return dataset(kpis=kpis_frame(spend, np.full(HOURS, 10.0)), incidents=incidents)


def test_the_views_numbers_equal_the_direct_calls():
    ds = history()
    reference = {"threshold": 25.0, "consecutive": 1}
    view = gates_view(ds, POLICY, gate="cpa_high", reference=reference)
    direct = backtest_policy(ds, POLICY)
    assert_frame_equal(view.backtest.alerts, direct.alerts)
    assert_frame_equal(view.backtest.incidents, direct.incidents)
    assert view.backtest.score == direct.score
    sweep = sweep_gate(ds, POLICY, "cpa_high", current=reference)
    assert_frame_equal(view.sweep.frame, sweep.frame)
    assert view.sweep.current == reference
    assert view.caught == (1, 2)
    assert view.incidents()["result"].to_list() == ["caught", "missed"]
    assert view.replayed == "Replayed 1 gate(s) over 30 days; 1 release check(s) run only by driftdesk gates check"
    again = gates_view(ds, POLICY, gate="cpa_high", reference=reference, values=policy_values(ds, POLICY))
    assert_frame_equal(again.sweep.frame, view.sweep.frame)
    json.dumps(view.to_dict(), allow_nan=False)


def test_a_release_check_has_no_sweep_and_an_unknown_gate_is_refused():
    view = gates_view(history(), POLICY, gate="golden")
    assert view.sweep is None and view.gate.name == "golden"
    assert view.backtest.alerts.height == 2  # the other gate is still replayed
    with pytest.raises(PolicyError):
        gates_view(history(), POLICY, gate="nowhere")


def test_default_policy_is_the_folders_else_the_samples(tmp_path):
    assert default_policy(tmp_path).name == default_policy(sample_data_dir()).name
    (tmp_path / "policy.toml").write_text(POLICY.to_toml(), encoding="utf-8")
    assert default_policy(tmp_path).name == "view-test"


def test_the_sweeps_current_values_are_the_adopted_version_else_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("DRIFTDESK_HOME", str(tmp_path))
    assert adopted_thresholds("view-test", "cpa_high", POLICY) == {"threshold": 20.0, "consecutive": 2}
    assert adopted_thresholds("view-test", "cpa_high", None) is None
    adopted = parse_policy(POLICY.to_toml().replace("threshold = 20.0", "threshold = 30.0"))
    adopt_policy(adopted, note="test")
    assert adopted_thresholds("view-test", "cpa_high", POLICY) == {"threshold": 30.0, "consecutive": 2}
    assert adopted_thresholds("view-test", "nowhere", POLICY) is None
