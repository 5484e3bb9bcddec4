"""Adopting policies: new versions never overwrite old ones, they belong to one dataset, MLflow gets the figures, and
an adopt either completes (file, record, FINISHED run) or leaves no trace, also when two processes adopt at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from driftdesk.errors import DriftdeskError
from driftdesk.gates import backtest_policy, load_policy, parse_policy
from driftdesk.tracking import (
    EXPERIMENT,
    AdoptError,
    TrackingError,
    adopt_policy,
    check_version,
    dataset_key,
    latest_adopted,
    load_adopted,
    path_part,
    policy_history,
    tracking_uri,
)

POLICY = '[policy]\nname = "trk"\n[[gate]]\nname = "nulls"\nmetric = "null_rate:ctr_7d"\nby = "source"\n' \
         'threshold = 0.2\nwindow = "6h"\n'
DATA = "sample-data-0123456789ab"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def backtest(sample_dataset):
    return backtest_policy(sample_dataset, parse_policy(POLICY))


def runs_of(name: str, *, deleted: bool = False):
    """Every run of the gates experiment for policy ``name`` (deleted ones too with ``deleted``)."""
    from mlflow.entities import ViewType

    client = MlflowClient(tracking_uri())
    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is None:
        return []
    return client.search_runs([exp.experiment_id], filter_string=f"tags.`driftdesk.policy` = '{name}'",
                              run_view_type=ViewType.ALL if deleted else ViewType.ACTIVE_ONLY)


def test_tracking_store_is_the_session_one():
    assert tracking_uri() == os.environ["MLFLOW_TRACKING_URI"]


def test_adopt_writes_new_versions_and_logs_them(tmp_path, backtest):
    policy = parse_policy(POLICY)
    v1 = adopt_policy(policy, dataset=DATA, backtest=backtest, note="first", folder=tmp_path)
    first_bytes = v1.path.read_bytes()
    v2 = adopt_policy(policy.with_gate(replace(policy.gates[0], threshold=0.3)), dataset=DATA,
                      backtest=backtest, note="second\nline", folder=tmp_path)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.path == tmp_path / DATA / "trk" / "v0001.toml" and v2.path.name == "v0002.toml"
    assert v1.path.read_bytes() == first_bytes  # the earlier version is untouched
    assert load_adopted("trk", 1, dataset=DATA, folder=tmp_path).gates[0].threshold == 0.2
    assert load_adopted("trk", dataset=DATA, folder=tmp_path).gates[0].threshold == 0.3
    hist = policy_history("trk", dataset=DATA, folder=tmp_path)
    assert hist["version"].to_list() == [2, 1]
    assert hist["recall"].to_list() == [backtest.recall] * 2
    assert hist["note"].to_list() == ["second line", "first"]
    assert hist["dataset"].to_list() == [DATA, DATA]
    client = MlflowClient(tracking_uri())
    run = client.get_run(v2.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["recall"] == pytest.approx(backtest.recall)
    assert run.data.metrics["alerts_per_week"] == pytest.approx(backtest.alerts_per_week)
    assert run.data.params["gate1.threshold"] == "0.3"
    assert run.data.tags["driftdesk.version"] == "2" and run.data.tags["driftdesk.dataset"] == DATA
    exp = client.get_experiment_by_name(EXPERIMENT)
    assert exp is not None and run.info.experiment_id == exp.experiment_id
    assert latest_adopted(DATA, folder=tmp_path).version == 2


def test_versions_belong_to_one_dataset(tmp_path, sample_dir):
    here, there = dataset_key(sample_dir), dataset_key(tmp_path)
    assert here != there and dataset_key(sample_dir / ".." / sample_dir.name) == here  # the resolved folder
    policy = parse_policy(POLICY)
    adopt_policy(policy, dataset=here, folder=tmp_path / "store")
    assert policy_history(dataset=there, folder=tmp_path / "store").height == 0
    assert latest_adopted(there, folder=tmp_path / "store") is None
    with pytest.raises(DriftdeskError, match="no adopted versions"):
        load_adopted("trk", dataset=there, folder=tmp_path / "store")
    mine = adopt_policy(policy, dataset=there, folder=tmp_path / "store")
    assert mine.version == 1  # numbered per dataset
    assert policy_history(dataset=here, folder=tmp_path / "store")["dataset"].to_list() == [here]
    everything = policy_history(dataset=None, folder=tmp_path / "store")
    assert sorted(everything["dataset"].to_list()) == sorted([here, there])


def test_the_latest_adoption_is_of_any_policy_name(tmp_path):
    adopt_policy(parse_policy(POLICY), dataset=DATA, folder=tmp_path)
    time.sleep(0.01)
    other = adopt_policy(parse_policy(POLICY.replace('"trk"', '"other"')), dataset=DATA, folder=tmp_path)
    latest = latest_adopted(DATA, folder=tmp_path)
    assert (latest.name, latest.version, latest.run_id) == ("other", 1, other.run_id)
    assert latest.load() == parse_policy(POLICY.replace('"trk"', '"other"'))


def test_an_existing_version_file_is_never_overwritten(tmp_path):
    policy = parse_policy(POLICY)
    (tmp_path / DATA / "trk").mkdir(parents=True)
    squatter = tmp_path / DATA / "trk" / "v0001.toml"
    squatter.write_text("# someone else's file\n")
    v = adopt_policy(policy, dataset=DATA, folder=tmp_path)
    assert v.version == 2 and squatter.read_text() == "# someone else's file\n"
    # a version file without its record is incomplete: not listed, not loaded, its number not reused
    assert policy_history(dataset=DATA, folder=tmp_path)["version"].to_list() == [2]


def test_a_failed_store_leaves_earlier_versions_intact(tmp_path, backtest):
    policy = parse_policy(POLICY)
    v1 = adopt_policy(policy, dataset=DATA, backtest=backtest, folder=tmp_path)
    before = sorted(p.name for p in (tmp_path / DATA / "trk").iterdir())
    content = v1.path.read_bytes()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    with pytest.raises(AdoptError, match="could not log the policy to MLflow.*nothing was adopted"):
        adopt_policy(policy, dataset=DATA, backtest=backtest, folder=tmp_path, uri=f"sqlite:///{blocker}/x.db")
    assert sorted(p.name for p in (tmp_path / DATA / "trk").iterdir()) == before
    assert v1.path.read_bytes() == content
    assert policy_history("trk", dataset=DATA, folder=tmp_path)["version"].to_list() == [1]


@pytest.mark.parametrize("fails", ["log_batch", "log_text", "set_terminated"])
def test_a_failing_mlflow_logger_leaves_no_trace(tmp_path, monkeypatch, fails):
    """MLflow fails after the run was created: no file, no record, and the run FAILED, deleted, without a number."""
    name = f"atomic-{fails}"
    policy = parse_policy(POLICY.replace('"trk"', f'"{name}"'))
    real = getattr(MlflowClient, fails)

    def broken(self, run_id, *args, **kwargs):
        if fails == "set_terminated" and (args[:1] == ("FAILED",) or kwargs.get("status") == "FAILED"):
            return real(self, run_id, *args, **kwargs)  # marking the run FAILED still works
        raise RuntimeError(f"store went away during {fails}\nsecond line")

    monkeypatch.setattr(MlflowClient, fails, broken)
    with pytest.raises(AdoptError, match=f"store went away during {fails}; nothing was adopted"):
        adopt_policy(policy, dataset=DATA, folder=tmp_path)
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / DATA / name).iterdir()] == []  # no file, no record, no temporary file
    [run] = runs_of(name, deleted=True)
    assert run.info.status == "FAILED" and run.info.lifecycle_stage == "deleted"
    assert "driftdesk.version" not in run.data.tags
    # the number is free again, and exactly one run carries it
    again = adopt_policy(policy, dataset=DATA, folder=tmp_path)
    assert again.version == 1
    live = runs_of(name)
    assert [(r.info.run_id, r.data.tags["driftdesk.version"], r.info.status) for r in live] == [
        (again.run_id, "1", "FINISHED")]


CONCURRENT = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from driftdesk.gates import parse_policy
    from driftdesk.tracking import adopt_policy
    go = Path(sys.argv[1])
    Path(sys.argv[3]).touch()  # imported and waiting
    while not go.exists():
        time.sleep(0.005)
    policy = parse_policy('[policy]\\nname = "both"\\n[[gate]]\\nname = "g"\\nmetric = "cpa"\\nthreshold = 1.0\\n')
    v = adopt_policy(policy, dataset="race-0123456789ab", note=sys.argv[2])
    print(json.dumps({"version": v.version, "run_id": v.run_id}))
""")


@pytest.mark.slow
def test_two_concurrent_adopts_on_a_fresh_store_both_succeed(tmp_path):
    """Two processes adopt at the same moment into a store that does not exist yet: two versions, two runs."""
    home = tmp_path / "home"
    env = {**os.environ, "DRIFTDESK_HOME": str(home), "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "lib"), os.environ.get("PYTHONPATH", "")])}
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(go), f"process {i}", str(ready[i])], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # both start adopting at the same moment
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["version"] for r in results) == [1, 2]
    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    for r in results:
        run = client.get_run(r["run_id"])
        assert run.info.status == "FINISHED"
        assert run.data.tags["driftdesk.version"] == str(r["version"])
    folder = home / "policies" / "race-0123456789ab" / "both"
    assert sorted(p.name for p in folder.iterdir()) == ["v0001.json", "v0001.toml", "v0002.json", "v0002.toml"]
    notes = {json.loads((folder / f"v000{r['version']}.json").read_text())["note"] for r in results}
    assert notes == {"process 0", "process 1"}


def test_an_unreachable_tracking_server_fails_within_seconds(tmp_path):
    """A server that accepts the connection and never answers: AdoptError within seconds, nothing written."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(AdoptError, match="did not answer within"):
            adopt_policy(parse_policy(POLICY), dataset=DATA, folder=tmp_path, uri=uri)
        assert time.monotonic() - start < 10
    assert not (tmp_path / DATA).exists()


def test_a_refused_connection_fails_at_once(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    start = time.monotonic()
    with pytest.raises(AdoptError, match="MLFLOW_TRACKING_URI"):
        adopt_policy(parse_policy(POLICY), dataset=DATA, folder=tmp_path, uri=f"http://127.0.0.1:{port}")
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("bad", ["..", ".", "../x", "a/b", "a\\b", "x\x00y", ".hidden", "con", "NUL.txt", "lpt1",
                                 "c:evil", "tab\there", "x" * 201])
def test_names_that_would_leave_their_folder_are_refused(tmp_path, bad):
    with pytest.raises(TrackingError):
        path_part(bad, "policy name")
    with pytest.raises(TrackingError):
        adopt_policy(parse_policy(POLICY), dataset=bad, folder=tmp_path)
    with pytest.raises(TrackingError):
        policy_history(bad, dataset=DATA, folder=tmp_path)
    with pytest.raises(TrackingError):
        load_adopted("trk", dataset=bad, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_policy_name_that_would_leave_its_folder_is_refused(tmp_path):
    # a policy file's name may be any of letters, digits and _ - . : (the policy parser's rule); ".." among them
    for name in ("..", "a:b"):
        policy = replace(parse_policy(POLICY), name=name)
        with pytest.raises(TrackingError, match="policy name"):
            adopt_policy(policy, dataset=DATA, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [0, -1, True, "1", "../1", 1.0, None])
def test_version_numbers_are_whole_numbers(tmp_path, bad):
    with pytest.raises(TrackingError):
        check_version(bad)
    adopt_policy(parse_policy(POLICY), dataset=DATA, folder=tmp_path)
    if bad is not None:
        with pytest.raises(TrackingError):
            load_adopted("trk", bad, dataset=DATA, folder=tmp_path)


def test_history_of_nothing_is_empty(tmp_path):
    assert policy_history(dataset=None, folder=tmp_path).height == 0
    assert policy_history(dataset=DATA, folder=tmp_path).height == 0
    with pytest.raises(DriftdeskError, match="no adopted versions"):
        load_adopted("nope", dataset=DATA, folder=tmp_path)


def test_adopted_file_is_a_valid_policy(tmp_path):
    v = adopt_policy(parse_policy(POLICY), dataset=DATA, folder=tmp_path)
    assert load_policy(v.path) == parse_policy(POLICY)
