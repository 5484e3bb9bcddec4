"""``driftdesk llm``: LLM quality, latency and cost per group, optionally a current window against a baseline."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import EXIT_OK, by_arg, emit, engine_arg, format_arg, read_source, source_args, split_cols


def cmd_llm(args: argparse.Namespace) -> int:
    from driftdesk.llm import compare_calls
    from driftdesk.windows import Window

    calls, _ = read_source(args)
    baseline = Window.parse(args.baseline, "baseline") if args.baseline else None
    current = Window.parse(args.current, "current") if args.current else None
    result = compare_calls(calls, by=split_cols(args.by), baseline=baseline, current=current)
    emit(result.to_dict(), args.format, str(result.groups))
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("llm", help="LLM quality, latency and cost per group")
    source_args(p, table="llm_calls", what="llm_calls table")
    by_arg(p, "group columns (e.g. prompt_version model)")
    p.add_argument("--baseline", help="baseline window START/END (ISO 8601, UTC)")
    p.add_argument("--current", help="current window START/END (ISO 8601, UTC)")
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_llm)
