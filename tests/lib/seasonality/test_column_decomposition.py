"""A segment's view taken from its column's decomposition, or from every series decomposed at once, is the view of
the segment decomposed alone (to the last bits of summation order), so the page can switch segments and days
without fitting again."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftdesk.errors import DriftdeskError
from driftdesk.seasonality.view import column_decomposition, seasonality_view, segment_verdicts


@pytest.mark.parametrize(("metric", "segment", "mode"), [("cpa", "geo=DE", "batch"), ("impressions", "device=tablet",
                                                                                         "batch"),
                                                          ("cr", "geo=BR", "causal")])
def test_a_segment_from_its_column_is_the_segment_alone(sample_dataset, metric, segment, mode):
    column = segment.split("=")[0]
    whole = column_decomposition(sample_dataset, table="kpis", metric=metric, column=column, mode=mode)
    day = dt.date(2026, 10, 8)
    taken = seasonality_view(sample_dataset, table="kpis", metric=metric, segment=segment, mode=mode, day=day,
                             decomposed=whole)
    alone = seasonality_view(sample_dataset, table="kpis", metric=metric, segment=segment, mode=mode, day=day)
    a, b = taken.result.points, alone.result.points
    assert a.columns == b.columns and a.height == b.height
    assert (a["flag"] == b["flag"]).all() and a["ts"].equals(b["ts"])
    for c in ("value", "trend", "seasonal", "score"):
        np.testing.assert_allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=1e-9, atol=1e-9)
    assert taken.result.verdicts["verdict"].to_list() == alone.result.verdicts["verdict"].to_list()
    assert taken.result.events.select("start", "end", "kind", "direction").equals(
        alone.result.events.select("start", "end", "kind", "direction"))
    assert taken.headline == alone.headline and taken.day_totals() == alone.day_totals()


def test_another_day_reuses_the_decomposition(sample_dataset):
    first = seasonality_view(sample_dataset, table="kpis", metric="spend", day=dt.date(2026, 10, 1))
    other = seasonality_view(sample_dataset, table="kpis", metric="spend", day=dt.date(2026, 9, 15),
                             decomposed=first.result)
    again = seasonality_view(sample_dataset, table="kpis", metric="spend", day=dt.date(2026, 9, 15))
    assert other.result is first.result and other.day == dt.date(2026, 9, 15)
    assert other.day_totals() == again.day_totals()


def test_every_segment_verdicts_from_decomposed_columns(sample_dataset):
    cache = {}

    def decomposed(column):
        cache[column] = column_decomposition(sample_dataset, table="kpis", metric="cpa", column=column)
        return cache[column]

    shared = segment_verdicts(sample_dataset, table="kpis", metric="cpa", columns=["geo"], decomposed=decomposed)
    plain = segment_verdicts(sample_dataset, table="kpis", metric="cpa", columns=["geo"])
    assert shared.verdicts.equals(plain.verdicts) and set(cache) == {"geo"}
    assert shared.verdicts.filter(pl.col("segment") == "geo=DE").height == 1


@pytest.mark.parametrize(("metric", "mode"), [("spend", "batch"), ("cr", "causal")])
def test_every_series_at_once_is_each_series_alone(sample_dataset, metric, mode):
    from driftdesk.seasonality.view import every_series_decomposition, segment_columns, series_of

    every = every_series_decomposition(sample_dataset, table="kpis", metric=metric, mode=mode)
    alone = seasonality_view(sample_dataset, table="kpis", metric=metric, mode=mode).result
    pairs = [(series_of(sample_dataset, every, None), alone, [])]
    pairs += [(series_of(sample_dataset, every, c),
               column_decomposition(sample_dataset, table="kpis", metric=metric, column=c, mode=mode), [c])
              for c in segment_columns(sample_dataset, "kpis")]
    for taken, own, by in pairs:
        a, b = taken.points.sort(*by, "ts"), own.points.sort(*by, "ts")
        assert taken.by == own.by and a.columns == b.columns and a.height == b.height
        assert (a["flag"] == b["flag"]).all()
        for c in ("value", "trend", "seasonal", "score"):
            np.testing.assert_allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=1e-9, atol=1e-9)
        assert taken.verdicts.sort(*by, "status").select(*by, "status", "verdict").equals(
            own.verdicts.sort(*by, "status").select(*by, "status", "verdict"))
        assert taken.config == own.config


def test_the_callers_calendar_gives_what_the_dataset_gives(sample_dataset):
    """The page passes the calendar it keeps per data version: the same decomposition and series as reading the
    dataset's calendar each time, and a calendar without days is read as such (not as 'none given')."""
    from driftdesk.calendars import effective_calendar
    from driftdesk.seasonality.view import every_series_decomposition, series_of

    calendar = effective_calendar(sample_dataset)
    own = every_series_decomposition(sample_dataset, table="kpis", metric="cr")
    given_ = every_series_decomposition(sample_dataset, table="kpis", metric="cr", calendar=calendar)
    for name in ("points", "events", "verdicts"):
        assert getattr(own, name).equals(getattr(given_, name), null_equal=True)
    for column in (None, "geo", "device"):
        a, b = series_of(sample_dataset, own, column), series_of(sample_dataset, given_, column, calendar)
        assert a.config == b.config and a.points.equals(b.points, null_equal=True)
    assert own.config["calendar_days"]  # the sample has calendar days, so the check above has something to hold
    empty = dataclasses.replace(calendar, days=calendar.days.clear())
    none = every_series_decomposition(sample_dataset, table="kpis", metric="cr", calendar=empty)
    assert none.config["calendar_days"] == [] and not none.points["calendar"].any()


def test_every_metrics_series_at_once_are_each_metrics_alone(sample_dataset):
    """The page groups the table once for every metric: each metric's series are metric_series' of that metric
    alone, value for value (the same bits), thin hours left out as alone; a metric whose columns the table lacks
    is left out of the defaults and named when asked for."""
    from driftdesk.seasonality.series import metric_series, metric_series_of
    from driftdesk.seasonality.view import SPLIT, seasonality_metrics, split_series

    metrics = seasonality_metrics(sample_dataset, "kpis")
    every = split_series(sample_dataset, table="kpis")
    assert list(every) == metrics
    frame = sample_dataset["kpis"].frame
    for metric in metrics:
        alone = split_series(sample_dataset, table="kpis", metrics=[metric])[metric]
        assert every[metric].schema == alone.schema
        assert every[metric]["value"].to_numpy().tobytes() == alone["value"].to_numpy().tobytes()
        assert every[metric].drop("value").equals(alone.drop("value"), null_equal=True)
        whole = every[metric].filter(pl.col(SPLIT) == "").select("ts", "value")
        assert whole.equals(metric_series(frame, metric), null_equal=True)
    assert every["cpa"]["value"].null_count() > 0  # hours under 30 conversions: left out in both
    thin = frame.with_columns(pl.when(pl.col("geo") == "DE").then(None).otherwise(pl.col("clicks")).alias("clicks"))
    both = metric_series_of(thin, ["cr", "ctr", "spend"], by="geo")
    for metric in ("cr", "ctr", "spend"):
        assert both[metric].equals(metric_series(thin, metric, by="geo"), null_equal=True)
    service = seasonality_metrics(sample_dataset, "service")
    offered = split_series(sample_dataset, table="service")
    assert set(offered) < set(service) and "latency_p99_ms" in offered
    missing = next(m for m in service if m not in offered)
    with pytest.raises(DriftdeskError, match="needs the column"):
        split_series(sample_dataset, table="service", metrics=[missing])
    kpis = sample_dataset["kpis"]  # read from files (a lazy frame): each metric's series only when asked for
    scanned = dataclasses.replace(sample_dataset, tables={**sample_dataset.tables,
                                                          "kpis": dataclasses.replace(kpis, frame=kpis.frame.lazy())})
    assert split_series(scanned, table="kpis") == {}
    assert split_series(scanned, table="kpis", metrics=["cr"])["cr"].equals(every["cr"], null_equal=True)


def test_a_whole_business_day_of_one_country_reaches_the_series_it_reaches_alone(sample_dataset):
    """US Labor Day counts for the whole (US-based) business: it is calendar for all traffic, every device and
    geo=US, not for geo=DE, when every series is decomposed at once as when each is decomposed alone."""
    from driftdesk.seasonality.view import SPLIT, _split_calendar, every_series_decomposition

    cal = _split_calendar(sample_dataset, ["geo", "device"])
    labor = cal.filter(pl.col("name") == "US Labor Day")["segment"].to_list()
    assert sorted(labor) == sorted(["geo=US", f"{SPLIT}=", f"{SPLIT}=device"])
    every = every_series_decomposition(sample_dataset, table="kpis", metric="spend")
    day = every.points.filter(pl.col("ts").dt.date() == dt.date(2026, 9, 7))
    reached = day.group_by(SPLIT, "geo", "device").agg(pl.col("calendar").all()).filter(pl.col("calendar"))
    keys = {(r[SPLIT], r["geo"], r["device"]) for r in reached.iter_rows(named=True)}
    assert ("", None, None) in keys and ("geo", "US", None) in keys and ("geo", "DE", None) not in keys
    assert {d for s, _, d in keys if s == "device"} == set(sample_dataset["kpis"].frame["device"].unique())
