"""Values from data are shown literally: never run as HTML, never read as markdown (links, bold, colours)."""

from __future__ import annotations

import pytest
from app_helpers import MARKDOWN_KINDS, no_exception, open_page, shown


def check_literal(at, values) -> None:
    """No markdown element holds a value unescaped (markdown would render it); the page raised nothing."""
    no_exception(at)
    for kind in MARKDOWN_KINDS:
        for element in getattr(at, kind):
            for value in values:
                assert value not in element.value, f"{kind} renders {value!r} as markup: {element.value!r}"
    assert not at.get("html"), "no st.html on a page"


def shown_anywhere(at, value: str) -> bool:
    in_markdown = any(value in shown(e.value) for kind in MARKDOWN_KINDS for e in getattr(at, kind))
    in_options = any(value in str(option) for box in at.selectbox for option in box.options)
    return in_markdown or in_options or any(value in str(frame.value.to_dict()) for frame in at.dataframe)


@pytest.mark.parametrize("page", ["llm", "rollouts", "incidents", "data", "gates", "calibration"])
def test_the_pages_show_the_hostile_values_as_text(hostile_data, page):
    """Model and version names, segment values, incident ids and release notes reach these pages, as text."""
    at = open_page(f"app_pages/{page}.py", data=str(hostile_data.folder))
    check_literal(at, hostile_data.values)
    assert not at.error, [e.value for e in at.error]
    assert shown_anywhere(at, hostile_data.html), page


@pytest.mark.parametrize("page", ["overview", "impact", "seasonality", "drift", "data", "calibration", "llm",
                                  "gates", "rollouts", "incidents"])
def test_every_page_shows_hostile_values_literally(hostile_data, page):
    check_literal(open_page(f"app_pages/{page}.py", data=str(hostile_data.folder)), hostile_data.values)


def test_the_values_are_on_the_pages_as_text(hostile_data):
    html, markdown = hostile_data.html, hostile_data.markdown
    overview = open_page("app_pages/overview.py", data=str(hostile_data.folder), day="2026-09-22")
    check_literal(overview, hostile_data.values)
    notes = [shown(c.value) for c in overview.caption]
    assert any(note.startswith("p99 latency") and html in note for note in notes)  # the service card's why
    assert any(f"· {html}: 5,000 ms" in shown(m.value) for m in overview.markdown)  # and its lead line
    impact = open_page("app_pages/impact.py", data=str(hostile_data.folder), end="2026-09-22", days="1",
                       vs="day_over_day")
    check_literal(impact, hostile_data.values)
    assert f"geo={html} (rate)" in shown(impact.subheader[0].value)  # the headline names it, escaped
    assert set(impact.dataframe[0].value["geo"]) == set(hostile_data.values)
    seasonality = open_page("app_pages/seasonality.py", data=str(hostile_data.folder), segment=f"geo={markdown}")
    check_literal(seasonality, hostile_data.values)
    assert f"geo={markdown}: " in shown(seasonality.subheader[0].value)
    for value in hostile_data.values:
        assert shown_anywhere(seasonality, value)


def _chart_strings(at) -> list[str]:
    """Every string of every plotly chart on the page (titles, axis and tick labels, legends, hover texts)."""
    import json

    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return found


@pytest.mark.parametrize("page", ["overview", "impact", "drift", "calibration", "llm", "gates", "rollouts",
                                  "incidents"])
def test_charts_show_hostile_values_as_text(hostile_data, page):
    """Plotly renders tags in a chart's text (<b>, <a href>, <br>): a value from data reaches a chart escaped."""
    at = open_page(f"app_pages/{page}.py", data=str(hostile_data.folder))
    strings = _chart_strings(at)
    assert strings, f"{page} draws no chart"
    assert not [s for s in strings if hostile_data.html in s], page
