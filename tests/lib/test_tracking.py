"""Adopting policies: new versions never overwrite old ones, MLflow gets the figures, a failed adopt is harmless."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from mlflow.tracking import MlflowClient

from driftdesk.gates import backtest_policy, load_policy, parse_policy
from driftdesk.tracking import EXPERIMENT, AdoptError, adopt_policy, load_adopted, policy_history, tracking_uri

POLICY = '[policy]\nname = "trk"\n[[gate]]\nname = "nulls"\nmetric = "null_rate:ctr_7d"\nby = "source"\n' \
         'threshold = 0.2\nwindow = "6h"\n'


@pytest.fixture(scope="module")
def backtest(sample_dataset):
    return backtest_policy(sample_dataset, parse_policy(POLICY))


def test_tracking_store_is_the_session_one():
    assert tracking_uri() == os.environ["MLFLOW_TRACKING_URI"]


def test_adopt_writes_new_versions_and_logs_them(tmp_path, backtest):
    policy = parse_policy(POLICY)
    v1 = adopt_policy(policy, backtest=backtest, note="first", folder=tmp_path)
    first_bytes = v1.path.read_bytes()
    v2 = adopt_policy(policy.with_gate(replace(policy.gates[0], threshold=0.3)),
                      backtest=backtest, note="second\nline", folder=tmp_path)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.path.name == "v0001.toml" and v2.path.name == "v0002.toml"
    assert v1.path.read_bytes() == first_bytes  # the earlier version is untouched
    assert load_adopted("trk", 1, folder=tmp_path).gates[0].threshold == 0.2
    assert load_adopted("trk", folder=tmp_path).gates[0].threshold == 0.3
    hist = policy_history("trk", folder=tmp_path)
    assert hist["version"].to_list() == [2, 1]
    assert hist["recall"].to_list() == [backtest.recall] * 2
    assert hist["note"].to_list() == ["second line", "first"]
    run = MlflowClient(tracking_uri()).get_run(v2.run_id)
    assert run.data.metrics["recall"] == pytest.approx(backtest.recall)
    assert run.data.metrics["alerts_per_week"] == pytest.approx(backtest.alerts_per_week)
    assert run.data.params["gate1.threshold"] == "0.3"
    assert run.data.tags["driftdesk.version"] == "2"
    exp = MlflowClient(tracking_uri()).get_experiment_by_name(EXPERIMENT)
    assert exp is not None and run.info.experiment_id == exp.experiment_id


def test_an_existing_version_file_is_never_overwritten(tmp_path):
    policy = parse_policy(POLICY)
    (tmp_path / "trk").mkdir()
    squatter = tmp_path / "trk" / "v0001.toml"
    squatter.write_text("# someone else's file\n")
    v = adopt_policy(policy, folder=tmp_path)
    assert v.version == 2 and squatter.read_text() == "# someone else's file\n"


def test_failed_adopt_leaves_earlier_versions_intact(tmp_path, backtest):
    policy = parse_policy(POLICY)
    v1 = adopt_policy(policy, backtest=backtest, folder=tmp_path)
    before = sorted(p.name for p in (tmp_path / "trk").iterdir())
    content = v1.path.read_bytes()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    with pytest.raises(AdoptError, match="could not log the policy to MLflow"):
        adopt_policy(policy, backtest=backtest, folder=tmp_path, uri=f"sqlite:///{blocker}/x.db")
    assert sorted(p.name for p in (tmp_path / "trk").iterdir()) == before
    assert v1.path.read_bytes() == content
    assert policy_history("trk", folder=tmp_path)["version"].to_list() == [1]


def test_history_of_nothing_is_empty(tmp_path):
    assert policy_history(folder=tmp_path).height == 0
    with pytest.raises(Exception, match="no adopted versions"):
        load_adopted("nope", folder=tmp_path)


def test_adopted_file_is_a_valid_policy(tmp_path):
    v = adopt_policy(parse_policy(POLICY), folder=tmp_path)
    assert load_policy(v.path) == parse_policy(POLICY)
