"""The Overview page through AppTest: default view, deep links, URL binding, data carried across pages."""

from __future__ import annotations

import datetime as dt

from app_helpers import make_app, no_exception, texts

LAYER_TITLES = ("Service", "Data", "Model", "Business", "LLM")


def test_overview_of_the_sample_shows_every_layer_for_the_latest_day(sample_dataset):
    at = make_app().run()
    no_exception(at)
    assert at.title[0].value == "Overview"
    assert at.query_params["data"] == "sample"  # the source is always in the URL, so a copied link keeps it
    page = texts(at)
    headings = [h.value for h in at.subheader]
    for title in LAYER_TITLES:
        assert any(h.startswith(f"{title} ") for h in headings), (title, headings)
    # the sample ends 2026-11-01T23:00: the latest whole day
    assert at.date_input(key="day").value == dt.date(2026, 11, 1)
    assert "Status of 2026-11-01" in page
    assert "Sample advertiser (bundled)" in page  # sidebar: what is loaded
    assert "2026-08-03 → 2026-11-01" in page


def test_deep_link_sets_the_day_and_span():
    at = make_app(data="sample", day="2026-10-08", span="14").run()
    no_exception(at)
    assert at.date_input(key="day").value == dt.date(2026, 10, 8)
    assert at.selectbox(key="span").value == 14
    page = texts(at)
    assert "Status of 2026-10-08 (Thursday, UTC)" in page
    assert "one week earlier (2026-10-01)" in page
    # model v2.0 went to full traffic on 10-07 (incident INC-c): the model layer is flagged that week
    model_card = next(h.value for h in at.subheader if h.value.startswith("Model "))
    assert "alert" in model_card or "warn" in model_card


def test_changing_the_day_recomputes_the_view():
    # (the browser writes a bound widget's value into the URL; tests/browser checks that part)
    at = make_app(data="sample").run()
    at.date_input(key="day").set_value(dt.date(2026, 9, 29)).run()
    no_exception(at)
    assert "Status of 2026-09-29" in texts(at)
    # the scoring-api latency incident (INC-f) that afternoon
    service_card = next(h.value for h in at.subheader if h.value.startswith("Service "))
    assert "alert" in service_card


def test_a_day_outside_the_data_falls_back_to_the_latest():
    at = make_app(data="sample", day="1999-01-01").run()
    no_exception(at)
    assert at.date_input(key="day").value == dt.date(2026, 11, 1)


def test_absent_tables_are_said_plainly(kpis_folder):
    at = make_app(data=str(kpis_folder)).run()
    no_exception(at)
    page = texts(at)
    for table in ("service", "decisions", "llm_calls"):
        assert f"no {table} table loaded" in page
    business = next(h.value for h in at.subheader if h.value.startswith("Business "))
    assert "ok" in business  # constant rates: nothing moved


def test_bad_data_source_shows_a_message_not_a_traceback(tmp_path):
    at = make_app(data=str(tmp_path / "nowhere")).run()
    no_exception(at)
    assert any("is not a data folder this server can open" in e.value for e in at.error)


def test_switching_page_keeps_the_data_source(kpis_folder):
    at = make_app(data=str(kpis_folder)).run()
    no_exception(at)
    # st.navigation drops the query string on a page switch: the browser asks for the new page without it
    at.query_params.clear()
    at.switch_page("app_pages/data.py").run()
    no_exception(at)
    assert at.query_params["data"] == str(kpis_folder)
    assert str(kpis_folder) in texts(at)
    at.query_params.clear()
    at.switch_page("app_pages/overview.py").run()
    no_exception(at)
    assert at.query_params["data"] == str(kpis_folder)
    assert "no service table loaded" in texts(at)


def test_data_without_activity_tables_gets_an_explanation(tmp_path):
    (tmp_path / "releases.csv").write_text("ts,release_id,component\n2026-10-01T00:00Z,model-v1,model\n", encoding="utf-8")
    at = make_app(data=str(tmp_path)).run()
    no_exception(at)
    assert any("nothing to compare" in i.value for i in at.info)


def test_the_overview_leads_with_the_days_answer_and_links_each_layer_to_its_page():
    from urllib.parse import parse_qs

    from app_helpers import open_page, shown

    at = open_page("app_pages/overview.py", data="sample", day="2026-08-27")
    assert shown(at.subheader[0].value) == ("Data alert: null rate (ctr_7d) rose 434% week over week "
                                            "(1.96% → 10.5%).")  # incident a, the first day it shows in full
    links = {link.proto.page: parse_qs(link.proto.query_string) for link in at.get("page_link")}
    days = {"seasonality": "day", "drift": "day", "calibration": "end", "impact": "end", "llm": "end"}
    for page, name in days.items():
        assert links[page]["data"] == ["sample"] and links[page][name] == ["2026-08-27"], page
    assert links["drift"]["column"] == ["ctr_7d"]  # the card's lead metric is what the page shows first
    for page, name in days.items():  # each link opens its page on that day, as a shared link would
        query = {k: v[0] for k, v in links[page].items()}
        target = open_page(f"app_pages/{page}.py", **query)
        assert target.date_input(key=name).value == dt.date(2026, 8, 27), page
