"""Lazy readers for Parquet, CSV, Arrow IPC and OpenTelemetry spans in JSON, chosen by extension, with clear errors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import polars as pl

from driftdesk.errors import DriftdeskError, InputFileError

SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
    ".json": "otlp",  # OpenTelemetry GenAI spans (OTLP JSON, JSON lines), read as llm_calls rows by driftdesk.otel
    ".jsonl": "otlp",
}
_DELIMITERS = (",", ";", "\t", "|")


def as_lazy(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """A LazyFrame from either kind of polars frame; anything else is a clear error."""
    if isinstance(frame, pl.LazyFrame):
        return frame
    if isinstance(frame, pl.DataFrame):
        return frame.lazy()
    raise DriftdeskError(f"expected a polars DataFrame or LazyFrame, got {type(frame).__name__}")


def file_format(path: str | Path) -> str:
    """The reader for a path, by extension; an unknown extension is an error naming the ones we read."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        known = ", ".join(sorted(SUFFIXES))
        raise InputFileError(f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; use one of {known}")
    return SUFFIXES[suffix]


def sniff_delimiter(path: str | Path) -> str:
    """The CSV delimiter: the candidate that splits the header into the most fields (comma on a tie)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 0 else ","


_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
_DECIMAL_POINT = re.compile(r"^\s*-?\d*\.\d+\s*$")


def sniff_decimal_comma(path: str | Path, separator: str, *, lines: int = 200) -> bool:
    """True when a non-comma-separated CSV writes decimals with a comma (``10,5``) and never with a point."""
    if separator == ",":
        return False
    comma = point = False
    with open(path, encoding="utf-8", errors="replace") as handle:
        handle.readline()
        for _, line in zip(range(lines), handle):
            for value in line.rstrip("\r\n").split(separator):
                value = value.strip().strip('"')
                comma = comma or bool(_DECIMAL_COMMA.match(value))
                point = point or bool(_DECIMAL_POINT.match(value))
    return comma and not point


def scan_table(path: str | Path, *, all_text: bool = False) -> pl.LazyFrame:
    """A LazyFrame over a file. Raises InputFileError for a missing, empty or unreadable file.

    CSV: the delimiter (comma, semicolon, tab, pipe) and a decimal comma are sniffed. ``all_text`` reads every
    CSV column as text, so the contract can name the rows that do not parse instead of the reader failing.
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, expected a file")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: the file is empty")
    try:
        if fmt == "parquet":
            frame = pl.scan_parquet(path)
        elif fmt == "ipc":
            frame = pl.scan_ipc(path)
        elif fmt == "otlp":
            frame = _otlp_calls(path)
        else:
            separator = sniff_delimiter(path)
            frame = pl.scan_csv(
                path,
                separator=separator,
                infer_schema_length=0 if all_text else 10_000,
                try_parse_dates=False,
                decimal_comma=sniff_decimal_comma(path, separator),
                encoding="utf8-lossy",
            )
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{path}: cannot read as {fmt}: {first}") from exc
    if len(schema) == 0:
        raise InputFileError(f"{path}: the file has no columns")
    return frame


def read_toml(path: str | Path, *, error: type[DriftdeskError] = InputFileError) -> dict:
    """A TOML settings file (driftdesk.toml, a manifest) read whole, within its bounds; every way it can be unreadable
    (a folder, not UTF-8, too large, nested too deep, bad syntax) is ``error`` naming the file."""
    from driftdesk.bounds import NESTING_DEPTH, TOML_BYTES, check_depth, check_size

    path = Path(path)
    if path.is_dir():
        raise error(f"{path}: is a folder, expected a TOML file")
    try:
        check_size(path.stat().st_size, what=str(path), limit=TOML_BYTES)
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        return check_depth(tomllib.loads(text), what=str(path))
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise error(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise error(f"{path}: nested deeper than {NESTING_DEPTH} levels of tables and lists") from exc
    except DriftdeskError as exc:
        raise error(str(exc)) from exc
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _otlp_calls(path: Path) -> pl.LazyFrame:
    """A JSON file of OpenTelemetry GenAI spans as one row per LLM call (``driftdesk otel import`` reports what
    it left out); JSON that is not spans is refused, since it has no table shape."""
    from driftdesk.otel import is_otlp_file, read_otlp

    if not is_otlp_file(path):
        raise InputFileError(f"{path}: a JSON file is read only as OpenTelemetry spans (OTLP JSON or JSON lines); "
                             "this one does not look like spans. Export tables as Parquet or CSV")
    return read_otlp(path)[0].lazy()


def collect_table(path: str | Path) -> pl.DataFrame:
    """Read a whole file. A CSV whose inferred types break further down is re-read as text, so that the
    contract, not the reader, reports the offending rows."""
    try:
        return scan_table(path).collect()
    except pl.exceptions.PolarsError as exc:
        error: Exception = exc
    if file_format(path) == "csv":
        try:
            return scan_table(path, all_text=True).collect()
        except pl.exceptions.PolarsError as exc:
            error = exc
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    raise InputFileError(f"{path}: cannot read: {first}") from error


def read_table(path: str | Path) -> pl.DataFrame:
    """Eager version of scan_table, for small tables."""
    return collect_table(path)
