"""Past the memory budget a folder's row tables are scanned lazily, and the gates' metric series reduce the scans
with polars' streaming engine to the per-hour, per-segment sums they reduce in memory: the same grid and segments,
the same counts, sums to 1e-9 (``tests/lib/engine/on_spark/test_gate_series.py`` checks Spark the same way)."""

from __future__ import annotations

import polars as pl
import pytest
from series_cases import SERIES, assert_same_series

from driftdesk import engine
from driftdesk.engine.dataset import load_dataset_on
from driftdesk.gates.metrics import metric_components


@pytest.fixture(scope="module")
def in_memory(sample_dir):
    return load_dataset_on(sample_dir)


@pytest.fixture()
def scanned(sample_dir, monkeypatch):
    monkeypatch.setenv(engine.BUDGET_ENV, "1M")
    ds = load_dataset_on(sample_dir)
    assert all(isinstance(ds[t].frame, pl.LazyFrame) for t in ("decisions", "kpis", "llm_calls"))
    return ds


@pytest.mark.parametrize(("metric", "by", "filt"), SERIES)
def test_series_on_a_scan_equal_series_in_memory(in_memory, scanned, metric, by, filt):
    want = metric_components(in_memory, metric, by=by, filter=filt)
    assert want.components.any()
    assert_same_series(metric_components(scanned, metric, by=by, filter=filt), want)


def test_a_seasonality_flag_on_a_scan_equals_the_flag_in_memory(in_memory, scanned):
    """The hourly CPA reduced by the streaming engine, the calendar's country shares too: the same flags."""
    want = metric_components(in_memory, "seasonality_flag:cpa", by=())
    assert want.components[..., 0].sum() > 0
    assert_same_series(metric_components(scanned, "seasonality_flag:cpa", by=()), want)
