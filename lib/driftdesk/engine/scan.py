"""A Parquet file or folder larger than the memory budget read as a contract table lazily, so the reductions after
it (calibration, segment impact, KPI tables, LLM metrics) run through polars' streaming engine in batches instead
of the whole table being loaded.

The columns are the ones ``driftdesk.contract.load_table`` keeps, under their roles' names and in their roles'
types, and the contract's per-value rules are counted in one streaming pass (a broken rule is named with its count
and a few rows, as the contract names it). Duplicate keys are found by streaming group-bys of the key columns, in as
many passes over hash slices of the keys as the budget needs, so the message is the contract's without holding the
table. Timestamps or numbers written as text are parsed by the contract's readers only, so they are refused here
with the column named: write them typed in the Parquet file. A file that fits the budget goes through
``load_table`` as always (``read_contract_table``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from driftdesk.contract import MAX_EXAMPLES, TABLES, Table, Violation, format_violations, located, resolve_mapping
from driftdesk.engine.budget import collect, memory_budget
from driftdesk.errors import ContractError
from driftdesk.tables import FALSE_WORDS, TRUE_WORDS, Role, TableSpec


def read_contract_table(path: str | Path, table: str, *, mapping: Mapping | None = None) -> pl.DataFrame | pl.LazyFrame:
    """The contract table in ``path``: read whole and validated by ``load_table`` while it fits the memory budget,
    else (a Parquet file or folder) scanned lazily by ``scan_contract_table``."""
    from driftdesk.contract import load_table

    if scanned(path):
        return scan_contract_table(path, table, mapping=mapping)
    return load_table(path, table, mapping=mapping).frame


def scanned(path: str | Path) -> bool:
    """Whether polars scans the file lazily rather than reading it whole: Parquet (a file or a folder) larger than
    the memory budget. CSV (a file or a folder) is always read whole, as its timestamps and any column its files
    disagree on are text that only the contract parses: past the budget it is refused (``io.collect_table``), with
    a message to convert it to Parquet or raise the budget."""
    from driftdesk.io import SUFFIXES, memory_estimate, table_format

    path = Path(path)
    folder = path.is_dir() and SUFFIXES.get(path.suffix.lower(), "parquet") == "parquet"
    return ((folder or path.is_file()) and table_format(path) == "parquet") and memory_estimate(path) > memory_budget()


def scan_contract_table(path: str | Path, table: str, *, mapping: Mapping | None = None) -> pl.LazyFrame:
    """The Parquet file (or folder of Parquet files) as the contract table ``table``, lazily; ContractError lists
    every broken per-value rule, as ``load_table`` does."""
    return scan_contract(path, table, mapping=mapping).frame


def scan_contract(path: str | Path, table: str, *, mapping: Mapping | None = None) -> Table:
    """``scan_contract_table`` as a contract ``Table`` (its frame a LazyFrame), as ``load_table`` returns one."""
    from driftdesk.io import scan_table

    if table not in TABLES:
        raise ContractError(f"unknown table {table!r}; tables are {sorted(TABLES)}")
    spec, source = TABLES[table], str(path)
    lf = scan_table(path)
    schema = dict(lf.collect_schema())
    single, segments, features = resolve_mapping(list(schema), schema, spec, mapping, source)
    columns, rules = {}, []  # rules: (column, role, text, mask of broken rows)
    for role_name, col in single.items():
        columns[role_name], found = _coerce(col, schema[col], spec.role(role_name), source)
        rules += found
    for col in segments:
        columns[col] = pl.col(col).cast(pl.String)
    for col in features:
        if schema[col].is_numeric() or schema[col] == pl.Boolean:
            columns[col], found = _coerce(col, schema[col], Role(col, "float"), source)
            rules += found
        elif schema[col] in (pl.String, pl.Categorical):
            columns[col] = pl.col(col).cast(pl.String)
        else:
            raise ContractError(f"{source}: column {col!r}: wrong type: a feature must be numeric or text, found "
                                f"{schema[col]}")
    rules += [(single[r], r, "missing value in a required column", columns[r].is_null()) for r in spec.required]
    try:
        _check(lf, rules, spec, source)
        _check_keys(lf, columns, schema, single, segments, spec, source)
    except ContractError as exc:  # a folder's example rows named by file, as load_table names them
        violations = located(exc.violations, source)
        raise ContractError(format_violations(violations, table=spec.name, source=source), violations) from None
    typed = lf.select(*[c.alias(name) for name, c in columns.items()])
    used = {**single, **({"segments": segments} if segments else {}), **({"features": features} if features else {})}
    return Table(spec.name, typed, source, tuple(segments), tuple(features), used)


def _refuse(col: str, dtype: pl.DataType, source: str, want: str) -> ContractError:
    return ContractError(f"{source}: column {col!r}: a {want} column of a table larger than the memory budget must be "
                         f"typed in the Parquet file, found {dtype}; write it typed, or raise "
                         "DRIFTDESK_MEMORY_BUDGET to read the file whole, where text is parsed")


def _coerce(col: str, dtype: pl.DataType, role: Role, source: str) -> tuple[pl.Expr, list]:
    """The column in its role's type, and the rules its values must keep (as masks of the raw column)."""
    c = pl.col(col)
    kind = role.kind
    if kind == "datetime":
        if isinstance(dtype, pl.Datetime):
            out = c.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if dtype.time_zone else c
            return out.dt.cast_time_unit("us"), []
        if dtype == pl.Date:
            return c.cast(pl.Datetime("us")), []
        raise _refuse(col, dtype, source, "timestamp")
    if kind in ("float", "int"):
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            raise _refuse(col, dtype, source, "number")
        x = c.cast(pl.Float64)
        rules = [(col, role.name, "not finite: infinite values are not allowed", x.is_infinite())]
        if kind == "int":
            rules.append((col, role.name, "not a whole number", x.is_finite() & (x != x.floor())))
        if role.min is not None:
            rules.append((col, role.name, f"out of range: must be >= {role.min:g}", x.is_finite() & (x < role.min)))
        if role.max is not None:
            rules.append((col, role.name, f"out of range: must be <= {role.max:g}", x.is_finite() & (x > role.max)))
        out = x.fill_nan(None)  # NaN is read as missing, as the contract reads it
        return (pl.when(out.is_finite()).then(out).cast(pl.Int64) if kind == "int" else out), rules
    if kind in ("bool", "binary"):
        if dtype == pl.Boolean:
            out, rules = c, []
        elif dtype.is_numeric():
            x = c.cast(pl.Float64)
            rules = [(col, role.name, "not binary: values must be 0 or 1", c.is_not_null() & ~x.is_in([0.0, 1.0]))]
            out = pl.when(x.is_in([0.0, 1.0])).then(x == 1.0)
        elif dtype in (pl.String, pl.Categorical):
            s = c.cast(pl.String).str.strip_chars().str.to_lowercase()
            rules = [(col, role.name, "not boolean: values must be true/false or 1/0",
                      s.is_not_null() & (s != "") & ~s.is_in(TRUE_WORDS + FALSE_WORDS))]
            out = pl.when(s.is_in(TRUE_WORDS)).then(True).when(s.is_in(FALSE_WORDS)).then(False)
        else:
            raise _refuse(col, dtype, source, "true/false")
        return (out.cast(pl.Int8) if kind == "binary" else out.cast(pl.Boolean)), rules
    out = c.cast(pl.String)
    rules = []
    if role.allowed is not None:
        rules.append((col, role.name, f"not one of {list(role.allowed)}", out.is_not_null() & ~out.is_in(list(role.allowed))))
    return out, rules


def _check(lf: pl.LazyFrame, rules: list, spec: TableSpec, source: str) -> None:
    """Count every rule's broken rows in one streaming pass; raise the contract's message if any broke, with a few
    rows of each (1-based row numbers, as the contract gives them)."""
    if not rules:
        return
    counts = collect(lf.select(*[m.sum().alias(f"r{i}") for i, (*_, m) in enumerate(rules)])).row(0)
    violations = []
    for (col, role, text, mask), n in zip(rules, counts, strict=True):
        if n:
            rows = collect(lf.with_row_index("__row", offset=1).filter(mask).select("__row", col).head(MAX_EXAMPLES))
            violations.append(Violation(source, spec.name, col, text, int(n),
                                        tuple((int(r), "null" if v is None else repr(v)) for r, v in rows.iter_rows()),
                                        role))
    if violations:
        raise ContractError(format_violations(violations, table=spec.name, source=source), violations)


KEY_BYTES_PER_ROW = 96  # a distinct key in a group-by: its columns, hash and count, with the table's slack


def _check_keys(lf: pl.LazyFrame, columns: dict[str, pl.Expr], schema: dict, single: dict, segments: list, spec: TableSpec,
                source: str) -> None:
    """The contract's duplicate-key rule as lazy aggregates: the keys grouped in as many streaming passes as the
    memory budget needs (each pass holds the keys of one hash slice), then one pass for the first rows of the
    duplicates. The message is the one ``load_table`` gives: key columns, rows in duplicate groups, first rows."""
    names = list(columns)
    key_cols = [c for k in spec.key for c in (segments if k == "segments" else [k]) if c in names]
    left_out = []
    if "segments" in spec.key:  # text columns left out of the roles still tell rows apart, as in load_table
        left_out = [c for c, t in schema.items() if c not in names and c not in single.values()
                    and (t in (pl.String, pl.Categorical) or isinstance(t, pl.Enum))]
    if not key_cols and not left_out:
        return
    keys = [*key_cols, *left_out]
    keyed = lf.select(*[columns[c].alias(c) for c in key_cols], *[pl.col(c).cast(pl.String) for c in left_out])
    keyed = keyed.with_row_index("__row", offset=1)
    n_rows = int(collect(keyed.select(pl.len())).item())
    passes = max(1, -(-n_rows * KEY_BYTES_PER_ROW // max(memory_budget() // 2, 1)))
    found, firsts = 0, []
    for i in range(passes):
        part = keyed if passes == 1 else keyed.filter(pl.struct(keys).hash(7) % passes == i)
        groups = (part.group_by(keys).agg(pl.len().alias("__n"), pl.col("__row").min().alias("__first"))
                  .filter(pl.col("__n") > 1))
        total, first = pl.collect_all([groups.select(pl.col("__n").sum()), groups.bottom_k(MAX_EXAMPLES, by="__first")],
                                      engine="streaming")
        found += int(total.item() or 0)
        firsts.append(first.drop("__n"))
    if not found:
        return
    first_keys = pl.concat(firsts)
    # the rows of the first repeated keys side by side, so the examples show what repeats (as load_table shows them)
    rows = collect(keyed.join(first_keys.lazy(), on=keys, how="inner", nulls_equal=True)
                   .bottom_k(MAX_EXAMPLES, by=["__first", "__row"]).sort("__first", "__row"))
    shown = [single.get(k, k) for k in keys]
    examples = tuple((int(r["__row"]), ", ".join(f"{n}={r[k]}" for n, k in zip(shown, keys, strict=True)))
                     for r in rows.iter_rows(named=True))
    violation = Violation(source, spec.name, ", ".join(shown), f"duplicate key: ({', '.join(shown)}) must be unique",
                          found, examples)
    raise ContractError(format_violations([violation], table=spec.name, source=source), [violation])
