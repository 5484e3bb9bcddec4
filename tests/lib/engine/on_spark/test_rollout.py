"""``canary`` and ``incident`` on Spark. Canary: Spark reduces the two arms' rows to the aggregates the judge reads
(per interval, arm and segment: the sums of a ratio, rate or mean, the calibration cells, a column's distinct
values with their counts) and no row reaches the driver, so the decision, its time, every evaluation's values,
intervals and p-values are the polars engine's (to 1e-9), on the sample and on a folder in another shape; each
reduction fetched is one row per group, the groups polars finds in the same rows; past the memory budget a
column's values are read off histogram sketches (within their stated bounds, said in the notes) and aggregates
that still do not fit are refused with a message. Incident: the policy backtested on Spark, the canary judged
from Spark's aggregates, and the drift, data-quality, KPI, calibration and traffic checks reduced on Spark to the
aggregates the view reads give the view polars gives; no frame Spark returns holds a table's rows."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from driftdesk import engine, sketch
from driftdesk.engine.spark import read_parquet
from driftdesk.engine.spark import rollout as spark_rollout
from driftdesk.engine.spark.rollout import SparkArms, judge_on_spark
from driftdesk.errors import DriftdeskError
from driftdesk.gates.policy import parse_policy
from driftdesk.rollout import judge_rollout
from driftdesk.rollout.judge import _part_sums, rollout_units
from driftdesk.stats import ks_statistic, psi_numeric

from .same import assert_same

pytestmark = pytest.mark.spark
GOLDEN = Path(__file__).resolve().parents[3] / "golden"
CASES = [("sample", {"control": "v1.9", "candidate": "v2.0"}),
         ("foreign", {"control": "m-1", "candidate": "m-2", "by": ["country"],
                      "start": dt.datetime(2026, 3, 13, 6), "end": dt.datetime(2026, 3, 17)})]


def _evaluations(result) -> list[dict]:
    return json.loads(result.evaluations.write_json())


@pytest.mark.parametrize(("folder", "kw"), CASES)
def test_judgement_on_spark_equals_judgement_in_memory(sample_on_spark, foreign_on_spark, folder, kw):
    on_spark, in_memory = sample_on_spark if folder == "sample" else foreign_on_spark
    table = in_memory["decisions"]
    want = judge_rollout(table.frame, segments=table.segments, **kw)
    assert want.to_dict()["segments"] and want.to_dict()["timeline"]
    got = judge_on_spark(on_spark["decisions"].frame, segments=table.segments, **kw)
    assert_same(got.to_dict(), want.to_dict())
    assert_same(_evaluations(got), _evaluations(want))  # every evaluation of the replay, intervals drawn


def test_each_reduction_fetched_is_one_row_per_group_of_the_rows(sample_on_spark, monkeypatch):
    """Every frame Spark hands the judge is its reduction's groups: as many rows as polars' group-by of the same
    rows finds, with the same sums; the sums and cells are at most a few thousand rows where the span holds about
    94,000 (a column's distinct values are as many as the rows' here: the sample's scores are continuous)."""
    on_spark, in_memory = sample_on_spark
    fetched, jobs = [], []
    reduce, fetch = SparkArms.reduce, spark_rollout.fetch
    monkeypatch.setattr(spark_rollout, "fetch", lambda df, like=None: jobs.append(fetch(df, like)) or jobs[-1])

    def recording(self, kind, metric, edges, keys):
        out = reduce(self, kind, metric, edges, keys)
        fetched.append((kind, metric, edges, keys, out))
        return out
    monkeypatch.setattr(SparkArms, "reduce", recording)
    table = in_memory["decisions"]
    judge_on_spark(on_spark["decisions"].frame, control="v1.9", candidate="v2.0", segments=table.segments)
    units = rollout_units(table.frame, column="model_version", control="v1.9", candidate="v2.0")
    assert {k for k, *_ in fetched} == {"sums", "cells", "values"}
    for kind, metric, edges, keys, got in fetched:
        by = ["__part", "__arm", *keys]
        if kind == "values":
            x = pl.col(metric.columns[0]).cast(pl.Float64)
            rows = _part_sums(units.with_columns(pl.when(x.is_finite()).then(x).alias("value")), edges,
                              [*by[1:], "value"], "sums", metric, ts="ts").select(*by, "value",
                                                                                   pl.col("__rows").alias("count"))
        else:
            rows = _part_sums(units, edges, by[1:], kind, metric, ts="ts")
        assert got.height == rows.height, (kind, metric.name, keys)
        assert_same(json.loads(got.sort(got.columns).write_json()), json.loads(
            rows.select(got.columns).sort(got.columns).write_json()))
    span_rows = units.filter(pl.col("ts") >= min(edges[0] for _, _, edges, _, _ in fetched)).height
    assert max(out.height for kind, *_, out in fetched if kind != "values") < span_rows / 20
    # what Spark returned: one job for the sums of every gate and segmentation, one for the cells, one for the values
    # (each distinct value per interval, arm and segment columns: at most one group per row)
    reductions = [f for f in jobs if "__part" in f.columns]
    assert len(reductions) == 3
    assert max(f.height for f in reductions if "value" not in f.columns) < span_rows / 5
    assert next(f for f in reductions if "value" in f.columns).height <= span_rows  # never more than the rows


def test_values_past_the_budget_are_read_off_sketches_within_their_bounds(spark, tmp_path, monkeypatch):
    """A PSI gate over 30,000 scores in a narrow range: their distinct values do not fit a budget of 256 KB, their
    histogram sketches do; each window's PSI and KS from Spark's sketches are the sketches' of the window's values
    and hold the exact statistics within the stated bounds; the counts and means are exact."""
    rng = np.random.default_rng(5)
    n = 30_000
    arm = np.where(rng.random(n) < 0.3, "v2", "v1")
    frame = pl.DataFrame({
        "ts": pl.datetime_range(dt.datetime(2026, 5, 1), dt.datetime(2026, 5, 3), interval="1s", eager=True)
        .sample(n, seed=1, with_replacement=True).sort(),
        "model_version": arm,
        "score": 0.5 + 0.02 * rng.beta(2, 5, n) + np.where(arm == "v2", 0.002, 0.0)})
    path = tmp_path / "decisions.parquet"
    frame.write_parquet(path)
    policy = parse_policy("""[policy]
name = "psi"
[[gate]]
name = "shift"
metric = "psi:score"
comparison = "release"
change = "difference"
threshold = 0.05
direction = "above"
window = "12h"
every = "6h"
min_sample = 100
action = "pause_for_review"
""", source="test")
    want = judge_rollout(frame, control="v1", candidate="v2", policy=policy)
    monkeypatch.setenv(engine.BUDGET_ENV, "256K")
    got = judge_on_spark(read_parquet(path), control="v1", candidate="v2", policy=policy)
    assert any("histogram sketches" in note for note in got.notes)
    exact, sketched = want.evaluations, got.evaluations
    assert exact.select("ts", "n_control", "n_candidate").equals(sketched.select("ts", "n_control", "n_candidate"))
    for e, s in zip(exact.iter_rows(named=True), sketched.iter_rows(named=True)):
        assert s["control"] == pytest.approx(e["control"], rel=1e-9)
        window = frame.filter((pl.col("ts") >= s["ts"] - dt.timedelta(hours=12)) & (pl.col("ts") < s["ts"]))
        b, c = (np.sort(window.filter(pl.col("model_version") == v)["score"].to_numpy()) for v in ("v1", "v2"))
        sb, sc = sketch.from_values(b), sketch.from_values(c)
        estimate, low, high = sketch.psi_estimate(sb, sc)
        ks_low, ks_high = sketch.ks_bounds(sb, sc)
        assert s["change"] == pytest.approx(estimate, rel=1e-9) and low <= psi_numeric(b, c) <= high
        assert ks_low <= ks_statistic(b, c) <= ks_high
        assert e["change"] == pytest.approx(psi_numeric(b, c), rel=1e-9)


def test_aggregates_past_the_budget_are_refused(sample_on_spark, monkeypatch):
    monkeypatch.setenv(engine.BUDGET_ENV, "4K")
    with pytest.raises(engine.MemoryBudgetError, match=r"the rollout's cpa, .* per interval, arm and segment, more "
                       r"than [\d,]+ groups needs about .* above the memory budget of 4.0 KB"):
        judge_on_spark(sample_on_spark[0]["decisions"].frame, control="v1.9", candidate="v2.0")


def test_arms_the_table_lacks_get_the_judges_message(sample_on_spark):
    on_spark, in_memory = sample_on_spark
    with pytest.raises(DriftdeskError) as want:
        judge_rollout(in_memory["decisions"].frame, control="v1.9", candidate="v9")
    with pytest.raises(DriftdeskError) as got:
        judge_on_spark(on_spark["decisions"].frame, control="v1.9", candidate="v9")
    assert str(got.value) == str(want.value) and "v9" in str(got.value)


def test_canary_command_prints_the_same_json(foreign_on_spark, foreign_dir):
    sys.path.insert(0, str(GOLDEN))
    from cli_cases import run_case

    args = ["canary", "--data", str(foreign_dir), "--control", "m-1", "--candidate", "m-2", "--by", "country"]
    code, want = run_case(args)
    got = run_case([*args, "--engine", "spark"])
    assert got[0] == code
    assert_same(got[1], want)


def test_incident_view_on_spark_equals_view_in_memory(foreign_on_spark, foreign_dir):
    """The policy backtested on Spark, the canary (released the day before) judged from Spark's aggregates and the
    view's checks reduced there: the same view (seasonality flags per country and a numeric PSI among the gates)."""
    from driftdesk.contract import load_table
    from driftdesk.gates import load_policy
    from driftdesk.incidents import incident_view

    spark_ds, in_memory = foreign_on_spark
    log = load_table(foreign_dir / "incidents.csv", "incidents").frame
    policy = load_policy(foreign_dir / "policy.toml")
    want = incident_view(in_memory, "FR-1", incidents=log, policy=policy).to_dict()
    assert want["gates"] and want["rollout"]["candidate"] == "m-2"
    assert engine.is_spark(spark_ds["decisions"].frame) and engine.is_spark(spark_ds["kpis"].frame)
    assert_same(incident_view(spark_ds, "FR-1", incidents=log, policy=policy).to_dict(), want)


def test_incident_checks_on_spark_fetch_aggregates_only(sample_on_spark, monkeypatch):
    """INC-c of the sample (a drifted score, a data-quality finding, KPIs and calibration of a segment): its
    changes, evidence and checklist from Spark equal polars' (the alerts from one backtest, given to both), and every
    frame Spark returned is aggregates: a column's values or categories with their counts (three columns), or a few
    rows of sums, counts or ranges, never a table's rows."""
    from driftdesk.incidents import incident_alerts, incident_view

    on_spark, in_memory = sample_on_spark
    policy, source, backtest = incident_alerts(in_memory)
    kw = {"policy": policy, "policy_source": source, "backtest": backtest, "judge_canary": False}
    want = incident_view(in_memory, "INC-c", **kw).to_dict()
    assert {c["kind"] for c in want["changes"]} >= {"drift", "quality"}
    assert "CPA" in next(e["detail"] for e in want["evidence"] if e["severity"] == "P1")
    fetched = []
    from_arrow = pl.from_arrow
    monkeypatch.setattr(pl, "from_arrow", lambda *a, **k: fetched.append(from_arrow(*a, **k)) or fetched[-1])
    got = incident_view(on_spark, "INC-c", **kw).to_dict()
    monkeypatch.undo()
    assert_same(got, want)
    widest = {t: len(on_spark[t].frame.columns) for t in ("decisions", "llm_calls")}
    assert fetched and all(f.width <= 3 or f.height <= 4 for f in fetched), [f.shape for f in fetched]
    assert all(f.width < min(widest.values()) for f in fetched if f.height > 1)


def test_known_rows_on_spark_as_with_polars(spark, tmp_path):
    """A rollout metric reads the rows where none of its columns is missing: null, or NaN in a float column."""
    from driftdesk.rollout.compare import RolloutMetric, known

    frame = pl.DataFrame({"i": range(6), "y": [1.0, None, float("nan"), 4.0, float("inf"), 6.0],
                          "x": [1, 2, 3, None, 5, 6], "flag": [True, False, True, True, None, False]})
    frame.write_parquet(tmp_path / "rows.parquet")
    table = read_parquet(tmp_path / "rows.parquet")
    for columns, want in ((("y",), [0, 3, 4, 5]), (("y", "x"), [0, 4, 5]), (("x", "flag"), [0, 1, 2, 5])):
        metric = RolloutMetric("m", "m", "mean", columns, "count", "rows")
        assert frame.filter(known(metric))["i"].to_list() == want
        got = table.df.where(spark_rollout.known(metric, table.schema)).select("i").collect()
        assert sorted(r["i"] for r in got) == want, columns
