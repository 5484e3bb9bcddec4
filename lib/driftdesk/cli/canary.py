"""``driftdesk canary``: a candidate judged against its control per segment under a rollout policy (exit 1 on
rollback), with the decision replayed over the rollout."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import (
    EXIT_GATE_FAILED,
    EXIT_OK,
    by_arg,
    emit,
    engine_arg,
    format_arg,
    load_folder,
    own_names,
    split_cols,
)
from driftdesk.errors import DriftdeskError
from driftdesk.format import format_value


def cmd_canary(args: argparse.Namespace) -> int:
    from driftdesk.rollout import judge_rollout
    from driftdesk.windows import parse_timestamp

    dataset = load_folder(args, scan=True, tables=[args.table])
    table = dataset.get(args.table)
    if table is None:
        raise DriftdeskError(f"{args.data}: no {args.table} table in this folder (tables found: "
                             f"{', '.join(sorted(dataset.tables)) or 'none'})")
    own_names(args, table)
    start = parse_timestamp(args.start) if args.start else None
    end = parse_timestamp(args.end) if args.end else None
    judge = judge_rollout
    if args.engine == "spark":  # Spark reduces the arms' rows to the sums, cells and values the judge reads
        from driftdesk.engine.spark.rollout import judge_on_spark as judge
    policy, left_out = args.policy, []
    if policy is None:  # the default policy, fitted to the table as the Rollouts page fits it
        from dataclasses import replace

        from driftdesk.rollout.judge import default_rollout_policy, judgeable_gates

        policy = default_rollout_policy()
        frame = table.frame
        names = list(frame.collect_schema().names() if hasattr(frame, "collect_schema") else frame.columns)
        usable, left_out = judgeable_gates(names, policy)
        if not usable:
            raise DriftdeskError(f"{table.source}: no gate of the rollout policy {policy.name} can be judged on this "
                                 f"table: {'; '.join(left_out)}")
        policy = replace(policy, gates=usable)
    result = judge(table.frame, control=args.control, candidate=args.candidate, policy=policy,
                   by=split_cols(args.by) or None, arm=args.arm, segments=table.segments,
                   start=start, end=end, source=table.source, correction=args.correction)
    if left_out:
        result = replace(result, notes=(*result.notes, *left_out))
    doc = result.to_dict()
    lines = [f"{args.candidate} vs {args.control} ({result.arm_column}) under {result.policy.name}: "
             f"{result.decision.upper()}" + (f" at {doc['decided_at']}" if doc["decided_at"] else ""),
             result.reason,
             f"{'gate':<16} {'segment':<22} {'control':>11} {'candidate':>11} {'change':>10} {'interval':>23}  verdict"]
    for s in doc["segments"]:  # each row in its gate's units, as the Rollouts page writes it: gates mix units
        value_unit, change_unit = result.unit(s["gate"])
        ci = (f"[{format_value(s['ci_low'], change_unit)}, {format_value(s['ci_high'], change_unit)}]"
              if s["ci_low"] is not None and s["ci_high"] is not None else "-")
        lines.append(f"{s['gate'][:16]:<16} {s['segment'][:22]:<22} {format_value(s['control'], value_unit):>11} "
                     f"{format_value(s['candidate'], value_unit):>11} {format_value(s['change'], change_unit):>10} "
                     f"{ci:>23}  {s['verdict']}" + (f" ({s['note']})" if s["note"] else ""))
    lines += [f"note: {n}" for n in result.notes]
    emit(doc, args.format, "\n".join(lines), money=True)
    return EXIT_GATE_FAILED if result.decision == "rollback" else EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("canary", help="judge a canary or shadow rollout per segment; exit 1 on rollback")
    p.add_argument("--data", required=True, metavar="DIR", help="a folder of tables, read through its mapping")
    p.add_argument("--table", default="decisions", help="the table with both arms' rows (default: decisions)")
    p.add_argument("--control", required=True, help="the control's version (e.g. v1.9)")
    p.add_argument("--candidate", required=True, help="the candidate's version (e.g. v2.0)")
    p.add_argument("--arm", help="the column that names the arms (default: the first of model_version, release_id, "
                   "variant that holds both)")
    by_arg(p, "segment columns for every gate (default: each gate's own, else each segment column)")
    p.add_argument("--policy", help="rollout policy file (TOML; default: driftdesk's rollout policy)")
    p.add_argument("--start", help="judge from this time (ISO 8601; default: the candidate's first row)")
    p.add_argument("--end", help="judge until this time (default: the candidate's last row)")
    p.add_argument("--correction", choices=("overlap", "bonferroni", "none"), default="overlap",
                   help="how the 5%% false rollback rate is kept over the rollout's looks, segments and gates: "
                   "overlap (default) splits it across gates and segments and holds each share over a gate's looks "
                   "together, correlated by the hours their windows share (ECE and PSI gates: split across looks "
                   "too); bonferroni splits it across looks as well (wider intervals, later rollbacks); none judges "
                   "every comparison at 95%% (more false rollbacks the longer the rollout)")
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_canary, money=True)
