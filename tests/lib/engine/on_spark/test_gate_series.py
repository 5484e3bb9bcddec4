"""The gates' metric series on Spark: a folder's row tables read as Spark tables and reduced there to the per-hour,
per-segment sums polars reduces in memory (the same grid and segments, counts, sums to 1e-9); the backtest's golden
answer on Spark is in ``test_golden.py``."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from series_cases import SERIES, assert_same_series

from driftdesk import engine
from driftdesk.gates.metrics import metric_components

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def both(sample_on_spark):
    assert type(sample_on_spark[0]["decisions"].frame).__name__ == "SparkTable"
    return sample_on_spark


def test_series_on_spark_equal_series_in_memory(both):
    on_spark, in_memory = both
    for metric, by, filt in SERIES:
        want = metric_components(in_memory, metric, by=by, filter=filt)
        assert want.components.any(), metric
        assert_same_series(metric_components(on_spark, metric, by=by, filter=filt), want)


def test_seasonality_flags_on_spark_equal_flags_in_memory(both, foreign_on_spark):
    """The inner metric's hourly sums reduced on Spark (and the calendar's country shares), then the same causal
    detector: the same flagged hours, on the sample's CPA and on a feature's null rate per country of a folder in
    another shape."""
    for (on_spark, in_memory), metric, by in ((both, "seasonality_flag:cpa", ()),
                                              (foreign_on_spark, "seasonality_flag:null_rate:bid_usd", ("country",))):
        want = metric_components(in_memory, metric, by=by)
        assert want.components[..., 0].sum() > 0 and want.components[..., 1].sum() > 0
        assert_same_series(metric_components(on_spark, metric, by=by), want)


@pytest.mark.parametrize("command", [["gates", "backtest", "--data", "{s}"],
                                     ["gates", "check", "--baseline", "{s}", "--candidate", "{s}"]])
def test_unreachable_master_is_named_within_seconds(command, sample_dir):
    """The gate commands on Spark say so within seconds, before any Java starts, instead of Spark retrying."""
    env = {"DRIFTDESK_SPARK_MASTER": "spark://127.0.0.1:9", "PYTHONPATH": str(Path(engine.__file__).parents[2]),
           "PATH": "/usr/bin:/bin"}
    args = [a.format(s=sample_dir) for a in command]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "driftdesk.cli", *args, "--policy", str(sample_dir / "policy.toml"),
                           "--engine", "spark"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Spark master spark://127.0.0.1:9 cannot be reached" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert time.perf_counter() - start < 15
