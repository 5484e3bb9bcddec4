"""The data-quality checks' reductions on Spark: what ``driftdesk.quality`` reduces with polars, returned as the
frames and values it builds (per segment the rows and each column's missing values, each source's latest time, the
keys that occur more than once, a column's observed range and its values outside a range), so the checks' tests,
statuses and messages are the same code. Only these aggregates reach the driver, of repeated keys only their
totals and the few most repeated, and of values outside a range only their counts and the few furthest outside."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from driftdesk.engine.spark import SparkTable, fetch, functions
from driftdesk.engine.spark.series import null_parts


def _segment(by: str | None):
    return functions().col(by).cast("string").alias("segment") if by else None


def missing_counts(table: SparkTable, columns: Sequence[str], by: str | None) -> pl.DataFrame:
    """(segment, __rows, each column's missing values): ``quality.null_rates``' reduction, null (and NaN in a float
    column) counting as missing, as ``driftdesk.metrics.is_missing``."""
    F = functions()
    schema = table.schema
    aggs = [F.count(F.lit(1)).alias("__rows"),
            *[F.coalesce(F.sum(null_parts(c, schema[c].is_float())["num"]), F.lit(0.0)).cast("long").alias(c)
              for c in columns]]
    like = {"segment": pl.String, "__rows": pl.Int64, **dict.fromkeys(columns, pl.Int64)}
    if by:
        return fetch(table.df.groupBy(_segment(by)).agg(*aggs), like=like)
    return fetch(table.df.agg(*aggs).withColumn("segment", F.lit(None).cast("string")), like=like)


def latest(table: SparkTable, ts: str, by: str | None) -> pl.DataFrame:
    """(segment, latest): ``quality.freshness``' reduction, the newest time of each source (of all rows without one)."""
    F = functions()
    like = {"segment": pl.String, "latest": table.schema[ts]}
    newest = F.max(ts).alias("latest")
    if by:
        return fetch(table.df.groupBy(_segment(by)).agg(newest), like=like)
    return fetch(table.df.agg(newest).withColumn("segment", F.lit(None).cast("string")), like=like)


def repeated_keys(table: SparkTable, keys: Sequence[str], examples: int) -> tuple[int, int, pl.DataFrame]:
    """``quality.duplicate_keys``' reduction: the rows whose key occurs more than once, how many keys they share,
    and the first ``examples`` keys (most repeated, then in key order) with their count (``__n``)."""
    F = functions()
    schema = table.schema
    dup = table.df.groupBy(*keys).agg(F.count(F.lit(1)).alias("__n")).where(F.col("__n") > 1)
    rows, n_keys = fetch(dup.agg(F.coalesce(F.sum("__n"), F.lit(0)).cast("long").alias("r"),
                                 F.count(F.lit(1)).alias("k"))).row(0)
    order = [F.col("__n").desc(), *[F.col(k).asc_nulls_last() for k in keys]]  # as quality.duplicate_keys orders
    top = fetch(dup.orderBy(*order).limit(examples),
                like={**{k: schema[k] for k in keys}, "__n": pl.Int64}) if n_keys else pl.DataFrame()
    return int(rows or 0), int(n_keys or 0), top


def observed_range(table: SparkTable, columns: Sequence[str]) -> dict[str, tuple]:
    """Each column's smallest and largest value, NaN skipped as polars' ``min`` and ``max`` skip it."""
    F = functions()
    schema = table.schema

    def known(c: str):
        return F.when(~F.isnan(F.col(c)), F.col(c)) if schema[c].is_float() else F.col(c)
    row = fetch(table.df.agg(*[F.min(known(c)).alias(f"{c}__min") for c in columns],
                             *[F.max(known(c)).alias(f"{c}__max") for c in columns]),
                like={**{f"{c}__min": schema[c] for c in columns}, **{f"{c}__max": schema[c] for c in columns}})
    got = row.row(0, named=True)
    return {c: (got[f"{c}__min"], got[f"{c}__max"]) for c in columns}


def _outside(x, lo: float | None, hi: float | None):
    """Whether a value lies outside ``[lo, hi]`` (a bound None is open); a missing value (null, NaN) is not."""
    F = functions()
    bad = F.lit(False)
    if lo is not None:
        bad = bad | (x < F.lit(float(lo)))
    if hi is not None:
        bad = bad | (x > F.lit(float(hi)))
    return bad & ~F.isnan(x)


def outside(table: SparkTable, bounds: Mapping[str, tuple[float | None, float | None]]) -> dict[str, tuple[int, int]]:
    """Per column, its values outside ``[lo, hi]`` (a bound None is open) and its values present: ``quality.
    out_of_range``' reduction (null and NaN are missing, as ``metrics.is_missing``)."""
    F = functions()
    aggs = []
    for i, (c, (lo, hi)) in enumerate(bounds.items()):
        x = F.col(c).cast("double")
        aggs += [F.coalesce(F.sum(_outside(x, lo, hi).cast("long")), F.lit(0)).alias(f"b{i}"),
                 F.count(F.when(~F.isnan(x), x)).alias(f"n{i}")]
    got = fetch(table.df.agg(*aggs)).row(0)
    return {c: (int(got[2 * i]), int(got[2 * i + 1])) for i, c in enumerate(bounds)}


def outside_examples(table: SparkTable, column: str, lo: float | None, hi: float | None, ids: Sequence[str],
                     examples: int) -> pl.DataFrame:
    """``quality.out_of_range``' examples: the first ``examples`` rows of ``column`` outside ``[lo, hi]`` (``ids``
    and the value as ``__value``), the furthest outside first, then in ``ids`` order (nulls last), then by value;
    only those rows reach the driver."""
    F = functions()
    schema = table.schema
    x = F.col(column).cast("double")
    beyond = (x - F.lit(float(hi)) if lo is None else F.lit(float(lo)) - x if hi is None
              else F.when(x < F.lit(float(lo)), F.lit(float(lo)) - x).otherwise(x - F.lit(float(hi))))
    rows = (table.df.where(_outside(x, lo, hi))
            .select(*[F.col(k) for k in ids], F.col(column).alias("__value"), beyond.alias("__beyond"),
                    x.alias("__x"))
            .orderBy(F.col("__beyond").desc(), *[F.col(k).asc_nulls_last() for k in ids], F.col("__x").asc())
            .limit(examples).select(*ids, "__value"))
    return fetch(rows, like={**{k: schema[k] for k in ids}, "__value": schema[column]})
