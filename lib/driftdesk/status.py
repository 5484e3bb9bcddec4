"""Status words: how bad a finding is, in one order for every analysis (drift, quality, overview, consensus, CLI).

``STATUS`` lists the words from least to most severe; a word's position is its rank. A status is a
*severity*. Two other kinds of word are not statuses and keep their own vocabulary: a gate's outcome
(``passed``; ``pass`` / ``fail`` / ``not_applicable``) and a kind of finding (seasonality's ``seasonal`` /
``anomaly`` / ``drift`` / ``data_break``). See docs/glossary.md.
"""

from __future__ import annotations

from collections.abc import Iterable

NOT_ENOUGH_DATA = "not_enough_data"  # too few rows, no value or no baseline: nothing was judged
OK = "ok"
WARN = "warn"
ALERT = "alert"
STATUS: tuple[str, ...] = (NOT_ENOUGH_DATA, OK, WARN, ALERT)
FLAGGED: tuple[str, ...] = (WARN, ALERT)  # the statuses that ask someone to look
MISSING = "missing"  # an Overview layer whose table is not loaded: no status at all, ranked below every status

# words earlier versions wrote for a status, and the word that replaced each
DEPRECATED_STATUS: dict[str, str] = {"drift": ALERT, "fail": ALERT, "no_data": NOT_ENOUGH_DATA}


def rank(status: str) -> int:
    """0 for not_enough_data up to 3 for alert (``missing`` is -1); an unknown word is a ValueError."""
    if status == MISSING:
        return -1
    try:
        return STATUS.index(status)
    except ValueError:
        raise ValueError(f"unknown status {status!r}; statuses are {', '.join(STATUS)}") from None


def worst(statuses: Iterable[str], *, default: str = NOT_ENOUGH_DATA) -> str:
    """The most severe of ``statuses``; ``default`` when there are none."""
    return max(statuses, key=rank, default=default)


def canonical(word: str) -> tuple[str, str | None]:
    """A status word as written today, and a one-line note when ``word`` is a deprecated spelling of it."""
    if word in DEPRECATED_STATUS:
        new = DEPRECATED_STATUS[word]
        return new, f"status {word!r} is deprecated; it is now called {new!r}"
    return word, None
