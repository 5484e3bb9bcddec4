"""A series decomposed beside others is the same, bit for bit, as decomposed alone: the causal scan's products read
each series' own row (``rowstats.rows_times``), so every metric of a table can be scanned in one pass
(``every_metric_scans``) and each metric's decomposition read from it (the page's first view), or from batches of
any size, without a digit moving."""

from __future__ import annotations

import datetime as dt
import importlib

import numpy as np
import polars as pl
import pytest

from driftdesk.seasonality.detect import detect, shared_scans
from driftdesk.seasonality.rowstats import rows_times
from driftdesk.seasonality.view import (
    BATCH_SERIES,
    METRIC,
    SPLIT,
    batched_metrics,
    every_metric_scans,
    every_series_decomposition,
    seasonality_view,
    series_of,
    split_series,
)


def _same(a, b) -> None:
    """Two results equal to the bit: every frame (floats compared exactly), the series columns, configuration
    and notes."""
    assert a.by == b.by and a.causal == b.causal and a.config == b.config and a.notes == b.notes
    for name in ("points", "events", "verdicts"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.schema == y.schema and x.height == y.height, name
        assert x.equals(y, null_equal=True), name
    for c in ("value", "trend", "seasonal", "resid", "score"):
        assert a.points[c].to_numpy().tobytes() == b.points[c].to_numpy().tobytes(), c


def test_rows_times_is_the_matrix_product_whatever_the_rows_beside():
    rng = np.random.default_rng(5)
    for k, n in ((24, 672), (168, 672), (7, 50)):
        matrix = rng.standard_normal((k, n))
        rows = rng.standard_normal((130, n)) * 10.0 ** rng.integers(-3, 4, size=(130, 1))
        every = rows_times(rows, matrix)
        # the product itself, against a sum written out in extended precision
        exact = (rows.astype(np.longdouble)[:, None, :] * matrix.astype(np.longdouble)[None, :, :]).sum(axis=-1)
        scale = np.abs(rows)[:, None, :] * np.abs(matrix)[None, :, :]
        assert np.all(np.abs(every - exact.astype(float)) <= 1e-13 * scale.sum(axis=-1))
        # each row the same bits alone, in any batch, in any order and as a view of a wider array
        for m in (1, 2, 7, 13, 64):
            assert np.array_equal(rows_times(rows[:m], matrix), every[:m])
        alone = np.stack([rows_times(rows[i:i + 1], matrix)[0] for i in range(rows.shape[0])])
        assert np.array_equal(alone, every)
        order = rng.permutation(rows.shape[0])
        assert np.array_equal(rows_times(rows[order], matrix), every[order])
        wide = np.concatenate([rows, rows], axis=1)[:, :n]
        assert np.array_equal(rows_times(wide, matrix), every)


@pytest.mark.parametrize("mode", ["batch", "causal"])
def test_a_series_alone_is_the_same_bits_as_beside_every_segment(sample_dataset, mode):
    """All traffic decomposed alone (one series) against all traffic and every segment at once (13)."""
    every = every_series_decomposition(sample_dataset, table="kpis", metric="cpa", mode=mode)
    _same(series_of(sample_dataset, every, None),
          seasonality_view(sample_dataset, table="kpis", metric="cpa", mode=mode).result)


DETECT = importlib.import_module("driftdesk.seasonality.detect")  # the module (the package exports the function)


def _no_scan(*args, **kwargs):
    raise AssertionError("scanned again: the shared scans were not read")


@pytest.mark.parametrize("mode", ["batch", "causal"])
def test_every_metric_at_once_is_each_metric_alone(sample_dataset, mode, monkeypatch):
    """The sample's ten kpis metrics (130 series) in one pass, by metric, and their scans shared: each metric the
    same bits as decomposed alone, flags, events and verdicts included."""
    series = split_series(sample_dataset, table="kpis")
    assert batched_metrics(series) == list(series) and len(series) == 10
    scans = every_metric_scans(sample_dataset, table="kpis", series=series)
    stacked = pl.concat([s.with_columns(pl.lit(m).alias(METRIC)) for m, s in series.items()])
    assert sum(1 for key, _ in scans.rows if key[0] == "cpa") == 13 and len(scans.rows) == 130
    metrics = list(series) if mode == "causal" else ["cpa", "conversions", "roas"]
    alone = {m: every_series_decomposition(sample_dataset, table="kpis", metric=m, mode=mode, series=series)
             for m in metrics}
    with monkeypatch.context() as patched:  # every series' scan is read from the shared ones
        patched.setattr(DETECT, "causal_scan", _no_scan)
        shared = {m: every_series_decomposition(sample_dataset, table="kpis", metric=m, mode=mode, series=series,
                                                scans=scans) for m in metrics}
    for metric in metrics:
        _same(shared[metric], alone[metric])
    # one detect over every metric's series, split by metric as well: each metric's part is the metric alone
    from driftdesk.seasonality.view import _split_calendar, segment_columns

    cols = segment_columns(sample_dataset, "kpis")
    together = detect(stacked, by=[METRIC, SPLIT, *cols], causal=mode == "causal",
                      calendar=_split_calendar(sample_dataset, cols))
    alone = every_series_decomposition(sample_dataset, table="kpis", metric="cr", mode=mode, series=series)
    part = together.points.filter(pl.col(METRIC) == "cr").drop(METRIC)
    assert part.equals(alone.points, null_equal=True)
    assert together.events.filter(pl.col(METRIC) == "cr").drop(METRIC).equals(alone.events, null_equal=True)
    assert together.verdicts.filter(pl.col(METRIC) == "cr").drop(METRIC).equals(alone.verdicts, null_equal=True)


def _foreign() -> pl.DataFrame:
    """Other column names, two kinds of series: hourly ones with gaps, nulls, a level shift, a spike and a
    spike, and 5-minute counts; one series too short for a period (a level model, on a grid of its own)."""
    rng = np.random.default_rng(23)
    parts = []
    start = dt.datetime(2025, 3, 3)
    for family, region, level in (("orders", "north", 200.0), ("orders", "south", 50.0), ("refunds", "north", 8.0),
                                ("refunds", "south", 3.0), ("basket", "north", 41.0)):
        n = 24 * 40
        h = np.arange(n)
        y = level * (1 + 0.3 * np.sin(2 * np.pi * h / 24) + 0.1 * np.sin(2 * np.pi * h / 168))
        y = y * np.exp(rng.normal(0, 0.05, n))
        if region == "south":
            y[24 * 30:] *= 1.4  # a level shift
        y[500] *= 4  # a spike
        keep = np.ones(n, bool)
        keep[300:330] = False  # a gap of 30 hours
        vals = pl.Series(np.round(y, 3))
        frame = pl.DataFrame({"when": [start + dt.timedelta(hours=int(i)) for i in h], "amount": vals,
                              "family": family, "region": region}).filter(pl.Series(keep))
        parts.append(frame.with_columns(pl.when(pl.int_range(pl.len()) % 97 == 5).then(None)
                                        .otherwise(pl.col("amount")).alias("amount")))
    for region, rate in (("north", 6.0), ("south", 2.5)):
        n = 12 * 24 * 21
        t = np.arange(n) / 12.0
        counts = rng.poisson(rate * (1 + 0.5 * np.sin(2 * np.pi * t / 24))).astype(float)
        parts.append(pl.DataFrame({"when": [start + dt.timedelta(minutes=5 * int(i)) for i in range(n)],
                                   "amount": counts, "family": "clicks_5m", "region": region}))
    parts.append(pl.DataFrame({"when": [start + dt.timedelta(hours=i) for i in range(10)],
                               "amount": np.arange(10.0), "family": "orders", "region": "east"}))
    return pl.concat(parts)


@pytest.mark.parametrize("causal", [False, True])
def test_a_foreign_frame_batched_or_alone_is_the_same_bits(causal, monkeypatch):
    frame = _foreign()
    cal = [dt.date(2025, 3, 20)]
    scans = shared_scans(frame, ts="when", value="amount", by=["family", "region"], calendar=cal)
    together = detect(frame, ts="when", value="amount", by=["family", "region"], causal=causal, calendar=cal)
    verdicts = together.verdicts
    assert set(together.events["kind"]) >= {"level_shift", "anomaly", "data_break"}
    assert verdicts.filter(pl.col("family") == "clicks_5m")["model_step_seconds"].to_list() == [3600.0] * 2
    assert verdicts.filter(pl.col("region") == "east")["n_points"].to_list() == [10]  # a grid of its own
    for family in frame["family"].unique().to_list():
        part = frame.filter(pl.col("family") == family).drop("family")
        alone = detect(part, ts="when", value="amount", by="region", causal=causal, calendar=cal)
        with monkeypatch.context() as patched:
            # the causal mode models the 10-hour series with the periods to come: not scanned as such, read anew
            if not (causal and family == "orders"):
                patched.setattr(DETECT, "causal_scan", _no_scan)
            _same(detect(part, ts="when", value="amount", by="region", causal=causal, calendar=cal,
                         scans=scans.restricted(family=family)), alone)
        for name in ("points", "events", "verdicts"):
            got = getattr(together, name).filter(pl.col("family") == family).drop("family")
            assert got.equals(getattr(alone, name), null_equal=True), (family, name)
        for region in part["region"].unique().to_list():  # one series alone
            one = detect(part.filter(pl.col("region") == region).drop("region"), ts="when", value="amount",
                         causal=causal, calendar=cal)
            assert one.points.drop("ts", "value").equals(
                alone.points.filter(pl.col("region") == region).drop("region", "ts", "value"), null_equal=True)


def test_scans_of_other_values_are_not_read():
    """A series whose values, calendar or configuration differ from what was scanned is scanned again."""
    from driftdesk.seasonality.config import DetectConfig

    frame = _foreign().filter(pl.col("family") == "orders").drop("family")
    scans = shared_scans(frame, ts="when", value="amount", by="region")
    moved = frame.with_columns(pl.when(pl.col("region") == "north").then(pl.col("amount") * 1.5)
                               .otherwise(pl.col("amount")).alias("amount"))
    for kwargs in ({"frame": moved}, {"frame": frame, "calendar": [dt.date(2025, 3, 10)]},
                   {"frame": frame, "config": DetectConfig(anomaly_z=4.0)}):
        data = kwargs.pop("frame")
        _same(detect(data, ts="when", value="amount", by="region", causal=True, scans=scans, **kwargs),
              detect(data, ts="when", value="amount", by="region", causal=True, **kwargs))


def test_only_tables_of_a_few_hundred_series_are_scanned_at_once(sample_dataset):
    series = split_series(sample_dataset, table="kpis")
    assert batched_metrics(series) == list(series)
    many = {f"m{i}": series["cr"] for i in range(BATCH_SERIES // 13 + 1)}  # 13 series each
    assert batched_metrics(many) == [] and batched_metrics({}) == []
    other = {"cr": series["cr"], "cpa": series["cpa"].drop("source")}
    assert batched_metrics(other) == []
