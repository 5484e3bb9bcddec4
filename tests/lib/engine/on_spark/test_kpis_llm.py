"""KPI tables, segment impact and LLM metrics on Spark give the polars engine's per-group sums (identical row
counts, sums to 1e-12) and so the same ratios, intervals, mix and rate effects and percentiles to 1e-9, with the
same rules for unknown values (a column of nulls sums to unknown, a missing column leaves its metrics null)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftdesk import business, llm
from driftdesk.errors import DriftdeskError
from driftdesk.windows import Window

from .same import assert_same

pytestmark = pytest.mark.spark
BASELINE = "2026-05-01T00:00/2026-05-04T00:00"
CURRENT = "2026-05-04T00:00/2026-05-07T00:00"


def _both(path):
    from driftdesk.engine import spark as engine_spark

    return engine_spark.read_parquet(path), pl.scan_parquet(path)


@pytest.fixture(scope="module")
def kpis(tmp_path_factory):
    """Hourly KPI rows per geo and device over a week; one geo's revenue unknown, a device only in the current half."""
    rng = np.random.default_rng(5)
    hours = pl.datetime_range(dt.datetime(2026, 5, 1), dt.datetime(2026, 5, 7, 23), "1h", eager=True)
    parts = []
    for geo in ("US", "DE", "BR"):
        for device in ("ios", "web", "tv"):
            ts = hours.filter(hours >= dt.datetime(2026, 5, 4)) if device == "tv" else hours
            n = ts.len()
            clicks = rng.poisson(200, n).astype(float)
            conversions = rng.binomial(clicks.astype(int), 0.04).astype(float)
            revenue = conversions * rng.gamma(3, 20, n)
            parts.append(pl.DataFrame({
                "ts": ts, "geo": geo, "device": device, "impressions": clicks * 30, "clicks": clicks,
                "conversions": conversions, "spend": clicks * rng.uniform(0.2, 0.9, n),
                "revenue": pl.Series(revenue).scatter(list(range(n)), None) if geo == "BR" else revenue,
            }))
    path = tmp_path_factory.mktemp("spark-kpis") / "kpis.parquet"
    pl.concat(parts).write_parquet(path)
    return path


@pytest.mark.parametrize("kw", [{}, {"by": ["geo"]}, {"by": ["geo", "device"], "every": "1d"},
                                {"every": "6h", "outcome": "clicks", "min_conversions": 40}])
def test_kpi_table_equal(spark, kpis, kw):
    on_spark, local = _both(kpis)
    got, want = business.kpi_table(on_spark, **kw), business.kpi_table(local, **kw)
    assert got.schema == want.schema
    keys = [c for c in want.columns if want.schema[c] in (pl.String, pl.Datetime("us"))] + ["rows"]
    assert got.select(keys).equals(want.select(keys))
    assert got["revenue_sum"].null_count() == want["revenue_sum"].null_count()
    assert_same(got.to_dicts(), want.to_dicts())


@pytest.mark.parametrize("metric", ["cpa", "cr"])
def test_segment_impact_equal(spark, kpis, metric):
    on_spark, local = _both(kpis)
    kw = {"baseline": BASELINE, "current": CURRENT, "by": ["geo", "device"], "metric": metric}
    assert_same(business.segment_impact(on_spark, **kw).to_dict(), business.segment_impact(local, **kw).to_dict())


def test_unknown_revenue_is_refused_for_roas(spark, kpis):
    """ROAS needs every row's revenue: one geo's unknown revenue is named on either engine."""
    kw = {"baseline": BASELINE, "current": CURRENT, "by": ["geo"], "metric": "roas"}
    for frame in _both(kpis):
        with pytest.raises(DriftdeskError, match=r"column 'revenue': missing values \(432 rows"):
            business.segment_impact(frame, **kw)


def test_negative_spend_is_named(spark, tmp_path):
    path = tmp_path / "bad.parquet"
    pl.DataFrame({"ts": [dt.datetime(2026, 5, 1)] * 3, "geo": ["US", "DE", "BR"], "spend": [1.0, -2.5, 3.0],
                  "conversions": [1.0, 2.0, 3.0]}).write_parquet(path)
    on_spark, _ = _both(path)
    with pytest.raises(DriftdeskError, match=r"column 'spend': negative values are not allowed — 1 row, e.g. -2.5"):
        business.kpi_table(on_spark, by=["geo"])


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    """LLM calls over a week for three models: unknown feedback, flags with nulls, latencies with ties, a model
    without a successful call."""
    rng = np.random.default_rng(11)
    n = 20_000
    flags = {k: pl.Series(rng.random(n) < p).scatter(rng.integers(0, n, 50), None)
             for k, p in (("validator_ok", 0.9), ("refusal", 0.03), ("error", 0.02))}
    frame = pl.DataFrame({
        "ts": pl.datetime_range(dt.datetime(2026, 5, 1), dt.datetime(2026, 5, 8), "30s", eager=True)[:n],
        "model": rng.choice(["m-a", "m-b", "m-c"], n), "prompt_version": rng.choice(["p1", "p2"], n),
        "latency_ms": np.round(rng.lognormal(6, 0.5, n)), "ttft_ms": rng.lognormal(5, 0.4, n),
        "input_tokens": rng.integers(100, 2000, n), "output_tokens": rng.integers(10, 500, n),
        "cost": rng.gamma(2, 0.002, n), **flags,
        "user_feedback": pl.Series(rng.random(n)).scatter(list(range(0, n, 3)), None),
    }).with_columns(  # no call of one model succeeds: its cost per success has no denominator
        pl.when(pl.col("model") == "m-c").then(False).otherwise(pl.col("validator_ok")).alias("validator_ok"))
    path = tmp_path_factory.mktemp("spark-llm") / "calls.parquet"
    frame.write_parquet(path)
    return path


@pytest.mark.parametrize("by", [[], ["model"], ["model", "prompt_version"]])
def test_llm_metrics_equal(spark, calls, by):
    on_spark, local = _both(calls)
    got, want = llm.summarize_calls(on_spark, by=by), llm.summarize_calls(local, by=by)
    assert got.schema == want.schema and got["judge_score_mean"].null_count() == got.height  # no judge column
    if by == ["model"]:
        assert got.filter(pl.col("model") == "m-c")["cost_per_success"].to_list() == [None]
    assert_same(got.to_dicts(), want.to_dicts())
    windows = {"baseline": Window.parse(BASELINE, "baseline"), "current": Window.parse(CURRENT, "current")}
    assert_same(llm.compare_calls(on_spark, by=by, **windows).to_dict(), llm.compare_calls(local, by=by, **windows).to_dict())


def test_llm_windows_without_calls_name_the_span(spark, calls):
    on_spark, local = _both(calls)
    windows = {"baseline": Window.parse("2025-01-01T00:00/2025-01-02T00:00", "baseline"),
               "current": Window.parse("2025-01-02T00:00/2025-01-03T00:00", "current")}
    with pytest.raises(DriftdeskError) as want:
        llm.compare_calls(local, **windows)
    with pytest.raises(DriftdeskError) as got:
        llm.compare_calls(on_spark, **windows)
    assert str(got.value) == str(want.value) and "2026-05-01T00:00:00" in str(got.value)


def test_a_null_rate_on_spark_counts_what_polars_counts_as_missing(tmp_path):
    # null, or NaN in a float column (metrics.is_missing); in a text column "NaN" is text, and inf is a value
    from driftdesk.engine import spark as engine_spark
    from driftdesk.engine.spark import aggregate
    from driftdesk.metrics import resolve_metric

    frame = pl.DataFrame({"ts": [dt.datetime(2026, 5, 1, h) for h in range(6)],
                          "x": [1.0, float("nan"), None, float("inf"), 2.0, float("nan")],
                          "t": ["a", "NaN", None, "b", "", None]})
    path = tmp_path / "rows.parquet"
    frame.write_parquet(path)
    table = engine_spark.read_parquet(path)
    schema = dict(frame.schema)
    for column, missing in (("x", 3), ("t", 2)):
        m = resolve_metric(f"null_rate:{column}", columns=list(schema))
        got = aggregate.reduce(table, {"rate": aggregate.metric(m, schema)}, like={"rate": pl.Float64})
        assert got["rate"].item() == pytest.approx(missing / 6, abs=1e-15)
