"""Release manifests (stable id, strict fields, diff) and the releases table (what was live, overlaps)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.errors import ReleaseError
from driftdesk.releases import (
    MANIFEST_FIELDS,
    changes_between,
    diff_manifests,
    find_release,
    live_at,
    load_manifest,
    manifest_from_dict,
    prepare_releases,
    previous_release,
)

BASE = {"model_version": "v1.9", "prompt_version": "v2", "provider_model": "provider-m-2026-06",
        "feature_view_version": "tracking-sdk-4.2.1", "retrieval_index": "idx-2026-07", "embedding_model": None,
        "thresholds": {"bid": 0.28, "floor": 1.0}, "config": {"bidder": {"pace": 1.5}}, "git_commit": "75b06ba",
        "data_snapshot_id": "snap-2026-07-19"}


def test_the_release_id_is_the_sha256_of_the_canonical_json():
    canonical = json.dumps({**BASE, "thresholds": {"bid": 0.28, "floor": 1}}, sort_keys=True, separators=(",", ":"))
    expected = "rel-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]
    assert manifest_from_dict(BASE).release_id == expected


@settings(max_examples=40, deadline=None)
@given(st.permutations(MANIFEST_FIELDS), st.booleans())
def test_key_order_and_whole_floats_do_not_change_the_id(order, as_float):
    doc = {k: BASE[k] for k in order}
    doc["thresholds"] = {"floor": 1.0 if as_float else 1, "bid": 0.28}
    assert manifest_from_dict(doc).release_id == manifest_from_dict(BASE).release_id


def test_any_change_of_content_changes_the_id():
    assert manifest_from_dict({**BASE, "git_commit": "75b06bb"}).release_id != manifest_from_dict(BASE).release_id


def test_a_manifest_missing_or_adding_fields_is_refused():
    with pytest.raises(ReleaseError, match=r"missing field\(s\) \['data_snapshot_id'\].*write null"):
        manifest_from_dict({k: v for k, v in BASE.items() if k != "data_snapshot_id"}, source="m.json")
    with pytest.raises(ReleaseError, match=r"unknown field\(s\) \['modle_version'\]"):
        manifest_from_dict({**BASE, "modle_version": "v2"})
    with pytest.raises(ReleaseError, match="not a number JSON can hold"):
        manifest_from_dict({**BASE, "thresholds": {"bid": float("nan")}})
    with pytest.raises(ReleaseError, match="release_id says"):
        manifest_from_dict({**BASE, "release_id": "rel-000000000000"})


def test_manifests_load_from_json_and_toml_alike(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"release": BASE}))
    toml = "\n".join(f'{k} = "{v}"' for k, v in BASE.items() if isinstance(v, str))
    toml = "[release]\n" + toml + "\n[release.thresholds]\nbid = 0.28\nfloor = 1.0\n[release.config.bidder]\npace = 1.5\n"
    (tmp_path / "a.toml").write_text(toml.replace("[release]\n", "[release]\n"))
    doc = {k: v for k, v in BASE.items() if v is not None}
    with pytest.raises(ReleaseError, match="embedding_model"):
        manifest_from_dict(doc)
    (tmp_path / "b.toml").write_text(toml)
    with pytest.raises(ReleaseError, match="missing field"):  # TOML has no null: a missing part must be absent...
        load_manifest(tmp_path / "b.toml")
    assert load_manifest(tmp_path / "a.json").release_id == manifest_from_dict(BASE).release_id
    with pytest.raises(ReleaseError, match="no such manifest"):
        load_manifest(tmp_path / "nope.json")


def test_the_diff_names_each_changed_field_and_key():
    new = {**BASE, "model_version": "v2.0", "thresholds": {"bid": 0.3, "floor": 1.0}, "git_commit": "6a5aad9"}
    diff = diff_manifests(manifest_from_dict(BASE), manifest_from_dict(new))
    assert diff.changed["field"].to_list() == ["model_version", "thresholds.bid", "git_commit"]
    assert diff.changed.row(1) == ("thresholds.bid", "0.28", "0.3")
    assert diff_manifests(manifest_from_dict(BASE), manifest_from_dict(BASE)).same


@pytest.fixture(scope="module")
def releases(sample_dataset):
    return prepare_releases(sample_dataset["releases"].frame)


def test_live_at_the_canary_has_both_model_versions(releases):
    state = live_at(releases, dt.datetime(2026, 10, 6))
    model = state.components.filter(pl.col("component") == "model")
    assert model.select("role", "release_id").rows() == [("live", "model-v1.9"), ("canary", "model-v2.0-canary")]
    assert state.release_id == "model-v2.0-canary"
    assert state.manifest["model_version"] == "v1.9" and state.manifest["thresholds"] == "0.28"
    after = live_at(releases, dt.datetime(2026, 10, 8)).components.filter(pl.col("component") == "model")
    assert after.select("role", "release_id").rows() == [("live", "model-v2.0-full")]
    rolled = live_at(releases, dt.datetime(2026, 10, 12)).components.filter(pl.col("component") == "model")
    assert rolled["release_id"].to_list() == ["model-v1.9-rollback"]


def test_previous_release_and_changes(releases):
    assert previous_release(releases, "model-v2.0-full")["release_id"] == "model-v1.9"
    changes = changes_between(releases, dt.datetime(2026, 10, 3), dt.datetime(2026, 10, 8))
    assert changes.select("release_id", "replaces").rows() == [("model-v2.0-canary", "model-v1.9"),
                                                                ("model-v2.0-full", "model-v1.9")]
    with pytest.raises(ReleaseError, match="unknown release id 'model-v2.1'; did you mean"):
        find_release(releases, "model-v2.1")


def _table(rows):
    return pl.DataFrame(rows, schema={"ts": pl.Datetime("us"), "release_id": pl.String, "component": pl.String,
                                      "version": pl.String, "traffic_share": pl.Float64}, orient="row")


def test_overlapping_releases_of_one_component_are_refused():
    t = dt.datetime(2026, 10, 5)
    with pytest.raises(ReleaseError, match="overlapping releases.*model at 2026-10-05T00:00:00: a, b"):
        prepare_releases(_table([(t, "a", "model", "v1", 1.0), (t, "b", "model", "v2", 1.0)]))
    with pytest.raises(ReleaseError, match=r"canaries take more than all traffic together: c1 \(0.6\), c2 \(0.5\)"):
        prepare_releases(_table([(t, "base", "model", "v1", 1.0), (t + dt.timedelta(hours=1), "c1", "model", "v2", 0.6),
                                 (t + dt.timedelta(hours=2), "c2", "model", "v3", 0.5)]))
    ok = prepare_releases(_table([(t, "a", "model", "v1", 1.0), (t, "p", "prompt", "v2", None)]))
    assert ok["traffic_share"].to_list() == [1.0, 1.0]
