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


def test_a_regression_links_to_the_release_that_introduced_it():
    at = open_page(PAGE, by="model", end="2026-09-24", days="2")
    links = [link.proto for link in at.get("page_link") if link.proto.page == "llm"]
    assert len(links) == 1 and "llm-provider-m-2026-09" in links[0].label and "shipped this version" in links[0].label
    # the link opens this page on the release's first two days, the regression's metric drawn
    assert links[0].query_string == "data=sample&end=2026-09-24&days=2&metric=validator_failure_rate&by=model"


def test_budget_burn_read_at_an_hour_with_its_projection():
    at = open_page(PAGE, by="feature", end="2026-09-03", days="1", budget="8", asof="15:00")
    assert at.selectbox(key="asof").value == "15:00"
    body = texts(at)
    assert "all calls: $" in body and "spent by 15:00 UTC" in body and "at $" in body
    assert "Budget: " in body


def test_flipped_golden_cases_with_their_kinds():
    at = open_page(PAGE, golden_baseline="prompt-v2", golden_candidate="llm-provider-m-2026-09")
    assert at.selectbox(key="golden_candidate").value == "llm-provider-m-2026-09"
    assert "llm-provider-m-2026-09** against **prompt-v2**, case by case: 15 case(s) flipped pass → fail" in texts(at)
    flips = next(d.value for d in at.dataframe if "flip" in d.value.columns)
    known = flips[flips["case_kind"] == "known_failure"]
    assert known["case_id"].tolist() == ["case-098"] and known["flip"].tolist() == ["pass_to_fail"]
    kinds = next(d.value for d in at.dataframe if "pass_rate_candidate" in d.value.columns)
    assert kinds["case_kind"].tolist() == ["all", "known_failure", "adversarial", "edge", "happy"]


def test_a_budget_past_its_bound_in_a_link_falls_back_to_none_and_the_page_still_shows():
    """Like every other out-of-range value in a URL: the control's default, not an error in place of the page."""
    at = open_page("app_pages/llm.py", data="sample", budget="1e308")
    assert at.number_input(key="budget").value == 0.0
    assert not at.error and "Golden set" in texts(at)
