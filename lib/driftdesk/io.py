"""Lazy readers for Parquet, CSV, Arrow IPC and OpenTelemetry spans in JSON, chosen by extension, with clear errors."""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

import polars as pl

from driftdesk.errors import DriftdeskError, InputFileError
from driftdesk.textfiles import UTF8, text_encoding

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


def header_names(path: str | Path, separator: str, encoding: str = UTF8) -> list[str]:
    """The CSV file's column names as written in its first line."""
    with open(path, encoding=encoding, errors="strict", newline="") as handle:
        return next(csv.reader([handle.readline()], delimiter=separator), [])


def _check_header(path: Path, separator: str, encoding: str) -> None:
    """A CSV naming one column twice is refused (a reader would rename one and a mapping pick the wrong one)."""
    names = [n.strip() for n in header_names(path, separator, encoding)]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        where = ", ".join(f"{n!r} (columns {', '.join(str(i + 1) for i, m in enumerate(names) if m == n)})"
                          for n in twice[:3])
        raise InputFileError(f"{path}: the header names {where} more than once; give each column its own name")


def sniff_delimiter(path: str | Path, encoding: str = UTF8) -> str:
    """The CSV delimiter: the candidate that splits the header into the most fields (comma on a tie)."""
    with open(path, encoding=encoding, errors="replace") as handle:
        header = handle.readline()
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 0 else ","


_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
_DECIMAL_POINT = re.compile(r"^\s*-?\d*\.\d+\s*$")


def sniff_decimal_comma(path: str | Path, separator: str, *, lines: int = 200, encoding: str = UTF8) -> bool:
    """True when a non-comma-separated CSV writes decimals with a comma (``10,5``) and never with a point."""
    if separator == ",":
        return False
    comma = point = False
    with open(path, encoding=encoding, errors="replace") as handle:
        handle.readline()
        for _, line in zip(range(lines), handle):
            for value in line.rstrip("\r\n").split(separator):
                value = value.strip().strip('"')
                comma = comma or bool(_DECIMAL_COMMA.match(value))
                point = point or bool(_DECIMAL_POINT.match(value))
    return comma and not point


def _skipped(relative: Path) -> bool:
    """A file a dataset writer leaves beside its data (Spark's ``_SUCCESS``, ``_temporary/``, ``.crc`` checksums):
    any part of its path under the dataset's folder starts with ``_`` or ``.``, as Spark and Hive skip them."""
    return any(part.startswith(("_", ".")) for part in relative.parts)


def partition_values(path: str | Path, files: list[Path]) -> dict[str, dict[str, str | None]]:
    """Hive partition columns of a folder's files: key -> {file: value} from the ``key=value`` folders between
    the dataset's folder and each file (``date=2026-11-01/part-0.parquet``), values URL-decoded and
    ``__HIVE_DEFAULT_PARTITION__`` read as missing. Folders above the dataset's own are not read as partitions.
    Every file must sit under the same keys, else the two files are named."""
    from urllib.parse import unquote

    root = Path(path)
    if not root.is_dir():
        return {}
    per_file = {}
    for f in files:
        parts = [p.split("=", 1) for p in f.relative_to(root).parent.parts if "=" in p]
        per_file[f] = {unquote(k): (None if v == "__HIVE_DEFAULT_PARTITION__" else unquote(v)) for k, v in parts}
    first = next(iter(per_file), None)
    for f, values in per_file.items():
        if list(values) != list(per_file[first]):
            raise InputFileError(f"{root}: mixed partitions: {first.relative_to(root)} sits under "
                                 f"{'/'.join(per_file[first]) or 'no key=value folder'} but {f.relative_to(root)} "
                                 f"under {'/'.join(values) or 'no key=value folder'}; a folder is read as one table, "
                                 "so its files must be partitioned by the same keys")
    keys = list(per_file[first]) if first is not None else []
    return {k: {str(f): v[k] for f, v in per_file.items()} for k in keys}


def _partition_series(values: list[str | None]) -> pl.Series:
    """A partition column's values typed as Hive readers infer them: whole numbers, else ISO dates, else text."""
    text = pl.Series(values, dtype=pl.String)
    present = text.drop_nulls()
    if present.is_empty():
        return text
    if present.str.contains(r"^-?\d{1,18}$").all():
        return text.cast(pl.Int64)
    dates = text.str.to_date("%Y-%m-%d", strict=False)
    if dates.null_count() == text.null_count():
        return dates
    return text


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files of a path: the file itself, or every ``*.parquet`` file under a folder (a partitioned
    dataset, as Spark, pyarrow or Hive write it; their ``_`` and ``.`` files are skipped), which must all have the
    same columns and types. A mismatch is named with the two files and the column, before any engine reads a row
    (engines otherwise fail late or take one file's schema)."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*.parquet") if p.is_file() and not _skipped(p.relative_to(path))) \
        if path.is_dir() else [path]
    if not files:
        raise InputFileError(f"{path}: the folder holds no .parquet files")
    first = None
    for f in files:
        try:
            schema = pq.read_schema(f)
        except (OSError, ValueError) as exc:
            raise InputFileError(f"{f}: cannot read as parquet: {str(exc).strip().splitlines()[0]}") from exc
        fields = {n: str(schema.field(n).type) for n in schema.names}
        if first is None:
            first = (f, fields)
            continue
        ref_file, ref = first
        diff = next((c for c in [*ref, *fields] if ref.get(c) != fields.get(c)), None)
        if diff is not None:
            raise InputFileError(f"{path}: mixed schemas: column {diff!r} is {ref.get(diff, 'absent')} in "
                                 f"{ref_file.name} but {fields.get(diff, 'absent')} in {f.name}; a folder is read "
                                 "as one table, so its files must share columns and types")
    return files


def part_rows(path: str | Path) -> list[tuple[str, int]]:
    """(file as named under the folder, rows) for each Parquet file of a folder, in the order they are read: a row
    number across the folder's files is found in one of them (from the files' footers; no row is read)."""
    import pyarrow.parquet as pq

    root = Path(path)
    return [(f.relative_to(root).as_posix(), pq.ParquetFile(f).metadata.num_rows) for f in parquet_files(root)]


def scan_parquet_folder(path: str | Path) -> pl.LazyFrame:
    """A folder of Parquet files (``parquet_files``) as one lazy table, with its Hive partition columns
    (``partition_values``) after the files' own columns; a partition key the files also hold keeps the files'."""
    files = parquet_files(path)
    partitions = partition_values(path, files)
    frame = pl.scan_parquet(files)
    own = set(frame.collect_schema())
    extra = {k: v for k, v in partitions.items() if k not in own}
    if not extra:
        return frame
    source = "__driftdesk_file"
    frame = pl.scan_parquet([str(f) for f in files], include_file_paths=source)
    columns = []
    for key, values in extra.items():
        typed = _partition_series(list(values.values()))
        columns.append(pl.col(source).replace_strict(list(values), typed, default=None, return_dtype=typed.dtype)
                       .alias(key))
    return frame.with_columns(columns).drop(source)


def scan_table(path: str | Path, *, all_text: bool = False, encoding: str | None = None,
               text_columns: tuple[str, ...] = ()) -> pl.LazyFrame:
    """A LazyFrame over a file, or over a folder of Parquet files with one schema (``parquet_files``). Raises
    InputFileError for a missing, empty or unreadable file.

    CSV: the delimiter (comma, semicolon, tab, pipe) and a decimal comma are sniffed. ``all_text`` reads every
    CSV column as text, so the contract can name the rows that do not parse instead of the reader failing. Text is
    UTF-8, or ``encoding`` (default: what ``text_encoding`` finds: UTF-8, else the folder's declared encoding);
    bytes that do not decode are refused, never replaced. A header naming a column twice is refused.
    ``text_columns`` of a CSV are read as written (a segment "TRUE" or a version "1.10" is text, not a boolean or
    a number).
    """
    path = Path(path)
    if path.is_dir() and SUFFIXES.get(path.suffix.lower(), "parquet") != "parquet":
        raise InputFileError(f"{path}: is a folder, expected a file")
    if path.is_dir():
        return scan_parquet_folder(path)
    fmt = file_format(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
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
            frame = _scan_csv(path, all_text=all_text, encoding=encoding or text_encoding(path),
                              text_columns=text_columns)
        schema = frame.collect_schema()
    except UnicodeError as exc:
        raise InputFileError(f"{path}: cannot decode as {encoding or 'its declared encoding'}: {exc}") from exc
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{path}: cannot read as {fmt}: {first}") from exc
    if len(schema) == 0:
        raise InputFileError(f"{path}: the file has no columns")
    return frame


def _scan_csv(path: Path, *, all_text: bool, encoding: str, text_columns: tuple[str, ...] = ()) -> pl.LazyFrame:
    separator = sniff_delimiter(path, encoding)
    _check_header(path, separator, encoding)
    options = dict(separator=separator, infer_schema_length=0 if all_text else 10_000, try_parse_dates=False,
                   decimal_comma=sniff_decimal_comma(path, separator, encoding=encoding),
                   schema_overrides={c: pl.String for c in text_columns} or None)
    if codecs.lookup(encoding).name == UTF8:
        return pl.scan_csv(path, encoding="utf8", **options)
    # polars scans UTF-8 only: another encoding is decoded whole (strictly) and read from memory
    text = path.read_bytes().decode(encoding)
    return pl.read_csv(text.encode(UTF8), **options).lazy()


def _otlp_calls(path: Path) -> pl.LazyFrame:
    """A JSON file of OpenTelemetry GenAI spans as one row per LLM call (``driftdesk otel import`` reports what
    it left out); JSON that is not spans is refused, since it has no table shape."""
    from driftdesk.otel import is_otlp_file, read_otlp

    if not is_otlp_file(path):
        raise InputFileError(f"{path}: a JSON file is read only as OpenTelemetry spans (OTLP JSON or JSON lines); "
                             "this one does not look like spans. Export tables as Parquet or CSV")
    return read_otlp(path)[0].lazy()


def memory_estimate(path: str | Path) -> int:
    """Bytes a file takes once read into memory: a Parquet file's uncompressed size (from its footer), else the
    file size (CSV and Arrow hold about as much in memory as on disk); a folder's Parquet files together."""
    path = Path(path)
    if path.is_dir():  # a folder named like another format is not a table (scan_table says so)
        parquet = SUFFIXES.get(path.suffix.lower(), "parquet") == "parquet"
        return sum(memory_estimate(f) for f in parquet_files(path)) if parquet else 0
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(path).metadata
            return sum(meta.row_group(k).total_byte_size for k in range(meta.num_row_groups))
        except (OSError, ValueError):
            pass
    return path.stat().st_size if path.exists() else 0


def collect_table(path: str | Path, *, text_columns: tuple[str, ...] = ()) -> pl.DataFrame:
    """Read a whole file. A CSV whose inferred types break further down is re-read as text, so that the
    contract, not the reader, reports the offending rows; ``text_columns`` as in ``scan_table``. A file larger
    than the memory budget is refused before reading (``driftdesk.engine``)."""
    from driftdesk.engine.budget import require_fits

    if Path(path).exists():
        require_fits(memory_estimate(path), what=f"{path}: reading the whole table",
                     hint="the row-reducing commands read a Parquet file or folder given with --input in batches "
                          "(drift, calibration, impact, llm; --engine spark past one machine)")
    try:
        return scan_table(path, text_columns=text_columns).collect()
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
