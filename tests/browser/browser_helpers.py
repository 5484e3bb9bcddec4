"""Helpers for browser tests (a unique module name, unlike conftest): waiting for Streamlit to render."""

from __future__ import annotations

import itertools


def wait_for_text(page, text: str, timeout_ms: int = 60_000) -> None:
    """Wait until the app shows a text (Streamlit renders after the websocket run, not at load)."""
    page.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=timeout_ms)


IDLE_JS = """({token, quiet}) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
    && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && document.querySelectorAll('[data-stale="true"]').length === 0
    && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0;
  const key = '__idleSince' + token;
  if (!idle) { window[key] = null; return false; }
  const now = performance.now();
  if (window[key] == null) { window[key] = now; }
  return now - window[key] >= quiet;
}"""
_tokens = itertools.count()


def wait_for_idle(page, timeout_ms: int = 60_000, quiet_ms: int = 500) -> None:
    """Wait until Streamlit has finished running the script and drawn its result, and stays so for ``quiet_ms``:
    no stale elements and no loading skeletons left (a rerun queued by a URL-bound control leaves skeletons while
    the state already reads idle, and may start a moment after the first run ends)."""
    page.wait_for_function(IDLE_JS, arg={"token": next(_tokens), "quiet": quiet_ms}, timeout=timeout_ms,
                           polling=50)


def open_page(page, url: str, text: str, timeout_ms: int = 90_000) -> None:
    """Go to a URL of the served app and wait until it shows ``text`` and has finished running."""
    page.goto(url)
    wait_for_text(page, text, timeout_ms)
    wait_for_idle(page, timeout_ms)


def _segment(page, part: str, label: str):
    return page.get_by_role("spinbutton", name=f"{part}, {label}")


def shown_day(page, label: str) -> str:
    """The ISO day a Streamlit date input shows (its year, month and day segments)."""
    y, m, d = (int(_segment(page, part, label).get_attribute("aria-valuenow")) for part in ("year", "month", "day"))
    return f"{y:04d}-{m:02d}-{d:02d}"


def set_day(page, label: str, iso_day: str) -> None:
    """Type a day into a Streamlit date input segment by segment, then close the calendar so it commits."""
    y, m, d = iso_day.split("-")
    for part, digits in (("year", y), ("month", m), ("day", d)):
        _segment(page, part, label).click()
        page.keyboard.type(digits)
    page.keyboard.press("Escape")
    page.locator("h1").first.click()  # leaving the field commits the value (and reruns the app)
