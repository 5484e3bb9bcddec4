"""The gates' hourly metric series on Spark: per (hour, segment) sums of each row's numerator and denominator, bin
counts for PSI, the values at the ranks that set PSI's bins (sorted on Spark: the values stay there), each as ``driftdesk.gates.metrics`` reduces them with polars (the
same rows counted, sums in float64, hours floored as polars floors them), returned as polars frames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from driftdesk.engine.spark import SparkTable, fetch, functions, timestamp, truncate
from driftdesk.metrics import Metric

HOUR = "__hour"


def where_in(table: SparkTable, filters: Sequence[tuple[str, Sequence[str]]]) -> SparkTable:
    """The rows whose columns, read as text, are among the given values (a gate's ``filter``)."""
    F = functions()
    for column, values in filters:
        table = table.where(F.col(column).cast("string").isin(*values))
    return table


def hourly(table: SparkTable, by: Sequence[str], sums: dict[str, object]) -> pl.DataFrame:
    """(__hour, by..., each named per-row value summed) per hour and segment, segments as text."""
    F = functions()
    keys = [truncate("ts", "1h").alias(HOUR), *[F.col(b).cast("string").alias(b) for b in by]]
    out = table.df.groupBy(*keys).agg(*[F.sum(v).alias(name) for name, v in sums.items()])
    return fetch(out, like={HOUR: pl.Datetime("us"), **dict.fromkeys(by, pl.String),
                            **dict.fromkeys(sums, pl.Float64)})


def ratio_parts(metric: Metric) -> dict[str, object]:
    """Each row's numerator and denominator of a registered ratio, rate, mean or weighted mean; a row whose numerator
    is unknown counts in neither (``gates.metrics._parts``)."""
    F = functions()
    cols = [F.col(c).cast("double") for c in metric.columns]
    one = F.lit(1.0)
    agg = metric.aggregation
    if agg == "ratio":
        num, den = cols[0], cols[1]
    elif agg == "weighted_mean":
        num, den = cols[0] * cols[1], cols[1]
    elif agg == "rate":
        flag = F.col(metric.columns[0]).cast("boolean")
        num, den = (~flag if metric.negate else flag).cast("double"), one
    elif agg == "per_success":
        ok_flag, *fail_flags = metric.columns[1:]
        ok = F.coalesce(F.col(ok_flag).cast("boolean"), F.lit(True))
        for flag in fail_flags:
            ok = ok & ~F.coalesce(F.col(flag).cast("boolean"), F.lit(False))
        num, den = cols[0], ok.cast("double")
    else:
        num, den = cols[0], one
    known = num.isNotNull() & ~F.isnan(num)
    return {"num": F.when(known, num).otherwise(F.lit(0.0)), "den": F.when(known, den).otherwise(F.lit(0.0))}


def is_missing(column: str, is_float: bool):
    """``driftdesk.metrics.is_missing`` on Spark: the column's value is null, or NaN in a float column."""
    c = functions().col(column)
    return (c.isNull() | functions().isnan(c)) if is_float else c.isNull()


def null_parts(column: str, is_float: bool) -> dict[str, object]:
    """1 for a row whose column is null (or NaN, in a float column), and 1 for every row."""
    return {"num": is_missing(column, is_float).cast("double"), "den": functions().lit(1.0)}


def column_value(column: str, name: str) -> dict[str, object]:
    return {name: functions().col(column).cast("double")}


def with_hour(table: SparkTable) -> SparkTable:
    """The table with ``__hour``, each row's hour, as a column (calibration's bin sums group by column names)."""
    return table.with_columns(**{HOUR: truncate("ts", "1h")})


def labelled(table: SparkTable) -> SparkTable:
    F = functions()
    return table.where(F.col("label").isNotNull() & F.col("score").isNotNull())


def texts(table: SparkTable, column: str) -> list[str]:
    """The distinct non-null values of a column, as text."""
    F = functions()
    values = table.df.select(F.col(column).cast("string").alias("v")).where(F.col("v").isNotNull()).distinct()
    return fetch(values, like={"v": pl.String})["v"].to_list()


def finite_values(table: SparkTable, column: str, *, before: dt.datetime | None) -> SortedValues:
    """A numeric column's finite values (of the rows before ``before``) in order, kept on Spark: what sets PSI's
    bins (``stats.quantile_edges`` reads its size and the values at a few ranks)."""
    F = functions()
    x = F.col(column).cast("double")
    rows = table.df.where(x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf")))
    if before is not None:
        rows = rows.where(F.col("ts") < timestamp(before))
    return SortedValues(rows.select(x.alias("x")))


class SortedValues:
    """A column's values in sorted order without bringing them here: ``size``, and ``values[ranks]`` for a few
    0-based ranks, exact (the values themselves, as a sorted numpy array would give them).

    Spark sorts the values by range partitioning, so partition p holds ranks [start_p, start_p + count_p); the
    counts per partition give each partition's first rank, and a rank is the row of that number within its
    partition. The sorted values are kept (persisted) while this object lives, so every rank reads one sort."""

    def __init__(self, df) -> None:
        import weakref

        F = functions()
        self._sorted = df.orderBy("x").withColumn("__p", F.spark_partition_id()).persist()
        weakref.finalize(self, self._sorted.unpersist)
        counts = fetch(self._sorted.groupBy("__p").count()).sort("__p")
        self._parts = counts["__p"].to_numpy().astype(np.int64)
        sizes = counts["count"].to_numpy().astype(np.int64)
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.size = int(sizes.sum())
        self._read: dict[int, float] = {}  # rank -> value, read so far

    def __getitem__(self, ranks) -> np.ndarray:
        """The values at these ranks; each rank's next one is read in the same job (interpolation reads both)."""
        from pyspark.sql import Window

        F = functions()
        ranks = np.asarray(ranks, dtype=np.int64)
        if ranks.size and (ranks.min() < 0 or ranks.max() >= self.size):
            raise IndexError(f"ranks must be within 0..{self.size - 1}")
        wanted = [int(r) for r in np.unique(np.concatenate([ranks, np.minimum(ranks + 1, self.size - 1)]))
                  if int(r) not in self._read]
        if wanted:
            at = np.searchsorted(self._starts, wanted, side="right") - 1
            where = {(int(self._parts[a]), r - int(self._starts[a])): r for a, r in zip(at, wanted)}
            keep = F.lit(False)
            for part, i in where:
                keep = keep | ((F.col("__p") == part) & (F.col("__i") == i))
            numbered = self._sorted.withColumn("__i", F.row_number().over(Window.partitionBy("__p").orderBy("x")) - 1)
            for p, i, v in fetch(numbered.where(keep).select("__p", "__i", "x")).iter_rows():
                self._read[where[(p, i)]] = v
        return np.array([self._read[int(r)] for r in ranks], dtype=np.float64)


def bin_counts(table: SparkTable, by: Sequence[str], column: str, edges: np.ndarray | None) -> pl.DataFrame:
    """Rows per (hour, segment, PSI bin): a text column's values (nulls left out), or the number of ``edges`` below
    a number (finite values only)."""
    F = functions()
    c = F.col(column)
    if edges is None:
        rows, bin_col, bin_type = table.df.where(c.isNotNull()), c.cast("string"), pl.String
    else:
        x = c.cast("double")
        rows = table.df.where(x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf")))
        bin_col = sum((F.when(x > float(e), 1).otherwise(0) for e in edges), F.lit(0)).cast("long")
        bin_type = pl.Int64
    keys = [truncate("ts", "1h").alias(HOUR), *[F.col(b).cast("string").alias(b) for b in by], bin_col.alias("__bin")]
    out = rows.groupBy(*keys).agg(F.count(F.lit(1)).cast("double").alias("n"))
    return fetch(out, like={HOUR: pl.Datetime("us"), **dict.fromkeys(by, pl.String), "__bin": bin_type,
                            "n": pl.Float64})
