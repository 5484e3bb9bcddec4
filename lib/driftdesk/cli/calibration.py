"""``driftdesk calibration``: reliability curve, ECE, MCE and Brier score, per segment with ``--by``."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import EXIT_OK, by_arg, emit, format_arg, num, read_source, source_args, split_cols


def cmd_calibration(args: argparse.Namespace) -> int:
    from driftdesk.calibration import calibration_by_segment, calibration_curve

    frame, source = read_source(args, contract=False)
    result = calibration_curve(frame, score=args.score, label=args.label, bins=args.bins, strategy=args.strategy,
                               ts=args.ts, label_delay=args.label_delay, source=source)
    doc = result.to_dict()
    by = split_cols(args.by)
    if by:
        doc["segments"] = calibration_by_segment(frame, by=by, score=args.score, label=args.label, edges=result.edges,
                                                 ts=args.ts, label_delay=args.label_delay, source=source)
    emit(doc, args.format, _table(doc, result.metrics, by))
    return EXIT_OK


def _table(doc: dict, m: dict, by: list[str]) -> str:
    lines = [f"ECE {num(m['ece'])}  MCE {num(m['mce'])}  Brier {num(m['brier'])}  n={m['n']:,} "
             f"(excluded: {doc['n_unlabeled']} unlabelled, {doc['n_immature']} immature)",
             f"{'lower':>7} {'upper':>7} {'count':>9} {'mean_score':>10} {'observed':>9} {'ci_low':>7} {'ci_high':>7}"]
    for b in doc["bins"]:
        lines.append(f"{b['lower']:>7.3f} {b['upper']:>7.3f} {b['count']:>9,} {num(b['mean_score']):>10} "
                     f"{num(b['observed_rate']):>9} {num(b['ci_low']):>7} {num(b['ci_high']):>7}")
    if by:
        lines.append(f"{' '.join(by):<24} {'n':>9} {'ece':>7} {'mce':>7} {'brier':>7}")
        lines += [f"{' '.join(str(r[c]) for c in by):<24} {r['n']:>9,} {num(r['ece']):>7} {num(r['mce']):>7} "
                  f"{num(r['brier']):>7}" for r in doc["segments"].iter_rows(named=True)]
    return "\n".join(lines)


def register(sub) -> None:
    p = sub.add_parser("calibration", help="reliability curve, ECE, MCE and Brier score")
    source_args(p, table="decisions", what="scored rows")
    p.add_argument("--score", default="score", help="predicted probability column (default: score)")
    p.add_argument("--label", default="label", help="outcome column, 0/1; null = not yet known, excluded (default: label)")
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--strategy", choices=("uniform", "quantile"), default="uniform")
    p.add_argument("--ts", default="ts", help="timestamp column (only used with --label-delay)")
    p.add_argument("--label-delay", help="count only labels older than this before the newest row, e.g. 3d or 36h")
    by_arg(p, "also report ECE, MCE and Brier per segment of these columns")
    format_arg(p)
    p.set_defaults(func=cmd_calibration)
