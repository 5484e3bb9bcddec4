"""seasonality_view and segment_verdicts: the Seasonality page's numbers are the direct calls they compose."""

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
from seasonality_helpers import T0, seasonal_series

from driftdesk.calendars import effective_calendar
from driftdesk.contract import Dataset, Table
from driftdesk.errors import DriftdeskError
from driftdesk.seasonality import detect, metric_series
from driftdesk.seasonality.compare import compare_day
from driftdesk.seasonality.view import (
    SegmentVerdicts,
    seasonality_days,
    seasonality_metrics,
    seasonality_segments,
    seasonality_tables,
    seasonality_view,
    segment_columns,
    segment_verdicts,
    unsplittable_columns,
)

DAYS = 35
SHIFT = T0 + dt.timedelta(days=24)  # conversions drop by a fifth in geo=DE from here: its CPA shifts up


@cache
def dataset() -> Dataset:
    parts = []
    for i, geo in enumerate(("DE", "US")):
        clicks = seasonal_series(DAYS, seed=i, level=1500.0)  # >= 30 conversions an hour: enough to read a CPA
        ts = [T0 + dt.timedelta(hours=h) for h in range(clicks.size)]
        rate = np.where((np.array(ts) >= SHIFT) & (geo == "DE"), 0.04, 0.05)
        parts.append(pl.DataFrame({"ts": ts, "geo": geo, "device": "mobile" if i else "desktop", "clicks": clicks,
                                   "conversions": clicks * rate, "spend": clicks * 0.8, "impressions": clicks * 20}))
    kpis = Table("kpis", pl.concat(parts).sort("ts"), "synthetic", segments=("geo", "device"))
    return Dataset("synthetic", {"kpis": kpis})


def test_what_the_page_offers():
    ds = dataset()
    assert seasonality_tables(ds) == ["kpis"]
    metrics = seasonality_metrics(ds, "kpis")
    assert {"cpa", "cr", "ctr", "conversions"} <= set(metrics) and "roas" not in metrics  # no revenue column
    assert seasonality_segments(ds, "kpis") == ["All traffic", "geo=DE", "geo=US", "device=desktop", "device=mobile"]
    first, last_full = seasonality_days(ds, "kpis")
    assert first == T0.date() and last_full == (T0 + dt.timedelta(days=DAYS - 1)).date()


@settings(max_examples=6, deadline=None)
@given(metric=hs.sampled_from(["cpa", "conversions", "cr"]), segment=hs.sampled_from(["All traffic", "geo=DE"]),
       offset=hs.integers(min_value=0, max_value=DAYS + 3))
def test_the_views_numbers_equal_the_direct_calls(metric, segment, offset):
    ds = dataset()
    day = T0.date() + dt.timedelta(days=offset)
    view = seasonality_view(ds, table="kpis", metric=metric, segment=segment, day=day)
    where = {} if segment == "All traffic" else {"geo": "DE"}
    series = metric_series(ds["kpis"].frame, metric, where=where)
    assert_frame_equal(view.series, series)
    direct = detect(series, scope=where, calendar=effective_calendar(ds).for_series(list(where)))  # holidays of DE, US
    for part in ("points", "events", "verdicts"):
        assert_frame_equal(getattr(view.result, part), getattr(direct, part))
    last_full = (T0 + dt.timedelta(days=DAYS - 1)).date()
    assert view.day == min(day, last_full)  # a day past the last whole day is the last whole day
    how = "sum" if metric == "conversions" else "mean"
    assert view.how == how
    comparison = compare_day(series, view.day, how=how)
    assert_frame_equal(view.comparison.frame, comparison.frame)
    rows = ds["kpis"].frame.filter(pl.col("geo") == "DE") if where else ds["kpis"].frame
    for key, lag in (("current", 0), ("day_over_day", 1), ("week_over_week", 7)):  # the day's own rows, by hand
        got, want = view.comparison.totals[key], day_value(rows, metric, view.day - dt.timedelta(days=lag))
        assert (got is None) == (want is None) and (want is None or got == pytest.approx(want, rel=1e-9)), key
    json.dumps(view.to_dict(), allow_nan=False)


RATIOS = {"cpa": ("spend", "conversions"), "cr": ("conversions", "clicks"), "conversions": ("conversions", None)}


def day_value(rows: pl.DataFrame, metric: str, day: dt.date) -> float | None:
    """The metric over one UTC day's rows: a sum, or a ratio of the day's sums."""
    rows = rows.filter(pl.col("ts").dt.date() == day)
    num, den = RATIOS[metric]
    return None if rows.height == 0 else rows[num].sum() / (rows[den].sum() if den else 1)


def test_a_days_cpa_is_its_spend_over_its_conversions_not_the_mean_of_its_hours():
    """A quiet night hour with a high CPA weighs by its conversions, as in the Overview's CPA of the same day."""
    ts = pl.datetime_range(dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 10), "1h", closed="left", eager=True)
    night = ts.dt.hour() < 6
    kpis = pl.DataFrame({"ts": ts, "clicks": pl.Series(np.where(night, 2000.0, 20000.0)),
                         "conversions": pl.Series(np.where(night, 40.0, 1000.0)),
                         "spend": pl.Series(np.where(night, 4000.0, 20000.0))})
    ds = Dataset("synthetic", {"kpis": Table("kpis", kpis, "synthetic")})
    day = dt.date(2026, 9, 8)
    view = seasonality_view(ds, table="kpis", metric="cpa", day=day)
    assert view.comparison.totals["current"] == pytest.approx((6 * 4000 + 18 * 20000) / (6 * 40 + 18 * 1000))
    assert view.day_totals()[0][:2] == ("Tue 08 Sep (whole day)", "$21.05")  # 384,000 / 18,240; hours' mean $47.50


def test_the_shift_reads_as_drift_in_its_segment_and_the_sentences_use_the_unit():
    view = seasonality_view(dataset(), table="kpis", metric="cpa", segment="geo=DE",
                            day=(SHIFT + dt.timedelta(days=1)).date())
    assert view.verdict["status"] == "drift"
    assert view.headline.startswith("CPA, geo=DE: level shift of +")
    assert view.decomposed
    label, value, change = view.day_totals()[2]
    assert label == "vs week before" and value.startswith("$") and change.startswith("+")


def test_default_day_is_the_last_whole_day_and_batch_or_causal():
    view = seasonality_view(dataset(), table="kpis", metric="conversions", mode="causal")
    assert view.day == (T0 + dt.timedelta(days=DAYS - 1)).date()
    assert view.result.causal
    with pytest.raises(DriftdeskError, match="mode must be one of"):
        seasonality_view(dataset(), table="kpis", metric="cpa", mode="sideways")


def test_segment_verdicts_equal_detect_per_column_drift_first():
    ds = dataset()
    result = segment_verdicts(ds, table="kpis", metric="cpa")
    assert result.columns == ("geo", "device")
    # desktop is DE's traffic: both drift, and come first (then by name)
    assert result.verdicts.head(2).rows() == result.verdicts.filter(pl.col("status") == "drift").rows()
    assert result.verdicts["segment"].head(2).to_list() == ["device=desktop", "geo=DE"]
    for column in ("geo", "device"):
        direct = detect(metric_series(ds["kpis"].frame, "cpa", by=column), by=column)
        for row in direct.verdicts.iter_rows(named=True):
            mine = result.verdicts.filter(pl.col("segment") == f"{column}={row[column]}").row(0, named=True)
            assert (mine["status"], mine["verdict"]) == (row["status"], row["verdict"])
    one_by_one = SegmentVerdicts.combine([segment_verdicts(ds, table="kpis", metric="cpa", columns=[c])
                                          for c in ("geo", "device")])
    assert_frame_equal(one_by_one.verdicts, result.verdicts)
    json.dumps(result.to_dict(), allow_nan=False)


def test_the_segment_table_shows_a_series_without_a_clear_pattern_as_such():
    """The every-segment table is what people read: a segment whose periods explain little of it (or that has no
    period) reads 'no clear pattern' beside its sentence; the verdicts keep the status and the strength."""
    frame = pl.DataFrame({"segment": ["geo=A", "geo=B", "geo=C", "geo=D"],
                          "status": ["seasonal", "seasonal", "drift", "seasonal"],
                          "verdict": ["no clear seasonal pattern (daily + weekly explain 3% ...), no drift",
                                      "seasonal pattern (daily + weekly), no drift", "level shift of +20% since 3 Oct",
                                      "no seasonal period fits, no drift"],
                          "periods": ["24, 168", "24, 168", "24, 168", ""],
                          "seasonal_strength": [0.03, 0.6, 0.02, None]})
    verdicts = SegmentVerdicts("kpis", "cpa", "batch", ("geo",), frame)
    assert verdicts.shown().columns == ["segment", "status", "verdict"]
    assert verdicts.shown()["status"].to_list() == ["no clear pattern", "seasonal", "drift", "no clear pattern"]
    assert verdicts.verdicts["status"].to_list() == frame["status"].to_list()


def test_a_column_that_cannot_be_decomposed_is_reported_not_raised():
    seen = []
    result = segment_verdicts(dataset(), table="kpis", metric="cpa", columns=["geo", "nowhere"],
                              progress=lambda share, text: seen.append(share))
    assert [c for c, _ in result.errors] == ["nowhere"] and "no column 'nowhere'" in result.errors[0][1]
    assert set(result.verdicts["segment"]) == {"geo=DE", "geo=US"}
    assert seen == [0.5]  # after each decomposed column


def test_the_figure_shades_drift_breaks_and_calendar_days_behind_every_panel(sample_dataset):
    """The shaded spans are added at once: the same shapes, in the same order, as adding each span on its own
    with plotly's add_shape (drift events, then data breaks, then calendar days)."""
    import plotly.graph_objects as go

    view = seasonality_view(sample_dataset, table="kpis", metric="cpa", segment="geo=DE", mode="causal")
    shapes = view.to_figure().layout.shapes
    events = view.result.events
    drift = events.filter(pl.col("kind").is_in(["level_shift", "trend_change"]))
    days = sorted({ts.date() for ts in view.result.points.filter(pl.col("calendar"))["ts"]})
    assert drift.height >= 1 and days  # both kinds of span are there to check
    spans = [(e["start"], e["end"], "rgba(255, 127, 14, 0.15)") for e in drift.iter_rows(named=True)]
    spans += [(e["start"], e["end"], "rgba(127, 127, 127, 0.25)")
              for e in events.filter(pl.col("kind") == "data_break").iter_rows(named=True)]
    spans += [(dt.datetime.combine(d, dt.time()), dt.datetime.combine(d, dt.time()) + dt.timedelta(days=1),
               "rgba(31, 119, 180, 0.08)") for d in days]
    one_by_one = go.Figure()
    for start, end, color in spans:
        one_by_one.add_shape(type="rect", xref="x", yref="paper", x0=start, x1=end, y0=0, y1=1, fillcolor=color,
                             line={"width": 0}, layer="below")
    rects = [s.to_plotly_json() for s in shapes if s.type == "rect"]
    assert rects == [s.to_plotly_json() for s in one_by_one.layout.shapes]


def test_every_metric_the_service_table_offers_decomposes_from_its_own_columns(sample_dataset):
    from driftdesk.seasonality.view import seasonality_metrics

    offered = seasonality_metrics(sample_dataset, "service")
    assert "latency_p50_ms" in offered
    frame = sample_dataset["service"].frame
    for metric in offered:
        series = metric_series(frame, metric, by="service")
        assert series.height and series["value"].null_count() < series.height, metric
    # the p50 over an hour of one service is its own hourly p50 (one row per hour and service: weights cancel)
    one = metric_series(frame, "latency_p50_ms", by="service").sort("service", "ts")
    own = frame.select("ts", "service", pl.col("latency_p50_ms").cast(pl.Float64).alias("value")).sort("service", "ts")
    assert np.allclose(one["value"].to_numpy(), own["value"].to_numpy())


def test_a_segment_column_named_like_a_result_column_is_not_offered():
    kpis = dataset()["kpis"]
    renamed = Table("kpis", kpis.frame.rename({"device": "kind"}), "synthetic", segments=("geo", "kind"))
    ds = Dataset("synthetic", {"kpis": renamed})
    assert segment_columns(ds, "kpis") == ["geo"] and unsplittable_columns(ds, "kpis") == ["kind"]
    assert seasonality_segments(ds, "kpis") == ["All traffic", "geo=DE", "geo=US"]
    verdicts = segment_verdicts(ds, table="kpis", metric="cpa")
    assert verdicts.to_frame()["segment"].to_list() and not verdicts.errors


def test_a_series_with_too_few_events_says_so_once_and_names_no_period_as_none():
    """Five-minute points with about five conversions each: every CPA point is below the minimum count."""
    ts = pl.datetime_range(dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 15), "5m", closed="left", eager=True)
    kpis = pl.DataFrame({"ts": ts, "clicks": 60.0, "conversions": 5.0, "spend": 100.0})
    view = seasonality_view(Dataset("synthetic", {"kpis": Table("kpis", kpis, "synthetic")}), table="kpis", metric="cpa")
    assert "not enough data" in view.headline and view.low_volume.sentence in view.headline
    assert view.low_volume.sentence not in view.details
    assert view.details.startswith("No daily or weekly period fitted · ") and "none" not in view.details
    assert view.undrawn == ("Nothing to draw: every point has fewer than 30 conversions behind it. Choose a volume "
                            "metric or a larger segment.")
    assert not view.hours_drawable  # no hour of the day has a CPA to draw
    assert view.day_totals()[0][1] == "$20.00"  # the whole day has enough: 288 x 100 / (288 x 5)
