"""A folder of someone else's files against the data contract: which table each file is, which of its columns
plays each role (proposed, or remembered in driftdesk.toml), and every violation with a few offending rows.

``inspect_folder(folder)`` is the Data page's view, and works the same from a notebook: it never raises for bad
data (a file that cannot be read, a mapping that does not fit), it reports it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from driftdesk.contract import TABLES, Violation, find_table_file, read_mappings, resolve_mapping, validate_frame
from driftdesk.errors import ContractError, DriftdeskError
from driftdesk.io import scan_table
from driftdesk.jsonsafe import jsonable

VIOLATION_SCHEMA = {"file": pl.String, "table": pl.String, "column": pl.String, "rule": pl.String, "count": pl.Int64,
                    "examples": pl.String, "severity": pl.String}


def guess_table(filename: str) -> str | None:
    """The contract table a file is named after (kpis.csv -> kpis, "LLM-calls.parquet" -> llm_calls), if any."""
    stem = Path(filename).name.split(".")[0].strip().lower().replace("-", "_").replace(" ", "_")
    return stem if stem in TABLES else None


@dataclass(frozen=True)
class TableFile:
    """One contract table file in a folder: its columns, the mapping to prefill, and what is wrong with it."""

    table: str
    path: str
    columns: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()
    mapping: dict = field(default_factory=dict)  # role -> column (single roles) plus segments / features lists
    violations: tuple[dict, ...] = ()
    error: str | None = None  # the file cannot be read at all

    def to_dict(self) -> dict:
        return jsonable({"table": self.table, "path": self.path, "columns": list(self.columns),
                         "dtypes": list(self.dtypes), "mapping": self.mapping, "violations": list(self.violations),
                         "error": self.error})


@dataclass(frozen=True)
class FolderReport:
    """Every table file found in a folder (``files``), or why the folder cannot be read at all (``error``)."""

    folder: str
    files: tuple[TableFile, ...]
    error: str | None = None

    def file(self, table: str) -> TableFile:
        return next(f for f in self.files if f.table == table)

    @property
    def mappable(self) -> tuple[TableFile, ...]:
        """The files whose columns could be read: those a mapping can be chosen for."""
        return tuple(f for f in self.files if f.columns)

    def violations(self) -> pl.DataFrame:
        """Every violation of every file as one readable table: file, table, column, rule, count, examples."""
        rows = []
        for f in self.files:
            if f.error:
                rows.append({"file": Path(f.path).name, "table": f.table, "column": "", "rule": f.error,
                             "count": None, "examples": "", "severity": "error"})
            for v in f.violations:
                examples = "; ".join(f"row {e['row']}: {e['value']}" if e["row"] is not None else str(e["value"])
                                     for e in v["examples"])
                column = v["column"] or ""
                if v["role"] and v["role"] != v["column"]:
                    column = f"{column} (role {v['role']})" if column else f"(role {v['role']})"
                rows.append({"file": Path(f.path).name, "table": f.table, "column": column, "rule": v["rule"],
                             "count": v["count"] or None, "examples": examples, "severity": v["severity"]})
        return pl.DataFrame(rows, schema=VIOLATION_SCHEMA)

    def to_frame(self) -> pl.DataFrame:
        return self.violations()

    def to_dict(self) -> dict:
        return jsonable({"folder": self.folder, "error": self.error, "files": [f.to_dict() for f in self.files]})

    def _repr_html_(self) -> str:
        tables = ", ".join(f.table for f in self.files) or "no table files"
        return f"<p><b>{html.escape(self.folder)}</b>: {html.escape(tables)}</p>" + self.violations()._repr_html_()


def _suggest(columns: list[str], schema: dict, table: str, remembered: dict, source: str) -> dict:
    """The mapping to prefill: what the contract would use; when that fails, same-name and remembered columns."""
    spec = TABLES[table]
    try:
        single, segments, features = resolve_mapping(columns, schema, spec, remembered, source)
    except ContractError:
        try:
            single, segments, features = resolve_mapping(columns, schema, spec, None, source)
        except ContractError:
            single = {}
            for role in spec.roles:
                if role.many:
                    continue
                chosen = remembered.get(role.name)
                if isinstance(chosen, str) and chosen in columns:
                    single[role.name] = chosen
                elif role.name in columns:
                    single[role.name] = role.name
            segments = [c for c in remembered.get("segments", []) if c in columns]
            features = [c for c in remembered.get("features", []) if c in columns]
    names = {r.name for r in spec.roles}
    out: dict = dict(single)
    if "segments" in names:
        out["segments"] = list(segments)
    if "features" in names:
        out["features"] = list(features)
    return out


def _inspect_file(path: Path, table: str, remembered: dict, *, validate: bool) -> TableFile:
    try:
        lazy = scan_table(path)
        schema = dict(lazy.collect_schema())
    except DriftdeskError as exc:
        return TableFile(table, str(path), error=str(exc))
    columns = list(schema)
    mapping = _suggest(columns, schema, table, remembered.get(table, {}), str(path))
    violations: list[Violation] = []
    error = None
    if validate:
        try:
            _, violations = validate_frame(lazy, table, mapping=remembered.get(table), source=str(path))
        except ContractError as exc:
            violations = list(exc.violations)
            error = None if violations else str(exc)
        except DriftdeskError as exc:
            error = str(exc)
    return TableFile(table, str(path), tuple(columns), tuple(str(schema[c]) for c in columns), mapping,
                     tuple(v.to_dict() for v in violations), error)


def inspect_folder(folder: str | Path, *, validate: bool = True) -> FolderReport:
    """Every table file in a folder with its columns and prefilled mapping; its violations when ``validate``."""
    path = Path(folder)
    if not path.is_dir():
        return FolderReport(str(folder), (), f"{folder}: no such folder on this server")
    try:
        remembered = read_mappings(path)
    except ContractError as exc:
        return FolderReport(str(folder), (), str(exc))
    files = tuple(_inspect_file(file, table, remembered, validate=validate)
                  for table in TABLES if (file := find_table_file(path, table)) is not None)
    return FolderReport(str(folder), files)
