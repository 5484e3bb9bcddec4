"""The kinds of bad input the suite tries: at least 80, each named once, and the README says how many."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from robust_cases import APP_CASES, CLI_CASES, LIB_CASES, OTHER_KINDS, all_kinds

README = Path(__file__).resolve().parents[2] / "README.md"


def test_at_least_80_kinds_and_the_readme_says_how_many():
    count = len(all_kinds())
    assert count >= 80
    said = re.search(r"tries (\d+) kinds of bad input", README.read_text(encoding="utf-8"))
    assert said, "the README's reliability section says how many kinds of bad input the robustness suite tries"
    assert int(said.group(1)) == count, f"the README says {said.group(1)}, the suite tries {count}"


def test_each_case_of_a_face_is_a_kind_of_its_own():
    for cases in (CLI_CASES, LIB_CASES, APP_CASES):
        kinds = [c.kind for c in cases]
        assert len(kinds) == len(set(kinds)), sorted(k for k in kinds if kinds.count(k) > 1)


def test_every_kind_with_a_test_of_its_own_names_a_test_that_exists():
    for kind, where in OTHER_KINDS.items():
        if not where.startswith("test_robust_"):
            continue
        module, function = where.split("::")
        assert hasattr(importlib.import_module(module.removesuffix(".py")), function), kind
