"""The data contract: tables, their column roles, mapping user names to roles, and validation.

Inside driftdesk every timestamp is a naive ``Datetime("us")`` in UTC. Loading converts offsets to UTC,
treats naive input as UTC, and refuses a column that mixes the two. A column mapping (role -> the user's
column name) means nobody renames their data; segment and feature columns keep their own names.
Validation collects every violation, then fails once, naming the file, the column, the rule and up to
five offending rows.
"""

from __future__ import annotations

import codecs
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import polars as pl

from driftdesk.errors import ContractError, DriftdeskError, InputFileError
from driftdesk.format import DEFAULT_CURRENCY, currency_code
from driftdesk.io import collect_table, table_format
from driftdesk.proposal import FolderProposal, currency_lines, propose_folder, toml_value
from driftdesk.tables import (  # noqa: F401  (the contract's specs, re-exported: importers read them from here)
    CASE_KINDS,
    COMPONENTS,
    FALSE_WORDS,
    FEATURES,
    LAYERS,
    OUTCOME_ROLES,
    SEGMENTS,
    SEVERITIES,
    TABLES,
    TRUE_WORDS,
    Kind,
    Role,
    TableSpec,
)
from driftdesk.textfiles import read_toml
from driftdesk.timestamps import (  # noqa: F401  (re-exported for the seasonality module's grid)
    EPOCH_RULE,
    EPOCH_UNIT_NAMES,
    epoch_expr,
    epoch_unit,
    likely_epoch_range,
    parse_text_timestamps,
)

MAX_EXAMPLES = 5
_parse_text_ts = parse_text_timestamps  # the name the seasonality grid imports

Mapping_ = Mapping[str, "str | list[str] | tuple[str, ...]"]


@dataclass(frozen=True)
class Violation:
    """One broken rule in one column, with a few offending rows (1-based data row numbers)."""

    source: str
    table: str
    column: str | None
    rule: str
    count: int
    examples: tuple[tuple[int | None, str], ...] = ()
    role: str | None = None
    severity: Literal["error", "warning"] = "error"

    @property
    def message(self) -> str:
        where = f"column {self.column!r}" if self.column else "table"
        if self.role and self.role != self.column:
            where += f" (role {self.role})"
        rows = "; ".join(f"row {r}: {v}" if r is not None else v for r, v in self.examples)
        plural = "row" if self.count == 1 else "rows"
        tail = f" — {self.count} {plural}" if self.count else ""
        tail += f", e.g. {rows}" if rows else ""
        return f"{self.source}: {where}: {self.rule}{tail}"

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "table": self.table,
            "column": self.column,
            "role": self.role,
            "rule": self.rule,
            "count": self.count,
            "examples": [{"row": r, "value": v} for r, v in self.examples],
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True)
class Table:
    """A validated table: role columns renamed to their roles, segment/feature columns under their own names."""

    name: str
    frame: pl.DataFrame | pl.LazyFrame  # lazy when scanned past the memory budget; a SparkTable on Spark
    source: str
    segments: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    mapping: dict = field(default_factory=dict)
    warnings: tuple[Violation, ...] = ()

    @property
    def spec(self) -> TableSpec:
        return TABLES[self.name]

    def has(self, role: str) -> bool:
        frame = self.frame  # a scan answers from its schema; a DataFrame and a SparkTable from their columns
        return role in (frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.columns)


# --------------------------------------------------------------------------- mapping


def resolve_mapping(columns: list[str], schema: Mapping[str, pl.DataType], spec: TableSpec,
                    mapping: Mapping_ | None, source: str) -> tuple[dict[str, str], list[str], list[str]]:
    """Role -> column for single roles, plus the segment and feature column lists.

    Unmapped single roles default to a column of the same name; a role mapped to ``""`` has no column on purpose.
    Segments default to the text columns no other role claims; features (decisions only) to the numeric ones.
    """
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ContractError(f"{source}: a mapping is role -> column name (a dict), got {type(mapping).__name__}")
    mapping = dict(mapping or {})
    unknown_roles = sorted(set(mapping) - {r.name for r in spec.roles})
    if unknown_roles:
        raise ContractError(
            f"{source}: mapping names unknown role(s) {unknown_roles} for table {spec.name!r}; "
            f"roles are {[r.name for r in spec.roles]}"
        )
    single: dict[str, str] = {}
    for role in spec.roles:
        if role.many:
            continue
        col = mapping.get(role.name)
        if role.name in mapping and not col:
            continue  # deliberately without a column (a same-name column is not taken either)
        if col:
            if not isinstance(col, str):
                raise ContractError(f"{source}: role {role.name!r} takes one column, got {col!r}")
            if col not in columns:
                raise ContractError(
                    f"{source}: mapping sends role {role.name!r} to column {col!r}, which is not in the file; "
                    f"columns are {columns}"
                )
            single[role.name] = col
        elif role.name in columns:
            single[role.name] = role.name
    missing = [r for r in spec.required if r not in single]
    if missing:
        raise ContractError(
            f"{source}: table {spec.name!r} is missing required column(s) for role(s) {missing}; "
            f"the file has {columns}. Map your column names to these roles.",
            [Violation(source, spec.name, m, "required column missing", 0, role=m) for m in missing],
        )
    claimed = set(single.values())
    twice = {c: [r for r, col in single.items() if col == c] for c in claimed}
    twice = {c: roles for c, roles in twice.items() if len(roles) > 1}
    if twice:
        col, roles = sorted(twice.items())[0]
        raise ContractError(f"{source}: column {col!r} is mapped to {len(roles)} roles ({', '.join(roles)}) of table "
                            f"{spec.name!r}; a column plays one role: map each role to its own column (or to \"\" "
                            "for none)")

    def listed(role: str) -> list[str] | None:
        if role not in mapping:
            return None
        cols = [mapping[role]] if isinstance(mapping[role], str) else list(mapping[role])
        absent = [c for c in cols if c not in columns]
        if absent:
            raise ContractError(f"{source}: mapping lists {role} column(s) {absent} that are not in the file; columns are {columns}")
        return cols

    names = {r.name for r in spec.roles}
    segments: list[str] = []
    features: list[str] = []
    given_features = listed("features") if "features" in names else None
    if "segments" in names:
        given = listed("segments")
        taken = claimed | set(given_features or [])
        segments = given if given is not None else [
            c for c in columns if c not in taken and (schema[c] in (pl.String, pl.Categorical) or isinstance(schema[c], pl.Enum))
        ]
    if "features" in names:
        features = given_features if given_features is not None else [
            c for c in columns if c not in claimed and c not in segments and schema[c].is_numeric()
        ]
    for role, cols in (("segments", segments), ("features", features)):
        repeated = [c for c in cols if cols.count(c) > 1]
        if repeated:
            raise ContractError(f"{source}: column {repeated[0]!r} is listed twice in {role}; list each column once")
        clash = [c for c in cols if c in claimed or (role == "features" and c in segments)]
        if clash:
            other = next((r for r, c in single.items() if c == clash[0]), "segments")
            raise ContractError(f"{source}: column {clash[0]!r} is listed in {role} and also plays {other} in table "
                                f"{spec.name!r}; a column plays one role")
    return single, segments, features


# --------------------------------------------------------------------------- coercion


def _whole_column(frame: pl.DataFrame, col: str, role: Role, spec: TableSpec, source: str, rule: str) -> Violation:
    """A violation for a column of the wrong type altogether, showing its first values."""
    head = frame[col].head(MAX_EXAMPLES).to_list()
    return Violation(source, spec.name, col, rule, frame.height, tuple((i + 1, repr(x)) for i, x in enumerate(head)),
                     role.name)


def _coerce(frame: pl.DataFrame, col: str, role: Role, spec: TableSpec, source: str) -> tuple[pl.Expr, list[Violation]]:
    """An expression giving the column in its role's type, and the violations found while converting."""
    dtype = frame.schema[col]
    v: list[Violation] = []
    c = pl.col(col)

    def bad_rows(mask: pl.Expr, rule: str, severity: Literal["error", "warning"] = "error") -> None:
        rows = frame.with_row_index("__row", offset=1).filter(mask)
        if rows.height:
            ex = tuple((int(r), repr(x)) for r, x in rows.select("__row", col).head(MAX_EXAMPLES).iter_rows())
            v.append(Violation(source, spec.name, col, rule, rows.height, ex, role.name, severity))

    kind = role.kind
    if kind == "datetime":
        if isinstance(dtype, pl.Datetime):
            out = c.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if dtype.time_zone else c
            return out.dt.cast_time_unit("us"), v
        if dtype == pl.Date:
            return c.cast(pl.Datetime("us")), v
        if dtype in (pl.String, pl.Categorical):
            parsed, has_tz, blank = parse_text_timestamps(col)
            tmp = frame.select(parsed.alias("p"), has_tz.alias("tz"), blank.alias("b"), c.cast(pl.String))
            n_tz = int(tmp["tz"].sum())
            non_blank = int((~tmp["b"]).sum())
            if 0 < n_tz < non_blank:
                with_ = tmp.with_row_index("__row", offset=1).filter(pl.col("tz"))
                without = tmp.with_row_index("__row", offset=1).filter(~pl.col("tz") & ~pl.col("b"))
                ex = tuple((int(r), repr(x)) for r, x in with_.select("__row", col).head(2).iter_rows())
                ex += tuple((int(r), repr(x)) for r, x in without.select("__row", col).head(3).iter_rows())
                v.append(Violation(source, spec.name, col, "mixed time zones: some timestamps carry a UTC offset and some do not",
                                   min(n_tz, non_blank - n_tz), ex, role.name))
            rows = tmp.with_row_index("__row", offset=1).filter(pl.col("p").is_null() & ~pl.col("b"))
            if rows.height:
                ex = tuple((int(r), repr(x)) for r, x in rows.select("__row", col).head(MAX_EXAMPLES).iter_rows())
                v.append(Violation(source, spec.name, col, "unparsable timestamp (expected ISO 8601, e.g. 2026-10-05T13:00:00Z)",
                                   rows.height, ex, role.name))
            return parsed, v
        if dtype.is_numeric():
            unit = epoch_unit(frame[col])
            if unit is not None:
                return epoch_expr(col, unit), v
            likely = likely_epoch_range(frame[col])
            if likely is None:
                v.append(_whole_column(frame, col, role, spec, source, EPOCH_RULE))
            else:
                unit, low, high = likely
                x = c.cast(pl.Float64)
                bad_rows(x.is_not_null() & ~((x >= low) & (x < high)),
                         f"epoch time out of range: the column reads as Unix time in {EPOCH_UNIT_NAMES[unit]}, "
                         f"which must be from {low:.0e} to {high:.0e} (1973-03-03 to 2286-11-20)")
            return c, v
        v.append(_whole_column(frame, col, role, spec, source, f"wrong type: expected a timestamp, found {dtype}"))
        return c, v

    if kind in ("float", "int"):
        if dtype.is_numeric() or dtype == pl.Boolean:
            out = c.cast(pl.Float64)
        elif dtype in (pl.String, pl.Categorical):
            s = c.cast(pl.String).str.strip_chars()
            out = s.cast(pl.Float64, strict=False)
            bad_rows(out.is_null() & s.is_not_null() & (s != ""), "wrong type: expected a number")
        else:
            v.append(_whole_column(frame, col, role, spec, source, f"wrong type: expected a number, found {dtype}"))
            return c, v
        bad_rows(out.is_infinite(), "not finite: infinite values are not allowed")
        n_nan = frame.select(out.is_nan().sum()).item()
        if n_nan:
            bad_rows(out.is_nan(), "NaN read as missing", "warning")
        out = out.fill_nan(None)
        if kind == "int":
            bad_rows(out.is_finite() & (out != out.floor()), "not a whole number")
        if role.min is not None:  # infinities are reported once, as not finite
            bad_rows(out.is_finite() & (out < role.min), f"out of range: must be >= {role.min:g}")
        if role.max is not None:
            bad_rows(out.is_finite() & (out > role.max), f"out of range: must be <= {role.max:g}")
        if kind == "int":
            out = pl.when(out.is_finite()).then(out).cast(pl.Int64, strict=False)
        return out, v

    if kind in ("bool", "binary"):
        if dtype == pl.Boolean:
            out = c
        elif dtype.is_numeric():
            bad_rows(c.is_not_null() & ~c.cast(pl.Float64).is_in([0.0, 1.0]), "not binary: values must be 0 or 1")
            out = pl.when(c.cast(pl.Float64).is_in([0.0, 1.0])).then(c.cast(pl.Float64) == 1.0)
        elif dtype in (pl.String, pl.Categorical):
            s = c.cast(pl.String).str.strip_chars().str.to_lowercase()
            ok = s.is_in(TRUE_WORDS + FALSE_WORDS)
            bad_rows(s.is_not_null() & (s != "") & ~ok, "not boolean: values must be true/false or 1/0")
            out = pl.when(s.is_in(TRUE_WORDS)).then(True).when(s.is_in(FALSE_WORDS)).then(False)
        else:
            v.append(_whole_column(frame, col, role, spec, source, f"wrong type: expected true/false, found {dtype}"))
            return c, v
        return (out.cast(pl.Int8) if kind == "binary" else out.cast(pl.Boolean)), v

    # string
    out = c.cast(pl.String)
    if role.allowed is not None:
        bad_rows(out.is_not_null() & ~out.is_in(list(role.allowed)), f"not one of {list(role.allowed)}")
    return out, v


# --------------------------------------------------------------------------- validation


def validate_frame(frame: pl.DataFrame | pl.LazyFrame, table: str, *, mapping: Mapping_ | None = None,
                   source: str = "<frame>") -> tuple[Table | None, list[Violation]]:
    """Validate and coerce a frame against a table of the contract.

    Returns (table, violations). The table is None when any violation is an error; warnings ride along.
    """
    if table not in TABLES:
        raise ContractError(f"unknown table {table!r}; tables are {sorted(TABLES)}")
    spec = TABLES[table]
    if isinstance(frame, pl.LazyFrame):
        try:
            frame = frame.collect()
        except pl.exceptions.PolarsError as exc:
            raise InputFileError(f"{source}: cannot read: {_first_line(exc)}") from exc
    try:
        return _validate(frame, spec, mapping, source)
    except pl.exceptions.PolarsError as exc:  # a case the rules above do not foresee: still a readable error
        raise ContractError(f"{source}: cannot validate as table {table!r}: {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _validate(frame: pl.DataFrame, spec: TableSpec, mapping: Mapping_ | None,
              source: str) -> tuple[Table | None, list[Violation]]:
    table = spec.name
    if frame.height == 0 and not spec.allow_empty:
        v = Violation(source, table, None, "empty: the table has no rows", 0)
        return None, [v]
    single, segments, features = resolve_mapping(frame.columns, frame.schema, spec, mapping, source)
    violations: list[Violation] = []
    exprs: list[pl.Expr] = []
    for role_name, col in single.items():
        expr, v = _coerce(frame, col, spec.role(role_name), spec, source)
        violations += v
        exprs.append(expr.alias(role_name))
    for col in segments:
        exprs.append(pl.col(col).cast(pl.String))
    for col in features:
        dtype = frame.schema[col]
        if dtype.is_numeric() or dtype == pl.Boolean:
            expr, v = _coerce(frame, col, Role(col, "float"), spec, source)
            violations += v
        elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            expr = pl.col(col).cast(pl.String)
        else:
            violations.append(Violation(source, table, col, f"wrong type: a feature must be numeric or text, found {dtype}",
                                        frame.height, (), "features"))
            continue
        exprs.append(expr.alias(col))
    errors = [v for v in violations if v.severity == "error"]
    if errors:
        return None, violations
    out = frame.select(exprs)
    # required roles must not be null (a blank timestamp or score cannot be placed)
    for role_name in spec.required:
        n = out[role_name].null_count()
        if n:
            rows = out.with_row_index("__row", offset=1).filter(pl.col(role_name).is_null())
            ex = tuple((int(r), "null") for r in rows["__row"].head(MAX_EXAMPLES))
            violations.append(Violation(source, table, single[role_name], "missing value in a required column", n, ex, role_name))
    if spec.key:
        key_cols = [c for k in spec.key for c in (segments if k == "segments" else [k]) if c in out.columns]
        keyed = out
        if "segments" in spec.key:
            # segments left out (none chosen, or fewer): rows still differ by those text columns, not duplicates
            left_out = [c for c in frame.columns if c not in out.columns and c not in single.values()
                        and (frame.schema[c] in (pl.String, pl.Categorical) or isinstance(frame.schema[c], pl.Enum))]
            keyed = pl.concat([out, frame.select(pl.col(left_out).cast(pl.String))], how="horizontal")
            key_cols += left_out
        if key_cols:
            dup = keyed.with_row_index("__row", offset=1).filter(pl.len().over(key_cols) > 1)
            if dup.height:
                # the rows of the first repeated keys side by side, so the examples show what repeats
                first = dup.with_columns(pl.col("__row").min().over(key_cols).alias("__first"))
                shown = [single.get(k, k) for k in key_cols]
                ex = tuple(
                    (int(r["__row"]), ", ".join(f"{n}={r[k]}" for n, k in zip(shown, key_cols, strict=True)))
                    for r in first.sort("__first", "__row").head(MAX_EXAMPLES).iter_rows(named=True)
                )
                twice = dup.select((pl.len().over(key_cols) == 2).all()).item()
                rule = f"duplicate key: ({', '.join(shown)}) must be unique" + (
                    repeated_hour_hint(out["ts"], dup["ts"]) if "ts" in key_cols and twice else "")
                violations.append(Violation(source, table, ", ".join(shown), rule, dup.height, ex))
    if any(v.severity == "error" for v in violations):
        return None, violations
    mapping_used = {**single, **({"segments": segments} if segments else {}), **({"features": features} if features else {})}
    result = Table(table, out, source, tuple(segments), tuple(features), mapping_used,
                   tuple(v for v in violations if v.severity == "warning"))
    return result, violations


def repeated_hour_hint(ts: pl.Series, repeated: pl.Series) -> str:
    """Why timestamps repeat, when every row of one clock hour (at most one such hour a year) comes twice and no
    other row repeats: local times without an offset repeat the hour a daylight-saving change turns clocks back."""
    hours = repeated.drop_nulls().dt.truncate("1h").unique().sort()
    if hours.is_empty() or hours.dt.date().n_unique() < hours.len() or hours.len() > hours.dt.year().n_unique():
        return ""
    if ts.dt.truncate("1h").is_in(hours.implode()).sum() != repeated.len():
        return ""  # the hour also has rows that do not repeat: a double export, not a clock change
    when = ", ".join(f"{h:%Y-%m-%d %H:00}" for h in hours.to_list())
    return (f" (every row of the hour {when} comes twice: if the times are local, that is the hour a "
            "daylight-saving change repeats; export times in UTC or with their UTC offset)")


def located(violations: Sequence[Violation], source: str) -> list[Violation]:
    """The violations of a folder of Parquet or CSV files with each example row named by its file and its row there
    (a row number counted across the folder's files is found in none of them); other sources as they are."""
    from bisect import bisect_left
    from itertools import accumulate

    from driftdesk.io import part_rows

    if not any(row is not None for v in violations for row, _ in v.examples) or not Path(source).is_dir():
        return list(violations)
    parts = part_rows(source)
    ends = list(accumulate(n for _, n in parts))

    def where(row: int, value: str) -> tuple[None, str]:
        i = min(bisect_left(ends, row), len(parts) - 1)
        return None, f"{parts[i][0]} row {row - (ends[i - 1] if i else 0)}: {value}"

    return [replace(v, examples=tuple(where(r, x) if r is not None else (r, x) for r, x in v.examples))
            for v in violations]


def format_violations(violations: list[Violation], *, table: str, source: str) -> str:
    errors = [v for v in violations if v.severity == "error"]
    head = f"{source}: {len(errors)} contract violation{'s' if len(errors) != 1 else ''} for table {table!r}"
    return head + "".join(f"\n  - {v.message}" for v in errors)


def text_columns(path: str | Path, schema: Mapping[str, pl.DataType], table: str,
                 mapping: Mapping_ | None) -> tuple[str, ...]:
    """The columns a table reads as text (segments and text roles) that a CSV reader inferred as something else,
    for a CSV file or folder at ``path`` (none for other formats, whose types are written down): re-read as
    written, a segment "TRUE" stays "TRUE" and a version "1.10" is not the number 1.1."""
    if table not in TABLES or table_format(path) != "csv":
        return ()
    source = str(path)
    spec = TABLES[table]
    try:
        single, segments, _ = resolve_mapping(list(schema), schema, spec, mapping, source)
    except ContractError:
        return ()  # validation names what is wrong with the mapping
    texts = [c for r, c in single.items() if spec.role(r).kind == "string"] + list(segments)
    return tuple(c for c in dict.fromkeys(texts) if schema[c] != pl.String)


def load_table(path: str | Path, table: str, *, mapping: Mapping_ | None = None) -> Table:
    """Read a file and validate it as a contract table; ContractError lists every violation."""
    frame = collect_table(path)
    texts = text_columns(path, frame.schema, table, mapping)
    if texts:
        frame = collect_table(path, text_columns=texts)
    result, violations = validate_frame(frame, table, mapping=mapping, source=str(path))
    violations = located(violations, str(path))
    if result is None:
        raise ContractError(format_violations(violations, table=table, source=str(path)), violations)
    return replace(result, warnings=tuple(v for v in violations if v.severity == "warning"))


def find_table_file(folder: str | Path, table: str) -> tuple[Path, Mapping_] | None:
    """The file holding a table in a folder and its role mapping: the file and columns driftdesk.toml names, else
    the file its content fits best with the columns proposed from it (what ``load_dataset`` reads it with)."""
    from_folder = _proposal(Path(folder), read_settings(folder)).tables.get(table)
    return (Path(from_folder.path), from_folder.mapping()) if from_folder is not None else None


@dataclass(frozen=True)
class Dataset:
    """Every contract table found in a folder, validated. Missing optional tables are simply absent.

    ``notes`` say which files were not loaded and why (each names the file and what to do); ``calendar`` is the
    folder's ``[calendar]`` section (public holidays, retail events: see ``driftdesk.calendars``); ``currency`` the
    ISO 4217 code its money is in (format inside ``driftdesk.format.money_in(dataset.currency)``).
    """

    folder: str
    tables: dict[str, Table]
    notes: tuple[str, ...] = ()
    calendar: Mapping = field(default_factory=dict)
    currency: str = DEFAULT_CURRENCY

    def __getitem__(self, name: str) -> Table:
        if name not in self.tables:
            raise ContractError(f"{self.folder}: no {name} table (no file in the folder fits it; the Data page or "
                                "`driftdesk map --data DIR` shows which table each file is)")
        return self.tables[name]

    def get(self, name: str) -> Table | None:
        return self.tables.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.tables


MAPPING_FILE = "driftdesk.toml"


@dataclass(frozen=True)
class FolderSettings:
    """What a folder's driftdesk.toml remembers: per table its file and the role of each column, and the calendar.

    ``[mapping.<table>]`` maps roles to column names (``file`` names the file holding the table; a role set to
    ``""`` has no column on purpose); ``[calendar]`` sets public holidays and retail events; ``currency`` (a
    top-level key, ISO 4217, USD when absent) is what the money (spend, revenue, cost) is in.
    """

    mappings: dict[str, dict] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    calendar: dict = field(default_factory=dict)
    read: dict = field(default_factory=dict)  # how text files are read: [read] encoding (driftdesk.io)
    currency: str = DEFAULT_CURRENCY

    def to_toml(self) -> str:
        lines = currency_lines(self.currency)
        lines += [""] if lines else []
        for table, roles in sorted(self.mappings.items()):
            lines.append(f"[mapping.{table}]")
            if table in self.files:
                lines.append(f"file = {toml_value(self.files[table])}")
            lines += [f"{role} = {toml_value(col)}" for role, col in roles.items()]
            lines.append("")
        for table in sorted(set(self.files) - set(self.mappings)):
            lines += [f"[mapping.{table}]", f"file = {toml_value(self.files[table])}", ""]
        if self.calendar:
            lines += ["[calendar]", *(f"{key} = {toml_value(value)}" for key, value in self.calendar.items()), ""]
        if self.read:
            lines += ["[read]", *(f"{key} = {toml_value(value)}" for key, value in self.read.items()), ""]
        return "\n".join(lines)


def read_settings(folder: str | Path) -> FolderSettings:
    """The folder's driftdesk.toml read and checked (an absent file remembers nothing)."""
    path = Path(folder) / MAPPING_FILE
    if not path.exists():
        return FolderSettings()
    doc = read_toml(path, error=ContractError)
    sections = doc.get("mapping", {})
    if not isinstance(sections, dict) or not all(isinstance(v, dict) for v in sections.values()):
        raise ContractError(f"{path}: [mapping.<table>] sections must map roles to column names")
    unknown = sorted(set(sections) - set(TABLES))
    if unknown:
        raise ContractError(f"{path}: mapping for unknown table(s) {unknown}; tables are {sorted(TABLES)}")
    mappings, files = {}, {}
    for table, section in sections.items():
        roles = dict(section)
        file = roles.pop("file", None)
        if file is not None:
            if not isinstance(file, str) or not file or (Path(file).name != file and file != "."):
                raise ContractError(f"{path}: [mapping.{table}] file must be the name of a file in the folder (or of "
                                    f"a folder of Parquet or CSV files in it; \".\" for the folder itself), got {file!r}")
            files[table] = file
        unknown_roles = sorted(set(roles) - {r.name for r in TABLES[table].roles})
        if unknown_roles:
            raise ContractError(f"{path}: [mapping.{table}] names unknown role(s) {unknown_roles}; the roles of "
                                f"{table} are {[r.name for r in TABLES[table].roles]}")
        bad = {r: v for r, v in roles.items()
               if not (isinstance(v, str) or (isinstance(v, list) and all(isinstance(c, str) for c in v)))}
        if bad:
            raise ContractError(f"{path}: [mapping.{table}] maps roles to a column name or a list of names; "
                                f"not {bad}")
        if roles or file is None:
            mappings[table] = roles
    read = doc.get("read", {})
    if not isinstance(read, dict) or set(read) - {"encoding"}:
        raise ContractError(f"{path}: [read] takes one setting, encoding (e.g. encoding = \"cp1252\")")
    if "encoding" in read:
        try:
            codecs.lookup(str(read["encoding"]))
        except LookupError as exc:
            raise ContractError(f"{path}: [read] encoding {read['encoding']!r} is not an encoding Python knows "
                                "(e.g. \"cp1252\", \"latin-1\", \"utf-16\")") from exc
    calendar = doc.get("calendar", {})
    if not isinstance(calendar, dict):
        raise ContractError(f"{path}: [calendar] must be a table of settings (holidays, events, prime_day)")
    try:
        currency = currency_code(doc.get("currency", DEFAULT_CURRENCY), where=f"{path}: currency")
    except DriftdeskError as exc:
        raise ContractError(str(exc)) from None
    return FolderSettings(mappings, files, dict(calendar), dict(read), currency)


def read_mappings(folder: str | Path) -> dict[str, dict]:
    """The remembered column mappings of a folder: role -> column(s) per table (``[mapping.<table>]``)."""
    return read_settings(folder).mappings


def write_settings(folder: str | Path, settings: FolderSettings, *, replace: bool = True) -> Path:
    """Write driftdesk.toml beside the data, atomically; with ``replace=False`` an existing file is kept (an error)."""
    return write_settings_text(folder, settings.to_toml(), replace=replace)


def write_settings_text(folder: str | Path, text: str, *, replace: bool = True) -> Path:
    """Write the text of a driftdesk.toml atomically, after checking it reads back; ``replace=False`` keeps an
    existing file (a ContractError saying so)."""
    path = Path(folder) / MAPPING_FILE
    if not replace and path.exists():
        raise ContractError(f"{path} already exists and is kept as it is; write over it on purpose (--force in the "
                            "CLI), or edit it")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContractError(f"{path}: the settings would not read back as TOML ({exc}); nothing written") from exc
    tmp = path.with_name(f".{MAPPING_FILE}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_mappings(folder: str | Path, mappings: Mapping[str, Mapping_]) -> Path:
    """Remember column mappings next to the data (atomic write); a table's ``file`` key names its file. The
    folder's other settings (its calendar, how its files are read) are kept."""
    try:
        kept = read_settings(folder)
    except ContractError:
        kept = FolderSettings()
    files = {t: roles["file"] for t, roles in mappings.items() if isinstance(roles.get("file"), str)}
    roles = {t: {r: c for r, c in m.items() if r != "file"} for t, m in mappings.items()}
    return write_settings(folder, replace(kept, mappings=roles, files=files))


def remember_tables(folder: str | Path, tables: Mapping[str, Mapping]) -> Path:
    """Remember, per table, its file (``file``) and the column of each role in the folder's driftdesk.toml; the
    other tables and the calendar settings stay as they are. A driftdesk.toml that cannot be read is never written
    over (the ContractError says why)."""
    settings = read_settings(folder)
    mappings, files = dict(settings.mappings), dict(settings.files)
    for table, given in tables.items():
        if table not in TABLES:
            raise ContractError(f"unknown table {table!r}; tables are {sorted(TABLES)}")
        roles = {r: (list(c) if isinstance(c, list | tuple) else c) for r, c in given.items() if r != "file"}
        mappings[table] = roles
        if given.get("file"):
            files[table] = str(given["file"])
        else:
            files.pop(table, None)
    return write_settings(folder, replace(settings, mappings=mappings, files=files))


def _proposal(folder: Path, settings: FolderSettings) -> FolderProposal:
    return propose_folder(folder, mappings=settings.mappings, files=settings.files)


def load_dataset(folder: str | Path, *, mappings: Mapping[str, Mapping_] | None = None,
                 tables: list[str] | None = None, holidays: str | list[str] | None = None,
                 read: Callable[..., Table] | None = None) -> Dataset:
    """Load every contract table in a folder; raise one ContractError listing every table's violations.

    Which file is which table, and which column plays each role, is what the folder's driftdesk.toml remembers,
    else what ``driftdesk.proposal`` reads from the files' content. A file that fits no table, a second file
    for a table, or a remembered column the file lacks is left out with a note (``Dataset.notes``) and the other
    tables load. ``mappings`` replaces the remembered role mappings; ``holidays`` the calendar's countries; ``read``
    (path, table, mapping=...) replaces ``load_table`` (``driftdesk.engine.dataset`` reads tables lazily or on Spark).
    """
    if not isinstance(folder, str | os.PathLike):
        raise InputFileError(f"load_dataset takes a folder path, got {type(folder).__name__} {folder!r}")
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"{folder}: no such folder")
    settings = read_settings(folder)
    if mappings is not None:
        settings = replace(settings, mappings={t: dict(m) for t, m in mappings.items()})
    proposal = _proposal(folder, settings)
    found: dict[str, Table] = {}
    problems: list[str] = []
    for name, file in proposal.tables.items():
        if tables and name not in tables:
            continue
        try:
            found[name] = (read or load_table)(file.path, name, mapping=file.mapping())
        except (ContractError, InputFileError) as exc:
            problems.append(str(exc))
    if problems:
        raise ContractError("\n".join(problems))
    if not found and tables and proposal.tables:
        raise InputFileError(f"{folder}: no {' or '.join(tables)} table found; the folder has "
                             f"{', '.join(sorted(proposal.tables))}")
    if not found:
        why = " ".join(proposal.notes)
        raise InputFileError(f"{folder}: no contract tables found (files of kpis, decisions, llm_calls, ... as Parquet, "
                             f"CSV or Arrow)" + (f". {why}" if why else ""))
    calendar = dict(settings.calendar)
    if holidays is not None:
        calendar["holidays"] = holidays
    return Dataset(str(folder), {t: found[t] for t in TABLES if t in found}, proposal.notes, calendar,
                   settings.currency)
