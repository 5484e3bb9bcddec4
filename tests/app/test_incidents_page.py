"""The Incidents page: a deep link opens one incident with what changed, both severities, the checklist and an
export; a folder without an incident log gets a message."""

from __future__ import annotations

import polars as pl
from app_helpers import app_module, open_page, texts

PAGE = "app_pages/incidents.py"


def test_a_deep_link_opens_incident_c(tmp_path, monkeypatch):
    monkeypatch.setenv("DRIFTDESK_HOME", str(tmp_path))  # no adopted policy: the alerts of the folder's policy.toml
    at = open_page(PAGE, incident="INC-c")
    assert at.selectbox(key="incident").value == "INC-c"
    body = texts(at)
    assert "INC-c · model · geo=DE" in body
    assert "Alerts from the data folder's policy.toml (no policy has been adopted)." in body
    severities = {m.label: m.value for m in at.metric}
    assert severities["Severity logged"] == "P1" and severities["Severity suggested"] in ("P0", "P1", "P2", "P3")
    frames = [d.value for d in at.dataframe]
    assert "**3. Roll back or not?**  \nRoll back model-v2.0-full to model-v1.9" in body
    changes = next(f for f in frames if "kind" in f.columns)
    assert "model-v2.0-canary" in set(changes["what"])


def test_the_default_is_the_newest_incident():
    at = open_page(PAGE)
    assert at.selectbox(key="incident").value == "INC-d"


def test_no_incident_log_gives_a_message(tmp_path):
    pl.DataFrame({"ts": ["2026-10-01T00:00:00Z"], "geo": ["DE"], "conversions": [1.0], "spend": [2.0]}).write_csv(
        tmp_path / "kpis.csv")
    at = open_page(PAGE, data=str(tmp_path))
    assert any("No incidents table" in i.value for i in at.info)


def test_the_kept_incident_view_is_the_librarys_and_the_backtest_is_computed_once(tmp_path, monkeypatch,
                                                                                   sample_dataset):
    """The page keeps the alerts' backtest once for every incident of the log (and the gates' values with the Gates
    page); each incident's view through those caches equals the library's, computed without any."""
    import json

    from driftdesk.incidents import incident_view
    loaders = app_module("ui.loaders")

    monkeypatch.setenv("DRIFTDESK_HOME", str(tmp_path))
    backtests = []
    alerts = loaders.incident_alerts
    monkeypatch.setattr(loaders, "incident_alerts", lambda *a, **k: backtests.append(a) or alerts(*a, **k))
    canaries = []
    judged = loaders.incident_canaries
    monkeypatch.setattr(loaders, "incident_canaries", lambda *a, **k: canaries.append(a) or judged(*a, **k))
    for cached in (loaders._incident, loaders._incident_alerts, loaders._incident_canaries, loaders._gate_values,
                   loaders._components):
        cached.clear()
    for incident in ("INC-c", "INC-b", "INC-d", "INC-c"):
        kept = loaders.incident_of("sample", incident)
        direct = incident_view(sample_dataset, incident)
        assert close(json.loads(json.dumps(kept.to_dict())), json.loads(json.dumps(direct.to_dict())))
        assert kept.incident["incident_id"] == incident
    assert len(backtests) == len(canaries) == 1  # the log's canaries judged once, for every incident
    canary = loaders.incident_of("sample", "INC-c").rollout
    assert (canary["decision"], canary["segments"][0]) == ("rollback", "geo=DE")


def close(a, b) -> bool:
    """Equal JSON documents, numbers to 1e-9 (two computations: polars' parallel sums may differ in the last bit)."""
    import math

    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b
