"""A Parquet file or folder read as a contract table on Spark: the columns ``driftdesk.contract.load_table`` keeps,
under their roles' names and in their roles' types, and the contract's per-value rules checked in one pass.

The rows stay in Spark (a cluster reads them where they are stored); what reaches this machine is the counts of
broken rules and a few examples of each. Types follow the contract: numbers as float64 with NaN read as missing,
binary roles as int8, flags as booleans, segments as text, timestamps as naive UTC. Parquet already carries types,
so text that would have to be parsed (timestamps or numbers written as text) is refused with the column named:
the polars engine parses such files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from driftdesk.contract import MAX_EXAMPLES, TABLES, Table, Violation, format_violations, resolve_mapping
from driftdesk.engine.spark import SparkTable, fetch, functions, read_parquet
from driftdesk.errors import ContractError
from driftdesk.tables import FALSE_WORDS, TRUE_WORDS, Role, TableSpec


def read_table(path: str | Path, table: str, *, mapping: Mapping | None = None) -> SparkTable:
    """The file (or folder of Parquet files) as the contract table ``table`` on Spark; ContractError lists every
    broken rule, as ``load_table`` does."""
    return read_contract(path, table, mapping=mapping).frame


def read_contract(path: str | Path, table: str, *, mapping: Mapping | None = None) -> Table:
    """``read_table`` as a contract ``Table`` (its frame a SparkTable), as ``load_table`` returns one."""
    if table not in TABLES:
        raise ContractError(f"unknown table {table!r}; tables are {sorted(TABLES)}")
    return _read(path, TABLES[table], mapping)


def read_folder_table(folder: str | Path, table: str) -> SparkTable:
    """A folder's table on Spark: the file and roles its driftdesk.toml remembers, else those proposed from content
    (``driftdesk.proposal``), as ``load_dataset`` finds them."""
    from driftdesk.contract import read_settings
    from driftdesk.errors import InputFileError
    from driftdesk.proposal import propose_folder

    settings = read_settings(folder)
    found = propose_folder(folder, mappings=settings.mappings, files=settings.files).tables.get(table)
    if found is None:
        raise InputFileError(f"{folder}: no {table} table in this folder")
    return read_table(found.path, table, mapping=found.mapping())


def _read(path: str | Path, spec: TableSpec, mapping: Mapping | None) -> Table:
    raw = read_parquet(path)
    source = str(path)
    schema = raw.schema
    single, segments, features = resolve_mapping(list(schema), schema, spec, mapping, source)
    F = functions()
    columns, rules = {}, []  # rules: (column, role, text, mask of broken rows)
    for role_name, col in single.items():
        columns[role_name], found = _coerce(col, schema[col], spec.role(role_name), source, spec)
        rules += found
    for col in segments:
        columns[col] = F.col(col).cast("string")
    for col in features:
        if schema[col].is_numeric() or schema[col] == pl.Boolean:
            columns[col], found = _coerce(col, schema[col], Role(col, "float"), source, spec)
            rules += found
        elif schema[col] == pl.String:
            columns[col] = F.col(col)
        else:
            raise ContractError(f"{source}: column {col!r}: wrong type: a feature must be numeric or text, found "
                                f"{schema[col]}")
    rules += [(single[r], r, "missing value in a required column", columns[r].isNull()) for r in spec.required]
    typed = raw.df.select(*[c.alias(name) for name, c in columns.items()])
    if not spec.allow_empty and not raw.df.take(1):
        raise ContractError(format_violations([Violation(source, spec.name, None, "empty: the table has no rows", 0)],
                                              table=spec.name, source=source))
    keyed = None
    # as the contract keys a table: its key roles present, its segments and the text columns left out
    left_out = [c for c in schema if c not in columns and c not in single.values() and schema[c] == pl.String]
    keys = [k for k in spec.key if k != "segments" and k in columns]
    keys += [*segments, *left_out] if "segments" in spec.key else []
    if keys:
        keyed = raw.df.select(*[c.alias(n) for n, c in columns.items() if n in keys], *left_out).groupBy(*keys)
    _check(raw.df, keyed, rules, spec, source)
    used = {**single, **({"segments": segments} if segments else {}), **({"features": features} if features else {})}
    return Table(spec.name, SparkTable(typed, source), source, tuple(segments), tuple(features), used)


def _refuse(col: str, dtype: pl.DataType, source: str, want: str) -> ContractError:
    return ContractError(f"{source}: column {col!r}: on Spark a {want} column must be typed in the Parquet file, "
                         f"found {dtype}; write it typed, or read the file with --engine polars, which parses text")


def _coerce(col: str, dtype: pl.DataType, role: Role, source: str, spec: TableSpec) -> tuple[object, list]:
    """The column in its role's type, and the rules its values must keep (as masks of the raw column)."""
    F = functions()
    c = F.col(col)
    kind = role.kind
    if kind == "datetime":
        if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
            return c.cast("timestamp_ntz"), []  # Spark holds instants; the session's UTC gives their UTC time
        raise _refuse(col, dtype, source, "timestamp")
    if kind in ("float", "int"):
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            raise _refuse(col, dtype, source, "number")
        x = c.cast("double")
        finite = x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf"))
        rules = [(col, role.name, "not finite: infinite values are not allowed", F.abs(x) == float("inf"))]
        if kind == "int":
            rules.append((col, role.name, "not a whole number", finite & (x != F.floor(x))))
        if role.min is not None:
            rules.append((col, role.name, f"out of range: must be >= {role.min:g}", finite & (x < role.min)))
        if role.max is not None:
            rules.append((col, role.name, f"out of range: must be <= {role.max:g}", finite & (x > role.max)))
        out = F.when(finite, x)  # NaN is read as missing, as the contract reads it
        return (out.cast("long") if kind == "int" else out), rules
    if kind in ("bool", "binary"):
        if dtype == pl.Boolean:
            out, rules = c, []
        elif dtype.is_numeric():
            x = c.cast("double")
            rules = [(col, role.name, "not binary: values must be 0 or 1", c.isNotNull() & ~x.isin(0.0, 1.0))]
            out = F.when(x.isin(0.0, 1.0), x == 1.0)
        elif dtype == pl.String:
            s = F.lower(F.regexp_replace(c, r"^\s+|\s+$", ""))  # all whitespace, as polars strips, not spaces only
            rules = [(col, role.name, "not boolean: values must be true/false or 1/0",
                      s.isNotNull() & (s != "") & ~s.isin(*TRUE_WORDS, *FALSE_WORDS))]
            out = F.when(s.isin(*TRUE_WORDS), F.lit(True)).when(s.isin(*FALSE_WORDS), F.lit(False))
        else:
            raise _refuse(col, dtype, source, "true/false")
        return (out.cast("tinyint") if kind == "binary" else out.cast("boolean")), rules
    out = c.cast("string")
    rules = []
    if role.allowed is not None:
        rules.append((col, role.name, f"not one of {list(role.allowed)}", out.isNotNull() & ~out.isin(*role.allowed)))
    return out, rules


def _check(raw, keyed, rules: list, spec: TableSpec, source: str) -> None:
    """Count every rule's broken rows in one pass over the rows; raise the contract's message if any broke (with a
    few values of each: Spark rows have no row numbers). Duplicate keys are one more pass."""
    F = functions()
    violations = []
    if rules:
        counts = fetch(raw.select(*[F.sum(m.cast("long")).alias(f"r{i}") for i, (*_, m) in enumerate(rules)])).row(0)
        for (col, role, text, mask), n in zip(rules, counts, strict=True):
            if n:
                values = fetch(raw.where(mask).select(F.col(col).cast("string").alias("v")).limit(MAX_EXAMPLES))
                violations.append(Violation(source, spec.name, col, text, int(n),
                                            tuple((None, repr(v)) for v in values["v"].to_list()), role))
    if keyed is not None and not violations:
        dup = keyed.count().where(F.col("count") > 1)
        found = fetch(dup.select(F.sum("count").alias("n")))["n"][0]
        if found:
            ex = fetch(dup.drop("count").limit(MAX_EXAMPLES))
            names = ex.columns
            violations.append(Violation(source, spec.name, ", ".join(names), f"duplicate key: ({', '.join(names)}) "
                                        "must be unique", int(found),
                                        tuple((None, ", ".join(f"{k}={v}" for k, v in r.items()))
                                              for r in ex.iter_rows(named=True))))
    if violations:
        raise ContractError(format_violations(violations, table=spec.name, source=source), violations)
