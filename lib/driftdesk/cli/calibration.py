"""``driftdesk calibration``: reliability curve, ECE, MCE and Brier score, per segment with ``--by``; with
``--baseline A/B --current A/B``, how calibration changed between two windows (as the Calibration page shows it)."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import (
    EXIT_OK,
    by_arg,
    cell,
    emit,
    engine_arg,
    format_arg,
    num,
    read_source,
    source_args,
    split_cols,
)
from driftdesk.errors import DriftdeskError


def cmd_calibration(args: argparse.Namespace) -> int:
    from driftdesk.calibration import calibration_by_segment, calibration_curve

    if args.baseline or args.current:
        return _compare(args)
    if args.label_delay:  # times are read: a file's text timestamps (a CSV's, with offsets) through the contract
        frame, source, score, label, ts = _timed_rows(args)
    else:
        (frame, source), score, label, ts = read_source(args, contract=False), args.score, args.label, args.ts
    result = calibration_curve(frame, score=score, label=label, bins=args.bins, strategy=args.strategy,
                               ts=ts, label_delay=args.label_delay, source=source)
    doc = result.to_dict()
    by = split_cols(args.by)
    if by:
        doc["segments"] = calibration_by_segment(frame, by=by, score=score, label=label, edges=result.edges,
                                                 ts=ts, label_delay=args.label_delay, source=source)
    emit(doc, args.format, _table(doc, result.metrics, by))
    return EXIT_OK


def _timed_rows(args: argparse.Namespace):
    """(frame, source, score, label, ts) for an answer that reads times (windows, a label delay): a folder's table
    as it is, or an --input file read through the contract under the options' column names, so text timestamps
    (with offsets) become UTC times."""
    if args.data:
        frame, source = read_source(args)
        return frame, source, args.score, args.label, args.ts
    frame, source = read_source(args, mapping={"ts": args.ts, "score": args.score, "label": args.label})
    return frame, source, "score", "label", "ts"


def _compare(args: argparse.Namespace) -> int:
    """Baseline window against current window on shared bins: the change of ECE, MCE and Brier, per segment."""
    from driftdesk.calibration import compare_calibration

    if not (args.baseline and args.current):
        raise DriftdeskError("--baseline and --current go together: two windows START/END to compare")
    frame, source, score, label, ts = _timed_rows(args)
    by = split_cols(args.by)
    result = compare_calibration(frame, baseline=args.baseline, current=args.current, by=by or None, score=score,
                                 label=label, ts=ts, bins=args.bins, strategy=args.strategy,
                                 label_delay=args.label_delay, source=source)
    doc = result.to_dict()
    current = doc["current"]
    doc.update({k: current[k] for k in ("ece", "mce", "brier", "bins")})  # the keys every calibration answer has
    c, b = result.current.metrics, result.baseline.metrics
    lines = [result.summary,
             f"{'':<9} {'baseline':>9} {'current':>9} {'change':>9}",
             *(f"{k.upper():<9} {num(b[k]):>9} {num(c[k]):>9} {num(result.change[k]):>9}" for k in ("ece", "mce", "brier")),
             f"{'n':<9} {b['n']:>9,} {c['n']:>9,}"]
    if by:
        lines.append(f"{' '.join(by):<24} {'ece_base':>9} {'ece_cur':>9} {'change':>9}")
        lines += [f"{' '.join(cell(r[k]) for k in by):<24} {num(r['ece_baseline']):>9} {num(r['ece_current']):>9} "
                  f"{num(r['ece_change']):>9}" for r in result.segments.iter_rows(named=True)]
    emit(doc, args.format, "\n".join(lines))
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
        lines += [f"{' '.join(cell(r[c]) for c in by):<24} {r['n']:>9,} {num(r['ece']):>7} {num(r['mce']):>7} "
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
    p.add_argument("--baseline", metavar="A/B", help="compare this window (START/END, ISO 8601 UTC) ...")
    p.add_argument("--current", metavar="A/B", help="... with this one: the change of ECE, MCE and Brier, on shared bins")
    by_arg(p, "also report ECE, MCE and Brier per segment of these columns")
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_calibration)
