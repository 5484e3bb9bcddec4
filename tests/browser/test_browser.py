"""The served app in Debian's Chromium: a shared Overview URL reopens the same view; the data source survives
a page switch; a control writes its state into the URL. Screenshots go to test-artifacts/."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlparse

import pytest
from browser_helpers import open_page, set_day, shown_day, wait_for_idle, wait_for_text

from foreign_data import write_foreign_folder

pytestmark = pytest.mark.browser


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}


def check_overview_of_2026_10_08(page) -> None:
    wait_for_text(page, "Status of 2026-10-08 (Thursday, UTC)")
    assert shown_day(page, "Day shown as latest (UTC)") == "2026-10-08"
    # the 14-day span from the URL: the timeline (plotly SVG) starts 14 days before the day
    page.get_by_text("Releases and incidents, 2026-09-25 to 2026-10-08").first.wait_for(timeout=30_000)
    body = page.inner_text("body")
    for layer in ("Service", "Data", "Model", "Business", "LLM"):
        assert layer in body
    # the open tab of numbers and the expanded events table come from the URL too
    assert page.get_by_role("tab", name="Model").get_attribute("aria-selected") == "true"
    assert "in the last 14 days up to 2026-10-08" in body
    assert "Sample advertiser (bundled)" in body  # sidebar


def test_shared_overview_url_reopens_the_same_view(app_url, chromium, browser_page, shoot):
    url = f"{app_url}/?data=sample&day=2026-10-08&span=14&numbers=Model&events=true"
    open_page(browser_page, url, "Status of 2026-10-08")
    check_overview_of_2026_10_08(browser_page)
    shared = browser_page.url
    assert query(shared) == {"data": "sample", "day": "2026-10-08", "span": "14", "numbers": "Model", "events": "true"}
    shoot(browser_page, "overview")

    context = chromium.new_context(viewport={"width": 1600, "height": 1800})
    try:
        other = context.new_page()
        open_page(other, shared, "Status of 2026-10-08")
        check_overview_of_2026_10_08(other)
        shoot(other, "overview-shared")
    finally:
        context.close()


def test_page_switch_keeps_the_data_source(app_url, browser_page, shoot):
    open_page(browser_page, f"{app_url}/?data=sample&day=2026-10-08", "Status of 2026-10-08")
    browser_page.get_by_test_id("stSidebarNav").get_by_text("Data", exact=True).click()
    wait_for_text(browser_page, "Loaded tables")
    wait_for_idle(browser_page)
    browser_page.wait_for_url(lambda url: query(url).get("data") == "sample", timeout=30_000)
    assert urlparse(browser_page.url).path.rstrip("/").endswith("/data")
    assert "Every table meets the data contract." in browser_page.inner_text("body")
    shoot(browser_page, "data")
    browser_page.get_by_test_id("stSidebarNav").get_by_text("Overview", exact=True).click()
    # back on the Overview: the data source is still there, and so is the day (bound widgets keep their URL value)
    wait_for_text(browser_page, "Status of 2026-10-08")
    browser_page.wait_for_url(lambda url: query(url).get("data") == "sample", timeout=30_000)


def test_choosing_a_day_writes_it_into_the_url(app_url, browser_page):
    open_page(browser_page, f"{app_url}/?data=sample", "Status of 2026-11-01")
    set_day(browser_page, "Day shown as latest (UTC)", "2026-09-29")
    wait_for_text(browser_page, "Status of 2026-09-29")
    browser_page.wait_for_url(lambda url: query(url).get("day") == "2026-09-29", timeout=30_000)
    assert query(browser_page.url)["data"] == "sample"


def test_a_link_with_an_old_baseline_value_opens_the_same_view(app_url, browser_page):
    # links shared before the baseline choice was spelled as its kind said vs=previous day
    open_page(browser_page, f"{app_url}/impact?data=sample&end=2026-09-20&days=3&vs=previous+day", "Segments")
    wait_for_text(browser_page, "(day over day) 2026-09-17 00:00")
    browser_page.wait_for_url(lambda url: query(url).get("vs") == "day_over_day", timeout=30_000)
    assert query(browser_page.url)["end"] == "2026-09-20"


def test_values_from_data_are_text_not_html_or_markdown(app_url, browser_page, shoot, hostile_data):
    """Segment, service, model and version names, release notes and incident ids that are HTML and markdown show as
    typed on every page: no image, no link, no bold, no colour."""
    data = quote(str(hostile_data.folder), safe="")
    html, markdown = hostile_data.html, hostile_data.markdown
    pages = (("impact", "end=2026-09-22&days=1&vs=day_over_day", "Segments", html),
             ("", "day=2026-09-22", "Status of 2026-09-22", html),
             ("seasonality", f"segment={quote('geo=' + markdown, safe='')}", "Seasonality", markdown),
             ("data", "", "Loaded tables", html), ("calibration", "", "Calibration", html),
             ("incidents", "", "Incidents", html), ("rollouts", "", "Rollouts", html),
             ("drift", "", "Drift", None), ("llm", "", "LLM", None), ("gates", "", "Gates", None))
    for path, query_string, text, named in pages:  # (tables draw on a canvas: their cells are not page text)
        open_page(browser_page, f"{app_url}/{path}?data={data}&{query_string}", text, timeout_ms=180_000)
        for summary in browser_page.locator('[data-testid="stExpander"] summary').all():  # folded text is text too
            summary.click()
        if named is not None:
            assert named in browser_page.inner_text("body"), path
        assert browser_page.locator('img[src="x"]').count() == 0
        assert browser_page.locator('a[href="http://x"], a[href="http://x/"]').count() == 0
        assert browser_page.get_by_test_id("stException").count() == 0
        shoot(browser_page, f"untrusted-{path or 'overview'}")


def test_a_foreign_folder_loads_in_three_clicks(app_url, browser_page, shoot, tmp_path):
    """Files named anything, foreign column names, New York times with offsets: three clicks from the Data page to
    loaded tables and a remembered mapping."""
    foreign = write_foreign_folder(tmp_path / "advertiser")
    page = browser_page
    open_page(page, f"{app_url}/data?data=sample", "Loaded tables")
    clicks = 0
    page.get_by_role("tab", name="Folder").click()
    clicks += 1
    page.get_by_role("textbox", name="Folder on this server").fill(str(foreign.folder))  # typing is not a click
    page.get_by_role("button", name="Load this folder").click()
    clicks += 1
    page.wait_for_url(lambda url: query(url).get("data") == str(foreign.folder.resolve()), timeout=60_000)
    wait_for_text(page, "Every table meets the data contract.", timeout_ms=120_000)
    wait_for_idle(page, timeout_ms=120_000)
    body = page.inner_text("body")
    assert "notes.csv matches no table" in body  # the file that is no table is named, the rest loads
    page.get_by_role("button", name="Remember this mapping").click()
    clicks += 1
    page.wait_for_function("() => [...document.querySelectorAll('button')].some(b => b.innerText.includes("
                           "'Remember this mapping') && b.disabled)", timeout=60_000)
    wait_for_idle(page)
    assert clicks <= 3
    assert (foreign.folder / "driftdesk.toml").is_file()
    assert page.get_by_test_id("stException").count() == 0
    shoot(page, "data-foreign-folder")


def test_llm_link_shows_the_release_budget_burn_and_flipped_cases(app_url, browser_page, shoot):
    url = (f"{app_url}/llm?data=sample&by=model&end=2026-09-24&days=2&budget=8&asof=15%3A00"
           "&golden_baseline=prompt-v3&golden_candidate=llm-provider-m-2026-09")
    open_page(browser_page, url, "Golden set", timeout_ms=180_000)
    wait_for_text(browser_page, "case by case")
    body = browser_page.inner_text("body")
    assert "release llm-provider-m-2026-09" in body and "open its first two days" in body
    assert "spent by 15:00 UTC" in body
    assert browser_page.get_by_test_id("stException").count() == 0
    assert query(browser_page.url)["golden_candidate"] == "llm-provider-m-2026-09"
    shoot(browser_page, "llm-incident-e2")
    browser_page.get_by_text("case by case").first.scroll_into_view_if_needed()
    shoot(browser_page, "llm-incident-e2-golden")
