"""``driftdesk gates backtest|check|starter``: a policy replayed on history, applied to a release (exit 1 when it
fails), or generated from a folder's own tables (a starter policy to backtest and tune)."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import EXIT_GATE_FAILED, EXIT_OK, Parser, emit, engine_arg, format_arg, note, num
from driftdesk.format import format_value


def cmd_gates_backtest(args: argparse.Namespace) -> int:
    from driftdesk.gates import backtest_policy, load_policy
    from driftdesk.gates.backtest import load_history

    policy = load_policy(args.policy)
    ds, incidents = load_history(args.data, engine=args.engine)
    result = backtest_policy(ds, policy, incidents=incidents, grace_hours=args.grace_hours)
    doc = result.to_dict()
    lines = [f"backtest of {policy.name} on {doc['span']['start']} .. {doc['span']['end']} "
             f"({doc['span']['weeks']:.1f} weeks, grace {result.grace_hours:g} h)",
             f"{'policy':<28} {'alerts':>6} {'per week':>9} {'precision':>9} {'recall':>7} {'median delay h':>15}"]
    for name, s in (("candidate: " + policy.name, result.score), *result.references.items()):
        lines.append(f"{name[:28]:<28} {s.alerts:>6} {s.alerts_per_week:>9.2f} {num(s.precision, 3):>9} "
                     f"{num(s.recall, 3):>7} {num(s.median_delay_hours, 1):>15}")
    lines += [f"  {k}: {v}" for k, v in result.score.reasons.items()]
    lines.append(f"{'incident':<10} {'start':<20} {'caught':<7} {'delay h':>8}  by")
    for inc in doc["incidents"]:
        lines.append(f"{inc['incident_id'][:10]:<10} {inc['start']:<20} {'yes' if inc['caught'] else 'NO':<7} "
                     f"{num(inc['delay_hours'], 1):>8}  {inc['caught_by'] or ''}")
    lines += [f"note: {n}" for n in result.notes]
    emit(doc, args.format, "\n".join(lines), money=True)
    return EXIT_OK


def cmd_gates_check(args: argparse.Namespace) -> int:
    from driftdesk.gates import check_release, load_policy

    result = check_release(load_policy(args.policy), baseline=args.baseline, candidate=args.candidate,
                           baseline_release=args.baseline_release, candidate_release=args.candidate_release,
                           engine=args.engine)
    doc = result.to_dict()
    warned = f" with {result.warnings.height} warning(s)" if result.warnings.height else ""
    lines = [f"release gate {result.policy.name}: {'PASSED' if result.passed else 'FAILED'}{warned}",
             f"{'gate':<28} {'status':<20} {'value':>11} {'threshold':>11}  action / segment / reason"]
    units = {gate.name: _gate_unit(gate) for gate in result.policy.gates}
    for g in doc["gates"]:  # each gate in its own unit (a relative change, a rate, money): one table mixes them
        unit = units.get(g["name"], "score")
        lines.append(f"{g['name'][:28]:<28} {g['status']:<20} {format_value(g['value'], unit):>11} "
                     f"{format_value(g['threshold'], unit):>11}  {g['action']} {g['segment'] or ''} {g['reason'] or ''}")
    emit(doc, args.format, "\n".join(lines), money=True)
    return EXIT_OK if result.passed else EXIT_GATE_FAILED


def _gate_unit(gate) -> str:
    """How a gate's value and threshold read: the unit the backtest writes its threshold in (a relative change, pp,
    a rate), else the metric's own (money, ms, a count of flipped cases) where it has one; a PSI stays a score."""
    from driftdesk.gates.backtest import threshold_unit
    from driftdesk.gates.metrics import gate_metric
    from driftdesk.metrics import find_metric

    unit = threshold_unit(gate)
    spec = gate_metric(gate.metric)
    metric = find_metric(spec.family) if unit == "score" else None
    return metric.unit if metric is not None else unit


def cmd_gates_starter(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from driftdesk.contract import load_dataset
    from driftdesk.errors import InputFileError
    from driftdesk.gates.starter import starter_policy

    starter = starter_policy(load_dataset(args.data))
    text = starter.to_toml()
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.force:
            raise InputFileError(f"{out} already exists and is kept as it is; choose another --out or add --force")
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
        note(f"wrote {out}")
    emit({**starter.to_dict(), "toml": text, "written": str(args.out) if args.out else None}, args.format,
         text.rstrip("\n"))
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("gates", help="gate policies: simulate on history, or check a release")
    gates = p.add_subparsers(dest="gates_command", required=True, parser_class=Parser)
    p = gates.add_parser("backtest", help="replay a policy on history: alerts, incidents caught, precision, recall")
    p.add_argument("--policy", required=True, help="policy file (TOML)")
    p.add_argument("--data", required=True, help="folder of contract tables, with incidents.csv as the incident log")
    p.add_argument("--grace-hours", type=float, help="an alert up to this long after an incident ends still counts "
                   "(default: the policy's grace)")
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_gates_backtest, money=True)
    p = gates.add_parser("check", help="a release gate: exit 1 when a gate fails on the candidate vs the baseline")
    p.add_argument("--policy", required=True, help="policy file (TOML)")
    p.add_argument("--baseline", required=True, help="baseline table file or folder")
    p.add_argument("--candidate", required=True, help="candidate table file or folder")
    p.add_argument("--baseline-release", metavar="ID", help="only the baseline's rows of this release_id (baseline and "
                   "candidate may then be the same folder)")
    p.add_argument("--candidate-release", metavar="ID", help="only the candidate's rows of this release_id")
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_gates_check, money=True)
    p = gates.add_parser("starter", help="a starter policy from the data's own tables and columns, thresholds read "
                         "from each metric's normal spread (TOML)")
    p.add_argument("--data", required=True, metavar="DIR", help="the folder of your table files (any names)")
    p.add_argument("--out", metavar="FILE", help="also write the policy to FILE (e.g. DIR/policy.toml)")
    p.add_argument("--force", action="store_true", help="with --out: replace an existing file")
    format_arg(p)
    p.set_defaults(func=cmd_gates_starter)
