"""A folder of someone else's files against the data contract: which table each file is (proposed from its content,
or remembered in driftdesk.toml), which of its columns plays each role, and every violation with a few offending rows.

``inspect_folder(folder)`` is the Data page's view, and works the same from a notebook: it never raises for bad
data (a file that cannot be read, a file that fits no table, a mapping that does not fit), it reports it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from driftdesk.contract import TABLES, Violation, located, read_settings, text_columns, validate_frame
from driftdesk.errors import ContractError, DriftdeskError
from driftdesk.io import scan_table
from driftdesk.jsonsafe import jsonable
from driftdesk.proposal import FileProposal, FolderProposal, RoleProposal, named_table, propose_folder

VIOLATION_SCHEMA = {"file": pl.String, "table": pl.String, "column": pl.String, "rule": pl.String, "count": pl.Int64,
                    "examples": pl.String, "severity": pl.String}


def guess_table(filename: str) -> str | None:
    """The contract table a file is named after (kpis.csv -> kpis, "LLM-calls.parquet" -> llm_calls), if any."""
    return named_table(filename)


@dataclass(frozen=True)
class TableFile:
    """One contract table's file in a folder: its columns, the mapping to prefill (remembered or proposed), how sure
    the proposal is and why, and what is wrong with the file."""

    table: str
    path: str
    columns: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()
    mapping: dict = field(default_factory=dict)  # role -> column (single roles) plus segments / features lists
    violations: tuple[dict, ...] = ()
    error: str | None = None  # the file cannot be read at all
    confidence: float = 1.0
    reasons: tuple[str, ...] = ()
    roles: tuple[RoleProposal, ...] = ()  # each proposed role's column, confidence and reason
    remembered: bool = False  # driftdesk.toml chose the file or some of its roles

    @property
    def name(self) -> str:
        return Path(self.path).name

    def to_dict(self) -> dict:
        return jsonable({"table": self.table, "path": self.path, "columns": list(self.columns),
                         "dtypes": list(self.dtypes), "mapping": self.mapping, "violations": list(self.violations),
                         "error": self.error, "confidence": self.confidence, "reasons": list(self.reasons),
                         "roles": [r.to_dict() for r in self.roles], "remembered": self.remembered})


@dataclass(frozen=True)
class FolderReport:
    """Every table file found in a folder (``files``), or why the folder cannot be read at all (``error``)."""

    folder: str
    files: tuple[TableFile, ...]
    error: str | None = None
    proposal: FolderProposal | None = None  # every data file with its proposed table, including those not loaded

    def file(self, table: str) -> TableFile:
        return next(f for f in self.files if f.table == table)

    @property
    def notes(self) -> tuple[str, ...]:
        """Files that are not loaded, each with why and what to do."""
        return self.proposal.notes if self.proposal is not None else ()

    def files_frame(self) -> pl.DataFrame:
        """One row per data file: the table proposed, the confidence, and why (or why it is not loaded)."""
        if self.proposal is None:
            return FolderProposal(self.folder, ()).to_frame()
        return self.proposal.to_frame()

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
        return jsonable({"folder": self.folder, "error": self.error, "files": [f.to_dict() for f in self.files],
                         "notes": list(self.notes),
                         "proposal": self.proposal.to_dict() if self.proposal is not None else None})

    def _repr_html_(self) -> str:
        tables = ", ".join(f.table for f in self.files) or "no table files"
        return f"<p><b>{html.escape(self.folder)}</b>: {html.escape(tables)}</p>" + self.violations()._repr_html_()


def _inspect_file(proposed: FileProposal, *, validate: bool) -> TableFile:
    table = proposed.table
    fit = proposed.fit
    base = dict(confidence=proposed.confidence, reasons=proposed.reasons, roles=fit.roles if fit else (),
                remembered=proposed.remembered)
    mapping = proposed.mapping()
    try:
        lazy = scan_table(proposed.path)
        schema = dict(lazy.collect_schema())
        texts = text_columns(proposed.path, schema, table, mapping)
        if texts:  # checked as loading reads it: a CSV's segments and text roles as written
            lazy = scan_table(proposed.path, text_columns=texts)
            schema = dict(lazy.collect_schema())
    except DriftdeskError as exc:
        return TableFile(table, proposed.path, error=str(exc), **base)
    columns = list(schema)
    violations: list[Violation] = []
    error = None
    if validate:
        try:
            _, violations = validate_frame(lazy, table, mapping=mapping, source=proposed.path)
        except ContractError as exc:
            violations = list(exc.violations)
            error = None if violations else str(exc)
        except DriftdeskError as exc:
            error = str(exc)
        violations = located(violations, proposed.path)
    return TableFile(table, proposed.path, tuple(columns), tuple(str(schema[c]) for c in columns), mapping,
                     tuple(v.to_dict() for v in violations), error, **base)


def inspect_folder(folder: str | Path, *, validate: bool = True) -> FolderReport:
    """Every data file in a folder with its proposed table, columns and prefilled mapping; its violations when
    ``validate``; the files not loaded with why."""
    path = Path(folder)
    if not path.is_dir():
        return FolderReport(str(folder), (), f"{folder}: no such folder on this server")
    try:
        settings = read_settings(path)
    except ContractError as exc:
        return FolderReport(str(folder), (), str(exc))
    proposal = propose_folder(path, mappings=settings.mappings, files=settings.files)
    chosen = proposal.tables
    files = tuple(_inspect_file(chosen[t], validate=validate) for t in TABLES if t in chosen)
    return FolderReport(str(folder), files, None, proposal)
