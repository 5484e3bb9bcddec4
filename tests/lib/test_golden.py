"""Golden sets: pass rates per kind and the cases that flipped, against hand counts; bad input gets words."""

from __future__ import annotations

import polars as pl
import pytest

from driftdesk.errors import DriftdeskError
from driftdesk.golden import case_verdicts, compare_golden, golden_by_kind, golden_summary


def frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["release_id", "case_id", "case_kind", "repeat", "passed"], orient="row")


RUNS = frame([
    ("r1", "a", "happy", 0, True), ("r1", "a", "happy", 1, True),
    ("r1", "b", "happy", 0, True), ("r1", "b", "happy", 1, False),  # a tie passes (median 0.5)
    ("r1", "c", "adversarial", 0, False), ("r1", "c", "adversarial", 1, False),
    ("r2", "a", "happy", 0, False), ("r2", "a", "happy", 1, False),
    ("r2", "b", "happy", 0, True), ("r2", "b", "happy", 1, True),
    ("r2", "c", "adversarial", 0, True), ("r2", "c", "adversarial", 1, False),
    ("r2", "d", "edge", 0, True), ("r2", "d", "edge", 1, True),  # only in r2
])


def test_pass_rate_per_kind_by_hand():
    by_kind = golden_by_kind(RUNS)
    got = {(r["release_id"], r["case_kind"]): r["pass_rate"] for r in by_kind.iter_rows(named=True)}
    assert got == {("r1", "adversarial"): 0.0, ("r1", "happy"): 1.0, ("r2", "adversarial"): 1.0,
                   ("r2", "edge"): 1.0, ("r2", "happy"): 0.5}
    assert golden_by_kind(RUNS.drop("case_kind")) is None
    assert golden_summary(RUNS)["pass_rate"].to_list() == [2 / 3, 3 / 4]


def test_verdicts_and_agreeing_repeats_by_hand():
    v = case_verdicts(RUNS, by=["release_id"]).collect().sort("release_id", "case_id")
    assert v.select("case_id", "passes", "repeats", "passed", "agreeing").rows() == [
        ("a", 2, 2, True, 2), ("b", 1, 2, True, 1), ("c", 0, 2, False, 2),
        ("a", 0, 2, False, 2), ("b", 2, 2, True, 2), ("c", 1, 2, True, 1), ("d", 2, 2, True, 2)]


def test_comparison_by_hand():
    cmp = compare_golden(RUNS, baseline="r1", candidate="r2")
    assert cmp.flips.select("case_id", "case_kind", "flip").rows() == [
        ("a", "happy", "pass_to_fail"), ("c", "adversarial", "fail_to_pass")]
    total, *kinds = cmp.by_kind.iter_rows(named=True)
    assert (total["case_kind"], total["cases"], total["pass_rate_baseline"], total["pass_rate_candidate"]) == (
        "all", 3, 2 / 3, 2 / 3)
    assert [(k["case_kind"], k["flips_to_fail"], k["flips_to_pass"]) for k in kinds] == [
        ("adversarial", 0, 1), ("happy", 1, 0)]
    assert any("1 case(s) ran only in r2" in c for c in cmp.caveats)
    doc = cmp.to_dict()
    assert doc["flips_to_fail"] == 1 and doc["pass_rate"]["change_pp"] == 0.0 and len(doc["flips"]) == 2
    assert "case(s) flipped" in cmp._repr_html_()


def test_one_repeat_is_a_caveat_not_a_crash():
    once = RUNS.filter(pl.col("repeat") == 0)
    cmp = compare_golden(once, baseline="r1", candidate="r2")
    assert cmp.flips_to_fail == 1  # a: pass -> fail
    assert sum("ran once" in c for c in cmp.caveats) == 2


def test_unknown_releases_and_columns_are_named():
    with pytest.raises(DriftdeskError, match=r"candidate release 'r9' has no runs; releases with runs are r1, r2"):
        compare_golden(RUNS, baseline="r1", candidate="r9")
    with pytest.raises(DriftdeskError, match=r"unknown column\(s\) \['passed'\]"):
        compare_golden(RUNS.drop("passed"), baseline="r1", candidate="r2")


def test_no_kind_column_and_no_shared_cases():
    cmp = compare_golden(RUNS.drop("case_kind"), baseline="r1", candidate="r2")
    assert cmp.by_kind["case_kind"].to_list() == ["all"]
    assert any("no case_kind column" in c for c in cmp.caveats)
    apart = pl.concat([RUNS.filter(pl.col("release_id") == "r1"),
                       RUNS.filter(pl.col("release_id") == "r2").with_columns(pl.col("case_id") + "x")])
    empty = compare_golden(apart, baseline="r1", candidate="r2")
    assert empty.flips.height == 0 and any("share no golden case" in c for c in empty.caveats)


def test_sample_provider_model_flips_a_known_failure(sample_dataset):
    cmp = compare_golden(sample_dataset["golden_runs"].frame, baseline="prompt-v2", candidate="llm-provider-m-2026-09")
    known = cmp.flipped("known_failure")
    assert known["case_id"].to_list() == ["case-098"]
    assert (known["agreeing_baseline"][0], known["agreeing_candidate"][0]) == (3, 2)
