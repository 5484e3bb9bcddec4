"""The data contract: tables, their column roles, mapping user names to roles, and validation.

Inside driftdesk every timestamp is a naive ``Datetime("us")`` in UTC. Loading converts offsets to UTC,
treats naive input as UTC, and refuses a column that mixes the two. A column mapping (role -> the user's
column name) means nobody renames their data; segment and feature columns keep their own names.
Validation collects every violation, then fails once, naming the file, the column, the rule and up to
five offending rows.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from driftdesk.errors import ContractError, InputFileError
from driftdesk.io import SUFFIXES, collect_table

Kind = Literal["datetime", "float", "int", "string", "bool", "binary", "any"]
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Role:
    name: str
    kind: Kind
    required: bool = False
    many: bool = False  # segments / features: any number of the user's columns
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    doc: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    grain: str
    roles: tuple[Role, ...]
    key: tuple[str, ...] = ()  # roles that identify a row; "segments" expands to the segment columns
    allow_empty: bool = False  # a log (incidents, calendar) may truthfully have no rows

    def role(self, name: str) -> Role:
        for r in self.roles:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.roles if r.required)


def _r(name: str, kind: Kind, **kw) -> Role:
    return Role(name, kind, **kw)


SEGMENTS = _r("segments", "string", many=True, doc="columns that split traffic (geo, device, source, ...)")
FEATURES = _r("features", "any", many=True, doc="model input columns: numeric or categorical")
LAYERS = ("service", "data", "model", "business", "llm")
# Outcome roles arrive late (a label matures days after the decision): their null rate rises at the recent edge of
# any data by design, so input-drift views leave them out and calibration counts only matured labels.
OUTCOME_ROLES = ("label", "revenue")
SEVERITIES = ("P0", "P1", "P2", "P3")
COMPONENTS = ("model", "prompt", "feature_view", "index", "embedding", "threshold", "retriever", "config", "llm_model")
CASE_KINDS = ("happy", "edge", "known_failure", "adversarial")

TABLES: dict[str, TableSpec] = {
    "decisions": TableSpec(
        "decisions",
        "one scored request / lead / auction",
        (
            _r("ts", "datetime", required=True),
            SEGMENTS,
            FEATURES,
            _r("score", "float", required=True, min=0.0, max=1.0, doc="predicted probability"),
            _r("label", "binary", doc="outcome 0/1; null until it matures"),
            _r("decision", "binary"),
            _r("spend", "float", min=0.0),
            _r("revenue", "float", min=0.0),
            _r("model_version", "string"),
            _r("release_id", "string"),
        ),
    ),
    "kpis": TableSpec(
        "kpis",
        "hour x segment",
        (
            _r("ts", "datetime", required=True),
            SEGMENTS,
            _r("impressions", "float", min=0.0),
            _r("clicks", "float", min=0.0),
            _r("conversions", "float", required=True, min=0.0),
            _r("spend", "float", required=True, min=0.0),
            _r("revenue", "float", min=0.0),
        ),
        key=("ts", "segments"),
    ),
    "llm_calls": TableSpec(
        "llm_calls",
        "one LLM call",
        (
            _r("ts", "datetime", required=True),
            _r("feature", "string", doc="the app or feature that made the call"),
            _r("model", "string"),
            _r("prompt_version", "string"),
            _r("index_version", "string", doc="retriever / index version"),
            _r("latency_ms", "float", min=0.0),
            _r("ttft_ms", "float", min=0.0),
            _r("input_tokens", "float", min=0.0),
            _r("output_tokens", "float", min=0.0),
            _r("cost", "float", min=0.0),
            _r("validator_ok", "bool"),
            _r("refusal", "bool"),
            _r("error", "bool"),
            _r("user_feedback", "float", min=-1.0, max=1.0),
            _r("judge_score", "float", min=0.0, max=1.0),
            _r("release_id", "string"),
            _r("output_text", "string", doc="the output, for repetitiveness between consecutive outputs"),
        ),
    ),
    "golden_runs": TableSpec(
        "golden_runs",
        "one golden-set case x repeat x candidate",
        (
            _r("release_id", "string", required=True),
            _r("case_id", "string", required=True),
            _r("case_kind", "string", allowed=CASE_KINDS),
            _r("repeat", "int", min=0.0),
            _r("passed", "bool", required=True),
            _r("score", "float", min=0.0, max=1.0),
            _r("recall_at_k", "float", min=0.0, max=1.0),
            _r("ndcg", "float", min=0.0, max=1.0),
            _r("tokens", "float", min=0.0),
            _r("latency_ms", "float", min=0.0),
        ),
        key=("release_id", "case_id", "repeat"),
    ),
    "releases": TableSpec(
        "releases",
        "one change of anything that ships",
        (
            _r("ts", "datetime", required=True),
            _r("release_id", "string", required=True),
            _r("component", "string", allowed=COMPONENTS),
            _r("version", "string"),
            _r("git_commit", "string"),
            _r("traffic_share", "float", min=0.0, max=1.0),
            _r("note", "string"),
        ),
        key=("release_id", "ts"),
    ),
    "incidents": TableSpec(
        "incidents",
        "one known incident (the team's log)",
        (
            _r("start", "datetime", required=True),
            _r("end", "datetime"),
            _r("layer", "string", allowed=LAYERS),
            _r("severity", "string", allowed=SEVERITIES),
            _r("segment", "string", doc="e.g. 'source=affiliate' or 'geo=DE'; empty for global"),
            _r("cause", "string"),
            _r("incident_id", "string"),
        ),
        allow_empty=True,
    ),
    "service": TableSpec(
        "service",
        "time x service",
        (
            _r("ts", "datetime", required=True),
            _r("service", "string", required=True),
            _r("requests", "float", min=0.0),
            _r("errors", "float", min=0.0),
            _r("timeouts", "float", min=0.0),
            _r("latency_p50_ms", "float", min=0.0),
            _r("latency_p95_ms", "float", min=0.0),
            _r("latency_p99_ms", "float", min=0.0),
            _r("queue_depth", "float", min=0.0),
        ),
        key=("ts", "service"),
    ),
    "calendar": TableSpec(
        "calendar",
        "one holiday or promotion day: calendar, not drift",
        (
            _r("date", "datetime", required=True),
            _r("name", "string", required=True),
            _r("kind", "string", allowed=("holiday", "promotion")),
            _r("segment", "string", doc="where the day applies, e.g. 'geo=US'; empty for everywhere"),
        ),
        key=("date",),
        allow_empty=True,
    ),
}

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
    frame: pl.DataFrame
    source: str
    segments: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    mapping: dict = field(default_factory=dict)
    warnings: tuple[Violation, ...] = ()

    @property
    def spec(self) -> TableSpec:
        return TABLES[self.name]

    def has(self, role: str) -> bool:
        return role in self.frame.columns


# --------------------------------------------------------------------------- mapping


def resolve_mapping(columns: list[str], schema: Mapping[str, pl.DataType], spec: TableSpec,
                    mapping: Mapping_ | None, source: str) -> tuple[dict[str, str], list[str], list[str]]:
    """Role -> column for single roles, plus the segment and feature column lists.

    Unmapped single roles default to a column of the same name. Segments default to the text columns no
    other role claims; features (decisions only) to the numeric ones.
    """
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
    return single, segments, features


# --------------------------------------------------------------------------- coercion

_TZ_SUFFIX = r"(Z|z|[+-]\d{2}:?\d{2})$"
_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def _parse_text_ts(col: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(parsed UTC naive datetime, has-offset flag, is-blank flag) for a text timestamp column."""
    s = (
        pl.col(col).cast(pl.String).str.strip_chars()
        .str.replace(r"\s*(?:UTC|GMT)$", "Z")  # BigQuery-style "2026-10-05 13:00:00 UTC"
        .str.replace(r"(\d)\s+([+-]\d{2}:?\d{2})$", "${1}${2}")  # "13:00:00 +0000"
        .str.replace(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([+-]\d{2})$", "${1}${2}:00")  # Postgres "13:00:00+00"
    )
    has_tz = s.str.contains(_TZ_SUFFIX)
    normal = s.str.replace(r"[Zz]$", "+00:00").str.replace(r"([+-]\d{2})(\d{2})$", "${1}:${2}")
    with_tz = pl.coalesce(
        [normal.str.strptime(pl.Datetime("us", "UTC"), f + "%:z", strict=False) for f in _FORMATS[:-1]]
    ).dt.replace_time_zone(None)
    naive = pl.coalesce([s.str.strptime(pl.Datetime("us"), f, strict=False) for f in _FORMATS])
    parsed = pl.when(has_tz).then(with_tz).otherwise(naive)
    blank = s.is_null() | (s == "")
    return parsed, has_tz, blank


# Unix epoch numbers by magnitude: 1973-2286 in seconds, milliseconds, microseconds or nanoseconds
_EPOCH_UNITS = ((1e8, 1e11, "s"), (1e11, 1e14, "ms"), (1e14, 1e17, "us"), (1e17, 1e20, "ns"))
EPOCH_RULE = ("numeric timestamps are read as Unix epoch time (UTC) in seconds, milliseconds, microseconds or "
              "nanoseconds, told apart by size (1973-2286); these are not all in one of those ranges")


def epoch_unit(values: pl.Series) -> str | None:
    """The epoch unit every non-null value of a numeric timestamp column fits, or None (then it is no epoch)."""
    finite = values.cast(pl.Float64).drop_nulls()
    finite = finite.filter(finite.is_finite())
    if finite.is_empty():
        return None
    lo, hi = float(finite.min()), float(finite.max())
    return next((unit for a, b, unit in _EPOCH_UNITS if a <= lo and hi < b), None)


def epoch_expr(col: str, unit: str) -> pl.Expr:
    """A numeric epoch column as naive UTC Datetime('us')."""
    scale = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}[unit]
    return (pl.col(col).cast(pl.Float64) * scale).round(0).cast(pl.Int64).cast(pl.Datetime("us"))


_TRUE = ("true", "t", "yes", "y", "1", "1.0")
_FALSE = ("false", "f", "no", "n", "0", "0.0")


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
            parsed, has_tz, blank = _parse_text_ts(col)
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
            v.append(_whole_column(frame, col, role, spec, source, EPOCH_RULE))
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
            ok = s.is_in(_TRUE + _FALSE)
            bad_rows(s.is_not_null() & (s != "") & ~ok, "not boolean: values must be true/false or 1/0")
            out = pl.when(s.is_in(_TRUE)).then(True).when(s.is_in(_FALSE)).then(False)
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
        if key_cols:
            dup = out.with_row_index("__row", offset=1).filter(pl.len().over(key_cols) > 1)
            if dup.height:
                ex = tuple(
                    (int(r["__row"]), ", ".join(f"{k}={r[k]}" for k in key_cols))
                    for r in dup.head(MAX_EXAMPLES).iter_rows(named=True)
                )
                violations.append(Violation(source, table, ", ".join(key_cols),
                                            f"duplicate key: ({', '.join(key_cols)}) must be unique", dup.height, ex))
    if any(v.severity == "error" for v in violations):
        return None, violations
    mapping_used = {**single, **({"segments": segments} if segments else {}), **({"features": features} if features else {})}
    result = Table(table, out, source, tuple(segments), tuple(features), mapping_used,
                   tuple(v for v in violations if v.severity == "warning"))
    return result, violations


def format_violations(violations: list[Violation], *, table: str, source: str) -> str:
    errors = [v for v in violations if v.severity == "error"]
    head = f"{source}: {len(errors)} contract violation{'s' if len(errors) != 1 else ''} for table {table!r}"
    return head + "".join(f"\n  - {v.message}" for v in errors)


def load_table(path: str | Path, table: str, *, mapping: Mapping_ | None = None) -> Table:
    """Read a file and validate it as a contract table; ContractError lists every violation."""
    frame = collect_table(path)
    result, violations = validate_frame(frame, table, mapping=mapping, source=str(path))
    if result is None:
        raise ContractError(format_violations(violations, table=table, source=str(path)), violations)
    return result


def find_table_file(folder: str | Path, table: str) -> Path | None:
    """The file for a table in a folder: ``<table>.<ext>`` for any extension we read."""
    folder = Path(folder)
    for suffix in SUFFIXES:
        candidate = folder / f"{table}{suffix}"
        if candidate.exists():
            return candidate
    return None


@dataclass(frozen=True)
class Dataset:
    """Every contract table found in a folder, validated. Missing optional tables are simply absent."""

    folder: str
    tables: dict[str, Table]

    def __getitem__(self, name: str) -> Table:
        if name not in self.tables:
            raise ContractError(f"{self.folder}: no {name} table (expected a file named {name}.parquet, .csv or .arrow)")
        return self.tables[name]

    def get(self, name: str) -> Table | None:
        return self.tables.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.tables


MAPPING_FILE = "driftdesk.toml"


def read_mappings(folder: str | Path) -> dict[str, dict]:
    """The remembered column mappings of a folder: ``[mapping.<table>]`` sections of driftdesk.toml."""
    path = Path(folder) / MAPPING_FILE
    if not path.exists():
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ContractError(f"{path}: not valid TOML: {exc}") from exc
    mappings = doc.get("mapping", {})
    if not isinstance(mappings, dict) or not all(isinstance(v, dict) for v in mappings.values()):
        raise ContractError(f"{path}: [mapping.<table>] sections must map roles to column names")
    unknown = sorted(set(mappings) - set(TABLES))
    if unknown:
        raise ContractError(f"{path}: mapping for unknown table(s) {unknown}; tables are {sorted(TABLES)}")
    return mappings


def write_mappings(folder: str | Path, mappings: Mapping[str, Mapping_]) -> Path:
    """Remember column mappings next to the data (atomic write)."""
    lines = []
    for table, roles in sorted(mappings.items()):
        lines.append(f"[mapping.{table}]")
        for role, col in roles.items():
            value = "[" + ", ".join(_toml_str(c) for c in col) + "]" if isinstance(col, list | tuple) else _toml_str(col)
            lines.append(f"{role} = {value}")
        lines.append("")
    path = Path(folder) / MAPPING_FILE
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _toml_str(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_dataset(folder: str | Path, *, mappings: Mapping[str, Mapping_] | None = None,
                 tables: list[str] | None = None) -> Dataset:
    """Load every contract table present in a folder; raise one ContractError listing all violations.

    Without explicit mappings, the folder's remembered ones (driftdesk.toml) apply.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"{folder}: no such folder")
    mappings = mappings if mappings is not None else read_mappings(folder)
    found: dict[str, Table] = {}
    problems: list[str] = []
    for name in tables or list(TABLES):
        path = find_table_file(folder, name)
        if path is None:
            continue
        try:
            found[name] = load_table(path, name, mapping=mappings.get(name))
        except (ContractError, InputFileError) as exc:
            problems.append(str(exc))
    if problems:
        raise ContractError("\n".join(problems))
    if not found:
        raise InputFileError(f"{folder}: no contract tables found (expected files like kpis.parquet, decisions.csv)")
    return Dataset(str(folder), found)
