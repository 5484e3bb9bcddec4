"""Every CLI command on the sample data gives the numbers it gave when the golden files were captured.

Keys and values may be renamed (the maps below are the documented record of each rename) and keys may be
added (JSON keys only grow), but no number, status or list may change. Prose (sentences, notes, reasons) may
be reworded, so only its presence is checked. Floats are compared to 1e-9 relative: a change in summation
order is not a change of result.
"""

from __future__ import annotations

import json
import math
import re
from fnmatch import fnmatchcase

import pytest
from cli_cases import GOLDEN_DIR, cases, run_case, write_inputs

# old JSON key -> new JSON key (the old key may stay beside the new one while it is deprecated)
RENAMED_KEYS: dict[str, str] = {
    # drift: one word for the earlier window, "baseline" (the JSON keeps each old key beside its new one)
    "null_rate_reference": "null_rate_baseline",
    "n_reference": "n_baseline",
    "n_valid_reference": "n_valid_baseline",
    "mean_reference": "mean_baseline",
    "share_reference": "share_baseline",
    # drift thresholds: the level above warn is called "alert", as the status it gives
    "psi_drift": "psi_alert",
    "js_drift": "js_alert",
    "null_rate_drift": "null_rate_alert",
    # the LLM groups' error share (the service's error_rate is a value, not a key)
    "error_rate": "llm_error_rate",
}
# where a value's word changed: a pattern over the key's path (case name, then keys, list indices left out) ->
# {old word: new word}. Status words became one set (not_enough_data, ok, warn, alert); seasonality's verdict
# kinds and flags (which also say "drift") are kinds of finding, not statuses, and keep their words.
RENAMED_VALUES: dict[str, dict[str, str]] = {
    "drift_*.status": {"drift": "alert"},
    "drift_*.columns.status": {"drift": "alert"},
    "drift_*.segments.status": {"drift": "alert"},
    "overview_*.layers.status": {"no_data": "not_enough_data"},
    "overview_*.metrics.status": {"no_data": "not_enough_data"},
    # metric names spelled one way (the registry's): an old name in a policy still works, with a note
    "*.metric": {"output_tokens_mean": "tokens_out_mean", "error_rate": "llm_error_rate"},
}
# (key, sibling key, sibling value) -> {old value: new value}: a rename that holds only in objects where the
# sibling has that value; it takes precedence over RENAMED_VALUES
RENAMED_VALUES_WHERE: dict[tuple[str, str, str], dict[str, str]] = {
    ("metric", "layer", "service"): {"error_rate": "error_rate"},  # the service's error rate keeps its name
}
# keys holding prose: reworded freely, checked for presence only
PROSE_KEYS = {"summary", "sentence", "verdict", "note", "notes", "reasons", "why", "reason", "description", "detail",
              "text", "message", "caveat", "caveats"}
REL_TOL, ABS_TOL = 1e-9, 1e-12


def _compare(old, new, path: str, problems: list[str]) -> None:
    if len(problems) > 20:
        return
    if isinstance(old, dict):
        if not isinstance(new, dict):
            problems.append(f"{path}: was an object, now {type(new).__name__}")
            return
        for key, value in old.items():
            new_key = RENAMED_KEYS.get(key, key)
            if new_key not in new:
                problems.append(f"{path}.{key}: missing" + (f" (renamed {new_key})" if new_key != key else ""))
                continue
            if key in PROSE_KEYS:
                continue
            if isinstance(value, str):
                value = renamed_value(f"{path}.{key}", value, old, key)
            _compare(value, new[new_key], f"{path}.{key}", problems)
    elif isinstance(old, list):
        if not isinstance(new, list) or len(new) != len(old):
            problems.append(f"{path}: list of {len(old)} became {len(new) if isinstance(new, list) else type(new).__name__}")
            return
        for i, (a, b) in enumerate(zip(old, new)):
            _compare(a, b, f"{path}[{i}]", problems)
    elif isinstance(old, bool) or old is None or isinstance(old, str):
        if old != new:
            problems.append(f"{path}: {old!r} became {new!r}")
    elif isinstance(old, int | float) and (isinstance(new, bool) or not isinstance(new, int | float)
                                           or not math.isclose(old, new, rel_tol=REL_TOL, abs_tol=ABS_TOL)):
        problems.append(f"{path}: {old!r} became {new!r}")


def renamed_value(path: str, value: str, obj: dict | None = None, key: str | None = None) -> str:
    """The word a golden value is written as today: a sibling-conditioned rename first, then the first
    RENAMED_VALUES pattern its path matches."""
    for (k, sibling, sibling_value), renames in RENAMED_VALUES_WHERE.items():
        if obj is not None and k == key and obj.get(sibling) == sibling_value and value in renames:
            return renames[value]
    bare = re.sub(r"\[\d+\]", "", path)
    for pattern, words in RENAMED_VALUES.items():
        if fnmatchcase(bare, pattern):
            return words.get(value, value)
    return value


@pytest.fixture(scope="module")
def inputs(sample_dir, tmp_path_factory):
    return write_inputs(sample_dir, tmp_path_factory.mktemp("golden-inputs"))


CASE_NAMES = sorted(p.stem for p in GOLDEN_DIR.glob("*.json"))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_cli_output_unchanged(name, sample_dir, inputs):
    from cli_cases import _anonymise

    args = cases(sample_dir, inputs)[name]
    golden = json.loads((GOLDEN_DIR / f"{name}.json").read_text())
    code, doc = run_case(args)
    assert code == golden["exit_code"]
    tmp = str(next(iter(inputs.values())).parent)
    problems: list[str] = []
    _compare(golden["output"], _anonymise(doc, tmp, sample_dir), name, problems)
    assert not problems, "\n".join(problems)


def test_every_case_has_a_golden_file(sample_dir, inputs):
    assert set(cases(sample_dir, inputs)) == set(CASE_NAMES)


def test_renamed_values_follow_the_path():
    assert renamed_value("drift_a.columns[3].status", "drift") == "alert"
    assert renamed_value("drift_a.status", "drift") == "alert"
    assert renamed_value("seasonality_geo.verdicts[0].status", "drift") == "drift"  # a kind of finding, kept
    assert renamed_value("seasonality_geo.points[7].flag", "drift") == "drift"
    assert renamed_value("overview_c.layers[2].status", "no_data") == "not_enough_data"
