"""The `driftdesk` command: the library's computations as JSON (or tables), and gates that exit non-zero.

Exit codes: 0 success, 1 a gate failed, 2 bad input (one line on stderr). JSON keys only ever grow.
Each command lives in a module of this package with a ``register(subparsers)`` function; adding a command is a
module and one entry in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import logging
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
from driftdesk.cli.common import EXIT_BAD_INPUT, EXIT_GATE_FAILED, EXIT_OK, Parser
from driftdesk.errors import DriftdeskError

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
        return int(args.func(args) or 0)
    except DriftdeskError as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        print(f"driftdesk: {reason}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def _log_progress_to_stderr() -> None:
    """The library's notes on slow one-time work (building an STL operator) go to stderr, stdout stays data."""
    logger = logging.getLogger("driftdesk")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("driftdesk: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
