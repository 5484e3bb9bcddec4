"""``driftdesk otel import``: OpenTelemetry GenAI spans (OTLP JSON or the SDK's span JSON) into an llm_calls table."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from driftdesk.cli.common import EXIT_OK, Parser, emit, format_arg
from driftdesk.contract import format_violations, validate_frame
from driftdesk.errors import ContractError, InputFileError
from driftdesk.otel import OtelImport, read_otlp


def _attributes(pairs: list[str] | None) -> dict[str, list[str]]:
    """``ROLE=ATTRIBUTE`` options (repeatable; the same role twice: tried in that order)."""
    from driftdesk.errors import DriftdeskError

    out: dict[str, list[str]] = {}
    for pair in pairs or []:
        role, sep, name = pair.partition("=")
        if not sep or not role.strip() or not name.strip():
            raise DriftdeskError(f"--attribute takes ROLE=ATTRIBUTE, e.g. feature=app.feature, got {pair!r}")
        out.setdefault(role.strip(), []).append(name.strip())
    return out


def cmd_otel_import(args: argparse.Namespace) -> int:
    report = import_otlp(args.input, args.out, attributes=_attributes(args.attribute), force=args.force)
    emit(report.to_dict(), args.format, "\n".join([*report.sentences(), f"written: {report.output}"]))
    return EXIT_OK


def import_otlp(path: str | Path, out: str | Path, *, attributes: Mapping[str, str | Sequence[str]] | None = None,
                force: bool = False) -> OtelImport:
    """Read spans (``read_otlp``), check the rows against the llm_calls contract, and write
    ``<out>/llm_calls.parquet`` atomically (a temporary file renamed into place)."""
    frame, report = read_otlp(path, attributes=attributes)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputFileError(f"{folder}: exists and is not a folder")
    target = folder / "llm_calls.parquet"
    if target.exists() and not force:
        raise InputFileError(f"{target}: exists; pass --force (force=True) to replace it")
    table, violations = validate_frame(frame, "llm_calls", source=str(path))
    if table is None:
        raise ContractError(format_violations(violations, table="llm_calls", source=str(path)), violations)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".llm_calls.", suffix=".parquet", dir=folder)
    os.close(fd)
    try:
        frame.write_parquet(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return OtelImport(report.source, report.spans, report.calls, report.skipped, report.missing, report.invalid,
                      report.notes, str(target))


def register(sub) -> None:
    p = sub.add_parser("otel", help="OpenTelemetry GenAI spans into driftdesk tables")
    otel = p.add_subparsers(dest="otel_command", required=True, parser_class=Parser)
    p = otel.add_parser("import", help="read spans (OTLP JSON, JSON lines, or the SDK's span JSON) and write "
                        "<out>/llm_calls.parquet: one row per LLM call, nested spans rolled up")
    p.add_argument("--input", required=True, help="a JSON file of spans")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write llm_calls.parquet into")
    p.add_argument("--attribute", action="append", metavar="ROLE=ATTRIBUTE",
                   help="the span (or resource) attribute that carries a role, e.g. feature=app.feature, "
                        "prompt_version=app.prompt.version, cost=llm.cost_usd (repeatable)")
    p.add_argument("--force", action="store_true", help="replace an existing llm_calls.parquet")
    format_arg(p)
    p.set_defaults(func=cmd_otel_import)
