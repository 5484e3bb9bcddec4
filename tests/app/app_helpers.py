"""AppTest helpers (imported by the tests; a unique module name, unlike conftest): the app, page text, data."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import sys
from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app" / "streamlit_app.py")


def app_module(name: str):
    """A module of the app (``ui.loaders``...) imported as the app imports it, for a test that calls it directly
    (the app's folder on the path, as a run of the app puts it)."""
    if str(ROOT / "app") not in sys.path:
        sys.path.insert(0, str(ROOT / "app"))
    return importlib.import_module(name)


def make_app(**query: str) -> AppTest:
    """The whole app (entry script with navigation), with URL query parameters preset."""
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def open_page(page: str, /, **query: str) -> AppTest:
    """The app opened on ``page`` (e.g. "app_pages/llm.py") with the query, as a shared link opens it; no exception.

    Pages share parameter names (``day``, ``table``, ``metric``...): opening the default page first would bind them
    to its widgets, and Streamlit drops a parameter bound on another page when the page switches.
    """
    at = make_app(**query).switch_page(page).run()
    no_exception(at)
    return at


MARKDOWN_KINDS = ("title", "header", "subheader", "markdown", "caption", "error", "warning", "info", "success")


def shown(markdown: str) -> str:
    """Markdown as a reader sees its text: the app escapes data values (``ui.render.text.md``); undo that."""
    return re.sub(r"\\([\\`*_\[\]<>#|~$:&])", r"\1", str(markdown))


def texts(at: AppTest) -> str:
    """Every text the page shows (markdown, captions, titles, alerts) as read, for 'the page says X' checks."""
    return "\n".join(shown(e.value) for kind in MARKDOWN_KINDS for e in getattr(at, kind))


def shown_cells(frame) -> dict[str, list[str]]:
    """A table's cells as the reader sees them (its styled display text), column by column."""
    import pyarrow as pa

    shown = pa.ipc.open_stream(frame.proto.arrow_data.styler.display_values).read_all().to_pydict()
    return {k: v for k, v in shown.items() if not k.startswith("__")}


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def hourly_kpis(days: int = 15, *, start: dt.datetime = dt.datetime(2026, 9, 1)) -> pl.DataFrame:
    """Two segments, hourly, constant rates: a quiet advertiser."""
    ts = pl.datetime_range(start, start + dt.timedelta(days=days), "1h", closed="left", eager=True)
    one = pl.DataFrame({"ts": ts})
    return pl.concat([
        one.with_columns(geo=pl.lit(geo), clicks=pl.lit(100.0), conversions=pl.lit(conv), spend=pl.lit(50.0),
                         impressions=pl.lit(1000.0), revenue=pl.lit(120.0))
        for geo, conv in (("US", 4.0), ("DE", 2.0))
    ])
