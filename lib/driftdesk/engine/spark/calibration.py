"""Calibration's reductions on Spark: the checks of scores and labels, the labels that have matured, per-bin sums
and score quantiles, each returning what ``driftdesk.calibration`` computes with polars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from driftdesk.engine.spark import SparkTable, fetch, functions, timestamp
from driftdesk.errors import DriftdeskError

MAX_EXAMPLES = 3


def check_scores_labels(table: SparkTable, *, score: str, label: str | None, source: str) -> None:
    """``calibration.check_scores_labels`` on Spark: scores in [0, 1] and present, labels 0/1 (or null), counted
    in one pass; a broken rule is named with a few of its values."""
    F = functions()
    schema = table.schema
    for col in [score, *([label] if label else [])]:
        if col not in schema:
            raise DriftdeskError(f"{source}: no column {col!r}; columns are {list(schema)}")
    if not schema[score].is_numeric():
        raise DriftdeskError(f"{source}: score column {score!r} must be numeric, found {schema[score]}")
    s = F.col(score).cast("double")
    rules = [(s.isNull() | F.isnan(s), score, "missing score: every row needs a predicted probability"),
             ((F.abs(s) == float("inf")) | (s < 0) | (s > 1), score,
              "score outside [0, 1]: calibration needs probabilities")]
    if label and schema[label].is_numeric():
        y = F.col(label).cast("double")
        rules.append((y.isNotNull() & ~y.isin(0.0, 1.0), label, "label other than 0/1"))
    elif label and schema[label] not in (pl.Boolean, pl.Null) and table.where(F.col(label).isNotNull()).df.take(1):
        raise DriftdeskError(f"{source}: label column {label!r} must be 0/1 or true/false, found {schema[label]}")
    counts = fetch(table.df.select(*[F.sum(m.cast("long")).alias(f"r{i}") for i, (m, _, _) in enumerate(rules)])).row(0)
    for (mask, col, rule), n in zip(rules, counts, strict=True):
        if n:  # the first broken rule, as the polars path reports it (a missing score before one out of range)
            values = fetch(table.df.where(mask).select(F.col(col).alias("v")).limit(MAX_EXAMPLES))["v"].to_list()
            raise DriftdeskError(f"{source}: column {col!r}: {rule} — {n} row{'s' if n != 1 else ''}, e.g. "
                                 + "; ".join(repr(v) for v in values))


def mature_labels(table: SparkTable, *, ts: str, label: str, cutoff: dt.datetime | None) -> tuple[SparkTable, dict]:
    """The rows whose label counts (non-null, older than ``cutoff``) and the counts of those left out."""
    F = functions()
    old = (F.col(ts) < timestamp(cutoff)) if cutoff is not None else F.lit(True)
    row = fetch(table.df.select(F.count(F.lit(1)).alias("n_rows"), F.sum((~old).cast("long")).alias("n_immature"),
                                F.sum((old & F.col(label).isNull()).cast("long")).alias("n_unlabeled"))).row(0, named=True)
    return table.where(old & F.col(label).isNotNull()), {k: int(v or 0) for k, v in row.items()}


def newest(table: SparkTable, ts: str) -> dt.datetime | None:
    F = functions()
    return fetch(table.df.select(F.max(ts).alias("t")))["t"][0]


def _bin(score: str, edges: np.ndarray):
    """Each row's bin, as ``calibration._bin_expr``: the number of inner edges at or below the score."""
    F = functions()
    s = F.col(score).cast("double")
    inner = [float(e) for e in edges[1:-1]]
    if not inner:
        return F.lit(0).cast("int")
    return sum((F.when(s >= e, 1).otherwise(0) for e in inner), F.lit(0)).cast("int")


def bin_sums(table: SparkTable, *, edges: np.ndarray, score: str, label: str, keys: Sequence[str]) -> pl.DataFrame:
    """Per key and bin: count, positives, score_sum, score_sq, score_label (the rows of ``bin_aggregates``)."""
    F = functions()
    s, y = F.col(score).cast("double"), F.col(label).cast("double")
    agg = table.df.withColumn("bin", _bin(score, edges)).groupBy(*keys, "bin").agg(
        F.count(F.lit(1)).alias("count"), F.coalesce(F.sum(y), F.lit(0.0)).alias("positives"),
        F.sum(s).alias("score_sum"), F.sum(s * s).alias("score_sq"), F.coalesce(F.sum(s * y), F.lit(0.0)).alias("score_label"))
    schema = table.schema
    like = {**{k: schema[k] for k in keys}, "bin": pl.Int32, "count": pl.Int64,
            **dict.fromkeys(("positives", "score_sum", "score_sq", "score_label"), pl.Float64)}
    return fetch(agg, like=like)


def score_quantiles(table: SparkTable, *, score: str, by: Sequence[str], quantiles: Sequence[float],
                    like: dict[str, pl.DataType]) -> pl.DataFrame:
    """n, mean, std and exact quantiles (linear interpolation, as numpy's default) of the scores per group: Spark's
    ``percentile`` holds each group's distinct values with their counts, so the quantiles equal polars' exactly."""
    F = functions()
    s = F.col(score).cast("double")
    q = F.percentile(s, F.array(*[F.lit(float(p)) for p in quantiles]))
    cols = [F.count(F.lit(1)).alias("n"), F.avg(s).alias("mean"), F.stddev_samp(s).alias("std"), q.alias("__q")]
    df = table.df.groupBy(*by).agg(*cols) if by else table.df.agg(*cols)
    names = [c for c in like if c not in (*by, "n", "mean", "std")]
    df = df.select(*by, "n", "mean", "std", *[F.col("__q")[i].alias(name) for i, name in enumerate(names)])
    return fetch(df, like=like)
