"""The page views of calibration, impact and LLM: their numbers are the direct calls they compose, on the sample."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from polars.testing import assert_frame_equal

from driftdesk.business import decision_drift, impact_metrics, impact_view, segment_impact
from driftdesk.calibration import (
    calibration_segment_columns,
    calibration_series,
    calibration_view,
    compare_calibration,
    default_calibration_by,
)
from driftdesk.contract import Dataset
from driftdesk.errors import DriftdeskError
from driftdesk.llm import TABLE_METRICS, compare_calls, llm_groupings, llm_view, metrics_over_time
from driftdesk.windows import Window, baselines_for

ENDS = hs.dates(min_value=dt.date(2026, 8, 20), max_value=dt.date(2026, 11, 1))
KINDS = hs.sampled_from(["week_over_week", "previous_period", "day_over_day"])
SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def windows(end: dt.date, days: int, vs: str) -> tuple[Window, Window]:
    current = Window.ending(end, days=days)
    return current, baselines_for(current, kinds=(vs,))[0]


def assert_same_metrics(got: dict, expected: dict) -> None:
    """Equal metrics up to the last bits a multi-threaded sum may order differently (None stays None)."""
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, float) and isinstance(got[key], float):
            assert got[key] == pytest.approx(value, rel=1e-12, nan_ok=True), key
        else:
            assert got[key] == value, key


# --------------------------------------------------------------------------- calibration


def test_calibration_offers_segments_then_versions(sample_dataset):
    columns = calibration_segment_columns(sample_dataset["decisions"])
    assert columns == [*sample_dataset["decisions"].segments, "model_version", "release_id"]
    assert default_calibration_by(columns) == "model_version" and default_calibration_by(["geo"]) is None


@SETTINGS
@given(end=ENDS, days=hs.sampled_from([3, 7]), vs=KINDS, by=hs.sampled_from([None, "geo", "model_version"]))
def test_calibration_view_equals_the_direct_calls(sample_dataset, end, days, vs, by):
    decisions = sample_dataset["decisions"].frame
    view = calibration_view(sample_dataset, end=end, days=days, vs=vs, by=by)
    current, baseline = windows(end, days, vs)
    direct = compare_calibration(decisions, baseline=baseline, current=current, by=by)
    assert_same_metrics(view.comparison.baseline.metrics, direct.baseline.metrics)
    assert_same_metrics(view.comparison.current.metrics, direct.current.metrics)
    assert_frame_equal(view.comparison.to_frame(), direct.to_frame())
    if by:  # segments come sorted by ECE change; those that could not be compared tie, in any order
        assert_frame_equal(view.comparison.segments.sort(by), direct.segments.sort(by))
    assert_frame_equal(view.series, calibration_series(decisions, every="1d", by=[by] if by else [], bins=10))
    if by is None:
        assert view.segment is None and view.segment_comparison is None
    else:  # the segment shown alone by default is the one whose ECE rose most (ties and uncompared: by name)
        ranked = direct.segments.with_columns(pl.col(by).cast(pl.String)).sort(
            ["ece_change", by], descending=[True, False], nulls_last=True)
        assert view.segment == ranked[by][0]
        if view.segment_comparison is not None:  # a segment new in the window is drawn against all baseline traffic
            chosen = pl.col(by).cast(pl.String) == view.segment
            new = direct.segments.filter(chosen)["reference"][0] != "same segment"
            one = compare_calibration(decisions.filter(chosen | baseline.contains("ts") if new else chosen),
                                      baseline=baseline, current=current)
            assert_same_metrics(view.segment_comparison.current.metrics, one.current.metrics)
    json.dumps(view.to_dict(), allow_nan=False)


def test_a_new_version_is_compared_with_the_traffic_it_replaced(sample_dataset):
    # v2.0 takes traffic from 10-05: the week before has none of it, so it is compared with that week's traffic
    view = calibration_view(sample_dataset, end=dt.date(2026, 10, 11), days=7, by="model_version")
    decisions = sample_dataset["decisions"].frame
    current, baseline = windows(dt.date(2026, 10, 11), 7, "week_over_week")
    whole = compare_calibration(decisions, baseline=baseline, current=current)
    alone = compare_calibration(decisions.filter(pl.col("model_version") == "v2.0"), baseline=current, current=current)
    v2 = view.comparison.segments.filter(pl.col("model_version") == "v2.0").row(0, named=True)
    assert v2["reference"] == "all baseline traffic, which it replaced"
    assert v2["ece_baseline"] == pytest.approx(whole.baseline.ece) and v2["ece_current"] == pytest.approx(alone.current.ece)
    assert v2["ece_change"] == pytest.approx(alone.current.ece - whole.baseline.ece)
    assert view.segment == "v2.0"  # the diagram shown by default is the version that moved calibration
    assert view.comparison.summary.startswith("Largest ECE rise: model_version=v2.0, ECE 0.0700 against 0.0031")
    assert_same_metrics(view.segment_comparison.baseline.metrics, whole.baseline.metrics)
    assert_same_metrics(view.segment_comparison.current.metrics, alone.current.metrics)
    old = view.comparison.segments.filter(pl.col("model_version") == "v1.9").row(0, named=True)
    assert old["reference"] == "same segment"


def test_a_segment_without_rows_says_why(sample_dataset):
    view = calibration_view(sample_dataset, end=dt.date(2026, 10, 11), days=5, by="geo", segment="nowhere")
    assert view.segment_comparison is None
    assert view.segment_summary.startswith("geo=nowhere: ") and "has no rows" in view.segment_note
    late = calibration_view(sample_dataset, end=dt.date(2026, 11, 1), days=1, vs="day_over_day")
    assert late.missing_labels.startswith("No labelled rows in the current window yet")
    assert "without a label" in late.counts


# --------------------------------------------------------------------------- segments & impact


def test_impact_metrics_follow_the_columns(sample_dataset):
    assert impact_metrics(sample_dataset["kpis"]) == ["cpa", "roas", "cr"]
    frame = sample_dataset["kpis"].frame.drop("revenue", "clicks")
    from driftdesk.contract import Table

    assert impact_metrics(Table("kpis", frame, "x", segments=("geo",))) == ["cpa"]


@SETTINGS
@given(end=ENDS, days=hs.sampled_from([3, 7]), vs=KINDS, metric=hs.sampled_from(["cpa", "roas", "cr"]),
       by=hs.sampled_from([["geo"], ["device"], ["geo", "device"]]))
def test_impact_view_equals_the_direct_calls(sample_dataset, end, days, vs, metric, by):
    view = impact_view(sample_dataset, end=end, days=days, vs=vs, by=by, metric=metric)
    current, baseline = windows(end, days, vs)
    direct = segment_impact(sample_dataset["kpis"].frame, baseline=baseline, current=current, by=by, metric=metric)
    assert view.impact.total == direct.total and view.impact.summary == direct.summary
    assert_frame_equal(view.impact.segments, direct.segments)
    decisions = decision_drift(sample_dataset["decisions"].frame, baseline=baseline, current=current, by=by)
    assert_frame_equal(view.decisions, decisions)
    for effect in ("mix_effect", "rate_effect"):
        share = view.share_of_baseline(effect)
        assert share is None or share == pytest.approx(direct.total[effect] / direct.total["baseline"])
    json.dumps(view.to_dict(), allow_nan=False)


def test_impact_without_decisions_says_so(sample_dataset):
    only_kpis = Dataset("kpis only", {"kpis": sample_dataset["kpis"]})
    view = impact_view(only_kpis, end=dt.date(2026, 9, 20), days=7, by=["geo"])
    assert view.decisions is None and view.decisions_note == "No decisions table with a decision column loaded."


# --------------------------------------------------------------------------- LLM


@SETTINGS
@given(end=ENDS, days=hs.sampled_from([1, 2, 7]), by=hs.sampled_from([None, "model", "prompt_version"]),
       budget=hs.sampled_from([None, 40.0]))
def test_llm_view_equals_the_direct_calls(sample_dataset, end, days, by, budget):
    calls = sample_dataset["llm_calls"].frame
    view = llm_view(sample_dataset, by=by, end_day=end, days=days, budget_per_day=budget)
    current = Window.ending(end, days=days)
    baseline = Window(current.start - current.duration, current.start, "previous_period")
    direct = compare_calls(calls, by=[by] if by else [], baseline=baseline, current=current)
    assert_frame_equal(view.result.comparison, direct.comparison)
    versions = view.versions()
    assert versions.height == direct.groups.filter(pl.col("window") == "current").height
    for row in versions.iter_rows(named=True):
        part = direct.comparison if by is None else direct.comparison.filter(pl.col(by).cast(pl.String) == row["group"])
        for metric in TABLE_METRICS:
            ref = part.filter(pl.col("metric") == metric).row(0, named=True)
            assert (row[metric], row[f"{metric}_change"]) == (ref["current"], ref["relative_change"])
    if budget is None:
        assert view.daily_cost is None and view.budget_sentence is None
    else:
        span = Window(baseline.start - dt.timedelta(days=max(14, 2 * days)), current.end)
        daily = (metrics_over_time(calls.filter(span.contains("ts")), by=[by] if by else [])
                 .group_by("ts").agg(pl.col("cost_total").sum()).sort("ts"))
        assert_frame_equal(view.daily_cost, daily)
        assert view.days_over_budget == daily.filter(pl.col("cost_total") > budget).height
        assert view.budget_sentence.endswith("days above $40.00.")
    json.dumps(view.to_dict(), allow_nan=False)


def test_llm_groupings_and_bad_window(sample_dataset):
    assert llm_groupings(sample_dataset["llm_calls"].frame) == ["model", "prompt_version", "index_version", "feature"]
    assert llm_groupings(pl.DataFrame({"ts": [], "model": []})) == ["model"]
    with pytest.raises(DriftdeskError, match="a window must be between 1 and 3,660 days"):
        llm_view(sample_dataset, by=None, end_day=dt.date(2026, 9, 1), days=0)


def test_a_drift_history_computed_day_by_day_is_the_history(sample_dataset):
    from driftdesk.drift.view import combine_history, drift_history_of, drift_view, recent_days

    day = dt.date(2026, 8, 27)
    whole = drift_view(sample_dataset, table="decisions", day=day)
    parts = combine_history([drift_history_of(sample_dataset, table="decisions", days=[d]) for d in recent_days(day)])
    assert_frame_equal(parts.daily, whole.history.daily)
    shared = drift_view(sample_dataset, table="decisions", day=day, history=parts)
    assert_frame_equal(shared.severity_table(), whole.severity_table())


def _same_view(got, expected) -> None:
    for a, b in ((got.comparison, expected.comparison), (got.segment_comparison, expected.segment_comparison)):
        assert (a is None) == (b is None)
        if a is not None:
            assert_same_metrics(a.baseline.metrics, b.baseline.metrics)
            assert_same_metrics(a.current.metrics, b.current.metrics)
            assert_frame_equal(a.to_frame(), b.to_frame(), rel_tol=1e-12)
            assert_frame_equal(a.segments, b.segments, rel_tol=1e-12)
            assert_frame_equal(a.quantiles, b.quantiles, rel_tol=1e-12)
    assert_frame_equal(got.series, expected.series, rel_tol=1e-12)
    assert (got.segment, got.segment_note, got.by, got.vs) == (expected.segment, expected.segment_note, expected.by,
                                                               expected.vs)


CALIBRATION_CHOICES = {"end": dt.date(2026, 10, 11), "days": 5, "vs": "week_over_week", "bins": 10,
                       "strategy": "uniform", "label_delay_days": 0}
CALIBRATION_OTHER = {"end": dt.date(2026, 10, 4), "days": 3, "vs": "previous_period", "bins": 15,
                     "strategy": "quantile", "label_delay_days": 2}


@pytest.mark.parametrize("by", [None, "geo", "model_version"])
def test_a_calibration_view_from_kept_parts_is_the_view_computed_whole(sample_dataset, by):
    """The Calibration page keeps the comparison of all rows (without the segment column) and the daily series
    (per segment column only) apart; a view assembled from them equals the view computed in one call."""
    from driftdesk.calibration import calibration_overall, calibration_view_series

    for choices in (CALIBRATION_CHOICES, CALIBRATION_OTHER):
        overall = calibration_overall(sample_dataset, **choices)
        series = calibration_view_series(sample_dataset, by=by, label_delay_days=choices["label_delay_days"])
        for segment in (None, "DE") if by == "geo" else (None,):
            whole = calibration_view(sample_dataset, by=by, segment=segment, **choices)
            kept = calibration_view(sample_dataset, by=by, segment=segment, overall=overall, series=series, **choices)
            _same_view(kept, whole)


def test_each_input_of_the_kept_calibration_parts_changes_them(sample_dataset):
    """What each kept part is keyed on changes it: a part keyed too coarsely would show another window's numbers."""
    from driftdesk.calibration import calibration_overall, calibration_view_series

    base = calibration_overall(sample_dataset, **CALIBRATION_CHOICES)
    for key, value in CALIBRATION_OTHER.items():
        other = calibration_overall(sample_dataset, **{**CALIBRATION_CHOICES, key: value})
        assert (other.baseline_window, other.current_window, other.baseline.edges, other.baseline.counts,
                other.current.counts) != (base.baseline_window, base.current_window, base.baseline.edges,
                                          base.baseline.counts, base.current.counts), key
    pinned = calibration_overall(sample_dataset, **{**CALIBRATION_CHOICES, "vs": "pinned"},
                                 pinned="2026-09-01/2026-09-08")
    assert pinned.baseline_window.start == dt.datetime(2026, 9, 1)
    series = calibration_view_series(sample_dataset, by="geo")
    assert "geo" in series.columns
    assert not calibration_view_series(sample_dataset, by="device").equals(series)
    assert not calibration_view_series(sample_dataset, by="geo", label_delay_days=7).equals(series)
