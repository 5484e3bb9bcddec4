"""Pages a person reads without help, in Debian's Chromium at 1440x900: every page on the sample and on a folder in
another advertiser's shape renders without an exception, keeps its data source in the URL and is kept as
screenshots; the chosen day carried from page to page; the Overview's cards opening the page that explains them on
the same day; headings whose anchors are words, not icon names.

Screenshots: test-artifacts/pages-1440/<data>-<page>.png (the first screen, as a reader sees it) and
<data>-<page>-full.png (the whole page at the same width).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest
from browser_helpers import open_page, set_day, shown_day, wait_for_idle, wait_for_text

from foreign_data import write_foreign_folder

pytestmark = pytest.mark.browser

SCREEN = {"width": 1440, "height": 900}
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "pages-1440"
PAGE_STEMS = sorted(p.stem for p in (ROOT / "app" / "app_pages").glob("*.py"))
ICON_WORDS = ("material", "check-circle", "warning-warn", "error-alert", "bolt", "trending-up", "help-not")


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    return write_foreign_folder(tmp_path_factory.mktemp("foreign") / "advertiser")


@pytest.fixture
def screen(chromium):
    context = chromium.new_context(viewport=SCREEN)
    try:
        yield context.new_page()
    finally:
        context.close()


def settle(page) -> None:
    """Wait for the page switch to land and the page to finish running (a control may rerun it once)."""
    wait_for_text(page, "Data loaded", 180_000)
    wait_for_idle(page, 180_000, quiet_ms=1000)


def shoot_screen_and_page(page, name: str) -> None:
    """The first screen at 1440x900, then the whole page at the same width (Streamlit scrolls inside its own
    container, so the window is made as tall as the content)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain]')]"
                           ".map(e => e.scrollHeight), 900)")
    page.set_viewport_size({"width": SCREEN["width"], "height": min(int(height) + 40, 14_000)})
    wait_for_layout(page)
    page.screenshot(path=str(SHOTS / f"{name}-full.png"), full_page=True)
    page.set_viewport_size(SCREEN)


LAYOUT_JS = """({quiet}) => {
  const main = document.querySelector('[data-testid=stMain]');
  const sizes = [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot, [data-testid=stMain] canvas')]
    .map(e => e.clientWidth + 'x' + e.clientHeight).join(',');
  const shape = main.scrollHeight + '|' + window.innerHeight + '|' + sizes;
  const now = performance.now();
  if (window.__layoutShape !== shape) { window.__layoutShape = shape; window.__layoutSince = now; return false; }
  return now - window.__layoutSince >= quiet;
}"""


def wait_for_layout(page, quiet_ms: int = 400) -> None:
    """Wait until the page has laid itself out in the resized window: the main area's height and every chart's and
    table's size unchanged for ``quiet_ms``, and Streamlit idle."""
    page.evaluate("() => { window.__layoutShape = null; }")
    page.wait_for_function(LAYOUT_JS, arg={"quiet": quiet_ms}, timeout=30_000, polling=50)
    wait_for_idle(page, 30_000, quiet_ms=0)


def heading_anchors(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] h1, [data-testid=stMain] h2, "
                         "[data-testid=stMain] h3, [data-testid=stMain] h4, [data-testid=stMain] h5')]"
                         ".map(h => h.id).filter(Boolean)")


@pytest.mark.parametrize("stem", PAGE_STEMS)
@pytest.mark.parametrize("data", ["sample", "foreign"])
def test_every_page_at_1440_on_two_datasets(app_url, screen, foreign, data, stem):
    """Every page renders without an exception and keeps its data source in the URL."""
    source = "sample" if data == "sample" else quote(str(foreign.folder), safe="")
    path = "" if stem == "overview" else stem
    open_page(screen, f"{app_url}/{path}?data={source}", "Data loaded", timeout_ms=240_000)
    assert screen.get_by_test_id("stException").count() == 0, screen.get_by_test_id("stException").first.inner_text()
    assert "Page not found" not in screen.inner_text("body")  # the whole window: the sidebar and any dialog too
    assert query(screen.url).get("data") == ("sample" if data == "sample" else str(foreign.folder.resolve()))
    assert "Traceback" not in screen.inner_text("[data-testid=stMain]")
    leaked = [a for a in heading_anchors(screen) if any(word in a for word in ICON_WORDS)]
    assert not leaked, f"icon names in heading anchors: {leaked}"
    # nothing wider than the page: a table or chart that overflows makes the main area scroll sideways
    overflow = screen.evaluate("() => { const m = document.querySelector('[data-testid=stMain]');"
                               " return m.scrollWidth - m.clientWidth; }")
    assert overflow <= 1, f"the page is {overflow} px wider than the screen"
    shoot_screen_and_page(screen, f"{data}-{stem}")


def test_the_chosen_day_goes_from_page_to_page(app_url, screen):
    page = screen
    open_page(page, f"{app_url}/?data=sample&day=2026-10-08", "Status of 2026-10-08", timeout_ms=240_000)
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Calibration", exact=True).click()
    settle(page)
    assert query(page.url).get("end") == "2026-10-08" and shown_day(page, "Window ends on (UTC)") == "2026-10-08"
    nav.get_by_text("Drift", exact=True).click()
    settle(page)
    assert query(page.url).get("day") == "2026-10-08" and shown_day(page, "Current day (UTC)") == "2026-10-08"
    set_day(page, "Current day (UTC)", "2026-09-15")  # a day chosen here goes on too
    page.wait_for_url(lambda url: query(url).get("day") == "2026-09-15", timeout=60_000)
    wait_for_idle(page, 180_000)
    nav.get_by_text("Segments & impact", exact=True).click()
    settle(page)
    url = query(page.url)
    assert url.get("end") == "2026-09-15" and shown_day(page, "Window ends on (UTC)") == "2026-09-15"
    # only the day goes along: Drift's own choices (its baseline, its "(none)" segment) stay on Drift
    assert "vs" not in url and "by" not in url, url
    nav.get_by_text("Overview", exact=True).click()
    settle(page)
    assert query(page.url).get("day") == "2026-09-15" and shown_day(page, "Day shown as latest (UTC)") == "2026-09-15"
    assert query(page.url).get("data") == "sample"


def test_an_overview_card_opens_the_page_that_explains_it_on_the_same_day(app_url, screen):
    page = screen
    open_page(page, f"{app_url}/?data=sample&day=2026-08-27", "Status of 2026-08-27", timeout_ms=240_000)
    assert "Data alert: null rate (ctr_7d) rose" in page.inner_text("[data-testid=stMain]")
    page.get_by_test_id("stMain").get_by_role("link", name="Drift", exact=True).click()
    settle(page)
    url = query(page.url)
    assert urlparse(page.url).path.rstrip("/").endswith("/drift")
    # the column the card named is drawn; it is also the day's most severe, the picker's first choice, which
    # Streamlit leaves out of the address (the same link without it opens the same column)
    assert url.get("day") == "2026-08-27" and url.get("column") in (None, "ctr_7d") and url.get("data") == "sample"
    picker = page.get_by_test_id("stSelectbox").filter(has_text="Column").first
    assert "ctr_7d" in picker.inner_text() + picker.get_by_role("combobox").first.input_value(), picker.inner_html()
    assert shown_day(page, "Current day (UTC)") == "2026-08-27"
    open_page(page, f"{app_url}/?data=sample&day=2026-08-27", "Status of 2026-08-27", timeout_ms=240_000)
    page.get_by_test_id("stMain").get_by_role("link", name="Segments", exact=True).click()
    settle(page)
    url = query(page.url)
    assert url.get("end") == "2026-08-27" and url.get("days") == "1", url
    assert shown_day(page, "Window ends on (UTC)") == "2026-08-27"


def test_the_overview_opens_at_overview_too_without_a_page_not_found(app_url, screen):
    """Every other page has its name as its path: a reader who types /overview gets the Overview and its day, not a
    'Page not found' dialog over it."""
    page = screen
    open_page(page, f"{app_url}/overview?data=sample&day=2026-08-27", "Status of 2026-08-27", timeout_ms=240_000)
    assert "Page not found" not in page.inner_text("body")
    assert query(page.url).get("day") == "2026-08-27"
