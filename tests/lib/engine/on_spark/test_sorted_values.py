"""PSI's numeric bins on Spark are set from the reference's values at a few ranks, read where the values are
sorted (never the column brought here): the size and every rank's value are numpy's sorted array's, so the bin
edges are bit-identical (ties, NaN and infinite values left out, several partitions)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftdesk.stats import quantile_edges

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def column(spark, tmp_path_factory):
    from driftdesk.engine import spark as engine_spark

    rng = np.random.default_rng(3)
    values = np.round(rng.gamma(2, 1, 20_000), 1)  # many ties
    values[::11] = np.nan
    values[5::97] = np.inf
    ts = np.datetime64(dt.datetime(2026, 1, 1), "us") + np.arange(values.size).astype("timedelta64[m]")
    path = tmp_path_factory.mktemp("sorted") / "x.parquet"
    pl.DataFrame({"ts": ts, "x": values}).write_parquet(path)
    return engine_spark.read_parquet(path), values, ts


@pytest.mark.parametrize("before", [None, dt.datetime(2026, 1, 8)])
def test_ranks_and_edges_are_numpys(column, before):
    from driftdesk.engine.spark.series import finite_values

    table, values, ts = column
    keep = np.isfinite(values) & ((ts < np.datetime64(before)) if before else True)
    want = np.sort(values[keep])
    got = finite_values(table, "x", before=before)
    assert got.size == want.size and len(got._parts) > 1
    ranks = np.array([0, 1, want.size // 3, want.size // 2, want.size - 2, want.size - 1])
    assert np.array_equal(got[ranks], want[ranks])
    for bins in (4, 10):
        assert np.array_equal(quantile_edges(got, bins), quantile_edges(want, bins))
    with pytest.raises(IndexError):
        got[np.array([want.size])]
