"""The app's last line of defence: an error no page caught becomes a message on the page, never a traceback.

A page catches the errors it expects around its one loader call; anything raised elsewhere (a malformed
policy.toml read before the page's main ``try``, a panic inside a reader, a bug) reaches the entry script, which
shows it here: a DriftdeskError as its own message (it says what to fix), anything else as a short message with
the exception's type, the traceback going to the server's log only.
"""

from __future__ import annotations

import logging

from polars.exceptions import PanicException

from driftdesk.errors import DriftdeskError
from ui.render.text import show_error

# what a page run may raise that must become a message; Streamlit's own stop and rerun signals are BaseExceptions
# that are not listed here, so they pass through
PAGE_FAILURES = (Exception, PanicException)
log = logging.getLogger("driftdesk.app")


def show_failure(exc: BaseException, *, page: str = "") -> None:
    """A message on the page for an error no page caught (the traceback of an unexpected one goes to the log)."""
    if isinstance(exc, DriftdeskError):
        show_error(exc)
        return
    log.error("page %s failed", page or "?", exc_info=exc)
    if isinstance(exc, MemoryError):
        reason = "the data is too large for this server's memory"
    elif isinstance(exc, PanicException):
        reason = "a file could not be read (the reader stopped on it)"
    else:
        reason = "an unexpected error"
    show_error(f"This page could not be shown: {reason} ({type(exc).__name__}). The details are in the server's log. "
               "Try other settings, or open the Data page to check the data.")
