"""The words read as true and false (``driftdesk.tables.TRUE_WORDS`` / ``FALSE_WORDS``) are one list: the contract
read whole, the contract on a streaming scan and the mapping proposal accept the same words and refuse the same
others (the Spark reader is checked against them in ``engine/on_spark``)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from driftdesk.contract import validate_frame
from driftdesk.engine.scan import scan_contract_table
from driftdesk.errors import ContractError
from driftdesk.proposal import profile_column
from driftdesk.tables import FALSE_WORDS, TRUE_WORDS

# written as a person or a tool might: any case, padded with spaces
ACCEPTED = [(variant, word in TRUE_WORDS) for word in TRUE_WORDS + FALSE_WORDS
            for variant in (word, word.upper(), word.title(), f"  {word} ", f"\t{word}\n")]
REFUSED = ["2", "-1", "1.00", "0.00", "10", "ja", "oui", "on", "off", "nope", "truth", "yes!", "nan", "none", "null"]


def words_frame(words: list[str]) -> pl.DataFrame:
    """LLM calls whose ``validator_ok`` (a true/false role) holds the words as text."""
    return pl.DataFrame({"ts": [dt.datetime(2026, 10, 5) + dt.timedelta(minutes=i) for i in range(len(words))],
                         "validator_ok": words})


def test_the_words_are_lower_case_and_disjoint():
    assert all(w == w.strip().lower() for w in TRUE_WORDS + FALSE_WORDS)
    assert not set(TRUE_WORDS) & set(FALSE_WORDS)
    assert {"true", "yes", "1"} <= set(TRUE_WORDS) and {"false", "no", "0"} <= set(FALSE_WORDS)


def test_read_whole_and_scanned_the_same_words_are_true_false_or_refused(tmp_path):
    words = [w for w, _ in ACCEPTED]
    path = tmp_path / "calls.parquet"
    words_frame(words).write_parquet(path)
    table, violations = validate_frame(words_frame(words), "llm_calls")
    assert violations == [] and table is not None
    want = [truth for _, truth in ACCEPTED]
    assert table.frame["validator_ok"].to_list() == want
    assert scan_contract_table(path, "llm_calls").collect()["validator_ok"].to_list() == want

    path = tmp_path / "refused.parquet"
    words_frame(REFUSED + ["yes"]).write_parquet(path)
    table, violations = validate_frame(words_frame(REFUSED + ["yes"]), "llm_calls")
    assert table is None and [(v.column, v.count) for v in violations] == [("validator_ok", len(REFUSED))]
    assert violations[0].rule.startswith("not boolean")
    with pytest.raises(ContractError) as scanned:
        scan_contract_table(path, "llm_calls").collect()
    assert [(v.column, v.rule, v.count) for v in scanned.value.violations] == [
        (v.column, v.rule, v.count) for v in violations]


@pytest.mark.parametrize("word", REFUSED)
def test_the_proposal_calls_a_column_true_false_only_when_the_contract_reads_every_word(word):
    words = pl.DataFrame({"flag": [w for w, _ in ACCEPTED if not w.strip().replace(".", "").isdigit()]})
    assert profile_column(words, "flag").kind == "binary"
    assert profile_column(pl.DataFrame({"flag": ["yes", "No", "1"]}), "flag").kind == "binary"  # "1" is true too
    assert profile_column(pl.DataFrame({"flag": ["yes", "no", word]}), "flag").kind != "binary"
