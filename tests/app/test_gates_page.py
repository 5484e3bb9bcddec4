"""The Gates page through AppTest: default view, a deep link that sets the form, applying an edit, adopting."""

from __future__ import annotations

from app_helpers import no_exception, open_page, texts

from driftdesk.gates.policy import decode_policy, encode_policy, parse_policy
from driftdesk.paths import sample_data_dir

LINKED = parse_policy("""
[policy]
name = "linked"

[[gate]]
name = "nulls"
metric = "null_rate:ctr_7d"
by = ["source"]
threshold = 0.33
window = "12h"
consecutive = 3
action = "rollback"

[[gate]]
name = "p99"
metric = "latency_p99_ms"
comparison = "trailing"
threshold = 0.5
window = "2h"
min_sample = 10000
action = "notify"
""")


PAGE = "app_pages/gates.py"


def by_label(widgets, label):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}: {[w.label for w in widgets]}"
    return found[0]


def test_default_page_shows_backtest_sweep_and_references():
    at = open_page(PAGE)
    page = texts(at)
    assert "Policy northwind-default" in page
    assert "Sweep: ctr_7d_nulls" in page
    assert any(m.label == "Incidents caught (recall)" for m in at.metric)
    recall = by_label(at.metric, "Incidents caught (recall)")
    assert recall.value.endswith("of 8")
    # the reference points sit beside the candidate
    summary = [df.value for df in at.dataframe if "policy" in df.value.columns][0]
    assert summary["policy"].to_list()[1:] == ["never fire", "always fire"]
    assert len(at.get("plotly_chart")) == 2
    assert by_label(at.number_input, "Threshold").value == 0.2


def test_deep_link_sets_the_form():
    at = open_page(PAGE, policy=encode_policy(LINKED), gate="nulls")
    assert "Policy linked" in texts(at)
    assert by_label(at.number_input, "Threshold").value == 0.33
    assert by_label(at.number_input, "Consecutive breaches").value == 3
    assert by_label(at.selectbox, "Window").value == "12h"
    assert by_label(at.selectbox, "Metric").value == "null_rate:ctr_7d"
    assert by_label(at.radio, "Action").value == "rollback"
    at2 = open_page(PAGE, policy=encode_policy(LINKED), gate="p99")
    assert by_label(at2.selectbox, "Comparison").value == "trailing"
    assert by_label(at2.number_input, "Minimum sample").value == 10000.0
    assert "Sweep: p99" in texts(at2)


def test_applying_the_form_puts_the_edit_in_the_url():
    at = open_page(PAGE, policy=encode_policy(LINKED), gate="nulls")
    by_label(at.number_input, "Threshold").set_value(0.45)
    by_label(at.number_input, "Consecutive breaches").set_value(1)
    [b for b in at.button if b.label == "Apply to the proposal"][0].click()
    at.run()
    no_exception(at)
    proposal = decode_policy(at.query_params["policy"][0] if isinstance(at.query_params["policy"], list)
                             else at.query_params["policy"])
    assert proposal.gate("nulls").threshold == 0.45 and proposal.gate("nulls").consecutive == 1
    assert proposal.gate("p99") == LINKED.gate("p99")


def test_a_broken_link_falls_back_with_a_message():
    at = open_page(PAGE, policy="garbage!!", gate="nope")
    assert "cannot be used" in texts(at)
    assert "Policy northwind-default" in texts(at)


def test_adopt_asks_for_confirmation_then_saves_a_version():
    at = open_page(PAGE, policy=encode_policy(LINKED))
    [b for b in at.button if b.label == "Adopt this policy…"][0].click()
    at.run()
    assert "Adopt **linked** as version 1?" in texts(at)
    [b for b in at.button if b.label == "Confirm adopt"][0].click()
    at.run()
    no_exception(at)
    assert "Adopted linked version 1" in texts(at)
    history = [df.value for df in at.dataframe if "version" in df.value.columns][0]
    assert history["version"].to_list() == [1]


def test_sample_policy_file_exists():
    assert (sample_data_dir() / "policy.toml").exists()


def test_a_policy_the_data_cannot_replay_gives_a_message(kpis_folder):
    at = open_page(PAGE, data=str(kpis_folder))
    page = texts(at)
    assert "cannot be replayed on the loaded data" in page and "ctr_7d" in page
    # the form is still there, so the gate can be fixed or removed
    assert by_label(at.number_input, "Threshold").value == 0.2


def test_a_kpis_only_policy_replays_without_incidents(kpis_folder):
    only_cpa = parse_policy('[policy]\nname = "k"\n[[gate]]\nname = "cpa"\nmetric = "cpa"\nby = ["geo"]\n'
                            'comparison = "day_over_day"\nthreshold = 0.2\n')
    at = open_page(PAGE, data=str(kpis_folder), policy=encode_policy(only_cpa))
    page = texts(at)
    assert "no incidents are labelled" in page
    assert by_label(at.metric, "Incidents caught (recall)").value == "0 of 0"


def test_a_release_check_is_listed_but_not_swept():
    at = open_page(PAGE, gate="golden_recall")
    assert "is a release check" in texts(at)
    assert by_label(at.selectbox, "Comparison").value == "release"
    assert any("golden_recall: a release check" in c for c in texts(at).splitlines())


def _policy_in_url(at):
    raw = at.query_params["policy"]
    return decode_policy(raw[0] if isinstance(raw, list) else raw)


def test_add_and_remove_a_gate():
    at = open_page(PAGE, policy=encode_policy(LINKED), gate="p99")
    [b for b in at.button if b.label == "Add a gate"][0].click()
    at.run()
    no_exception(at)
    added = _policy_in_url(at)
    assert [g.name for g in added.gates] == ["nulls", "p99", "p99_2"]
    assert added.gate("p99_2").metric == "latency_p99_ms"
    at2 = open_page(PAGE, policy=encode_policy(added), gate="nulls")
    [b for b in at2.button if b.label == "Remove this gate"][0].click()
    at2.run()
    no_exception(at2)
    assert [g.name for g in _policy_in_url(at2).gates] == ["p99", "p99_2"]


def test_an_invalid_edit_is_a_message_not_a_traceback():
    at = open_page(PAGE, policy=encode_policy(LINKED), gate="nulls")
    [w for w in at.text_input if w.label == "Name"][0].set_value("bad name!")
    [b for b in at.button if b.label == "Apply to the proposal"][0].click()
    at.run()
    no_exception(at)
    assert "name must be letters" in texts(at)
    assert _policy_in_url(at) == LINKED  # the proposal is unchanged
