"""Spark reads the same words as true and false as the contract read whole, and refuses the same others."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from driftdesk.contract import validate_frame
from driftdesk.errors import ContractError

pytestmark = pytest.mark.spark
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from test_true_false_words import ACCEPTED, REFUSED, words_frame  # noqa: E402


def test_spark_reads_the_contract_words(spark, tmp_path):
    from driftdesk.engine.spark import fetch
    from driftdesk.engine.spark.contract import read_table

    path = tmp_path / "calls.parquet"
    words_frame([w for w, _ in ACCEPTED]).write_parquet(path)
    got = fetch(read_table(path, "llm_calls").df.orderBy("ts").select("validator_ok"))
    assert got["validator_ok"].to_list() == [truth for _, truth in ACCEPTED]

    path = tmp_path / "refused.parquet"
    words_frame(REFUSED + ["yes"]).write_parquet(path)
    _, violations = validate_frame(words_frame(REFUSED + ["yes"]), "llm_calls")
    with pytest.raises(ContractError) as on_spark:
        read_table(path, "llm_calls")
    assert [(v.column, v.rule, v.count) for v in on_spark.value.violations] == [
        (v.column, v.rule, v.count) for v in violations]


def test_a_table_on_spark_says_which_roles_it_has(spark, tmp_path):
    from driftdesk.engine.spark.contract import read_contract

    path = tmp_path / "calls.parquet"
    words_frame(["yes", "no"]).write_parquet(path)
    table = read_contract(path, "llm_calls")
    assert table.has("validator_ok")
    assert not table.has("cost")
