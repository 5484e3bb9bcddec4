"""``driftdesk overview``: per layer, the status of a day against the same hours a day and a week earlier."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import EXIT_OK, emit, engine_arg, format_arg, holidays_arg, load_folder, note


def cmd_overview(args: argparse.Namespace) -> int:
    from driftdesk.calendars import effective_calendar
    from driftdesk.overview import overview

    dataset = load_folder(args, scan=True)
    for line in effective_calendar(dataset).notes:
        note(line)
    result = overview(dataset, day=args.day, span_days=args.span)
    doc = result.to_dict()
    lines = [f"{result.day.isoformat()} vs the same hours a day and a week earlier",
             *([doc["answer"]] if doc.get("answer") else []),
             f"{'layer':<9} {'table':<12} {'status':<16} {'alerts':>6} {'warnings':>8}  note"]
    lines += [f"{r['layer']:<9} {r['table']:<12} {r['status']:<16} {r['alerts']:>6} {r['warnings']:>8}  {r['note']}"
              for r in doc["layers"]]
    emit(doc, args.format, "\n".join(lines), money=True)
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("overview", help="per layer, the status of a day against the same hours a day and a week earlier")
    p.add_argument("--data", required=True, help="a folder of table files (any names: each is read as the table its content fits)")
    p.add_argument("--day", help="YYYY-MM-DD (default: the latest whole day of data)")
    p.add_argument("--span", type=int, default=28, help="days of releases and incidents to list before the day")
    holidays_arg(p)
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_overview, money=True)
