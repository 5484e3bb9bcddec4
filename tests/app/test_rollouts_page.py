"""The Rollouts page: the sample's canary by default, a deep link sets the controls, bad choices give a message."""

from __future__ import annotations

from app_helpers import open_page, texts

PAGE = "app_pages/rollouts.py"


def test_the_default_view_is_the_latest_canary_and_rolls_back_on_de():
    at = open_page(PAGE)
    assert at.title[0].value == "Rollouts"
    assert (at.selectbox(key="control").value, at.selectbox(key="candidate").value) == ("v1.9", "v2.0")
    body = texts(at)
    assert "**Roll back** at 2026-10-06 06:00 UTC" in body and "geo=DE" in body
    banner = at.error[0].value
    assert banner.count("2026-10-06") == 1 and "06:00:00" not in banner  # the decision's time, once, as people write it
    assert len(at.dataframe[0].value) > 0


def test_a_deep_link_sets_the_controls():
    at = open_page(PAGE, control="v1.9", candidate="v2.0", by="geo")
    assert at.multiselect(key="by").value == ["geo"]
    table = at.dataframe[0].value
    assert set(table["segment"]) == {"geo=BR", "geo=DE", "geo=GB", "geo=IN", "geo=US"}


def test_the_same_version_on_both_sides_is_a_message_not_a_traceback():
    at = open_page(PAGE, control="v2.0", candidate="v2.0")
    assert any("both 'v2.0'" in e.value for e in at.error)
