"""The MLflow registry on a real store in a temporary folder: model and prompt versions, champion / challenger
aliases, release manifests as runs; an unreachable server fails within seconds."""

from __future__ import annotations

import socket
import time

import pytest
from mlflow.tracking import MlflowClient

from driftdesk.errors import TrackingError
from driftdesk.releases import MANIFEST_FIELDS, manifest_from_dict
from driftdesk.tracking import RELEASES_EXPERIMENT, log_manifest, register_version, set_alias, version_by_alias


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """One SQLite store for the module (creating one takes seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('registry') / 'mlflow.db'}"


def test_model_versions_and_their_aliases(store, tmp_path):
    v19 = register_version("model", "conversion", "v1.9", source=(tmp_path / "v19").as_uri(), aliases=("champion",),
                           uri=store)
    v20 = register_version("model", "conversion", "v2.0", source=(tmp_path / "v20").as_uri(), aliases=("challenger",),
                           uri=store)
    assert (v19.version, v20.version) == (1, 2)
    champion = version_by_alias("model", "conversion", "champion", uri=store)
    assert (champion.version, champion.label) == (1, "v1.9")
    assert version_by_alias("model", "conversion", "challenger", uri=store).label == "v2.0"
    set_alias("model", "conversion", "champion", v20.version, uri=store)  # promote the challenger
    assert version_by_alias("model", "conversion", "champion", uri=store).label == "v2.0"
    assert version_by_alias("model", "conversion", "stable", uri=store) is None
    assert version_by_alias("model", "no-such-model", "champion", uri=store) is None


def test_prompt_versions_and_their_aliases(store):
    v2 = register_version("prompt", "ad-copy", "v2", template="Write an ad for {{product}}.", aliases=("champion",),
                          uri=store)
    v3 = register_version("prompt", "ad-copy", "v3", template="Write a longer ad for {{product}}.",
                          aliases=("challenger",), uri=store)
    assert version_by_alias("prompt", "ad-copy", "champion", uri=store).label == "v2"
    assert version_by_alias("prompt", "ad-copy", "challenger", uri=store).version == v3.version == v2.version + 1


def test_bad_registry_requests_are_clear(store):
    with pytest.raises(TrackingError, match="needs its template text"):
        register_version("prompt", "ad-copy", "v4", uri=store)
    with pytest.raises(TrackingError, match="kind must be one of"):
        register_version("index", "idx", "v1", uri=store)
    with pytest.raises(TrackingError, match="letters, digits"):
        set_alias("model", "conversion", "champ ion", 1, uri=store)


def test_a_manifest_is_logged_as_a_run_tagged_with_its_release_id(store):
    manifest = manifest_from_dict(dict.fromkeys(MANIFEST_FIELDS) | {"model_version": "v2.0", "git_commit": "6a5aad9"})
    run_id = log_manifest(manifest.to_dict(), uri=store)
    run = MlflowClient(tracking_uri=store).get_run(run_id)
    assert run.data.tags["driftdesk.release_id"] == manifest.release_id
    assert run.data.params["model_version"] == "v2.0"
    assert MlflowClient(tracking_uri=store).get_experiment(run.info.experiment_id).name == RELEASES_EXPERIMENT


def test_an_unreachable_server_fails_within_seconds():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    with pytest.raises(TrackingError, match="did not answer"):
        version_by_alias("model", "conversion", "champion", uri=f"http://127.0.0.1:{port}")
    assert time.monotonic() - started < 5
