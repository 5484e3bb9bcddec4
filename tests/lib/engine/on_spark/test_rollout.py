"""``canary`` and ``incident`` on Spark. Canary: the two arms' rows in the rollout's span are selected on Spark and judged by the same
code, so the decision, its time, every segment's values and intervals are the polars engine's (to 1e-9), on the
sample and on a folder in another shape; a choice of arms the table lacks gets the judge's own message, and rows
beyond the memory budget are refused with their count and the budget. Incident: the policy backtested on Spark
and the days around the incident brought from it give the view polars gives."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from driftdesk import engine
from driftdesk.engine.spark.rollout import arm_rows
from driftdesk.errors import DriftdeskError
from driftdesk.rollout import judge_rollout

from .same import assert_same

pytestmark = pytest.mark.spark
GOLDEN = Path(__file__).resolve().parents[3] / "golden"
CASES = [("sample", {"control": "v1.9", "candidate": "v2.0"}),
         ("foreign", {"control": "m-1", "candidate": "m-2", "by": ["country"],
                      "start": dt.datetime(2026, 3, 13, 6), "end": dt.datetime(2026, 3, 17)})]


@pytest.mark.parametrize(("folder", "kw"), CASES)
def test_judgement_on_spark_equals_judgement_in_memory(sample_on_spark, foreign_on_spark, folder, kw):
    on_spark, in_memory = sample_on_spark if folder == "sample" else foreign_on_spark
    table = in_memory["decisions"]
    want = judge_rollout(table.frame, segments=table.segments, **kw).to_dict()
    assert want["segments"] and want["timeline"]
    rows = arm_rows(on_spark["decisions"].frame, control=kw["control"], candidate=kw["candidate"],
                    start=kw.get("start"), end=kw.get("end"))
    assert_same(judge_rollout(rows, segments=table.segments, **kw).to_dict(), want)


def test_arms_the_table_lacks_get_the_judges_message(sample_on_spark):
    on_spark, in_memory = sample_on_spark
    with pytest.raises(DriftdeskError) as want:
        judge_rollout(in_memory["decisions"].frame, control="v1.9", candidate="v9")
    with pytest.raises(DriftdeskError) as got:
        arm_rows(on_spark["decisions"].frame, control="v1.9", candidate="v9")
    assert str(got.value) == str(want.value) and "v9" in str(got.value)


def test_rows_beyond_the_budget_are_refused(sample_on_spark, monkeypatch):
    monkeypatch.setenv(engine.BUDGET_ENV, "64K")
    with pytest.raises(engine.MemoryBudgetError, match=r"the rollout's [\d,]+ rows of v1.9 and v2.0 needs about .* "
                       r"above the memory budget of 64.0 KB"):
        arm_rows(sample_on_spark[0]["decisions"].frame, control="v1.9", candidate="v2.0")


def test_canary_command_prints_the_same_json(foreign_on_spark, foreign_dir):
    sys.path.insert(0, str(GOLDEN))
    from cli_cases import run_case

    args = ["canary", "--data", str(foreign_dir), "--control", "m-1", "--candidate", "m-2", "--by", "country"]
    code, want = run_case(args)
    got = run_case([*args, "--engine", "spark"])
    assert got[0] == code
    assert_same(got[1], want)


def test_incident_view_on_spark_equals_view_in_memory(foreign_on_spark, foreign_dir):
    """The policy backtested on Spark, the days around the incident brought from it: the same view (the canary
    released the day before judged; seasonality flags per country and a numeric PSI among the gates)."""
    from driftdesk.cli.incident import on_spark as incident_on_spark
    from driftdesk.contract import load_table
    from driftdesk.gates import load_policy
    from driftdesk.incidents import incident_view

    spark_ds, in_memory = foreign_on_spark
    log = load_table(foreign_dir / "incidents.csv", "incidents").frame
    policy = load_policy(foreign_dir / "policy.toml")
    want = incident_view(in_memory, "FR-1", incidents=log, policy=policy).to_dict()
    assert want["gates"] and want["rollout"]["candidate"] == "m-2"
    backtest, near = incident_on_spark(spark_ds, log, "FR-1", policy)
    assert all(not engine.is_spark(t.frame) for t in near.tables.values())
    assert_same(incident_view(near, "FR-1", incidents=log, policy=policy, backtest=backtest).to_dict(), want)
