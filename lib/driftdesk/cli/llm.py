"""``driftdesk llm``: LLM quality, latency and cost per group, optionally a current window against a baseline."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import (
    EXIT_OK,
    by_arg,
    cell,
    emit,
    engine_arg,
    format_arg,
    money_header,
    num,
    pct,
    read_source,
    source_args,
    split_cols,
)


def cmd_llm(args: argparse.Namespace) -> int:
    from driftdesk.llm import compare_calls
    from driftdesk.windows import Window

    calls, _ = read_source(args)
    baseline = Window.parse(args.baseline, "baseline") if args.baseline else None
    current = Window.parse(args.current, "current") if args.current else None
    result = compare_calls(calls, by=split_cols(args.by), baseline=baseline, current=current)
    doc = result.to_dict()
    emit(doc, args.format, "\n".join(_table(doc, result.summary() if baseline and current else [])), money=True)
    return EXIT_OK


def _table(doc: dict, regressions: list[str]) -> list[str]:
    """The groups as a table for people (the figures of the CLI contract, whole), after the regressions in words."""
    keys = [*doc["by"], *(["window"] if any("window" in g for g in doc["groups"]) else [])]
    lines = [f"regression: {r}" for r in regressions] or (["no regression"] if "comparison" in doc else [])
    lines.append(" ".join(f"{k[:18]:<18}" for k in keys) + f" {'calls':>8} {'val fail':>9} {'refusal':>8} "
                 f"{'p95 ms':>9} {'tok out':>8} {money_header('cost/call'):>13} {money_header('cost'):>10}")
    for g in doc["groups"]:
        lines.append(" ".join(f"{cell(g[k])[:18]:<18}" for k in keys) + f" {g['calls']:>8} "
                     f"{pct(g['validator_failure_rate']):>9} {pct(g['refusal_rate']):>8} "
                     f"{num(g['latency_p95_ms'], 0):>9} {num(g['tokens_out_mean'], 1):>8} "
                     f"{num(g['cost_per_call'], 5):>13} {num(g['cost_total'], 2):>10}")
    return lines


def register(sub) -> None:
    p = sub.add_parser("llm", help="LLM quality, latency and cost per group")
    source_args(p, table="llm_calls", what="llm_calls table")
    by_arg(p, "group columns (e.g. prompt_version model)")
    p.add_argument("--baseline", help="baseline window START/END (ISO 8601, UTC)")
    p.add_argument("--current", help="current window START/END (ISO 8601, UTC)")
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_llm, money=True)
