"""Values from data are shown literally: never run as HTML, never read as markdown (links, bold, colours)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from app_helpers import MARKDOWN_KINDS, hourly_kpis, no_exception, open_page, shown

HTML = "<img src=x onerror=alert(1)>"
MARKDOWN = "**bold** [link](http://x)"
DIRECTIVE = ":red[red] $x$"
VALUES = (HTML, MARKDOWN, DIRECTIVE)


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Segment and service names that are HTML and markdown; one of them moves on the last day."""
    folder = tmp_path_factory.mktemp("hostile")
    start, days = dt.datetime(2026, 9, 1), 22
    last_day = start + dt.timedelta(days=days - 1)
    kpis = pl.concat([hourly_kpis(days, start=start).filter(pl.col("geo") == geo).with_columns(geo=pl.lit(name))
                      for geo, name in (("US", HTML), ("DE", MARKDOWN))])
    kpis = pl.concat([kpis, hourly_kpis(days, start=start).filter(pl.col("geo") == "US").with_columns(
        geo=pl.lit(DIRECTIVE))])
    kpis = kpis.with_columns(pl.when((pl.col("geo") == HTML) & (pl.col("ts") >= last_day))
                             .then(pl.col("conversions") / 4).otherwise(pl.col("conversions")).alias("conversions"))
    kpis.write_parquet(folder / "kpis.parquet")
    ts = pl.datetime_range(start, start + dt.timedelta(days=days), "1h", closed="left", eager=True)
    rng = np.random.default_rng(0)
    service = pl.concat([pl.DataFrame({"ts": ts, "service": name, "requests": 1000.0,
                                       "errors": rng.poisson(5, ts.len()).astype(float), "latency_p99_ms": 200.0})
                         for name in VALUES])
    service = service.with_columns(pl.when((pl.col("service") == HTML) & (pl.col("ts") >= last_day))
                                   .then(5000.0).otherwise(pl.col("latency_p99_ms")).alias("latency_p99_ms"))
    service.write_parquet(folder / "service.parquet")
    return folder


def check_literal(at) -> None:
    """No markdown element holds a value unescaped; each value that is shown reads literally."""
    no_exception(at)
    for kind in MARKDOWN_KINDS:
        for element in getattr(at, kind):
            for value in VALUES:
                assert value not in element.value, f"{kind} renders {value!r} as markup: {element.value!r}"
    assert not [e for e in at.get("html")], "no st.html on a page"


def shown_anywhere(at, value: str) -> bool:
    in_markdown = any(value in shown(e.value) for kind in MARKDOWN_KINDS for e in getattr(at, kind))
    in_tables = any(value in str(frame.value.to_dict()) for frame in at.dataframe)
    return in_markdown or in_tables


@pytest.mark.parametrize("page", ["overview", "impact", "seasonality", "drift", "data"])
def test_every_page_shows_hostile_values_literally(hostile_folder, page):
    at = open_page(f"app_pages/{page}.py", data=str(hostile_folder))
    check_literal(at)


def test_the_values_are_on_the_pages_as_text(hostile_folder):
    overview = open_page("app_pages/overview.py", data=str(hostile_folder), day="2026-09-22")
    check_literal(overview)
    notes = [shown(c.value) for c in overview.caption]
    assert any(note.startswith("p99 latency") and HTML in note for note in notes)  # the service card's why
    assert any(f"· {HTML}: 5,000 ms" in shown(m.value) for m in overview.markdown)  # and its lead line
    impact = open_page("app_pages/impact.py", data=str(hostile_folder), end="2026-09-22", days="1",
                       vs="day_over_day")
    check_literal(impact)
    assert f"geo={HTML} (rate)" in shown(impact.subheader[0].value)  # the headline names it, escaped
    assert set(impact.dataframe[0].value["geo"]) == set(VALUES)
    seasonality = open_page("app_pages/seasonality.py", data=str(hostile_folder), segment=f"geo={MARKDOWN}")
    check_literal(seasonality)
    assert f"geo={MARKDOWN}: " in shown(seasonality.subheader[0].value)
    for value in VALUES:
        assert shown_anywhere(seasonality, value)
