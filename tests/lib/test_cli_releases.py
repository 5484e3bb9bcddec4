"""`driftdesk releases`, `canary` and `incident` as a pipeline sees them: exit codes, JSON keys of the CLI contract,
one-line errors for bad input."""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import pytest

from driftdesk.cli import main
from driftdesk.releases import MANIFEST_FIELDS


def run(*args: str) -> tuple[int, dict | str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "--format", "json"])
    text = out.getvalue()
    return code, (json.loads(text) if text.strip() else text), err.getvalue()


@pytest.fixture
def manifests(tmp_path):
    a = dict.fromkeys(MANIFEST_FIELDS) | {"model_version": "v1.9", "thresholds": {"bid": 0.28}, "git_commit": "75b06ba"}
    b = {**a, "model_version": "v2.0", "git_commit": "6a5aad9"}
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(dict(reversed(list(b.items())))))
    (tmp_path / "bad.json").write_text(json.dumps({k: v for k, v in a.items() if k != "config"}))
    return tmp_path


def test_releases_id_and_diff(manifests):
    code, doc, _ = run("releases", "id", "--manifest", str(manifests / "a.json"))
    assert code == 0 and doc["release_id"].startswith("rel-")
    code, diff, _ = run("releases", "diff", "--baseline", str(manifests / "a.json"), "--candidate",
                        str(manifests / "b.json"))
    assert code == 0 and [c["field"] for c in diff["changed"]] == ["model_version", "git_commit"]
    assert diff["baseline"] == doc["release_id"]


def test_a_manifest_missing_a_field_exits_2_with_one_line(manifests):
    code, _, err = run("releases", "id", "--manifest", str(manifests / "bad.json"))
    assert code == 2 and "missing field(s) ['config']" in err and err.count("\n") == 1


def test_releases_live(sample_dir):
    code, doc, _ = run("releases", "live", "--data", str(sample_dir), "--at", "2026-10-06T00:00")
    assert code == 0 and doc["release_id"] == "model-v2.0-canary"
    model = [c for c in doc["components"] if c["component"] == "model"]
    assert [(c["role"], c["release_id"]) for c in model] == [("live", "model-v1.9"), ("canary", "model-v2.0-canary")]


def test_releases_live_before_the_first_release_says_so(sample_dir):
    code, doc, _ = run("releases", "live", "--data", str(sample_dir), "--at", "2020-01-01T00:00")
    assert code == 0 and doc["release_id"] is None and doc["components"] == []
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["releases", "live", "--data", str(sample_dir), "--at", "2020-01-01T00:00"]) == 0
    assert "no release before this moment" in out.getvalue() and "None" not in out.getvalue()


def test_releases_live_refuses_overlapping_releases(sample_dir, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    text = (sample_dir / "releases.csv").read_text().splitlines()
    dup = text[-1].replace("config-2026-10-26", "config-2026-10-26b")
    (folder / "releases.csv").write_text("\n".join([*text, dup]) + "\n")
    code, _, err = run("releases", "live", "--data", str(folder))
    assert code == 2 and "overlapping releases" in err and "config-2026-10-26b" in err


def test_releases_live_names_the_missing_releases_table(tmp_path):
    (tmp_path / "log.csv").write_text("event_ts,lead_score,won\n2026-03-01T00:00:00Z,0.4,1\n"
                                      "2026-03-01T01:00:00Z,0.2,0\n")
    code, _, err = run("releases", "live", "--data", str(tmp_path))
    assert code == 2 and "no releases table found" in err and "decisions" in err
    assert "no contract tables found" not in err


def test_canary_default_policy_leaves_out_gates_the_table_cannot_judge(tmp_path):
    import datetime as dt

    import numpy as np
    import polars as pl

    rng = np.random.default_rng(0)
    n = 4000
    ts = [dt.datetime(2026, 6, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 6 * 1440, n))]
    score = rng.uniform(0.05, 0.6, n)
    pl.DataFrame({"ts": ts, "score": score, "label": (rng.random(n) < score).astype(int),
                  "model_version": rng.choice(["m1", "m2"], n)}).write_parquet(tmp_path / "decisions.parquet")
    code, doc, err = run("canary", "--data", str(tmp_path), "--control", "m1", "--candidate", "m2")
    assert code in (0, 1), err
    assert "cpa" not in {s["gate"] for s in doc["segments"]} and "conversion_rate" in {s["gate"] for s in doc["segments"]}
    assert any("'cpa'" in n and "spend" in n and "left out" in n for n in doc["notes"])
    policy = tmp_path / "rollout.toml"
    policy.write_text('[[gate]]\nname = "cpa"\nmetric = "cpa"\ncomparison = "release"\nthreshold = 0.1\n'
                      'direction = "above"\nwindow = "48h"\naction = "rollback"\n')
    code, _, err = run("canary", "--data", str(tmp_path), "--control", "m1", "--candidate", "m2", "--policy", str(policy))
    assert code == 2 and "'spend'" in err and "__arm" not in err


@pytest.mark.slow
def test_canary_exits_1_on_rollback_with_the_contract_keys(sample_dir):
    code, doc, _ = run("canary", "--data", str(sample_dir), "--control", "v1.9", "--candidate", "v2.0", "--by", "geo")
    assert code == 1 and doc["decision"] == "rollback"
    assert "2026-10-07" <= doc["decided_at"] < "2026-10-09"  # a day after the full rollout, the control still live
    row = doc["segments"][0]
    assert {"geo", "metric", "control", "candidate", "change", "ci_low", "ci_high", "verdict"} <= set(row)
    assert {s["segment"] for s in doc["segments"] if s["verdict"] == "breach" and s["action"] == "rollback"} == {"geo=DE"}
    assert doc["correction"] == "overlap"
    # the Bonferroni split of the looks still answers as before: the same decision, wider intervals on ratio gates
    code, split, _ = run("canary", "--data", str(sample_dir), "--control", "v1.9", "--candidate", "v2.0", "--by", "geo",
                         "--correction", "bonferroni")
    assert code == 1 and (split["correction"], split["decided_at"]) == ("bonferroni", doc["decided_at"])
    level = {(s["gate"], s["segment"]): s["level"] for s in doc["segments"]}
    assert all(s["level"] > level[(s["gate"], s["segment"])] for s in split["segments"] if s["gate"] == "cpa")
    assert all(s["level"] == level[(s["gate"], s["segment"])] for s in split["segments"] if s["gate"] == "ece")


def test_canary_with_an_unknown_version_exits_2(sample_dir):
    code, _, err = run("canary", "--data", str(sample_dir), "--control", "v1.8", "--candidate", "v2.0")
    assert code == 2 and "no column holds both the control 'v1.8'" in err


@pytest.mark.slow
def test_incident_with_export(sample_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    code, doc, _ = run("incident", "--data", str(data), "--id", "INC-e2", "--export", str(tmp_path / "pm"))
    assert code == 0
    assert {"live_release", "changes", "severity_suggested", "severity_logged", "gates"} <= set(doc)
    assert doc["severity_logged"] == "P1" and doc["severity_suggested"] in ("P0", "P1", "P2", "P3")
    assert sorted(p.rsplit("/", 1)[-1] for p in doc["export"]["files"]) == [
        "INC-e2-postmortem.md", "INC-e2-timeline.png", "INC-e2.json"]


def test_incident_unknown_id_exits_2(sample_dir):
    code, _, err = run("incident", "--data", str(sample_dir), "--id", "INC-z")
    assert code == 2 and "unknown incident id 'INC-z'" in err


def test_incident_in_a_folder_without_an_incident_log_says_so(sample_dir, tmp_path):
    for name in ("kpis.parquet", "decisions.parquet", "releases.csv"):
        shutil.copy(sample_dir / name, tmp_path / name)
    code, _, err = run("incident", "--data", str(tmp_path), "--id", "INC-a")
    assert code == 2 and "no incident log" in err and "the log is empty" not in err


@pytest.mark.parametrize("log", [
    "incident_id,start,end,layer,severity,segment,cause\n"
    "INC-1,2026-03-10T06:00:00Z,2026-03-10T16:00:00Z,model,P2,region=north,x\n",
    "incident_id,start\nINC-1,2026-03-10T06:00:00Z\n",  # a log of ids and starts only: no layer, no cause
], ids=["whole log", "ids and starts only"])
def test_incident_table_without_releases_says_none_was_recorded(tmp_path, log):
    import datetime as dt

    import numpy as np
    import polars as pl

    rng = np.random.default_rng(1)
    n = 12000
    ts = [dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 14 * 1440, n))]
    score = rng.random(n)
    pl.DataFrame({"ts": ts, "score": score, "label": (rng.random(n) < score).astype(int),
                  "region": rng.choice(["north", "south"], n), "age_days": rng.exponential(5, n)}).write_parquet(
        tmp_path / "decisions.parquet")
    (tmp_path / "incidents.csv").write_text(log)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["incident", "--data", str(tmp_path), "--id", "INC-1", "--format", "table"])
    assert code == 0, err.getvalue()
    assert "live at the start: no release recorded" in out.getvalue() and "None" not in out.getvalue()
