"""The release gate (`gates check`) and the CLI contract for `gates backtest` / `gates check`."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from gate_histories import kpis_frame

from driftdesk.cli import main
from driftdesk.errors import PolicyError
from driftdesk.gates import check_release, parse_policy

POLICY = """
[policy]
name = "release"

[[gate]]
name = "cpa_up"
metric = "cpa"
by = ["geo"]
comparison = "week_over_week"
threshold = 0.10
min_sample = 50
action = "rollback"

[[gate]]
name = "cpa_ceiling"
metric = "cpa"
by = []
threshold = 50.0
action = "notify"

[[gate]]
name = "latency"
metric = "latency_p99_ms"
threshold = 0.5
comparison = "day_over_day"
action = "rollback"
"""


@pytest.fixture
def files(tmp_path):
    hours = 48
    base = kpis_frame(np.full((2, hours), 100.0), np.full((2, hours), 10.0), segments={"geo": ["DE", "US"]})
    spend = np.full((2, hours), 100.0)
    spend[0] *= 1.2  # DE CPA 10 -> 12: +20%
    cand = kpis_frame(spend, np.full((2, hours), 10.0), segments={"geo": ["DE", "US"]})
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    base.write_parquet(tmp_path / "base.parquet")
    cand.write_csv(tmp_path / "cand.csv")
    base.write_csv(tmp_path / "same.csv")
    return policy, tmp_path / "base.parquet", tmp_path / "cand.csv", tmp_path / "same.csv"


def test_check_by_hand(files):
    policy, base, cand, _ = files
    r = check_release(parse_policy(POLICY), baseline=base, candidate=cand)
    assert not r.passed
    g = {row["name"]: row for row in r.gates.iter_rows(named=True)}
    assert g["cpa_up"]["passed"] is False and g["cpa_up"]["segment"] == "geo=DE"
    assert g["cpa_up"]["value"] == pytest.approx(0.2)
    assert g["cpa_up"]["candidate_value"] == pytest.approx(12.0) and g["cpa_up"]["baseline_value"] == pytest.approx(10)
    assert g["cpa_ceiling"]["passed"] is True and g["cpa_ceiling"]["value"] == pytest.approx(11.0)
    assert g["latency"]["status"] == "not_applicable" and g["latency"]["passed"] is None
    segs = r.segments.filter(pl.col("name") == "cpa_up")
    assert dict(segs.select("segment", "passed").rows()) == {"geo=DE": False, "geo=US": True}


def test_check_insufficient_sample(files):
    _, base, cand, _ = files
    p = parse_policy(POLICY.replace("min_sample = 50", "min_sample = 100000"))
    g = check_release(p, baseline=base, candidate=cand).gates.row(0, named=True)
    assert g["status"] == "insufficient_sample" and g["passed"] is None and "100000 conversions" in g["reason"]


def test_no_applicable_gate_is_bad_input(files):
    _, base, cand, _ = files
    p = parse_policy('[[gate]]\nmetric = "latency_p99_ms"\nthreshold = 1\n')
    with pytest.raises(PolicyError, match="no gate of the policy applies"):
        check_release(p, baseline=base, candidate=cand)


def test_cli_check_exit_codes_and_keys(files, capsys):
    policy, base, cand, same = files
    assert main(["gates", "check", "--policy", str(policy), "--baseline", str(base), "--candidate", str(cand),
                 "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["passed"] is False
    for g in doc["gates"]:
        assert {"name", "value", "threshold", "passed", "action"} <= set(g)
    assert main(["gates", "check", "--policy", str(policy), "--baseline", str(base), "--candidate", str(same),
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True
    assert main(["gates", "check", "--policy", str(policy), "--baseline", str(base), "--candidate", str(same)]) == 0
    assert "release gate release: PASSED" in capsys.readouterr().out


def test_cli_bad_policy_is_exit_2_with_one_line(files, tmp_path, capsys):
    _, base, cand, _ = files
    bad = tmp_path / "bad.toml"
    bad.write_text('[[gate]]\nmetric = "cpa"\nthreshold = "high"\n')
    assert main(["gates", "check", "--policy", str(bad), "--baseline", str(base), "--candidate", str(cand)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "threshold must be a number" in err and "bad.toml" in err
    bad.write_text('[[gate]]\nmetric = "cpa"\nthreshold = 0.1\nwindow = "24h\n')
    assert main(["gates", "backtest", "--policy", str(bad), "--data", str(tmp_path)]) == 2
    assert "line 4, column" in capsys.readouterr().err


def test_cli_backtest_on_the_sample(sample_dir, capsys):
    assert main(["gates", "backtest", "--policy", str(sample_dir / "policy.toml"), "--data", str(sample_dir),
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for key in ("alerts", "incidents", "precision", "recall", "alerts_per_week", "median_delay_hours"):
        assert key in doc
    assert isinstance(doc["alerts"], list) and doc["alerts"]
    assert all({"caught", "delay_hours"} <= set(i) for i in doc["incidents"])
    assert doc["alerts"][0]["ts"].endswith("Z")


def test_cli_backtest_with_an_empty_incident_log(sample_dir, tmp_path, capsys):
    for name in ("kpis.parquet", "service.parquet"):
        (tmp_path / name).write_bytes((sample_dir / name).read_bytes())
    (tmp_path / "incidents.csv").write_text("incident_id,start,end,layer,severity,segment,cause\n")
    policy = tmp_path / "p.toml"
    policy.write_text('[[gate]]\nmetric = "latency_p99_ms"\ncomparison = "trailing"\nthreshold = 0.5\nwindow = "2h"\n')
    assert main(["gates", "backtest", "--policy", str(policy), "--data", str(tmp_path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["precision"] is None and doc["incidents"] == []
    assert "no incidents are labelled" in doc["reasons"]["precision"]


def golden_frame(release: str, recalls: dict[str, list[float]], passed: dict[str, list[bool]]) -> pl.DataFrame:
    rows = [(release, case, r, recalls[case][r], passed[case][r]) for case in recalls for r in range(len(recalls[case]))]
    return pl.DataFrame(rows, schema=["release_id", "case_id", "repeat", "recall_at_k", "passed"], orient="row")


GOLDEN_POLICY = """
[[gate]]
name = "recall"
metric = "golden_recall_at_k"
comparison = "release"
direction = "below"
threshold = -0.05
action = "rollback"

[[gate]]
name = "pass_rate"
metric = "golden_pass_rate"
direction = "below"
threshold = 0.6
"""


def test_golden_release_check_by_hand(tmp_path):
    # per case: the median over repeats; the release value: the mean over cases
    base = golden_frame("v1", {"a": [0.8, 0.8, 0.9], "b": [0.6, 0.7, 0.8]},
                        {"a": [True, True, False], "b": [False, False, True]})
    cand = golden_frame("v2", {"a": [0.7, 0.8, 0.7], "b": [0.6, 0.6, 0.9]},
                        {"a": [True, True, True], "b": [True, False, True]})
    base.write_csv(tmp_path / "base.csv")
    cand.write_parquet(tmp_path / "cand.parquet")
    r = check_release(parse_policy(GOLDEN_POLICY), baseline=tmp_path / "base.csv", candidate=tmp_path / "cand.parquet")
    g = {row["name"]: row for row in r.gates.iter_rows(named=True)}
    base_recall, cand_recall = (0.8 + 0.7) / 2, (0.7 + 0.6) / 2
    assert g["recall"]["baseline_value"] == pytest.approx(base_recall)
    assert g["recall"]["candidate_value"] == pytest.approx(cand_recall)
    assert g["recall"]["value"] == pytest.approx(cand_recall / base_recall - 1) and g["recall"]["passed"] is False
    assert g["pass_rate"]["value"] == pytest.approx(1.0) and g["pass_rate"]["passed"] is True  # both cases pass
    assert not r.passed


def test_golden_gates_are_release_checks(sample_dataset):
    with pytest.raises(PolicyError, match="golden runs, which have no time"):
        parse_policy('[[gate]]\nmetric = "golden_pass_rate"\ncomparison = "week_over_week"\nthreshold = 0.1\n')
    from driftdesk.gates import backtest_policy, sweep_gate

    mixed = parse_policy(GOLDEN_POLICY + '\n[[gate]]\nname = "nulls"\nmetric = "null_rate:ctr_7d"\nby = "source"\n'
                                         'threshold = 0.2\nwindow = "6h"\n')
    r = backtest_policy(sample_dataset, mixed)
    assert set(r.alerts["gate"].unique()) == {"nulls"}
    assert any("recall: a release check" in n for n in r.notes)
    with pytest.raises(PolicyError, match="release check"):
        sweep_gate(sample_dataset, mixed, "recall")
    with pytest.raises(PolicyError, match="nothing to replay"):
        backtest_policy(sample_dataset, parse_policy(GOLDEN_POLICY))


def test_sample_golden_gate_blocks_the_index_rebuild(sample_dir, tmp_path, capsys):
    runs = pl.read_parquet(sample_dir / "golden_runs.parquet")
    for release in ("prompt-v2", "index-idx-2026-10", "prompt-v3"):
        runs.filter(pl.col("release_id") == release).write_parquet(tmp_path / f"{release}.parquet")
    args = ["gates", "check", "--policy", str(sample_dir / "policy.toml"), "--baseline",
            str(tmp_path / "prompt-v2.parquet"), "--format", "json", "--candidate"]
    assert main([*args, str(tmp_path / "index-idx-2026-10.parquet")]) == 1  # INC-e3: recall@5 0.80 -> 0.74
    doc = json.loads(capsys.readouterr().out)
    gates = {g["name"]: g for g in doc["gates"]}
    # recall 7.5% down: past the 5% warning, short of the 10% block; the pass rate (0.683 -> 0.600) blocks
    assert gates["golden_recall_warn"]["status"] == "warn" and gates["golden_recall_warn"]["passed"] is True
    assert gates["golden_recall"]["status"] == "pass"
    assert gates["golden_recall"]["value"] == pytest.approx((0.74 - 0.80) / 0.80, abs=1e-6)
    assert gates["golden_pass_rate"]["passed"] is False
    assert gates["golden_pass_rate"]["value"] == pytest.approx((72 / 120) / (82 / 120) - 1)
    assert doc["warnings"] == ["golden_recall_warn", "golden_ndcg_warn"]
    assert main([*args, str(tmp_path / "prompt-v3.parquet")]) == 0


def test_cli_reads_an_old_metric_name_with_one_line_on_stderr(tmp_path):
    import subprocess
    import sys

    rng = np.random.default_rng(8)
    for name, mean in (("base", 300), ("cand", 420)):
        pl.DataFrame({"ts": pl.datetime_range(pl.datetime(2026, 1, 5), pl.datetime(2026, 1, 6), "1m", eager=True)[:600],
                      "feature": "chat", "model": "m", "output_tokens": rng.poisson(mean, 600)}).write_parquet(
            tmp_path / f"{name}.parquet")
    docs = {}
    for metric in ("output_tokens_mean", "tokens_out_mean"):
        policy = tmp_path / f"{metric}.toml"
        policy.write_text(f'[[gate]]\nname = "tokens"\nmetric = "{metric}"\ncomparison = "trailing"\nthreshold = 0.2\n')
        proc = subprocess.run([sys.executable, "-m", "driftdesk.cli", "gates", "check", "--policy", str(policy),
                               "--baseline", str(tmp_path / "base.parquet"), "--candidate",
                               str(tmp_path / "cand.parquet"), "--format", "json"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        docs[metric] = (json.loads(proc.stdout), proc.stderr)
    old, new = docs["output_tokens_mean"], docs["tokens_out_mean"]
    assert old[0]["gates"] == new[0]["gates"] and old[0]["gates"][0]["metric"] == "tokens_out_mean"
    assert new[1] == "" and new[0]["notes"] == []
    assert old[1].count("\n") == 1 and "'output_tokens_mean' is deprecated" in old[1]
    assert len(old[0]["notes"]) == 1


FOREIGN_LOG = ("id,began,ended,area,sev,seg,why\n"
               "X-1,2026-09-14T00:00:00Z,2026-09-21T00:00:00Z,business,P2,geo=BR,partner campaign\n")
STANDARD_LOG = ("incident_id,start,end,layer,severity,segment,cause\n"
                "X-1,2026-09-14T00:00:00Z,2026-09-21T00:00:00Z,business,P2,geo=BR,partner campaign\n")


@pytest.mark.parametrize("remembered", [False, True], ids=["proposed", "driftdesk.toml"])
def test_cli_backtest_reads_an_incident_log_under_its_own_column_names(sample_dir, tmp_path, capsys, remembered):
    """The log's columns are mapped as the rest of the folder is (proposed from content, or remembered in
    driftdesk.toml): the backtest scores the same incidents as with the contract's own names."""
    policy = tmp_path / "p.toml"
    policy.write_text('[[gate]]\nname = "cpa_geo"\nmetric = "cpa"\nby = ["geo"]\ncomparison = "week_over_week"\n'
                      'threshold = 0.3\nwindow = "1d"\n')
    docs = []
    for name, log in (("standard", STANDARD_LOG), ("foreign", FOREIGN_LOG)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "kpis.parquet").write_bytes((sample_dir / "kpis.parquet").read_bytes())
        (folder / ("outages.csv" if name == "foreign" else "incidents.csv")).write_text(log)
        if remembered and name == "foreign":
            (folder / "driftdesk.toml").write_text(
                '[mapping.incidents]\nfile = "outages.csv"\nincident_id = "id"\nstart = "began"\nend = "ended"\n'
                'layer = "area"\nseverity = "sev"\nsegment = "seg"\ncause = "why"\n')
        code = main(["gates", "backtest", "--policy", str(policy), "--data", str(folder), "--format", "json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        docs.append(json.loads(out))
    standard, foreign = docs
    assert [(i["incident_id"], i["start"], i["layer"], i["severity"]) for i in foreign["incidents"]] == \
        [("X-1", "2026-09-14T00:00:00Z", "business", "P2")]
    if remembered:  # every column named, so the same incident as under the contract's names
        assert foreign["incidents"] == standard["incidents"] and foreign["recall"] == standard["recall"]
