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


FOLDER_FORMATS = ("parquet", "csv")  # the formats a folder of part files is read in, one table per folder


def inside(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path``, its links followed, lies in ``folder`` (the folder itself or below). A data folder's files
    are its own: a link in it leading elsewhere on the server is not read, so a server that reads only the folders
    its operator allowed never reads (nor quotes in an error) a file outside them."""
    try:
        real, root = Path(path).resolve(), Path(folder).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return False
    return real == root or root in real.parents


def folder_files(path: str | Path) -> tuple[str, list[Path]]:
    """(format, files) of a folder read as one table: its Parquet files (a dataset as Spark, pyarrow or Hive write
    it, or ``kpis/part-*.parquet``) or its CSV files (``kpis/2026-11-01.csv``, ``exports/date=2026-11-01/kpis.csv``),
    sorted, at any depth; ``_`` and ``.`` entries are skipped (``_SUCCESS``, ``_temporary/``, ``.crc``). A folder
    holding both kinds is refused naming one file of each (which of them is the table cannot be told), except that
    a data folder partitioned itself (``date=2026-11-01/part-0.parquet`` beside ``releases.csv``) keeps its files of
    the other kind beside the partition folders out: they are tables of their own (``proposal.data_files``)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file or folder")
    found: dict[str, list[Path]] = {fmt: [] for fmt in FOLDER_FORMATS}
    partitioned, beside = set(), set()  # formats of the files in key=value folders; the files beside them
    for f in sorted(path.rglob("*")):
        fmt = SUFFIXES.get(f.suffix.lower())
        if fmt in found and not _skipped(relative := f.relative_to(path)) and f.is_file() and inside(f, path):
            found[fmt].append(f)
            if len(relative.parts) == 1:
                beside.add(f)
            elif "=" in relative.parts[0]:
                partitioned.add(fmt)
    if len(partitioned) == 1:
        found = {fmt: [f for f in files if fmt in partitioned or f not in beside] for fmt, files in found.items()}
    if found["parquet"] and found["csv"]:
        raise InputFileError(f"{path}: the folder mixes Parquet and CSV files ({found['parquet'][0].relative_to(path)} "
                             f"and {found['csv'][0].relative_to(path)}); a folder is read as one table, so its files "
                             "must be of one format: convert one kind, or move it out of the folder")
    fmt = next((f for f in FOLDER_FORMATS if found[f]), None)
    if fmt is None:
        raise InputFileError(f"{path}: is a folder holding no .parquet or .csv files (a folder is read as one table "
                             "of its Parquet or CSV files)")
    return fmt, found[fmt]


def table_format(path: str | Path) -> str:
    """The reader of a table's path: a file's by its extension (``file_format``), a folder's by its files
    (``folder_files``: "parquet" or "csv")."""
    return folder_files(path)[0] if Path(path).is_dir() else file_format(path)


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files of a path: the file itself, or a folder's (``folder_files``), which must all have the
    same columns and types. A mismatch is named with the two files and the column, before any engine reads a row
    (engines otherwise fail late or take one file's schema)."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file or folder")
    files = [path]
    if path.is_dir():
        fmt, files = folder_files(path)
        if fmt != "parquet":
            raise InputFileError(f"{path}: a folder of CSV files (e.g. {files[0].relative_to(path)}), not Parquet files")
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
    """(file as named under the folder, rows) for each file of a folder, in the order they are read: a row number
    across the folder's files is found in one of them. Parquet rows come from the files' footers (no row is read);
    a CSV file's records are counted, read as text as ``scan_csv_folder`` reads it."""
    import pyarrow.parquet as pq

    root = Path(path)
    if table_format(root) == "parquet":
        return [(f.relative_to(root).as_posix(), pq.ParquetFile(f).metadata.num_rows) for f in parquet_files(root)]
    return [(f.relative_to(root).as_posix(),
             int(_scan_csv(f, all_text=True, encoding=text_encoding(f, within=root)).select(pl.len()).collect().item()))
            for f in csv_files(root)]


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


def csv_files(path: str | Path) -> list[Path]:
    """The CSV files of a folder read as one table (``folder_files``), leaving out empty (0-byte) files: they hold
    no header and no row, so they add nothing to the table."""
    path = Path(path)
    fmt, files = folder_files(path)
    if fmt != "csv":
        raise InputFileError(f"{path}: a folder of Parquet files (e.g. {files[0].relative_to(path)}), not CSV files")
    files = [f for f in files if f.stat().st_size > 0]
    if not files:
        raise InputFileError(f"{path}: every CSV file in the folder is empty")
    return files


_CSV_INFER_ROWS = 10_000  # rows a CSV reader reads to infer its columns' types


def _common_type(found: list[pl.DataType]) -> pl.DataType:
    """The type of a CSV folder's column from what each file's reader inferred for it (files where it is empty
    left out): the type all agree on; whole numbers and decimals together as decimals; else text."""
    kinds = set(found)
    if not kinds:
        return pl.String
    if len(kinds) == 1:
        return found[0]
    if all(t.is_integer() for t in kinds):
        return pl.Int64
    if all(t.is_numeric() for t in kinds):
        return pl.Float64
    return pl.String


def scan_csv_folder(path: str | Path, *, all_text: bool = False, encoding: str | None = None,
                    text_columns: tuple[str, ...] = ()) -> pl.LazyFrame:
    """A folder of CSV files (``csv_files``) as one lazy table, in file order, with its Hive partition columns
    (``partition_values``, typed as for Parquet) after the files' own columns; a partition key the files also hold
    keeps the files'.

    Each file is read as a single CSV is (``scan_table``): its delimiter, decimal comma and encoding sniffed on
    its own (``encoding``: every file's), a header naming a column twice refused. Every file must name the same
    columns, in any order, else the two files and the columns that differ are named.

    Types: each file's reader infers its own (from its first 10,000 rows), and a column's type is the one the
    files agree on; a file where the column is empty (a header-only day, a column not filled that day) has no say.
    Whole numbers in one file and decimals in another are decimals; any other disagreement (a number in one file,
    text in another) reads the column as text, as written, in every file, so the contract parses it and names the
    values that are bad by file and row. A type cast after reading would not do: a number cast back to text loses
    how it was written ("01" -> "1"), and one day's file must not decide the type of the others, as the first
    rows of one concatenated CSV would. ``all_text`` and ``text_columns`` as in ``scan_table`` (a partition column
    among ``text_columns`` keeps its folder's text)."""
    root = Path(path)
    files = csv_files(root)
    partitions = partition_values(root, files)
    texts = {c: pl.String for c in text_columns}
    encodings = {f: encoding or text_encoding(f, within=root) for f in files}

    def scan(f: Path, overrides: dict) -> pl.LazyFrame:
        try:
            frame = _scan_csv(f, all_text=all_text, encoding=encodings[f], overrides=overrides)
            frame.collect_schema()
            return frame
        except UnicodeError as exc:
            raise InputFileError(f"{f}: cannot decode as {encodings[f]}: {exc}") from exc
        except (pl.exceptions.PolarsError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputFileError(f"{f}: cannot read as csv: {first}") from exc

    scans = {f: scan(f, texts) for f in files}
    schemas = {f: dict(s.collect_schema()) for f, s in scans.items()}
    first = files[0]
    names = list(schemas[first])
    for f, schema in schemas.items():
        if set(schema) != set(names):
            only_first = [c for c in names if c not in schema]
            only_this = [c for c in schema if c not in names]
            differ = "; ".join(x for x in (
                f"{first.relative_to(root)} has {only_first} that {f.relative_to(root)} lacks" if only_first else "",
                f"{f.relative_to(root)} has {only_this} that {first.relative_to(root)} lacks" if only_this else "")
                if x)
            raise InputFileError(f"{root}: mixed headers: {differ}; a folder is read as one table, so its files "
                                 "must name the same columns")
    common = {c: schemas[first][c] for c in names}
    disagree = [c for c in names if len({schemas[f][c] for f in files}) > 1]
    if disagree:
        empty_text = {}  # file -> its text columns among those that disagree, empty in its first rows
        for f in files:
            cols = [c for c in disagree if schemas[f][c] == pl.String]
            if cols:
                filled = scans[f].head(_CSV_INFER_ROWS).select(pl.col(cols).is_not_null().any()).collect().row(0)
                empty_text[f] = {c for c, any_value in zip(cols, filled, strict=True) if not any_value}
        for c in disagree:
            common[c] = _common_type([schemas[f][c] for f in files if c not in empty_text.get(f, set())])
        # a file whose reader inferred another type reads the column again as the common type
        scans = {f: scan(f, {**texts, **{c: common[c] for c in names if schemas[f][c] != common[c]}})
                 if any(schemas[f][c] != common[c] for c in names) else s for f, s in scans.items()}
    own = set(names)
    extra = {}
    for key, values in partitions.items():
        if key not in own:
            text = pl.Series(list(values.values()), dtype=pl.String)
            extra[key] = text if key in texts else _partition_series(text.to_list())
    frames = [scans[f].select(names).with_columns(pl.lit(typed[i], dtype=typed.dtype).alias(key)
                                                  for key, typed in extra.items())
              for i, f in enumerate(files)]
    return pl.concat(frames, how="vertical")


def scan_table(path: str | Path, *, all_text: bool = False, encoding: str | None = None,
               text_columns: tuple[str, ...] = ()) -> pl.LazyFrame:
    """A LazyFrame over a file, or over a folder of Parquet files with one schema (``parquet_files``) or of CSV
    files with one header (``scan_csv_folder``). Raises InputFileError for a missing, empty or unreadable file.

    CSV: the delimiter (comma, semicolon, tab, pipe) and a decimal comma are sniffed. ``all_text`` reads every
    CSV column as text, so the contract can name the rows that do not parse instead of the reader failing. Text is
    UTF-8, or ``encoding`` (default: what ``text_encoding`` finds: UTF-8, else the folder's declared encoding);
    bytes that do not decode are refused, never replaced. A header naming a column twice is refused.
    ``text_columns`` of a CSV are read as written (a segment "TRUE" or a version "1.10" is text, not a boolean or
    a number).
    """
    path = Path(path)
    if path.is_dir() and SUFFIXES.get(path.suffix.lower(), "parquet") not in FOLDER_FORMATS:
        raise InputFileError(f"{path}: is a folder, expected a file")
    if path.is_dir():
        if table_format(path) == "parquet":
            return scan_parquet_folder(path)
        return scan_csv_folder(path, all_text=all_text, encoding=encoding, text_columns=text_columns)
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
                              overrides={c: pl.String for c in text_columns})
        schema = frame.collect_schema()
    except UnicodeError as exc:
        raise InputFileError(f"{path}: cannot decode as {encoding or 'its declared encoding'}: {exc}") from exc
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{path}: cannot read as {fmt}: {first}") from exc
    if len(schema) == 0:
        raise InputFileError(f"{path}: the file has no columns")
    return frame


def _scan_csv(path: Path, *, all_text: bool, encoding: str, overrides: dict | None = None) -> pl.LazyFrame:
    """One CSV file, its delimiter and decimal comma sniffed; ``overrides``: column -> the type it is read as."""
    separator = sniff_delimiter(path, encoding)
    _check_header(path, separator, encoding)
    options = dict(separator=separator, infer_schema_length=0 if all_text else _CSV_INFER_ROWS,
                   try_parse_dates=False, decimal_comma=sniff_decimal_comma(path, separator, encoding=encoding),
                   schema_overrides=(overrides or None) if not all_text else None)
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
    file size (CSV and Arrow hold about as much in memory as on disk); a folder's files together."""
    path = Path(path)
    if path.is_dir():  # a folder named like another format is not a table (scan_table says so)
        table = SUFFIXES.get(path.suffix.lower(), "parquet") in FOLDER_FORMATS
        return sum(memory_estimate(f) for f in folder_files(path)[1]) if table else 0
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(path).metadata
            return sum(meta.row_group(k).total_byte_size for k in range(meta.num_row_groups))
        except (OSError, ValueError):
            pass
    return path.stat().st_size if path.exists() else 0


def collect_table(path: str | Path, *, text_columns: tuple[str, ...] = ()) -> pl.DataFrame:
    """Read a whole file (or folder). A CSV whose inferred types break further down is re-read as text, so that
    the contract, not the reader, reports the offending rows; ``text_columns`` as in ``scan_table``. A table larger
    than the memory budget is refused before reading (``driftdesk.engine``); only Parquet is scanned in batches past
    the budget, so the message for a CSV file or folder says to convert it or to raise the budget."""
    from driftdesk.engine.budget import BUDGET_ENV, require_fits

    if Path(path).exists():
        hint = ("the row-reducing commands read a Parquet file or folder given with --input in batches "
                "(drift, calibration, impact, llm; --engine spark past one machine)")
        if table_format(path) == "csv":
            hint = (f"CSV is read whole (only typed Parquet is read in batches past the budget): convert it to Parquet "
                    f"(a file, or a folder of part files), or raise {BUDGET_ENV}")
        require_fits(memory_estimate(path), what=f"{path}: reading the whole table", hint=hint)

    def whole(frame: pl.LazyFrame) -> pl.DataFrame:
        # a folder's rows in one chunk: a chunk per file made the contract's checks of 365 daily files twice as slow
        return frame.collect().rechunk() if Path(path).is_dir() else frame.collect()

    try:
        return whole(scan_table(path, text_columns=text_columns))
    except pl.exceptions.PolarsError as exc:
        error: Exception = exc
    if table_format(path) == "csv":
        try:
            return whole(scan_table(path, all_text=True))
        except pl.exceptions.PolarsError as exc:
            error = exc
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    raise InputFileError(f"{path}: cannot read: {first}") from error


def read_table(path: str | Path) -> pl.DataFrame:
    """Eager version of scan_table, for small tables."""
    return collect_table(path)
