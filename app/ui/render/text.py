"""Words, escaping and tables shared by every render function.

Values that come from data (segment values, service and column names, file paths, error messages that quote
rows) are never rendered as HTML and never interpreted as markdown: ``md()`` escapes them before they go into a
markdown element, and tables show them as plain cells. Numbers are formatted by the library's one formatter
(``driftdesk.format.format_value`` or a registered metric's ``.format()``), never here.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import TypeVar

import polars as pl
import streamlit as st

from driftdesk.format import MISSING as MISSING_TEXT
from driftdesk.format import format_value
from driftdesk.status import ALERT, MISSING, NOT_ENOUGH_DATA, OK, WARN
from driftdesk.windows import Window, baseline_label, overlap_note

T = TypeVar("T")
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


def later(fn: Callable[..., T], *args) -> Callable[[], T]:
    """``fn(*args)`` to be run later, as this page run would run it: a deferred download is built on a server thread,
    outside the run, where the data's currency (``driftdesk.format.money_in``) would otherwise fall back to USD."""
    return partial(contextvars.copy_context().run, fn, *args)


def md(text: object) -> str:
    """Text shown literally inside markdown: every character markdown or Streamlit would interpret is escaped."""
    return _SPECIAL.sub(r"\\\1", str(text))


def show_error(message: object, detail: object | None = None) -> None:
    """An error box with ``message`` and, below it, ``detail`` (an exception's text), both shown literally."""
    st.error(md(message) if detail is None else f"{md(message)}\n\n{md(detail)}")


def describe_windows(current: Window, baseline: Window, vs: str) -> str:
    """Both windows to the hour, so the reader sees exactly what is compared, and whether they overlap (markdown)."""
    note = overlap_note(current, baseline)
    return (f"**Current** {current.start:%Y-%m-%d %H:%M} → {current.end:%Y-%m-%d %H:%M} · "
            f"**baseline** ({baseline_label(vs)}) {baseline.start:%Y-%m-%d %H:%M} → {baseline.end:%Y-%m-%d %H:%M} "
            "(UTC, end excluded)" + (f"  \n:orange[:material/warning: {md(note[0].upper() + note[1:])}.]" if note else ""))


PROSE_COLUMNS = ("note", "notes", "why", "detail", "reason", "reasons", "caveat", "description")
UNIT_HELP = {"pp": "Percentage points: the difference of two rates (3.6% → 3.5% is -0.1 pp).",
             "change": "Relative change against the baseline value."}


def table(frame: pl.DataFrame, *, units: Mapping[str, str] | None = None, column_config: Mapping | None = None,
          missing: Mapping[str, str] | None = None, **kwargs) -> None:
    """A dataframe whose number columns read as the library formats them (``units``: column -> unit of
    ``format_value``), still sorted by their numbers when a reader clicks a header.

    A missing number reads "–" and its column's help says why it can be missing (``missing``: column -> reason; by
    default the note column's, or "not defined"); missing text reads "–" (empty in a note), never "None".
    """
    units = {c: u for c, u in (units or {}).items() if c in frame.columns}
    config = {c: ({"label": v} if isinstance(v, str) else dict(v)) for c, v in (column_config or {}).items()
              if c in frame.columns}
    has_note = any(c in frame.columns for c in PROSE_COLUMNS)
    for c, unit in units.items():
        helps = [UNIT_HELP.get(unit, "")]
        nulls = frame[c].null_count() + (frame[c].is_nan().sum() if frame.schema[c].is_float() else 0)
        if nulls:
            why = (missing or {}).get(c) or ("no value for this row; the note says why" if has_note
                                              else "not defined for this row (no rows, or nothing to divide by)")
            helps.append(f"{MISSING_TEXT}: {why}.")
        text = " ".join(h for h in helps if h)
        if text:
            entry = config.setdefault(c, {})
            entry["help"] = " ".join(h for h in (entry.get("help"), text) if h)
    text_columns = [c for c, t in frame.schema.items() if t == pl.String]
    frame = frame.with_columns(pl.col(c).fill_null("" if c in PROSE_COLUMNS else MISSING_TEXT) for c in text_columns)
    open_times = [c for c, t in frame.schema.items() if t.is_temporal() and frame[c].null_count()]
    frame = frame.with_columns(  # a time that is not there (an event still open) reads "–"; ISO text sorts as time
        pl.col(c).dt.to_string("%Y-%m-%d %H:%M:%S").fill_null(MISSING_TEXT) for c in open_times)
    formats = {c: partial(_cell, unit=u) for c, u in units.items()}
    formats |= {c: partial(_cell, unit="") for c, t in frame.schema.items()  # a missing number never reads "None"
                if t.is_numeric() and c not in formats and frame[c].null_count()}
    data = _styled(frame, formats) if formats else frame
    # the browser draws a missing cell as its own placeholder ("None" by default), whatever text the Styler gives
    st.dataframe(data, hide_index=True, width="stretch", column_config=config, placeholder=MISSING_TEXT, **kwargs)


def _styled(frame: pl.DataFrame, formats: Mapping):
    """The frame as a pandas Styler showing ``formats``. A list column (a sparkline's values) holds Python lists: the
    Styler prints every cell, and printing a numpy array costs about 0.3 ms, a list a few microseconds."""
    import pandas as pd

    data = frame.to_pandas()
    for c in [c for c, t in frame.schema.items() if isinstance(t, pl.List)]:
        data[c] = pd.Series(frame[c].to_list(), index=data.index, dtype=object)
    return data.style.format(formats, na_rep=MISSING_TEXT)


def _cell(value, *, unit: str) -> str:
    return format_value(None if value is None or value != value else value, unit)  # NaN is how pandas says null
