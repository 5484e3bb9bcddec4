"""``driftdesk impact``: which segment moved CPA / ROAS / CR between two windows, split into mix and rate."""

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
    read_source,
    source_args,
    split_cols,
)
from driftdesk.errors import DriftdeskError


def cmd_impact(args: argparse.Namespace) -> int:
    from driftdesk.business import segment_impact
    from driftdesk.metrics import get_metric

    by = split_cols(args.by)
    if not by:
        raise DriftdeskError("--by needs at least one segment column, e.g. --by geo or --by geo,device")
    frame, source = read_source(args, mapping={"ts": args.ts} if args.ts != "ts" else None)
    result = segment_impact(frame, baseline=args.baseline, current=args.current, by=by, metric=args.metric,
                            min_conversions=args.min_conversions, source=source)
    doc = result.to_dict()
    t = doc["total"]
    unit = get_metric(args.metric, "kpis").unit
    total = money_header(f"total {args.metric}") if unit == "usd" else f"total {args.metric}"
    lines = [result.summary,
             f"{total}: baseline {num(t['baseline'])}  current {num(t['current'])}  change {num(t['change'])}"
             + (f"  ({t['note']})" if t["note"] else ""),
             f"{' '.join(by):<24} {'baseline':>10} {'current':>10} {'change':>10} {'mix':>10} {'rate':>10}  note"]
    for sg in doc["segments"]:
        name = " ".join(cell(sg[c]) for c in by)
        lines.append(f"{name:<24} {num(sg['baseline']):>10} {num(sg['current']):>10} {num(sg['change']):>10} "
                     f"{num(sg['mix_effect']):>10} {num(sg['rate_effect']):>10}  {sg['note'] or ''}")
    emit(doc, args.format, "\n".join(lines), money=True)
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("impact", help="which segment moved CPA / ROAS / CR: mix vs rate")
    source_args(p, table="kpis", what="kpis table")
    p.add_argument("--baseline", required=True, help="baseline window START/END (ISO 8601, UTC)")
    p.add_argument("--current", required=True, help="current window START/END (ISO 8601, UTC)")
    by_arg(p, "segment columns", required=True)
    p.add_argument("--metric", choices=("cpa", "roas", "cr"), default="cpa")
    p.add_argument("--ts", default="ts", help="timestamp column of an --input file")
    p.add_argument("--min-conversions", type=float, default=30, help="below this a segment is flagged 'too few conversions'")
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_impact, money=True)
