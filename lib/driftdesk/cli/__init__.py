"""The `driftdesk` command: the library's computations as JSON (or tables), and gates that exit non-zero.

Exit codes: 0 success, 1 a gate failed, 2 bad input (one line on stderr). JSON keys only ever grow. Whatever goes
wrong, the command never ends in a traceback and never exits 1 for anything but a failed gate (``main``); a
closed pipe (``driftdesk ... | head``) ends quietly.
Each command lives in a module of this package with a ``register(subparsers)`` function; adding a command is a
module and one entry in ``COMMANDS``. A command that writes amounts of money sets ``money=True`` in its defaults
(its amounts are then in the currency its data's driftdesk.toml declares) and passes ``money=True`` to ``emit``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from driftdesk.cli import (
    calibration,
    canary,
    data,
    drift,
    gates,
    impact,
    incident,
    llm,
    map,
    otel,
    overview,
    releases,
    seasonality,
)
from driftdesk.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_GATE_FAILED,
    EXIT_OK,
    Parser,
    data_currency,
    one_line,
    silence_stdout,
)
from driftdesk.errors import DriftdeskError
from driftdesk.format import DEFAULT_CURRENCY, money_in

__all__ = ["EXIT_BAD_INPUT", "EXIT_GATE_FAILED", "EXIT_OK", "build_parser", "main"]

COMMANDS = (data, map, overview, llm, otel, calibration, impact, drift, seasonality, gates, releases, canary, incident)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="driftdesk", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _log_progress_to_stderr()
    try:
        # a command that writes money (``money=True`` in its defaults) writes it in its data's currency
        with money_in(data_currency(args) if getattr(args, "money", False) else DEFAULT_CURRENCY):
            return int(args.func(args) or 0)
    except DriftdeskError as exc:
        return _bad_input(str(exc))
    except BrokenPipeError:  # the reader of stdout went away (| head): nothing left to say
        silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # noqa: BLE001 (a reader's panic is a BaseException; exits and Ctrl-C are not caught)
        if isinstance(exc, SystemExit | GeneratorExit):
            raise
        if os.environ.get("DRIFTDESK_TRACEBACK"):
            raise
        return _bad_input(describe_failure(exc))


def describe_failure(exc: BaseException) -> str:
    """One line for an error the library did not turn into a DriftdeskError: what happened and what to do."""
    import polars as pl

    first = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, MemoryError):
        return "out of memory: the input is too large for this machine; read a shorter window or fewer columns"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to read"
    if isinstance(exc, OverflowError):
        return f"a number or a date is out of range ({first}); use a smaller value"
    if isinstance(exc, UnicodeError):
        return f"cannot decode the text ({first}); save the file as UTF-8"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{exc.strerror or first}"
    if isinstance(exc, pl.exceptions.PolarsError):
        return f"cannot compute this on the input ({type(exc).__name__}: {first})"
    if type(exc).__name__ == "PanicException":
        return f"the reader stopped on this input ({first}); check the file is a well-formed table"
    return (f"internal error ({type(exc).__name__}: {first}); please report it with the command that caused it "
            "(DRIFTDESK_TRACEBACK=1 shows the traceback)")


def _bad_input(reason: str) -> int:
    print(f"driftdesk: {one_line(reason)}", file=sys.stderr)
    return EXIT_BAD_INPUT


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a command run in-process may have redirected it since)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _log_progress_to_stderr() -> None:
    """The library's notes on slow one-time work (building an STL operator) go to stderr, stdout stays data."""
    logger = logging.getLogger("driftdesk")
    if not logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("driftdesk: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
