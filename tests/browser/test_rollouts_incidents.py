"""The Rollouts and Incidents pages in Debian's Chromium: a shared link reopens the same judgement and the same
incident; screenshots go to test-artifacts/."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import open_page, wait_for_text

pytestmark = pytest.mark.browser


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def test_a_shared_rollout_link_shows_the_rollback_on_de(app_url, browser_page, shoot):
    url = f"{app_url}/rollouts?data=sample&control=v1.9&candidate=v2.0&by=geo"
    open_page(browser_page, url, "Roll back", timeout_ms=180_000)
    wait_for_text(browser_page, "calibration in breach in geo=DE")
    assert query(browser_page.url)["by"] == ["geo"]
    shoot(browser_page, "rollouts")


def test_a_shared_incident_link_opens_incident_c(app_url, browser_page, shoot):
    open_page(browser_page, f"{app_url}/incidents?data=sample&incident=INC-c", "INC-c · model · geo=DE",
              timeout_ms=180_000)
    wait_for_text(browser_page, "3. Roll back or not?")
    body = browser_page.inner_text("body")
    assert "Roll back model-v2.0" in body and "to model-v1.9" in body  # which v2.0 release depends on the first alert
    assert "Severity logged" in body and "Severity suggested" in body
    assert "Export the postmortem" in body
    shoot(browser_page, "incidents")
