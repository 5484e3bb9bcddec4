"""Known-good baselines on every comparing page: "the last release before this one" and a pinned window, from the
URL; a pinned window that cannot be read is a message, not a traceback."""

from __future__ import annotations

from app_helpers import open_page, texts


def test_calibration_against_the_last_release():
    at = open_page("app_pages/calibration.py", end="2026-10-09", days="3", vs="last_release")
    assert at.selectbox(key="vs").value == "last_release"
    # the release live at the window's end is model-v2.0-full (10-07): whole weeks back, before it
    assert "(last release before this one) 2026-09-30 00:00 → 2026-10-03 00:00" in texts(at)


def test_impact_against_a_pinned_window():
    at = open_page("app_pages/impact.py", end="2026-09-20", days="7", vs="pinned",
                   pinned="2026-08-10T00:00/2026-08-17T00:00")
    assert at.text_input(key="pinned").value == "2026-08-10T00:00/2026-08-17T00:00"
    assert "(pinned reference) 2026-08-10 00:00 → 2026-08-17 00:00" in texts(at)


def test_a_bad_pinned_window_is_a_message():
    at = open_page("app_pages/impact.py", vs="pinned", pinned="last tuesday")
    assert any("Baseline pinned reference" in w.value for w in at.warning)


def test_drift_against_the_last_release():
    at = open_page("app_pages/drift.py", table="decisions", day="2026-10-09",
                   baselines=["week_over_week", "last_release"], vs="last_release")
    assert at.multiselect(key="baselines").value == ["week_over_week", "last_release"]
    assert at.selectbox(key="vs").value == "last_release"
    assert "score" in at.error[0].value  # the v2.0 scores shifted against the state before the release


def test_overview_with_a_known_good_baseline():
    at = open_page("app_pages/overview.py", day="2026-10-10", known_good="last_release")
    assert at.selectbox(key="known_good").value == "last_release"
    assert "and the known-good baseline 2026-10-03 00:00" in texts(at)
    assert "change k/g" in at.dataframe[0].value.columns
