"""Words, escaping and tables shared by every render function.

Values that come from data (segment values, service and column names, file paths, error messages that quote
rows) are never rendered as HTML and never interpreted as markdown: ``md()`` escapes them before they go into a
markdown element, and tables show them as plain cells. Numbers are formatted by the library's one formatter
(``driftdesk.format.format_value`` or a registered metric's ``.format()``), never here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial

import polars as pl
import streamlit as st

from driftdesk.format import format_value
from driftdesk.status import ALERT, MISSING, NOT_ENOUGH_DATA, OK, WARN
from driftdesk.windows import Window, baseline_label

# markdown (and Streamlit's directives: :red[..], :material/x:, $latex$) is interpreted at these characters
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$:&])")

STATUS_BADGE = {
    OK: ":green-badge[:material/check_circle: ok]",
    WARN: ":orange-badge[:material/warning: warn]",
    ALERT: ":red-badge[:material/error: alert]",
    NOT_ENOUGH_DATA: ":gray-badge[:material/help: not enough data]",
    MISSING: ":gray-badge[:material/block: no table]",
}
STATUS_DOT = {OK: ":green[●]", WARN: ":orange[●]", ALERT: ":red[●]", NOT_ENOUGH_DATA: ":gray[○]", MISSING: ":gray[○]"}
STATUS_WORD = {ALERT: "ALERT", WARN: "warn", OK: "ok", NOT_ENOUGH_DATA: "not enough data", MISSING: "no table"}


def md(text: object) -> str:
    """Text shown literally inside markdown: every character markdown or Streamlit would interpret is escaped."""
    return _SPECIAL.sub(r"\\\1", str(text))


def show_error(message: object, detail: object | None = None) -> None:
    """An error box with ``message`` and, below it, ``detail`` (an exception's text), both shown literally."""
    st.error(md(message) if detail is None else f"{md(message)}\n\n{md(detail)}")


def describe_windows(current: Window, baseline: Window, vs: str) -> str:
    """Both windows to the hour, so the reader sees exactly what is compared (markdown)."""
    return (f"**Current** {current.start:%Y-%m-%d %H:%M} → {current.end:%Y-%m-%d %H:%M} · "
            f"**baseline** ({baseline_label(vs)}) {baseline.start:%Y-%m-%d %H:%M} → {baseline.end:%Y-%m-%d %H:%M} "
            "(UTC, end excluded)")


def table(frame: pl.DataFrame, *, units: Mapping[str, str] | None = None, column_config: Mapping | None = None,
          **kwargs) -> None:
    """A dataframe whose number columns read as the library formats them (``units``: column -> unit of
    ``format_value``), still sorted by their numbers when a reader clicks a header."""
    formats = {c: partial(_cell, unit=u) for c, u in (units or {}).items() if c in frame.columns}
    data = frame.to_pandas().style.format(formats) if formats else frame
    st.dataframe(data, hide_index=True, width="stretch", column_config=dict(column_config or {}), **kwargs)


def _cell(value, *, unit: str) -> str:
    return format_value(None if value is None or value != value else value, unit)  # NaN is how pandas says null
