"""Money and rates reduce in float64 on every face, whatever the column's own type: the registry's metrics, the
LLM table and the Overview's checks, on a float32 column where a float32 sum is wrong by dollars (one large value
among many cents), against math.fsum and numpy in float64."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from driftdesk.contract import Table
from driftdesk.llm import summarize_calls
from driftdesk.metrics import get_metric, metric_expr
from driftdesk.overview import metric_check

COSTS = np.concatenate([[1e8], np.full(1000, 0.01)]).astype(np.float32)  # float32 steps by 8 near 1e8
EXACT = math.fsum(COSTS.astype(np.float64))  # the float32 values themselves, summed exactly


@pytest.fixture(scope="module")
def calls() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    n = COSTS.size
    return pl.DataFrame({
        "ts": [dt.datetime(2026, 10, 5) + dt.timedelta(seconds=30 * i) for i in range(n)],
        "cost": COSTS, "latency_ms": rng.gamma(4.0, 500.0, n).astype(np.float32),
        "output_tokens": pl.Series(rng.poisson(180, n), dtype=pl.Int32),
    })


def test_the_case_is_one_float32_gets_wrong(calls):
    assert calls.schema["cost"] == pl.Float32
    assert abs(calls["cost"].sum() - EXACT) > 1.0  # the cents are lost: a float32 reduction would be wrong


def test_the_registry_sums_and_averages_in_float64(calls):
    assert calls.select(metric_expr(get_metric("cost_total"))).item() == pytest.approx(EXACT, rel=1e-14)
    assert calls.select(metric_expr(get_metric("cost_per_call"))).item() == pytest.approx(EXACT / COSTS.size, rel=1e-14)


def test_the_llm_table_in_float64(calls):
    row = summarize_calls(calls).row(0, named=True)
    assert row["cost_total"] == pytest.approx(EXACT, rel=1e-14)
    assert row["cost_per_call"] == pytest.approx(EXACT / COSTS.size, rel=1e-14)
    latency = calls["latency_ms"].to_numpy().astype(np.float64)
    assert row["latency_p95_ms"] == pytest.approx(np.percentile(latency, 95), rel=1e-14)
    assert row["tokens_out_mean"] == pytest.approx(calls["output_tokens"].to_numpy().mean(), rel=1e-14)
    assert all(summarize_calls(calls).schema[m] == pl.Float64 for m in ("cost_total", "cost_per_call", "latency_p95_ms"))


def test_the_overview_checks_in_float64(calls):
    table = Table("llm_calls", calls, "<calls>")
    for name, want in (("cost_per_call", EXACT / COSTS.size), ("latency_p95_ms", None)):
        ((_, expr),) = metric_check("llm", name, warn=0.1, alert=0.2).exprs(table)
        got = calls.select(expr).item()
        if want is None:
            want = np.percentile(calls["latency_ms"].to_numpy().astype(np.float64), 95)
        assert got == pytest.approx(want, rel=1e-14), name
    kpis = pl.DataFrame({"ts": calls["ts"], "spend": COSTS, "conversions": np.ones(COSTS.size, np.float32)})
    ((_, spend),) = metric_check("business", "spend", warn=0.1, alert=0.2, volume=True).exprs(Table("kpis", kpis, "<k>"))
    ((_, cpa),) = metric_check("business", "cpa", warn=0.1, alert=0.2).exprs(Table("kpis", kpis, "<k>"))
    assert kpis.select(spend).item() == pytest.approx(EXACT, rel=1e-14)
    assert kpis.select(cpa).item() == pytest.approx(EXACT / COSTS.size, rel=1e-14)
