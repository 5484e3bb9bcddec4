"""Lazy readers for Parquet, CSV and Arrow IPC, chosen by extension, with clear errors."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from driftdesk.errors import InputFileError

SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
}
_DELIMITERS = (",", ";", "\t", "|")


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


def scan_table(path: str | Path) -> pl.LazyFrame:
    """A LazyFrame over a file. Raises InputFileError for a missing, empty or unreadable file."""
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
        else:
            frame = pl.scan_csv(
                path,
                separator=sniff_delimiter(path),
                infer_schema_length=10_000,
                try_parse_dates=False,
            )
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{path}: cannot read as {fmt}: {first}") from exc
    if len(schema) == 0:
        raise InputFileError(f"{path}: the file has no columns")
    return frame


def read_table(path: str | Path) -> pl.DataFrame:
    """Eager version of scan_table, for small tables."""
    try:
        return scan_table(path).collect()
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputFileError(f"{path}: cannot read: {first}") from exc
