"""The Gates page through AppTest: which policy it opens on, a deep link that sets the form, applying an edit, the
proposal beside the adopted and default policies, the warning on a worse proposal, adopting and reopening on the
adopted version of this data (and only this data), and data without an incident log."""

from __future__ import annotations

import pytest
from app_helpers import no_exception, open_page, shown_cells, texts

from driftdesk.gates.policy import decode_policy, encode_policy, parse_policy
from driftdesk.paths import sample_data_dir
from driftdesk.tracking import dataset_key, policy_history
from foreign_data import write_foreign_folder

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


@pytest.fixture
def fresh_store(tmp_path, monkeypatch):
    """Nothing adopted yet: a policy store of this test's own (the MLflow store stays the session's)."""
    monkeypatch.setenv("DRIFTDESK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def button(at, label):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button labelled {label!r}: {[b.label for b in at.button]}"
    return found[0]


def comparison(at):
    return next(df.value for df in at.dataframe if "figure" in df.value.columns)


def test_default_page_shows_backtest_sweep_and_references(fresh_store):
    at = open_page(PAGE)
    page = texts(at)
    assert "Policy northwind-default" in page
    assert "Showing the folder's policy.toml (northwind-default): the data folder's policy.toml" in page
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


def test_a_broken_link_falls_back_with_a_message(fresh_store):
    at = open_page(PAGE, policy="garbage!!", gate="nope")
    assert "cannot be used" in texts(at) and "showing the folder's policy.toml (northwind-default) instead" in texts(at)
    assert "Policy northwind-default" in texts(at)


def test_the_proposal_is_shown_beside_the_default_with_the_difference(fresh_store):
    at = open_page(PAGE, policy=encode_policy(LINKED))
    frame = comparison(at)
    assert frame["figure"].to_list() == ["recall", "precision", "alerts per week", "median delay (h)",
                                         "incidents caught"]
    default = "the folder's policy.toml (northwind-default)"
    assert list(frame.columns) == ["figure", "proposal", default, f"proposal vs {default}"]
    caught, recall = frame.iloc[4].to_dict(), frame.iloc[0].to_dict()
    assert caught[default] == "7 of 8"  # the default policy on the sample
    assert recall[f"proposal vs {default}"].endswith(" pp worse")


def test_a_worse_proposal_needs_a_reason_then_the_page_reopens_on_the_adopted_version(fresh_store):
    at = open_page(PAGE, policy=encode_policy(LINKED))
    assert "The proposal is worse than the folder's policy.toml (northwind-default) on recall" in texts(at)
    button(at, "Adopt this policy…").click()
    at.run()
    assert "Adopt **linked** as version 1 for this data?" in texts(at)
    assert button(at, "Confirm adopt").disabled  # no reason given yet
    [w for w in at.text_input if w.label.startswith("Why adopt it anyway")][0].set_value("fewer pages at night")
    at.run()
    assert not button(at, "Confirm adopt").disabled
    button(at, "Confirm adopt").click()
    at.run()
    no_exception(at)
    page = texts(at)
    assert "Adopted linked version 1" in page and "the page now opens on it" in page
    assert "policy" not in at.query_params  # the link's copy is gone: the page shows the adopted version itself
    assert "Showing adopted linked v1: the version most recently adopted for this data." in page
    assert "Policy linked" in page
    history = [df.value for df in at.dataframe if "version" in df.value.columns][0]
    assert history["version"].to_list() == [1] and history["note"].to_list() == ["fewer pages at night"]
    # the proposal (now the adopted version itself) beside the adopted version and the default
    frame = comparison(at)
    assert list(frame.columns)[2:] == ["adopted linked v1", "proposal vs adopted linked v1",
                                       "the folder's policy.toml (northwind-default)",
                                       "proposal vs the folder's policy.toml (northwind-default)"]
    assert set(frame["proposal vs adopted linked v1"]) <= {"same", "–"}
    # the sweep marks the adopted thresholds, and a fresh visit opens on the adopted version too
    again = open_page(PAGE, gate="nulls")
    assert "Showing adopted linked v1" in texts(again) and "the same as adopted linked v1's" in texts(again)


def test_a_better_proposal_adopts_without_a_reason(fresh_store):
    at = open_page(PAGE)
    assert "The proposal is worse" not in texts(at)
    button(at, "Adopt this policy…").click()
    at.run()
    assert not button(at, "Confirm adopt").disabled
    button(at, "Confirm adopt").click()
    at.run()
    no_exception(at)
    assert "Adopted northwind-default version 1" in texts(at)


def test_adopted_versions_belong_to_their_data(fresh_store, kpis_folder):
    at = open_page(PAGE, data=str(kpis_folder))
    assert "Policy starter" in texts(at)
    button(at, "Adopt this policy…").click()
    at.run()
    button(at, "Confirm adopt").click()
    at.run()
    no_exception(at)
    assert policy_history(dataset=dataset_key(kpis_folder))["name"].to_list() == ["starter"]
    history = [df for df in at.dataframe if "version" in df.value.columns][0]
    assert history.value["recall"].isna().all()  # no incidents table: recall is not defined, and reads so
    assert set(shown_cells(history)["recall"]) == {"–"}
    sample = open_page(PAGE)  # the sample is another dataset: its page neither opens on nor lists that version
    assert "Policy northwind-default" in texts(sample)
    assert "No policy has been adopted for this data yet." in texts(sample)
    assert not [df for df in sample.dataframe if "version" in df.value.columns]


def test_sample_policy_file_exists():
    assert (sample_data_dir() / "policy.toml").exists()


def test_a_folder_the_sample_policy_does_not_fit_opens_on_a_starter_without_incidents(fresh_store, kpis_folder):
    at = open_page(PAGE, data=str(kpis_folder))
    page = texts(at)
    assert "Policy starter" in page
    assert "Showing the starter policy: generated from this data's tables" in page
    assert by_label(at.metric, "Incidents caught (recall)").value == "no log"
    assert "There is no incidents table" in page
    # a quiet advertiser: no alert and no incident, so a sentence instead of an empty timeline; the sweep is drawn
    assert "No alert in the replayed history" in page
    assert [c.key for c in at.get("plotly_chart")] == ["gates_sweep"]
    assert "Recall, precision, delays and incidents caught need an incidents table" in page
    thresholds = next(df.value for df in at.dataframe if "quantile" in df.value.columns)
    assert set(thresholds["gate"]) >= {"cpa_by_geo", "cr_by_geo", "roas_by_geo"}


def test_a_linked_policy_the_data_cannot_replay_gives_a_message(fresh_store, kpis_folder):
    sample_policy = (sample_data_dir() / "policy.toml").read_text(encoding="utf-8")
    at = open_page(PAGE, data=str(kpis_folder), policy=encode_policy(parse_policy(sample_policy)))
    page = texts(at)
    assert "cannot be replayed on the loaded data" in page and "ctr_7d" in page
    # the form is still there, so the gate can be fixed or removed
    assert by_label(at.number_input, "Threshold").value == 0.2


def test_a_foreign_folder_opens_on_its_starter_and_sweeps_without_incidents(fresh_store, tmp_path):
    foreign = write_foreign_folder(tmp_path / "advertiser")
    at = open_page(PAGE, data=str(foreign.folder), gate="cpa_by_Country")
    page = texts(at)
    assert "Policy starter" in page and "Sweep: cpa_by_Country" in page
    assert by_label(at.number_input, "Threshold").value > 0
    assert len(at.get("plotly_chart")) == 2


def test_a_release_check_is_listed_but_not_swept(fresh_store):
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
