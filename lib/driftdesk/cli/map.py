"""``driftdesk map``: which table each file of a folder is and which column plays each role, as driftdesk.toml."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import EXIT_OK, emit, format_arg, holidays_arg, note


def cmd_map(args: argparse.Namespace) -> int:
    from pathlib import Path

    from driftdesk.contract import read_settings, write_settings_text
    from driftdesk.errors import InputFileError
    from driftdesk.proposal import propose_folder

    folder = Path(args.data).expanduser()
    if not folder.is_dir():
        raise InputFileError(f"{args.data}: no such folder (--data takes the folder of your table files)")
    settings = read_settings(folder)
    proposal = propose_folder(folder, mappings=settings.mappings, files=settings.files)
    calendar = dict(settings.calendar)
    if args.holidays is not None:
        calendar["holidays"] = args.holidays
    text = proposal.to_toml(calendar=calendar, read=settings.read, currency=settings.currency)
    for line in proposal.notes:
        note(f"not loaded: {line}")
    if args.write:
        note(f"wrote {write_settings_text(folder, text, replace=args.force)}")
    emit({**proposal.to_dict(), "toml": text, "written": bool(args.write)}, args.format, text.rstrip("\n"))
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("map", help="the table each file is and the column of each role, as driftdesk.toml")
    p.add_argument("--data", required=True, metavar="DIR", help="the folder of your table files (any names)")
    p.add_argument("--write", action="store_true", help="save the proposal as driftdesk.toml beside the data")
    p.add_argument("--force", action="store_true", help="with --write: replace an existing driftdesk.toml")
    holidays_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_map)
