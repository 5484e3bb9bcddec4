"""The Overview and the seasonality series on Spark: each window's checks and each time bucket's metric reduced in
Spark give what polars gives (the same windows, groups, statuses and notes; counts identical, values to 1e-9), on
the sample and on a folder in another shape (columns named by a mapping, timestamps every five minutes with a
zone, a day and some hours missing); the commands print the same JSON on either engine."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from driftdesk import engine
from driftdesk.overview import overview
from driftdesk.seasonality import metric_series
from driftdesk.seasonality.series import low_volume

from .same import assert_same

pytestmark = pytest.mark.spark
GOLDEN = Path(__file__).resolve().parents[3] / "golden"


def _run(args: list[str]) -> tuple[int, dict]:
    sys.path.insert(0, str(GOLDEN))
    from cli_cases import run_case

    return run_case(args)


@pytest.mark.parametrize("kw", [{}, {"day": "2026-08-26", "known_good": "last_release"}])
def test_overview_on_sample(sample_on_spark, kw):
    on_spark, in_memory = sample_on_spark
    want = overview(in_memory, **kw).to_dict()
    assert {r["status"] for r in want["metrics"]} >= {"ok"} and len(want["metrics"]) > 20
    assert_same(overview(on_spark, **kw).to_dict(), want)


@pytest.mark.parametrize("day", [None, "2026-03-12"])
def test_overview_on_foreign_folder(foreign_on_spark, day):
    """The day after the KPIs' missing day has no day-over-day baseline in the business layer on either engine."""
    on_spark, in_memory = foreign_on_spark
    want = overview(in_memory, day=day).to_dict()
    assert any(r["subject"] == "bid_usd" for r in want["metrics"])
    got = overview(on_spark, day=day).to_dict()
    assert_same(got, want)
    if day == "2026-03-12":
        business = [r for r in got["metrics"] if r["table"] == "kpis"]
        assert business and all(r["day_over_day"] is None for r in business)


SAMPLE_SERIES = [("kpis", "cpa", ["geo"], "1h"), ("kpis", "conversions", None, "1d"),
                 ("decisions", "score_mean", ["device"], "6h"), ("decisions", "null_rate:ctr_7d", None, "1d"),
                 ("decisions", "rows", ["geo"], "1d"), ("service", "latency_p99_ms", ["service"], "1h"),
                 ("llm_calls", "latency_p95_ms", None, "1d"), ("llm_calls", "cost_per_call", ["model"], "1d")]
FOREIGN_SERIES = [("kpis", "cr", ["Country"], "1h"), ("kpis", "spend", ["Country", "Device"], None),
                  ("kpis", "cpa", None, "15m"), ("decisions", "observed_to_predicted", ["country"], "1d"),
                  ("decisions", "mean:bid_usd", None, "5m")]


def _same_series(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.schema == want.schema
    keys = [c for c in want.columns if c != "value"]
    assert got.select(keys).equals(want.select(keys))
    assert got["value"].is_null().equals(want["value"].is_null())
    assert_same(got["value"].to_list(), want["value"].to_list())


@pytest.mark.parametrize(("table", "metric", "by", "every"), SAMPLE_SERIES)
def test_metric_series_on_sample(sample_on_spark, table, metric, by, every):
    on_spark, in_memory = sample_on_spark
    want = metric_series(in_memory[table].frame, metric, by=by, every=every)
    assert want["value"].drop_nulls().len() > 10
    _same_series(metric_series(on_spark[table].frame, metric, by=by, every=every), want)


@pytest.mark.parametrize(("table", "metric", "by", "every"), FOREIGN_SERIES)
def test_metric_series_on_foreign_folder(foreign_on_spark, table, metric, by, every):
    """Five-minute buckets (and the data's own timestamps), hours below the metric's minimum count left out."""
    on_spark, in_memory = foreign_on_spark
    want = metric_series(in_memory[table].frame, metric, by=by, every=every, where={"Device": "web"}
                         if table == "kpis" and not by else None)
    assert want["value"].drop_nulls().len() > 10
    _same_series(metric_series(on_spark[table].frame, metric, by=by, every=every, where={"Device": "web"}
                               if table == "kpis" and not by else None), want)


def test_thin_hours_are_left_out_alike(foreign_on_spark):
    """CR per 15 minutes has fewer than the thousand clicks it needs in every point: all null on both engines."""
    on_spark, in_memory = foreign_on_spark
    want = metric_series(in_memory["kpis"].frame, "cr", by=["Country"], every="15m")
    assert want.height > 1000 and want["value"].null_count() == want.height
    _same_series(metric_series(on_spark["kpis"].frame, "cr", by=["Country"], every="15m"), want)
    # and the count of thin points, which the refusal of a series with nothing to judge quotes, is the same
    thin = low_volume(in_memory["kpis"].frame, "cr", by=["Country"], every="15m")
    assert thin is not None and thin.thin == thin.total == want.height
    assert low_volume(on_spark["kpis"].frame, "cr", by=["Country"], every="15m") == thin


@pytest.mark.parametrize("args", [["overview", "--data", "{d}", "--day", "2026-03-13"],
                                  ["seasonality", "--data", "{d}", "--metric", "cr", "--by", "Country"]])
def test_commands_print_the_same_json(foreign_on_spark, foreign_dir, args):
    args = [a.format(d=foreign_dir) for a in args]
    code, want = _run(args)
    assert code == 0
    got = _run([*args, "--engine", "spark"])
    assert got[0] == code
    assert_same(got[1], want)


def test_seasonality_input_file_is_not_reduced_on_spark(foreign_dir, capsys):
    from driftdesk.cli import main

    code = main(["seasonality", "--input", str(foreign_dir / "export.parquet"), "--ts", "Event Time", "--value",
                 "Clicks", "--engine", "spark", "--format", "json"])
    assert code == 2
    assert "--engine spark reduces a folder's table of rows" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["overview", "--data", "{s}"],
                                     ["seasonality", "--data", "{s}", "--metric", "cpa"]])
def test_unreachable_master_is_named_within_seconds(command, sample_dir):
    env = {"DRIFTDESK_SPARK_MASTER": "spark://127.0.0.1:9", "PYTHONPATH": str(Path(engine.__file__).parents[2]),
           "PATH": "/usr/bin:/bin"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "driftdesk.cli", *[a.format(s=sample_dir) for a in command],
                           "--engine", "spark"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Spark master spark://127.0.0.1:9 cannot be reached" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert time.perf_counter() - start < 15
