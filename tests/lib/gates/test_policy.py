"""Policy files: parsing, validation messages that name the problem, round trips through TOML and the URL."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.errors import PolicyError
from driftdesk.gates.policy import Gate, Policy, decode_policy, encode_policy, load_policy, parse_policy

GOOD = """
[policy]
name = "p"
grace = "12h"

[[gate]]
name = "nulls"
metric = "null_rate:ctr_7d"
by = ["source"]
threshold = 0.2
window = "6h"
consecutive = 2
action = "pause_for_review"

[[gate]]
name = "cpa"
metric = "cpa"
comparison = "week_over_week"
threshold = 0.1
window = "3d"
filter = { geo = ["DE", "US"] }
"""


def test_parse_reads_every_field():
    p = parse_policy(GOOD)
    assert p.name == "p" and p.grace_hours == 12
    nulls, cpa = p.gates
    assert nulls == Gate(name="nulls", metric="null_rate:ctr_7d", threshold=0.2, action="pause_for_review",
                         window_hours=6, consecutive=2, by=("source",))
    assert cpa.window_hours == 72 and cpa.comparison == "week_over_week" and cpa.baseline_shift_hours == 168
    assert cpa.filter == (("geo", ("DE", "US")),) and cpa.by is None and cpa.action == "notify"


def test_sample_policy_is_valid(sample_dir):
    p = load_policy(sample_dir / "policy.toml")
    assert len(p.gates) >= 5
    assert {g.action for g in p.gates} <= {"rollback", "pause_for_review", "notify"}


def test_toml_round_trip():
    p = parse_policy(GOOD)
    assert parse_policy(p.to_toml()) == p


def _err(text: str) -> str:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="policy.toml")
    return str(info.value)


def test_syntax_error_names_line_and_column():
    msg = _err('[policy]\nname = "p"\n\n[[gate]]\nmetric = "cpa\nthreshold = 1\n')
    assert "policy.toml" in msg and "line 5" in msg and "column" in msg


def test_syntax_error_column_is_exact():
    msg = _err('[[gate]]\nmetric = "cpa"\nthreshold = = 1\n')
    assert "line 3, column 13" in msg


def test_unknown_metric_lists_known_ones():
    msg = _err('[[gate]]\nmetric = "cpa_per_moon"\nthreshold = 1\n')
    assert "gate 1" in msg and "unknown metric 'cpa_per_moon'" in msg and "null_rate:<column>" in msg


@pytest.mark.parametrize("value,expected", [
    ('"0.2"', "threshold must be a number, got str '0.2' (write it without quotes)"),
    ("true", "threshold must be a number, got bool True"),
    ("[1, 2]", "threshold must be a number"),
])
def test_threshold_of_the_wrong_type(value, expected):
    msg = _err(f'[[gate]]\nname = "g"\nmetric = "cpa"\nthreshold = {value}\n')
    assert "gate 1 ('g')" in msg and expected in msg


@pytest.mark.parametrize("line,expected", [
    ('window = "24"', "window must be a duration"),
    ("window = 24", "window must say its unit"),
    ('window = "0h"', "at least one hour"),
    ("consecutive = 0", "consecutive must be >= 1"),
    ("consecutive = 1.5", "consecutive must be a whole number"),
    ('action = "panic"', "action must be one of ['rollback', 'pause_for_review', 'notify']"),
    ('comparison = "month_over_month"', "comparison must be one of"),
    ('direction = "up"', "direction must be one of"),
    ("min_sample = -1", "min_sample must be >= 0"),
    ('thresold = 2', "unknown field(s) ['thresold']"),
    ("by = 3", "by must be a column name"),
    ('filter = { geo = 1 }', "filter.geo must be a value"),
])
def test_field_errors_name_the_field(line, expected):
    msg = _err(f'[[gate]]\nmetric = "cpa"\nthreshold = 1\n{line}\n')
    assert expected in msg


def test_threshold_required():
    assert "threshold is required" in _err('[[gate]]\nmetric = "cpa"\n')


def test_metric_shape_errors():
    assert "needs a column" in _err('[[gate]]\nmetric = "null_rate"\nthreshold = 1\n')
    assert "takes no column" in _err('[[gate]]\nmetric = "cpa:spend"\nthreshold = 1\n')
    assert "compares two windows" in _err('[[gate]]\nmetric = "psi:geo"\nthreshold = 0.2\n')
    assert "change against a baseline" in _err('[[gate]]\nmetric = "cpa_change"\nthreshold = 0.2\n')


def test_policy_level_errors():
    assert "no gates" in _err('[policy]\nname = "x"\n')
    assert "unknown section(s) ['gates']" in _err('[[gates]]\nmetric = "cpa"\n')
    msg = _err('[[gate]]\nname = "a"\nmetric = "cpa"\nthreshold = 1\n[[gate]]\nname = "a"\nmetric = "cr"\nthreshold = 1\n')
    assert "two gates are named 'a'" in msg


def test_trailing_baseline_shorter_than_window():
    msg = _err('[[gate]]\nmetric = "cpa"\nthreshold = 1\ncomparison = "trailing"\nbaseline_days = 1\nwindow = "2d"\n')
    assert "trailing baseline of 1 days is shorter than the window 2d" in msg


def test_load_policy_missing_file(tmp_path):
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy(tmp_path / "nope.toml")


def test_change_spelling_requires_a_baseline_and_keeps_its_name():
    p = parse_policy('[[gate]]\nmetric = "cpa_change"\ncomparison = "day_over_day"\nthreshold = 0.2\n')
    assert p.gates[0].metric == "cpa_change"


gates = st.builds(
    Gate,
    name=st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    metric=st.sampled_from(["cpa", "null_rate:ctr_7d", "latency_p99_ms", "share:spend"]),
    threshold=st.floats(-1e6, 1e6, allow_nan=False),
    action=st.sampled_from(["rollback", "pause_for_review", "notify"]),
    comparison=st.sampled_from(["absolute", "day_over_day", "week_over_week"]),
    direction=st.sampled_from(["above", "below", "either"]),
    window_hours=st.integers(1, 96),
    consecutive=st.integers(1, 5),
    min_sample=st.floats(0, 1e4, allow_nan=False),
    by=st.sampled_from([None, (), ("geo",), ("geo", "device")]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(gates, min_size=1, max_size=4, unique_by=lambda g: g.name), st.integers(0, 72))
def test_url_encoding_round_trips(gate_list, grace):
    p = Policy(gates=tuple(gate_list), name="shared", grace_hours=grace)
    text = encode_policy(p)
    assert text.isascii() and "=" not in text and "/" not in text
    assert decode_policy(text) == p
    assert parse_policy(p.to_toml()) == p


def test_bad_link_is_a_policy_error():
    with pytest.raises(PolicyError, match="cannot be read"):
        decode_policy("not-a-policy")


OLD_NAME = """
[[gate]]
name = "tokens"
metric = "output_tokens_mean"
by = ["feature"]
comparison = "trailing"
threshold = 0.2
"""


def test_a_renamed_metric_still_works_with_a_one_line_note(caplog):
    with caplog.at_level("WARNING", logger="driftdesk"):
        old = parse_policy(OLD_NAME, source="old.toml")
    new = parse_policy(OLD_NAME.replace("output_tokens_mean", "tokens_out_mean"), source="new.toml")
    assert old.gates == new.gates and old.gates[0].metric == "tokens_out_mean"
    assert new.notes == ()
    assert len(old.notes) == 1 and "old.toml: gate 1 ('tokens')" in old.notes[0]
    assert "'output_tokens_mean' is deprecated" in old.notes[0] and "'tokens_out_mean'" in old.notes[0]
    assert "output_tokens_mean" in caplog.text  # the CLI prints this logger on stderr
    assert "notes" not in old.to_dict() and parse_policy(old.to_toml()).notes == ()
