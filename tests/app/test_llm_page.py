"""The LLM page: renders on the sample data, deep links set its controls, INC-e2 reads as a regression."""

from __future__ import annotations

from app_helpers import open_page, texts

PAGE = "app_pages/llm.py"


def test_llm_page_renders_default_view():
    at = open_page(PAGE)
    assert at.title[0].value == "LLM"
    assert at.selectbox(key="by").value == "model"
    assert len(at.dataframe) >= 1


def test_deep_link_shows_the_provider_model_regression():
    at = open_page(PAGE, by="model", end="2026-09-24", days="2")
    assert at.selectbox(key="by").value == "model"
    assert str(at.date_input(key="end").value) == "2026-09-24"
    assert at.selectbox(key="days").value == 2
    body = texts(at)
    assert "validator failure rate rose" in body and "provider-m-2026-09" in body


def test_ordinary_week_is_quiet():
    at = open_page(PAGE, by="feature", end="2026-08-23", days="7")
    assert "No regression" in texts(at)


def test_missing_table_gives_a_message(tmp_path):
    import polars as pl

    pl.DataFrame({"ts": ["2026-10-01T00:00:00Z"], "geo": ["DE"], "conversions": [1.0], "spend": [2.0]}).write_csv(
        tmp_path / "kpis.csv")
    at = open_page(PAGE, data=str(tmp_path))
    assert any("No llm_calls table" in i.value for i in at.info)


def test_the_baseline_is_the_period_right_before_and_has_no_control():
    at = open_page(PAGE, end="2026-09-24", days="2")
    assert "**Current** 2026-09-23 → 2026-09-25 vs **baseline** 2026-09-21 → 2026-09-23" in texts(at)
    assert not [s for s in at.selectbox if s.label == "Compared with"]
