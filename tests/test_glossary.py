"""docs/glossary.md names every shared word the code defines: statuses, reason codes, baseline kinds, renames."""

from __future__ import annotations

from pathlib import Path

import pytest

GLOSSARY = (Path(__file__).resolve().parents[1] / "docs" / "glossary.md").read_text(encoding="utf-8")


def words() -> list[str]:
    from driftdesk.drift.consensus import STRENGTHS
    from driftdesk.drift.result import DEPRECATED_KEYS
    from driftdesk.drift.thresholds import REASON_CODES
    from driftdesk.seasonality.verdicts import EVENT_KINDS, VERDICT_KINDS
    from driftdesk.status import DEPRECATED_STATUS, MISSING, STATUS
    from driftdesk.windows import BASELINE_KINDS, BASELINE_LABELS

    return sorted({*STATUS, MISSING, *DEPRECATED_STATUS, *REASON_CODES, *BASELINE_KINDS, *BASELINE_LABELS.values(),
                   *DEPRECATED_KEYS, *DEPRECATED_KEYS.values(), *STRENGTHS, *EVENT_KINDS, *VERDICT_KINDS})


@pytest.mark.parametrize("word", words())
def test_the_glossary_names_it(word):
    assert word in GLOSSARY, f"{word!r} is not in docs/glossary.md"


def test_old_url_values_are_listed():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
    try:
        from ui.params import RENAMED_PARAMS, RENAMED_VALUES
    finally:
        sys.path.pop(0)
    for name, values in RENAMED_VALUES.items():
        for old in values:
            assert f"{name}={old}" in GLOSSARY
    for old in RENAMED_PARAMS:
        assert old in GLOSSARY
