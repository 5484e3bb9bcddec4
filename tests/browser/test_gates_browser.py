"""The Gates page in Debian's Chromium at 1440 x 900: a proposal beside the default policy with the difference, the
sweep's labelled points and marked thresholds, the incidents' delays in view; a stranger's folder on its starter
policy without an incident log. Screenshots go to test-artifacts/."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import pytest
from browser_helpers import open_page

from driftdesk.gates.policy import encode_policy, load_policy
from driftdesk.paths import sample_data_dir
from foreign_data import write_foreign_folder

pytestmark = pytest.mark.browser
WIDE = {"width": 1440, "height": 900}


@pytest.fixture
def wide_page(chromium):
    context = chromium.new_context(viewport=WIDE)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_tuning_loop_reads_at_1440(app_url, wide_page, shoot):
    policy = load_policy(sample_data_dir() / "policy.toml")
    proposal = policy.with_gate(replace(policy.gate("cpa_by_geo"), threshold=0.2))
    page = wide_page
    open_page(page, f"{app_url}/gates?data=sample&gate=cpa_by_geo&policy={encode_policy(proposal)}",
              "The proposal beside", timeout_ms=180_000)
    assert page.get_by_test_id("stException").count() == 0
    body = page.inner_text("body")
    assert "The proposal is worse than the folder's policy.toml (northwind-default) on recall" in body
    page.get_by_text("The proposal beside").first.scroll_into_view_if_needed()
    shoot(page, "gates-tuning-1440-comparison")
    # the sweep's legend says what the shapes mean, and its points carry their thresholds
    sweep = page.get_by_test_id("stPlotlyChart").nth(1)
    sweep.scroll_into_view_if_needed()
    legend = sweep.inner_text()
    assert "the folder's policy.toml (northwind-default): threshold +12.0%, 3 in a row" in legend
    assert "proposal: threshold +20.0%, 3 in a row" in legend
    labels = sweep.locator("g.textpoint").all_inner_texts()
    assert labels and all(label.startswith(("+", "-")) and label.endswith("%") for label in labels if label)
    shoot(page, "gates-tuning-1440-sweep")
    page.get_by_text("Incidents: caught or missed, and how late").first.scroll_into_view_if_needed()
    shoot(page, "gates-tuning-1440-incidents")


def test_a_strangers_folder_opens_on_its_starter_policy(app_url, wide_page, shoot, tmp_path):
    foreign = write_foreign_folder(tmp_path / "advertiser")
    page = wide_page
    open_page(page, f"{app_url}/gates?data={quote(str(foreign.folder), safe='')}&gate=cpa_by_Country",
              "Policy starter", timeout_ms=180_000)
    assert page.get_by_test_id("stException").count() == 0
    body = page.inner_text("body")
    assert "Showing the starter policy: generated from this data's tables" in body
    assert "There is no incidents table" in body
    sweep = page.get_by_test_id("stPlotlyChart").nth(1)
    assert "recall needs an incidents table" in sweep.inner_text()
    shoot(page, "gates-starter-1440")
    sweep.scroll_into_view_if_needed()
    shoot(page, "gates-starter-1440-sweep")
