"""``driftdesk seasonality``: STL decomposition, anomaly and drift flags, and a verdict per series."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import EXIT_OK, by_arg, emit, format_arg, split_cols
from driftdesk.errors import DriftdeskError


def cmd_seasonality(args: argparse.Namespace) -> int:
    from driftdesk.io import read_table
    from driftdesk.seasonality import detect

    frame = read_table(args.input)
    by = split_cols(args.by)
    calendar = read_table(args.calendar) if args.calendar else None
    result = detect(frame, ts=args.ts, value=args.value, by=by or None, periods=args.period or None,
                    causal=args.causal, calendar=calendar, source=str(args.input))
    verdicts = result.verdicts.to_dicts()
    unusable = [v for v in verdicts if v["status"] in ("empty", "too_short")]
    if verdicts and len(unusable) == len(verdicts):
        raise DriftdeskError(f"{args.input}: column {args.value!r}: {unusable[0]['verdict']}")
    doc = result.to_dict()
    mode = "causal" if args.causal else "batch"
    lines = [f"seasonality ({mode}): {len(verdicts)} series, {len(doc['events'])} events"]
    for v in verdicts:
        name = ", ".join(f"{c}={v[c]}" for c in result.by) or args.value
        lines.append(f"  {name}: {v['status']}: {v['verdict']}")
    if doc["events"]:
        lines.append(f"{'start':<22} {'end':<22} {'kind':<13} {'dir':<5} {'magnitude':>9}  series")
        for e in doc["events"]:
            mag = f"{e['magnitude'] * 100:+.1f}%" if e["magnitude"] is not None else "-"
            name = ", ".join(f"{c}={e[c]}" for c in result.by)
            lines.append(f"{e['start']:<22} {e['end']:<22} {e['kind']:<13} {e['direction'] or '-':<5} {mag:>9}  {name}")
    emit(doc, args.format, "\n".join(lines))
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("seasonality", help="STL decomposition, drift vs anomaly flags and a verdict per series")
    p.add_argument("--input", required=True, help="rows with a timestamp and a value (parquet, csv or arrow)")
    p.add_argument("--ts", required=True, help="timestamp column (UTC, or ISO 8601 with an offset)")
    p.add_argument("--value", required=True, help="the metric column")
    p.add_argument("--period", type=int, nargs="+", help="seasonal periods in steps (default: from the interval; hourly 24 168)")
    by_arg(p, "one series per value of these columns")
    p.add_argument("--causal", action="store_true", help="each flag uses only earlier data (for gates and backtests)")
    p.add_argument("--calendar", help="holidays / promotions (a file with a date column, optional segment): not drift")
    format_arg(p)
    p.set_defaults(func=cmd_seasonality)
