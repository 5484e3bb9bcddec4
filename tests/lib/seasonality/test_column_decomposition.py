"""A segment's view taken from its column's decomposition is the view of the segment decomposed alone (to the
last bits of summation order), so the page can switch segments and days without fitting again."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

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
