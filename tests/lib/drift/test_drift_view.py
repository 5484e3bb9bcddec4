"""drift_view: the Drift page's numbers are exactly the direct calls it composes, and its rules are the library's."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from polars.testing import assert_frame_equal

from driftdesk.contract import Dataset, Table
from driftdesk.drift import compare_baselines, drift_history, drift_view
from driftdesk.drift.thresholds import QUIET_CODES
from driftdesk.drift.view import HISTORY_DAYS, drift_columns, drift_segments
from driftdesk.errors import DriftdeskError
from driftdesk.quality import quality_report
from driftdesk.windows import Window, baselines_for

START = dt.date(2026, 9, 1)
DAYS = 24
SHIFT_FROM = START + dt.timedelta(days=20)  # f1 moves in geo=DE from this day on


@cache
def dataset() -> Dataset:
    """Three weeks of scored rows, every 2 minutes per geo; f1 shifts in DE for the last days; labels lag."""
    rng = np.random.default_rng(7)
    ts = pl.datetime_range(dt.datetime.combine(START, dt.time()), dt.datetime.combine(START, dt.time())
                           + dt.timedelta(days=DAYS), "2m", closed="left", eager=True)
    parts = []
    for geo in ("DE", "US", "FR"):
        n = ts.len()
        f1 = rng.normal(0, 1, n)
        shifted = (ts >= dt.datetime.combine(SHIFT_FROM, dt.time())).to_numpy() & (geo == "DE")
        parts.append(pl.DataFrame({
            "ts": ts, "geo": [geo] * n, "f1": f1 + np.where(shifted, 1.5, 0.0),
            "device": rng.choice(["mobile", "desktop"], n), "score": rng.random(n),
            "label": np.where(np.arange(n) > n - 300, None, rng.random(n) < 0.2),
        }))
    frame = pl.concat(parts).sort("ts")
    table = Table("decisions", frame, "synthetic", segments=("geo", "device"), features=("f1",))
    return Dataset("synthetic", {"decisions": table})


def test_columns_are_segments_features_and_score_without_outcomes():
    assert drift_columns(dataset(), "decisions") == ["geo", "device", "f1", "score"]
    assert drift_segments(dataset(), "decisions") == ["geo", "device"]


@settings(max_examples=8, deadline=None)
@given(offset=hs.integers(min_value=7, max_value=DAYS - 1), by=hs.sampled_from([None, "geo", "device"]),
       vs=hs.sampled_from([("day_over_day", "week_over_week"), ("week_over_week",), ("day_over_day",)]))
def test_the_views_numbers_equal_the_direct_calls(offset, by, vs):
    ds = dataset()
    day = START + dt.timedelta(days=offset)
    view = drift_view(ds, table="decisions", day=day, vs=vs, by=by)
    frame = ds["decisions"].frame
    cols = drift_columns(ds, "decisions")
    current = Window.day(day)
    baselines = baselines_for(current, kinds=vs)
    direct = compare_baselines(frame, current=current, baselines=baselines, columns=cols, by=by)
    assert view.vs == vs
    assert_frame_equal(view.comparison.consensus, direct.consensus)
    for kind in vs:
        assert_frame_equal(view.comparison.results[kind].columns, direct.results[kind].columns)
        if by:
            assert_frame_equal(view.comparison.results[kind].segments, direct.results[kind].segments)
    history = drift_history(frame, days=[day - dt.timedelta(days=k) for k in range(HISTORY_DAYS)], columns=cols)
    assert_frame_equal(view.history.daily, history.daily)
    against = next((w for w in baselines if w.label == "week_over_week"), baselines[0])
    quality = quality_report(frame.filter(against.contains("ts")), frame.filter(current.contains("ts")), by=by, ts="ts")
    key = ["check", "column", "segment", "message"]  # the checks' row order is not part of the result
    assert_frame_equal(view.quality.to_frame().sort(key, nulls_last=True), quality.to_frame().sort(key, nulls_last=True))
    assert view.quality_vs == against.label

    table = view.severity_table()
    assert set(table["column"]) == set(cols)
    first = direct.results[vs[0]].columns
    for row in table.iter_rows(named=True):
        ref = first.filter(pl.col("column") == row["column"]).row(0, named=True)
        for stat in ("psi", "ks", "js", "null_rate_baseline", "null_rate_current", "effect"):
            assert row[stat] == ref[stat]
        cons = direct.consensus.filter(pl.col("column") == row["column"]).row(0, named=True)
        assert row["status"] == cons["status"]
        for kind in vs:
            assert row[f"status_{kind}"] == cons[f"status_{kind}"]
        spark = history.daily.filter(pl.col("column") == row["column"]).sort("day")["effect"]
        assert row["history"] == spark.to_list()
    json.dumps(view.to_dict(), allow_nan=False)


def test_a_shift_in_one_segment_is_named_with_its_carrier():
    view = drift_view(dataset(), table="decisions", day=SHIFT_FROM, by="geo")
    table = view.severity_table()
    assert table["column"][0] == "f1" and table["status"][0] in ("warn", "alert")
    assert "day_over_day: " in table["why"][0] and "week_over_week: " in table["why"][0]
    assert view.carriers("f1", "week_over_week") == "f1 shifts within geo = DE."
    segments = view.segment_table("f1", "week_over_week")
    assert segments["geo"][0] == "DE"
    assert view.status == table["status"][0]


def test_the_segments_of_one_column_are_that_columns_rows_of_every_columns_segments():
    every = drift_view(dataset(), table="decisions", day=SHIFT_FROM, by="geo")
    for column in ("f1", "score", "device"):
        one = drift_view(dataset(), table="decisions", day=SHIFT_FROM, by="geo", segment_columns=[column])
        for vs in ("day_over_day", "week_over_week"):
            assert_frame_equal(one.segment_table(column, vs), every.segment_table(column, vs))
            assert one.carriers(column, vs) == every.carriers(column, vs)
            assert set(one.comparison.results[vs].segments["column"]) == {column}
        assert_frame_equal(one.severity_table(), every.severity_table())


def test_why_leaves_out_quiet_reasons_by_code():
    view = drift_view(dataset(), table="decisions", day=START + dt.timedelta(days=10))
    quiet = set(QUIET_CODES)
    for kind, result in view.comparison.results.items():
        for row in result.columns.iter_rows(named=True):
            why = view.severity_table().filter(pl.col("column") == row["column"])["why"][0]
            if set(row["reason_codes"]) <= quiet:
                assert why is None or f"{kind}: " not in why


def test_categories_largest_mover_and_no_segment_split():
    view = drift_view(dataset(), table="decisions", day=SHIFT_FROM)
    sentence = view.largest_mover("geo", "day_over_day")
    top = view.comparison.results["day_over_day"].categories.filter(pl.col("column") == "geo").row(0, named=True)
    assert sentence.startswith(f"Largest mover in geo: {top['category']}, ")
    assert view.largest_mover("f1", "day_over_day") is None  # numeric: no categories
    assert view.segment_table("f1", "day_over_day") is None and view.carriers("f1", "day_over_day") is None


def test_custom_baseline_and_bad_input():
    view = drift_view(dataset(), table="decisions", day=SHIFT_FROM, vs=("week_over_week", "custom"),
                      custom="2026-09-01T00:00/2026-09-08T00:00")
    assert view.vs == ("week_over_week", "custom")
    with pytest.raises(DriftdeskError, match="at least one baseline"):
        drift_view(dataset(), table="decisions", day=SHIFT_FROM, vs=())
    with pytest.raises(DriftdeskError, match="not 'golden_runs'"):
        drift_view(dataset(), table="golden_runs", day=SHIFT_FROM)
    with pytest.raises(DriftdeskError, match="custom baseline needs a range"):
        drift_view(dataset(), table="decisions", day=SHIFT_FROM, vs="custom")


@pytest.mark.parametrize(("table", "weight", "days"), [
    ("decisions", None, [dt.date(2026, 10, 20) - dt.timedelta(days=k) for k in range(12)]),
    ("decisions", None, [dt.date(2026, 8, 3), dt.date(2026, 8, 12), dt.date(2026, 9, 1)]),  # no baseline rows
    ("kpis", "impressions", [dt.date(2026, 10, 1) - dt.timedelta(days=k) for k in range(9)]),
])
def test_a_history_reducing_each_day_once_is_the_history_of_each_pair_of_days(sample_dataset, table, weight, days):
    from driftdesk.drift.view import drift_columns

    frame = sample_dataset[table].frame
    cols = drift_columns(sample_dataset, table)
    once = drift_history(frame, days=days, columns=cols, weight=weight)
    pairs = drift_history(frame, days=days, columns=cols, weight=weight, _per_pair=True)
    assert once.daily.height == len(days) * len(cols)
    assert_frame_equal(once.daily, pairs.daily)


def test_a_days_history_row_is_the_scipy_comparison_of_its_rows(sample_dataset):
    from scipy import stats as sps

    frame = sample_dataset["decisions"].frame
    days = [dt.date(2026, 10, 6), dt.date(2026, 10, 13), dt.date(2026, 10, 20)]  # each the next one's baseline
    daily = drift_history(frame, days=days, columns=["score", "ctr_7d", "geo"]).daily
    for day in days:
        cur = frame.filter(pl.col("ts").dt.date() == day)
        base = frame.filter(pl.col("ts").dt.date() == day - dt.timedelta(days=7))
        for column in ("score", "ctr_7d"):
            row = daily.filter((pl.col("day") == day) & (pl.col("column") == column)).row(0, named=True)
            a, b = base[column].drop_nulls().to_numpy(), cur[column].drop_nulls().to_numpy()
            ks = sps.ks_2samp(a, b, method="asymp")
            assert row["ks"] == pytest.approx(ks.statistic, abs=1e-12)
            assert row["ks_pvalue"] == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300)
            assert row["wasserstein"] == pytest.approx(sps.wasserstein_distance(a, b), rel=1e-9)
            assert row["null_rate_current"] == pytest.approx(cur[column].null_count() / cur.height, abs=1e-15)
        row = daily.filter((pl.col("day") == day) & (pl.col("column") == "geo")).row(0, named=True)
        table = (base.group_by("geo").len("b").join(cur.group_by("geo").len("c"), on="geo", how="full", coalesce=True)
                 .fill_null(0).sort("geo"))
        expected = sps.chi2_contingency(np.vstack([table["b"].to_numpy(), table["c"].to_numpy()]), correction=False)
        assert row["chi2_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
