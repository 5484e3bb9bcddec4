"""Known-good baselines through the page views: the window each view compares with is the one the windows module
places (last release, pinned), and its numbers equal the direct call on that window; units the Rollouts page
formats with; when the incident was caught."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from driftdesk.business import impact_view, segment_impact
from driftdesk.calibration import calibration_view, compare_calibration
from driftdesk.drift.view import drift_view
from driftdesk.errors import DriftdeskError
from driftdesk.gates.backtest import backtest_policy
from driftdesk.gates.policy import load_policy
from driftdesk.incidents import incident_view
from driftdesk.rollout import judge_rollout
from driftdesk.rollout.compare import RolloutMetric, change_unit
from driftdesk.windows import Window, last_release, pinned_reference

PINNED = "2026-08-10T00:00/2026-08-17T00:00"


def test_calibration_against_the_last_release_is_the_direct_call(sample_dataset):
    view = calibration_view(sample_dataset, end=dt.date(2026, 10, 9), days=3, vs="last_release")
    current = Window.ending(dt.date(2026, 10, 9), days=3)
    baseline = last_release(current, sample_dataset["releases"].frame)
    # model-v2.0-full took traffic on 10-07: whole weeks back until the window ends before it
    assert (baseline.start, baseline.end) == (dt.datetime(2026, 9, 30), dt.datetime(2026, 10, 3))
    assert view.comparison.baseline_window == baseline
    direct = compare_calibration(sample_dataset["decisions"].frame, baseline=baseline, current=current)
    assert_frame_equal(view.comparison.to_frame(), direct.to_frame())


def test_impact_against_a_pinned_window_is_the_direct_call(sample_dataset):
    view = impact_view(sample_dataset, end=dt.date(2026, 9, 20), days=7, vs="pinned", pinned=PINNED, by=["geo"])
    current = Window.ending(dt.date(2026, 9, 20), days=7)
    direct = segment_impact(sample_dataset["kpis"].frame, baseline=pinned_reference(PINNED), current=current,
                            by=["geo"], metric="cpa")
    assert_frame_equal(view.impact.to_frame(), direct.to_frame())


def test_a_pinned_baseline_without_a_window_is_an_error(sample_dataset):
    with pytest.raises(DriftdeskError, match="pinned baseline needs a range"):
        impact_view(sample_dataset, end=dt.date(2026, 9, 20), days=7, vs="pinned", by=["geo"])


def test_drift_view_takes_known_good_baselines(sample_dataset):
    view = drift_view(sample_dataset, table="decisions", day=dt.date(2026, 10, 9),
                      vs=["week_over_week", "last_release", "pinned"], pinned=PINNED)
    assert view.vs == ("week_over_week", "last_release", "pinned")
    windows = {k: (r.baseline.start, r.baseline.end) for k, r in view.comparison.results.items()}
    assert windows["pinned"] == (dt.datetime(2026, 8, 10), dt.datetime(2026, 8, 17))
    # model-v2.0-full took traffic on 10-07: the day moves back whole weeks until it ends before that
    assert windows["last_release"] == (dt.datetime(2026, 10, 2), dt.datetime(2026, 10, 3))
    # without a releases table the last release cannot be placed: a clear message
    no_releases = type(sample_dataset)(sample_dataset.folder, {k: v for k, v in sample_dataset.tables.items()
                                                               if k != "releases"})
    with pytest.raises(DriftdeskError, match="releases table"):
        drift_view(no_releases, table="decisions", day=dt.date(2026, 10, 9), vs=["last_release"])


@pytest.mark.parametrize(("kind", "unit", "relative", "expected"), [
    ("ratio", "usd", True, "change"), ("ratio", "usd", False, "usd"), ("rate", "rate", False, "pp"),
    ("rate", "rate", True, "change"), ("distribution", "score", True, "score"), ("calibration", "score", False, "score"),
])
def test_the_unit_of_a_change(kind, unit, relative, expected):
    metric = RolloutMetric("m", "m", kind, ("a",), unit, "rows")
    assert change_unit(metric, relative=relative) == expected


def test_a_rollout_names_each_gates_units(sample_dataset):
    decisions = sample_dataset["decisions"]
    result = judge_rollout(decisions.frame, control="v1.9", candidate="v2.0", segments=decisions.segments)
    assert result.unit("cpa") == ("usd", "change")  # relative change of a dollar ratio
    assert result.unit("ece") == ("score", "score")  # a difference of ECE
    assert result.unit("score_shift") == ("score", "score")  # PSI


def test_when_incident_c_was_caught(sample_dataset):
    policy = load_policy(Path(sample_dataset.folder) / "policy.toml")  # not an adopted one other tests may leave
    view = incident_view(sample_dataset, "INC-c", policy=policy, judge_canary=False)
    caught = view.gates.filter(view.gates["caught"])
    assert view.caught and caught.height
    assert view.delay_hours == caught["delay_hours"].min()
    assert view.asked_at == view.incident["start"] + dt.timedelta(hours=view.delay_hours)
    silent = replace(backtest_policy(sample_dataset, policy), alerts=view.alerts.head(0))  # a policy that caught nothing
    nothing = incident_view(sample_dataset, "INC-c", policy=policy, backtest=silent, judge_canary=False)
    assert not nothing.caught and nothing.delay_hours is None
