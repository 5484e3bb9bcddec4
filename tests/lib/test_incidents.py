"""Incidents on the sample: what was live and changed before INC-c, its severity beside the logged one, the
checklist, the gates and the canary that would have caught it, the postmortem export and where alerts come from."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import polars as pl
import pytest

from driftdesk.errors import DriftdeskError
from driftdesk.gates import backtest_policy
from driftdesk.gates.backtest import load_history
from driftdesk.incidents import SEVERITIES, export_postmortem, incident_policy, incident_view


@pytest.fixture(scope="module")
def history(sample_dir):
    return load_history(sample_dir)


@pytest.fixture(scope="module")
def policy(sample_dir, tmp_path_factory):
    return incident_policy(sample_dir, policies=tmp_path_factory.mktemp("no-adopted"))


@pytest.fixture(scope="module")
def backtest(history, policy):
    ds, log = history
    return backtest_policy(ds, policy[0], incidents=log)


@pytest.fixture(scope="module")
def inc_c(history, policy, backtest):
    ds, log = history
    return incident_view(ds, "INC-c", incidents=log, policy=policy[0], policy_source=policy[1], backtest=backtest)


def test_without_an_adopted_policy_the_folder_policy_is_used_and_said(policy):
    assert policy[0].name == "northwind-default"
    assert "policy.toml" in policy[1] and "no policy has been adopted" in policy[1]


def test_an_adopted_policy_comes_first(sample_dir, tmp_path, backtest):
    from driftdesk.tracking import adopt_policy, dataset_key

    adopt_policy(backtest.policy, dataset=dataset_key(sample_dir), note="for the incident view", folder=tmp_path)
    chosen, source = incident_policy(sample_dir, policies=tmp_path)
    assert chosen.name == "northwind-default" and source.startswith("adopted policy northwind-default v1")
    # a version adopted for another data folder is not this folder's
    _, elsewhere = incident_policy(tmp_path, policies=tmp_path)
    assert not elsewhere.startswith("adopted policy")


def test_with_the_data_a_policy_that_does_not_fit_gives_way_to_a_starter(tmp_path, history):
    from driftdesk.gates.view import POLICY_FILE

    (tmp_path / POLICY_FILE).write_text('[policy]\nname = "elsewhere"\n[[gate]]\nname = "x"\n'
                                        'metric = "null_rate:no_such_column"\nthreshold = 0.1\n', encoding="utf-8")
    ds, _ = history
    policy, source = incident_policy(tmp_path, policies=tmp_path / "none", dataset=ds)
    assert policy.name == "starter" and source.startswith("a starter policy generated from the data")


def test_the_default_policy_when_the_folder_has_none(tmp_path):
    _, source = incident_policy(tmp_path, policies=tmp_path / "none")
    assert "default policy" in source


def test_inc_c_what_was_live_and_what_changed(inc_c):
    live = inc_c.live.components.filter(pl.col("component") == "model")
    assert live["release_id"].to_list() == ["model-v1.9", "model-v2.0-canary"]
    releases = inc_c.changes.filter(pl.col("kind") == "release")["what"].to_list()
    assert releases == ["model-v2.0-canary", "model-v2.0-full"]
    assert "decisions.score" in inc_c.changes.filter(pl.col("kind") == "drift")["what"].to_list()
    assert inc_c.asked_at == dt.datetime(2026, 10, 10)  # the first alert that matched it


def test_inc_c_severity_is_suggested_beside_the_logged_one(inc_c):
    assert inc_c.severity_logged == "P1"
    assert inc_c.severity_suggested == "P2"  # DE CPA +10% over the whole incident: drift with 5-20% degradation
    holds = dict(inc_c.evidence.select("severity", "holds").rows())
    assert holds == {"P0": False, "P1": False, "P2": True, "P3": True}
    assert "CPA +10%" in inc_c.evidence.filter(pl.col("severity") == "P2")["detail"][0]


def test_inc_c_checklist_and_gates(inc_c):
    steps = dict(inc_c.checklist.rows())
    assert "geo=DE" in steps["1. Scope: who is affected, and how much?"]
    assert "model-v2.0-full" in steps["2. What changed?"]
    assert steps["3. Roll back or not?"].startswith("Roll back model-v2.0-full to model-v1.9")
    cpa = inc_c.gates.filter(pl.col("gate") == "cpa_by_geo").row(0, named=True)
    assert cpa["caught"] and cpa["delay_hours"] == 120.0 and cpa["segment"] == "geo=DE"
    assert inc_c.rollout["decision"] == "rollback" and inc_c.rollout["segments"][0] == "geo=DE"
    assert 48 <= inc_c.rollout["hours_after_canary_start"] <= 72  # within a day of the full rollout at 10-07


def test_the_json_has_the_contract_keys(inc_c):
    doc = json.loads(json.dumps(inc_c.to_dict(), allow_nan=False))
    assert {"live_release", "changes", "severity_suggested", "severity_logged", "gates"} <= set(doc)
    assert doc["severity_suggested"] in SEVERITIES and doc["live_release"]["release_id"] == "model-v2.0-canary"


def test_an_incident_without_a_release_has_nothing_to_roll_back(history, policy, backtest):
    ds, log = history
    view = incident_view(ds, "INC-b", incidents=log, policy=policy[0], backtest=backtest, judge_canary=False)
    assert view.rollout is None
    assert "nothing to roll back" in dict(view.checklist.rows())["3. Roll back or not?"]


def test_an_unknown_incident_is_named_with_the_known_ones(history, policy, backtest):
    ds, log = history
    with pytest.raises(DriftdeskError, match="unknown incident id 'INC-z'; the incident log has INC-a"):
        incident_view(ds, "INC-z", incidents=log, policy=policy[0], backtest=backtest)


@pytest.mark.slow
def test_the_postmortem_exports_markdown_png_and_json(inc_c, tmp_path):
    out = export_postmortem(inc_c, tmp_path / "pm")
    names = sorted(p.split("/")[-1] for p in out["files"])
    assert names == ["INC-c-postmortem.md", "INC-c-timeline.png", "INC-c.json"], out["notes"]
    assert (tmp_path / "pm" / "INC-c-timeline.png").read_bytes()[:4] == b"\x89PNG"
    md = (tmp_path / "pm" / "INC-c-postmortem.md").read_text()
    assert "![Timeline" in md and "## The first 30 minutes" in md and "Roll back model-v2.0-full" in md
    assert json.loads((tmp_path / "pm" / "INC-c.json").read_text())["severity_logged"] == "P1"


def test_a_failed_export_leaves_nothing_behind(inc_c, tmp_path, monkeypatch):
    import driftdesk.incidents as incidents

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(incidents, "postmortem_markdown", broken)
    with pytest.raises(DriftdeskError, match="disk full"):
        export_postmortem(inc_c, tmp_path / "pm")
    assert list((tmp_path / "pm").iterdir()) == []


def test_the_logs_canaries_judged_once_are_each_incidents_canary(history, policy, backtest):
    from driftdesk.incidents import incident_canaries
    from driftdesk.rollout import judge_rollout

    ds, log = history
    canaries = incident_canaries(ds, incidents=log)
    assert list(canaries) == ["model-v2.0-canary"]
    for incident in log["incident_id"].to_list():
        args = {"incidents": log, "policy": policy[0], "policy_source": policy[1], "backtest": backtest}
        kept, alone = incident_view(ds, incident, canaries=canaries, **args), incident_view(ds, incident, **args)
        assert (kept.rollout, kept.notes) == (alone.rollout, alone.notes)
    whole = judge_rollout(ds["decisions"].frame, control="v1.9", candidate="v2.0", segments=ds["decisions"].segments,
                          start=dt.datetime(2026, 10, 5))  # the whole replay, not stopped at the rollback
    judged = canaries["model-v2.0-canary"]
    assert (judged["decision"], judged["decided_at"], judged["segments"]) == (
        whole.decision, whole.decided_at, whole.broken_segments)


def test_a_canary_that_cannot_be_judged_is_a_note_once_for_the_log(history, policy, backtest):
    from driftdesk.incidents import incident_canaries

    ds, log = history
    unknown = ds["releases"].frame.with_columns(
        pl.when(pl.col("release_id") == "model-v2.0-canary").then(pl.lit("v9.9")).otherwise(pl.col("version"))
        .alias("version"))
    moved = replace(ds, tables={**ds.tables, "releases": replace(ds["releases"], frame=unknown)})
    canaries = incident_canaries(moved, incidents=log)
    assert list(canaries) == ["model-v2.0-canary"] and "could not be judged" in canaries["model-v2.0-canary"]
    args = {"incidents": log, "policy": policy[0], "policy_source": policy[1], "backtest": backtest}
    kept, alone = incident_view(moved, "INC-c", canaries=canaries, **args), incident_view(moved, "INC-c", **args)
    assert kept.rollout is None and kept.notes == alone.notes and canaries["model-v2.0-canary"] in kept.notes


def test_an_incident_is_read_when_no_gate_can_be_made_for_the_data(tmp_path):
    from foreign_data import write_ungateable_folder

    ds = write_ungateable_folder(tmp_path / "data")
    policy, source = incident_policy(ds.folder, dataset=ds)
    assert policy.gates == () and "no table a starter gate can watch" in source
    view = incident_view(ds, "INC-1")
    assert view.gates.height == 0 and view.alerts.height == 0 and not view.caught
    assert any("no gate policy" in n for n in view.notes)
    assert view.checklist.height >= 3 and view.severity_suggested in SEVERITIES
    doc = json.loads(json.dumps(view.to_dict(), default=str))
    assert doc["gates"] == [] and doc["incident"]["incident_id"] == "INC-1"
