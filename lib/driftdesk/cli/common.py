"""What every command shares: exit codes, one-line errors, JSON or table output, and options spelled one way."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from driftdesk.format import DEFAULT_CURRENCY, HUGE, currency_in_effect
from driftdesk.jsonsafe import jsonable

EXIT_OK, EXIT_GATE_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as exit 2 with one line, like every other bad input."""

    def error(self, message: str) -> None:  # noqa: D401
        self.exit(EXIT_BAD_INPUT, f"driftdesk: {message}\n")


def emit(doc: dict, fmt: str, table: str | None = None, *, money: bool = False) -> None:
    """Print a result: strict JSON (no NaN) or a human table. A closed pipe (``| head``) ends the output quietly and
    the command still exits with its own code (a failed gate stays 1). ``money``: the result carries amounts of
    money (numbers in the JSON), so its JSON says which ``currency`` they are in."""
    if money:
        doc = {**doc, "currency": currency_in_effect()}
    text = json.dumps(jsonable(doc), indent=2, allow_nan=False) if fmt == "json" or table is None else table
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone, so the interpreter's last flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor behind stdout (a test's capture)
        pass


def one_line(text: str) -> str:
    """A message on one line: its lines joined, blank ones dropped."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def format_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("json", "table"), default="table", help="table for people, json for machines")


def note(text: str) -> None:
    """One line on stderr beside the result (stdout stays data): a file left out, a setting not understood."""
    print(f"driftdesk: {' '.join(text.split())}", file=sys.stderr)


def deprecated(text: str) -> None:
    """One line on stderr for an old option or value that still works."""
    note(text)


def data_currency(args: argparse.Namespace) -> str:
    """The currency of the data a command reads, as its driftdesk.toml declares it: the folder's (``--data``), else
    the one beside the file (``--input``, a release gate's ``--candidate``); USD without one. A code that is not
    ISO 4217's three letters stops the command with the file and the value."""
    from pathlib import Path

    from driftdesk.contract import MAPPING_FILE, read_settings

    folder = getattr(args, "data", None)
    if not folder:
        files = [getattr(args, name, None) for name in ("input", "candidate")]
        folder = next((Path(f).parent for f in files if isinstance(f, str) and f), None)
        if folder is None or not (folder / MAPPING_FILE).is_file():
            return DEFAULT_CURRENCY
    if not Path(folder).is_dir():
        return DEFAULT_CURRENCY  # the command itself says the folder is missing
    return read_settings(folder).currency


def money_header(name: str) -> str:
    """A table column of money named with its currency ("cost EUR"), as the numbers under it are plain."""
    return f"{name} {currency_in_effect()}"


def holidays_arg(p: argparse.ArgumentParser) -> None:
    """``--holidays``: the countries whose public holidays are calendar days, the same way in every command."""
    p.add_argument("--holidays", metavar="CODES", help="public holidays of these countries (e.g. US,DE), auto (the "
                   "countries of a geo / country segment, the default) or none; overrides driftdesk.toml")


def load_folder(args: argparse.Namespace, *, scan: bool = False, tables: list[str] | None = None):
    """The dataset of ``--data`` (with ``--holidays`` if the command has it); files left out are noted on stderr.
    ``scan``: a row table past the memory budget is scanned lazily, or read on Spark with ``--engine spark`` (for
    commands that reduce lazy frames or Spark tables). ``tables``: only these are read and checked, for a command
    that reads one table (another file's contract violation is not its concern)."""
    from driftdesk.contract import load_dataset
    from driftdesk.engine.dataset import load_dataset_on

    holidays = getattr(args, "holidays", None)
    if scan:
        dataset = load_dataset_on(args.data, getattr(args, "engine", "polars"), holidays=holidays, tables=tables)
    else:
        dataset = load_dataset(args.data, holidays=holidays, tables=tables)
    for line in dataset.notes:
        note(f"not loaded: {line}")
    return dataset


def own_names(args: argparse.Namespace, table) -> None:
    """A folder's table carries each role's column under the role's name (``model_version``); a user may still name
    it as their file and driftdesk.toml do (``--by modell``): such a name in ``--by``, ``--columns``, ``--arm`` or
    ``--weight`` is read as its role's, and said on stderr."""
    frame = table.frame
    present = set(frame.collect_schema().names() if hasattr(frame, "collect_schema") else frame.columns)
    renames = {col: role for role, col in table.mapping.items()
               if isinstance(col, str) and col and col != role and col not in present and role in present}
    if not renames:
        return
    for attr in ("by", "columns", "arm", "weight"):
        value = getattr(args, attr, None)
        if not value:
            continue
        names = split_cols(value)
        if not any(n in renames for n in names):
            continue
        for n in names:
            if n in renames:
                note(f"--{attr} {n}: the column of the role {renames[n]}, read as {renames[n]}")
        new = [renames.get(n, n) for n in names]
        setattr(args, attr, new if isinstance(value, list) else ",".join(new))


class RenamedOption(argparse.Action):
    """An old option name kept as an alias of its new one: stores into the new option and says so on stderr."""

    def __init__(self, option_strings, dest, *, new: str, **kwargs):
        self.new = new
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        deprecated(f"{option_string} is deprecated; use {self.new}")
        setattr(namespace, self.dest, values)


def status_word(text: str) -> str:
    """A status typed on the command line; an old spelling (drift, fail, no_data) is read as today's word."""
    from driftdesk.status import canonical

    word, notice = canonical(text)
    if notice:
        deprecated(notice)
    return word


def split_cols(text: str | list[str] | None) -> list[str]:
    """Column names from comma- and/or space-separated option values: the CLI splits, the library never does.
    A column named twice is an error (the answer would count it twice or fail later with a reader's message)."""
    parts = [text] if isinstance(text, str) else list(text or [])
    names = [c.strip() for part in parts for c in part.split(",") if c.strip()]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        from driftdesk.errors import DriftdeskError

        raise DriftdeskError(f"column {twice[0]!r} is named twice in {', '.join(names)}; name each column once")
    return names


def by_arg(p: argparse.ArgumentParser, help_text: str, *, required: bool = False, several: bool = True) -> None:
    """``--by`` the same way in every command: column names, space or comma separated (drift takes one)."""
    p.add_argument("--by", nargs="+", required=required, metavar="COL",
                   help=f"{help_text} (space or comma separated, e.g. --by geo,device)" if several else help_text)


def engine_arg(p: argparse.ArgumentParser) -> None:
    """``--engine polars|spark``: where the reduction from rows to aggregates runs (the JSON is the same)."""
    p.add_argument("--engine", choices=("polars", "spark"), default="polars",
                   help="where rows are reduced to aggregates: polars on this machine (streaming past memory), or "
                        "Apache Spark (DRIFTDESK_SPARK_MASTER, local mode by default; needs the spark extra)")


def source_args(p: argparse.ArgumentParser, *, table: str, what: str) -> None:
    """``--input FILE`` or ``--data DIR [--table NAME]``: a file as it is, or a folder's table read as the app reads it."""
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--input", help=f"{what} (parquet, csv or arrow)")
    which.add_argument("--data", metavar="DIR", help="a folder of tables, read through its mapping (driftdesk.toml) "
                       "and the data contract, as the app reads it")
    p.add_argument("--table", default=table, help=f"with --data: the table to read (default: {table})")


def read_source(args: argparse.Namespace, *, contract: bool = True, mapping: dict | None = None):
    """(frame, source name) from ``--input`` or ``--data``/``--table``; ``contract`` validates an input file too
    (read whole while it fits the memory budget, else a Parquet file or folder scanned lazily, with ``mapping``).
    With ``--engine spark`` the frame is a Spark table (``spark_source``)."""
    if getattr(args, "engine", "polars") == "spark":
        return spark_source(args, contract=contract, mapping=mapping)
    if args.data:
        dataset = load_folder(args, scan=True, tables=[args.table])
        table = dataset.get(args.table)
        if table is None:
            from driftdesk.errors import InputFileError

            found = ", ".join(sorted(dataset.tables)) or "none"
            raise InputFileError(f"{args.data}: no {args.table} table in this folder (tables found: {found})")
        own_names(args, table)
        return table.frame, table.source
    if contract:
        from pathlib import Path

        from driftdesk.engine.scan import read_contract_table
        from driftdesk.errors import ContractError
        from driftdesk.gates.evaluate import remembered_mappings

        if mapping is None:  # the driftdesk.toml beside the file, if it maps this file to the table
            mapping = remembered_mappings(Path(args.input)).get(args.table)
        try:
            return read_contract_table(args.input, args.table, mapping=mapping), str(args.input)
        except ContractError as exc:
            if mapping or not any(v.rule == "required column missing" for v in exc.violations):
                raise
            name = Path(args.input).name
            raise ContractError(f"{exc} --input reads a file under its own column names unless the driftdesk.toml "
                                f"beside it maps them ([mapping.{args.table}] file = \"{name}\", then each role = "
                                "its column; `driftdesk map --data DIR --write` proposes one, DIR the file's folder); "
                                f"or pass --data DIR --table {args.table}", exc.violations) from None
    from driftdesk.io import scan_table

    return scan_table(args.input), str(args.input)


def spark_source(args: argparse.Namespace, *, contract: bool = True, mapping: dict | None = None):
    """(Spark table, source name) for ``--engine spark``: ``--input`` as a Parquet file or folder (a contract table
    when ``contract``, with ``mapping``), or the table of ``--data DIR`` read through the folder's mapping."""
    from driftdesk.engine import spark
    from driftdesk.engine.spark.contract import read_folder_table, read_table

    if args.data:
        table = read_folder_table(args.data, args.table)
    elif contract:
        table = read_table(args.input, args.table, mapping=mapping)
    else:
        table = spark.read_parquet(args.input)
    return table, table.source


def _fixed(value: float | None, digits: int, suffix: str = "") -> str | None:
    """``value`` with ``digits`` decimals, or in three significant digits beyond ``HUGE`` (a spend of 1e300 would
    otherwise print 300 digits); None, NaN and inf are None."""
    if value is None or not math.isfinite(value):
        return None
    return f"{value:.{digits}f}{suffix}" if abs(value) < HUGE else f"{value:.3g}{suffix}"


def cell(value) -> str:
    """A segment or group value for a human table: a missing one says so (JSON keeps null)."""
    return "(missing)" if value is None else str(value)


def pct(value) -> str:
    return _fixed(None if value is None else 100 * value, 1, "%") or "-"


def stat(value) -> str:
    return _fixed(value, 3) or "-"


def pval(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.1e}"


def num(value, digits: int = 4) -> str:
    """A number for a human table; undefined values say so instead of printing NaN or inf."""
    return _fixed(value, digits) or "undefined"
