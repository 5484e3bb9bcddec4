"""Status words: one order for every analysis, old spellings read as today's words."""

from __future__ import annotations

import pytest

from driftdesk.status import DEPRECATED_STATUS, FLAGGED, MISSING, STATUS, canonical, rank, worst


def test_one_order_from_not_enough_data_to_alert():
    assert STATUS == ("not_enough_data", "ok", "warn", "alert")
    assert [rank(s) for s in STATUS] == [0, 1, 2, 3]
    assert rank(MISSING) < rank("not_enough_data")
    assert set(FLAGGED) == {"warn", "alert"}
    with pytest.raises(ValueError, match="unknown status 'drift'"):
        rank("drift")  # an old word is not silently ranked: it is read through canonical() where a user types it


def test_worst():
    assert worst(["ok", "alert", "warn"]) == "alert"
    assert worst(["not_enough_data", "ok"]) == "ok"
    assert worst([]) == "not_enough_data"
    assert worst([], default="ok") == "ok"


def test_old_words_map_to_todays_with_a_note():
    assert canonical("warn") == ("warn", None)
    for old, new in DEPRECATED_STATUS.items():
        word, note = canonical(old)
        assert word == new and new in STATUS and old in note and "deprecated" in note
