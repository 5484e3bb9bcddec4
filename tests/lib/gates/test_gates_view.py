"""gates_view: the Gates page's backtest and sweep are the direct calls, sharing one computation of gate values."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from gate_histories import at, dataset, incidents_frame, kpis_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from driftdesk.errors import PolicyError
from driftdesk.gates import backtest_policy, parse_policy, sweep_gate
from driftdesk.gates.backtest import policy_values
from driftdesk.gates.view import folder_policy, gates_view

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


def test_the_folder_policy_is_its_own_policy_toml(tmp_path):
    assert folder_policy(tmp_path) is None
    (tmp_path / "policy.toml").write_text(POLICY.to_toml(), encoding="utf-8")
    assert folder_policy(tmp_path).name == "view-test"


def test_the_view_compares_the_proposal_with_other_policies():
    ds = history()
    looser = POLICY.with_gate(replace(POLICY.gate("cpa_high"), threshold=25.0, consecutive=1))
    view = gates_view(ds, POLICY, gate="cpa_high", compare=[("adopted v1", looser), ("the default", POLICY)])
    other = backtest_policy(ds, looser)
    assert [label for label, _ in view.compared] == ["adopted v1", "the default"]
    assert_frame_equal(view.compared[0][1].alerts, other.alerts)
    # the sweep marks the first compared policy's values for the gate, and says whose they are
    assert view.sweep.current == {"threshold": 25.0, "consecutive": 1}
    assert view.sweep.current_label == "adopted v1"
    assert 25.0 in view.sweep.frame["threshold"].to_list()  # the marked value lies on the curve
    frame = view.comparison()
    assert frame["policy"].unique(maintain_order=True).to_list() == ["proposal", "adopted v1", "the default"]
    row = frame.filter((pl.col("figure") == "alerts_per_week") & (pl.col("policy") == "adopted v1")).row(0, named=True)
    assert row["value"] == pytest.approx(other.alerts_per_week)
    assert row["difference"] == pytest.approx(view.backtest.alerts_per_week - other.alerts_per_week)
    same = frame.filter(pl.col("policy") == "the default")
    assert same["difference"].drop_nulls().to_list() == [0.0] * same["difference"].drop_nulls().len()
    caught = frame.filter((pl.col("figure") == "incidents_caught") & (pl.col("policy") == "proposal")).row(0, named=True)
    assert (caught["value"], caught["incidents"]) == (1, 2)


def noisy_history(incidents: bool = True):
    """history() with hourly noise on spend (CPA 10 +- 1.5), so a low threshold raises many alerts."""
    spend = 100.0 + np.random.default_rng(5).normal(0, 15, HOURS)
    spend[240:243] = 300.0
    spend[480:492] = 300.0
    tables = {"kpis": kpis_frame(spend, np.full(HOURS, 10.0))}
    if incidents:
        tables["incidents"] = incidents_frame([("A", at(480), at(492)), ("B", at(600), at(610))])
    return dataset(**tables)


def test_regressions_name_worse_recall_and_more_alerts():
    ds = noisy_history()
    louder = POLICY.with_gate(replace(POLICY.gate("cpa_high"), threshold=12.0, consecutive=1))
    deaf = POLICY.with_gate(replace(POLICY.gate("cpa_high"), threshold=1000.0))
    loud_view = gates_view(ds, louder, gate="cpa_high", compare=[("adopted v1", POLICY)])
    assert loud_view.backtest.alerts_per_week > backtest_policy(ds, POLICY).alerts_per_week
    [words] = loud_view.regressions()
    assert words.endswith(f"alerts per week against {backtest_policy(ds, POLICY).alerts_per_week:.2f}")
    deaf_view = gates_view(ds, deaf, gate="cpa_high", compare=[("adopted v1", POLICY)])
    [words] = deaf_view.regressions()
    assert words == "recall 0.0% against 50.0% (-50.0 pp)"
    assert gates_view(ds, POLICY, gate="cpa_high", compare=[("adopted v1", POLICY)]).regressions() == ()
    assert gates_view(ds, POLICY, gate="cpa_high").regressions() == ()


def test_without_an_incidents_table_the_view_still_replays_and_sweeps():
    ds = noisy_history(incidents=False)
    view = gates_view(ds, POLICY, gate="cpa_high", compare=[("the default", POLICY)])
    assert not view.has_incidents and view.caught == (0, 0)
    assert "recall needs an incidents table" in view.backtest.score.reasons["recall"]
    assert view.backtest.alerts_per_week == pytest.approx(2 / (HOURS / 168))  # the two spikes
    assert view.sweep is not None and view.sweep.frame.height > 0 and not view.sweep.has_incident_log
    assert view.sweep.frame["recall"].null_count() == view.sweep.frame.height
    assert view.sweep.frame["alerts_per_week"].max() > 0  # low thresholds fire: the curve has a shape
    fig = view.sweep.to_figure()
    assert "recall needs an incidents table" in fig.layout.title.text
    figures = view.comparison().filter(pl.col("policy") == "proposal")
    assert figures.filter(pl.col("figure") == "recall")["value"].to_list() == [None]
    assert figures.filter(pl.col("figure") == "alerts_per_week")["value"].to_list() == [
        pytest.approx(view.backtest.alerts_per_week)]


def test_an_empty_incidents_table_is_not_a_missing_one():
    ds = dataset(kpis=kpis_frame(np.full(HOURS, 100.0), np.full(HOURS, 10.0)))
    view = gates_view(ds, POLICY, gate="cpa_high")
    empty = backtest_policy(ds, POLICY, incidents=incidents_frame([]))
    assert not view.has_incidents and empty.has_incident_log
    assert empty.score.reasons["recall"] == "no incidents are labelled"


def test_the_incidents_table_puts_the_result_and_delay_first():
    view = gates_view(history(), POLICY, gate="cpa_high")
    assert view.incidents().columns[:4] == ["incident_id", "result", "delay_hours", "caught_by"]


def test_threshold_units_say_how_a_threshold_reads():
    from driftdesk.gates.backtest import threshold_unit
    from driftdesk.gates.policy import parse_gate

    def unit(**raw):
        return threshold_unit(parse_gate({"name": "g", "threshold": 0.1, **raw}))

    assert unit(metric="cpa", comparison="week_over_week") == "change"
    assert unit(metric="null_rate:x") == "rate"
    assert unit(metric="cr", comparison="day_over_day", change="difference") == "pp"
    assert unit(metric="psi:x", comparison="week_over_week") == "score"
    assert unit(metric="cpa") == "score"


# --------------------------------------------------------------------------- the cache key of gate values

_BASES = st.fixed_dictionaries({
    "metric": st.sampled_from(["cpa", "cr", "roas"]),
    "comparison": st.sampled_from(["absolute", "day_over_day", "week_over_week", "trailing"]),
    "window": st.sampled_from(["1h", "3h", "24h"]), "every": st.sampled_from(["1h", "6h"]),
    "min_sample": st.sampled_from([0.0, 5.0, 50.0]), "change": st.sampled_from(["relative", "difference"]),
})
_FREE = st.fixed_dictionaries({
    "name": st.sampled_from(["a", "b.c", "x-1"]), "threshold": st.floats(-5, 5, allow_nan=False),
    "direction": st.sampled_from(["above", "below", "either"]), "consecutive": st.integers(1, 6),
    "action": st.sampled_from(["rollback", "pause_for_review", "notify"]), "on_fail": st.sampled_from(["block", "warn"]),
})


@settings(max_examples=40, deadline=None)
@given(base=_BASES, one=_FREE, other=_FREE)
def test_gates_that_differ_only_in_threshold_and_action_share_their_values(base, one, other):
    """The cache key leaves out exactly what the values do not depend on: equal keys give equal values."""
    from driftdesk.gates.backtest import gate_values_of, values_key
    from driftdesk.gates.policy import parse_gate

    ds = noisy_history(incidents=False)
    g1, g2 = parse_gate({**base, **one}), parse_gate({**base, **other})
    assert values_key(g1) == values_key(g2)
    v1, v2 = gate_values_of(ds, g1), gate_values_of(ds, g2)
    np.testing.assert_array_equal(v1.valid, v2.valid)
    np.testing.assert_array_equal(v1.values, v2.values)
    np.testing.assert_array_equal(v1.times, v2.times)
    shifted = parse_gate({**base, **one, "window": "2h" if base["window"] != "2h" else "4h"})
    assert values_key(shifted) != values_key(g1)  # what the values depend on stays in the key
