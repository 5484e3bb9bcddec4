"""Release rules: gates that only warn, golden cases that flipped, one release's rows picked from a folder, and
daily budgets replayed on history (each against a hand computation)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from gate_histories import T0, dataset
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.errors import PolicyError
from driftdesk.gates import backtest_policy, check_release, parse_policy
from driftdesk.gates.evaluate import FileTables
from driftdesk.golden import compare_golden

FLIPS = """
[[gate]]
name = "known_failure_flips"
metric = "golden_flips_to_fail"
filter = { case_kind = ["known_failure"] }
comparison = "release"
threshold = 0
action = "rollback"

[[gate]]
name = "pass_rate_warn"
metric = "golden_pass_rate"
comparison = "release"
threshold = -0.05
direction = "below"
on_fail = "warn"
"""


def runs(release: str, verdicts: dict[str, list[bool]], kinds: dict[str, str]) -> pl.DataFrame:
    rows = [(release, case, kinds[case], i, p) for case, passes in verdicts.items() for i, p in enumerate(passes)]
    return pl.DataFrame(rows, schema=["release_id", "case_id", "case_kind", "repeat", "passed"], orient="row")


KINDS = {"a": "known_failure", "b": "known_failure", "c": "happy", "d": "happy", "e": "edge"}
BASE = {"a": [True, True, False], "b": [False, False, True], "c": [True, True, True], "d": [True, False, False],
        "e": [True, True, True]}
CAND = {"a": [False, True, False], "b": [True, True, False], "c": [False, False, True], "d": [True, True, False],
        "e": [True, True, True]}


def test_flips_and_a_warning_by_hand():
    # a: pass (2/3) -> fail (2 of 3 fail), known failure; b: fail -> pass; c: pass -> fail (happy); d: fail -> pass
    base, cand = dataset(golden_runs=runs("r1", BASE, KINDS)), dataset(golden_runs=runs("r2", CAND, KINDS))
    result = check_release(parse_policy(FLIPS), baseline=base, candidate=cand)
    gates = {r["name"]: r for r in result.gates.iter_rows(named=True)}
    assert gates["known_failure_flips"]["value"] == 1.0 and gates["known_failure_flips"]["passed"] is False
    # pass rate 3/5 -> 3/5: unchanged, no warning; the check fails on the flip alone
    assert gates["pass_rate_warn"]["status"] == "pass" and not result.passed
    golden = compare_golden(pl.concat([runs("r1", BASE, KINDS), runs("r2", CAND, KINDS)]), baseline="r1",
                            candidate="r2")
    flips = {r["case_id"]: r for r in golden.flips.iter_rows(named=True)}
    assert {c: r["flip"] for c, r in flips.items()} == {"a": "pass_to_fail", "c": "pass_to_fail", "b": "fail_to_pass",
                                                        "d": "fail_to_pass"}
    assert (flips["a"]["agreeing_baseline"], flips["a"]["agreeing_candidate"]) == (2, 2)
    assert (flips["c"]["agreeing_baseline"], flips["c"]["agreeing_candidate"]) == (3, 2)
    assert golden.flipped("known_failure")["case_id"].to_list() == ["a"]
    assert golden.flips["case_id"].to_list() == ["a", "c", "b", "d"]  # to fail first, known failures first


def test_a_warning_gate_reports_but_does_not_block():
    worse = {**BASE, "e": [False, False, True]}  # one case fewer passes: 3/5 -> 2/5
    base, cand = dataset(golden_runs=runs("r1", BASE, KINDS)), dataset(golden_runs=runs("r2", worse, KINDS))
    policy = parse_policy(FLIPS.replace("known_failure\"]", "happy\"]"))  # c stays, so flips of happy: 0
    result = check_release(policy, baseline=base, candidate=cand)
    row = result.gates.filter(pl.col("name") == "pass_rate_warn").row(0, named=True)
    assert row["status"] == "warn" and row["passed"] is True and row["on_fail"] == "warn"
    assert row["value"] == pytest.approx((2 / 5) / (3 / 5) - 1)
    assert result.passed and result.to_dict()["warnings"] == ["pass_rate_warn"]
    assert "warns, does not block" in policy.gate("pass_rate_warn").describe()


def test_without_a_kind_column_the_flip_gate_does_not_apply():
    plain = {k: runs(r, v, KINDS).drop("case_kind") for k, r, v in (("b", "r1", BASE), ("c", "r2", CAND))}
    result = check_release(parse_policy(FLIPS), baseline=dataset(golden_runs=plain["b"]),
                           candidate=dataset(golden_runs=plain["c"]))
    row = result.gates.filter(pl.col("name") == "known_failure_flips").row(0, named=True)
    assert row["status"] == "not_applicable" and "golden_flips_to_fail" in row["reason"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(st.booleans(), min_size=1, max_size=4), st.lists(st.booleans(), min_size=1,
                                                                                     max_size=4)),
                min_size=1, max_size=12))
def test_flip_count_is_the_pass_rate_change(cases):
    """Over paired cases: candidate pass rate - baseline pass rate = (fail->pass - pass->fail) / cases; the gate's
    count equals the comparison's, and swapping the releases swaps the two directions."""
    kinds = {f"k{i}": "edge" for i in range(len(cases))}
    b = runs("b", {f"k{i}": x for i, (x, _) in enumerate(cases)}, kinds)
    c = runs("c", {f"k{i}": y for i, (_, y) in enumerate(cases)}, kinds)
    golden = compare_golden(pl.concat([b, c]), baseline="b", candidate="c")
    total = golden.by_kind.row(0, named=True)
    assert total["change_pp"] == pytest.approx((golden.flips_to_pass - golden.flips_to_fail) / len(cases))
    back = compare_golden(pl.concat([b, c]), baseline="c", candidate="b")
    assert (back.flips_to_fail, back.flips_to_pass) == (golden.flips_to_pass, golden.flips_to_fail)
    gate = parse_policy('[[gate]]\nmetric = "golden_flips_to_fail"\ncomparison = "release"\nthreshold = 0\n')
    check = check_release(gate, baseline=dataset(golden_runs=b), candidate=dataset(golden_runs=c))
    assert check.gates["value"][0] == golden.flips_to_fail


def test_flips_need_a_release_comparison():
    with pytest.raises(PolicyError, match="comparison must be 'release'"):
        parse_policy('[[gate]]\nmetric = "golden_flips_to_fail"\nthreshold = 0\n')


def test_one_release_picked_from_a_shared_file(tmp_path):
    both = pl.concat([runs("r1", BASE, KINDS), runs("r2", CAND, KINDS)])
    both.write_parquet(tmp_path / "golden.parquet")
    folder = FileTables(tmp_path / "golden.parquet")
    result = check_release(parse_policy(FLIPS), baseline=folder, candidate=folder, baseline_release="r1",
                           candidate_release="r2")
    assert result.gates.filter(pl.col("name") == "known_failure_flips")["value"][0] == 1.0
    with pytest.raises(PolicyError, match=r"candidate release 'r9' is in no table.*r1, r2"):
        check_release(parse_policy(FLIPS), baseline=folder, candidate=folder, baseline_release="r1",
                      candidate_release="r9")


def test_cli_picks_releases_from_the_sample_and_names_unknown_ones(sample_dir, capsys):
    import json

    from driftdesk.cli import main

    args = ["gates", "check", "--policy", str(sample_dir / "policy.toml"), "--baseline", str(sample_dir),
            "--candidate", str(sample_dir), "--baseline-release", "prompt-v2", "--format", "json"]
    assert main([*args, "--candidate-release", "llm-provider-m-2026-09"]) == 1  # INC-e2
    gates = {g["name"]: g for g in json.loads(capsys.readouterr().out)["gates"]}
    assert gates["llm_validator_failures"]["status"] == "fail"
    assert gates["golden_known_failure_flips"]["value"] == 1.0  # case-098 passed 3 of 3, now fails 2 of 3
    assert gates["cpa_by_geo"]["status"] == "not_applicable"  # kpis have no release_id
    assert main([*args, "--candidate-release", "prompt-v9"]) == 2
    assert "'prompt-v9' is in no table" in capsys.readouterr().err


# --------------------------------------------------------------------------- budgets

BUDGET = """
[[gate]]
name = "budget"
metric = "budget_burn:cost"
by = ["feature"]
budget = { chat = 10.0, search = 4.0 }
threshold = 0.8
action = "notify"
"""


def calls_frame(days: int = 4, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * 24 * 20
    minutes = np.sort(rng.integers(0, days * 24 * 60, n))
    return pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=int(m)) for m in minutes],
                         "feature": rng.choice(["chat", "search", "other"], n),
                         "cost": rng.gamma(2.0, 0.006, n) * np.where(minutes >= 2 * 1440, 2.0, 1.0)})


def expected_budget_alerts(calls: pl.DataFrame, budgets: dict[str, float], share: float) -> list[tuple]:
    """By hand: per feature and day, the first hour end 01:00..23:00 at which that day's spend exceeds the share."""
    out = []
    for feature, budget in budgets.items():
        part = calls.filter(pl.col("feature") == feature)
        for day in sorted({t.date() for t in part["ts"]}):
            midnight = dt.datetime.combine(day, dt.time())
            for hour in range(1, 24):
                end = midnight + dt.timedelta(hours=hour)
                spent = part.filter((pl.col("ts") >= midnight) & (pl.col("ts") < end))["cost"].sum()
                if spent > share * budget:
                    out.append((end, f"feature={feature}"))
                    break
    return sorted(out)


def test_budget_alerts_replay_the_first_crossing_of_each_day():
    calls = calls_frame()
    result = backtest_policy(dataset(llm_calls=calls), parse_policy(BUDGET), incidents=pl.DataFrame())
    got = sorted(zip(result.alerts["ts"].to_list(), result.alerts["segment"].to_list()))
    want = expected_budget_alerts(calls, {"chat": 10.0, "search": 4.0}, 0.8)
    assert got == want and len(want) >= 2  # the costlier days alert; "other" has no budget and never alerts
    assert set(result.alerts["segment"]) <= {"feature=chat", "feature=search"}


def test_a_single_budget_applies_to_every_segment_and_round_trips():
    policy = parse_policy(BUDGET.replace("budget = { chat = 10.0, search = 4.0 }", "budget = 6"))
    gate = policy.gate("budget")
    assert gate.budget_for("feature=chat") == 6.0 == gate.budget_for("feature=other")
    assert parse_policy(policy.to_toml()) == policy
    assert "share of the daily budget" in gate.describe()
    with_cost_gate = parse_policy(policy.to_toml() + '\n[[gate]]\nmetric = "cost_per_call"\nthreshold = 1\n')
    calls = dataset(llm_calls=calls_frame())
    result = check_release(with_cost_gate, baseline=calls, candidate=calls)
    assert result.gates["status"][0] == "not_applicable" and "over time" in result.gates["reason"][0]
    with pytest.raises(PolicyError, match="no gate of the policy applies"):
        check_release(policy, baseline=calls, candidate=calls)


@pytest.mark.parametrize(("text", "message"), [
    ("budget = 0", "positive amount per day.*budget of zero"),
    ("budget = { chat = -1.0 }", "budget.chat must be a positive"),
    ("budget = \"ten\"", "must be a number"),
    ("budget = {}", "empty table"),
    ("", "needs budget"),
    ("budget = 5\nwindow = \"6h\"", "remove window"),
    ("budget = 5\ncomparison = \"day_over_day\"", "comparison must be 'absolute'"),
])
def test_bad_budgets_are_named(text, message):
    body = BUDGET.replace("budget = { chat = 10.0, search = 4.0 }", text)
    with pytest.raises(PolicyError, match=message):
        parse_policy(body)


def test_a_budget_on_another_metric_is_refused():
    with pytest.raises(PolicyError, match="budget belongs to a budget_burn"):
        parse_policy('[[gate]]\nmetric = "cost_per_call"\nthreshold = 1\nbudget = 5\n')


def test_a_release_only_in_the_release_log_has_no_rows_to_check(tmp_path, capsys):
    """The releases log lists model-v2, but no table of rows carries a release_id: the check says that the rows
    cannot be told apart by release (it said no gate applies), and a release id the log lacks is still unknown."""
    import datetime as dt

    from driftdesk.cli import main

    rng = np.random.default_rng(4)
    n = 4000
    ts = [dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=5 * i) for i in range(n)]
    score = rng.random(n)
    pl.DataFrame({"ts": ts, "score": score, "label": (rng.random(n) < score).astype(int),
                  "age_days": rng.exponential(5, n)}).write_parquet(tmp_path / "decisions.parquet")
    (tmp_path / "releases.csv").write_text("ts,release_id,component,version\n"
                                           "2026-03-01T00:00:00Z,model-v1,model,v1\n"
                                           "2026-03-08T00:00:00Z,model-v2,model,v2\n")
    policy = tmp_path / "p.toml"
    policy.write_text('[[gate]]\nmetric = "null_rate:age_days"\ncomparison = "absolute"\nthreshold = 0.1\n')
    args = ["gates", "check", "--policy", str(policy), "--baseline", str(tmp_path), "--candidate", str(tmp_path),
            "--baseline-release", "model-v1", "--candidate-release", "model-v2"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no table of rows of the baseline has a release_id column (decisions)" in err[0], err
