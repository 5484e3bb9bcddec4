"""Per-group sums and the registry's metrics on Spark: what ``driftdesk.business.kpi_table`` and
``driftdesk.llm.summarize_calls`` reduce with polars, with polars' rules for empty and unknown values (a sum of no
rows is 0, of only unknown values unknown), returned in the types polars gives them."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Sequence

import polars as pl

from driftdesk.engine.spark import SparkTable, fetch, functions, timestamp, truncate
from driftdesk.engine.spark.series import null_parts
from driftdesk.errors import DriftdeskError
from driftdesk.metrics import Metric


def known_sum(column):
    """``driftdesk.metrics.known_sum``: 0 over no rows, null when every value is unknown, else the sum."""
    F = functions()
    return F.when(F.count(F.lit(1)) == 0, F.lit(0.0)).otherwise(F.sum(column))


def total(column):
    """A sum that is 0 over no rows or only nulls, as polars' ``sum``."""
    F = functions()
    return F.coalesce(F.sum(column), F.lit(0.0))


def totals(table: SparkTable, key: str, value: str | None) -> pl.DataFrame:
    """(key as text, w): per value of a column, the sum of ``value`` (as polars sums: nulls skipped, 0 when none
    is known) or, without one, its rows."""
    F = functions()
    x = F.col(value).cast("double") if value else F.lit(1.0)
    out = table.df.groupBy(F.col(key).cast("string").alias(key)).agg(total(x).alias("w"))
    return fetch(out, like={key: pl.String, "w": pl.Float64})


def metric(m: Metric, schema: dict[str, pl.DataType]):
    """``driftdesk.metrics.metric_expr`` on Spark: the metric over a group's rows as one aggregation (computed in
    float64; ``reduce`` gives the result the type polars gives it). ``schema``: the table's polars types (a null rate
    counts NaN as missing in a float column only, as ``driftdesk.metrics.is_missing``)."""
    F = functions()
    cols = [F.col(c).cast("double") for c in m.columns]
    agg = m.aggregation
    if agg == "ratio":
        num, den = known_sum(cols[0]), known_sum(cols[1])
        return F.when(den != 0, F.try_divide(num, den))  # try_divide: a zero sum is null, never an ANSI error
    if agg == "weighted_mean":
        den = known_sum(cols[1])
        return F.when(den != 0, F.try_divide(known_sum(cols[0] * cols[1]), den))
    if agg == "rate":
        share = F.avg(cols[0])
        return F.lit(1.0) - share if m.negate else share
    if agg == "null_rate":
        column = m.columns[0]
        return F.avg(null_parts(column, schema[column].is_float())["num"])
    if agg == "per_success":
        ok_flag, *fail_flags = m.columns[1:]
        ok = F.coalesce(F.col(ok_flag).cast("boolean"), F.lit(True))
        for flag in fail_flags:
            ok = ok & ~F.coalesce(F.col(flag).cast("boolean"), F.lit(False))
        den = F.sum(ok.cast("double"))
        return F.when(den != 0, F.try_divide(known_sum(cols[0]), den))
    if agg == "percentile":  # exact, with linear interpolation between the two nearest values, as polars
        return F.percentile(cols[0], F.lit(float(m.quantile)))
    if agg == "sum":
        return known_sum(cols[0])
    if agg == "mean":
        return F.avg(cols[0])
    if agg == "max":
        return F.max(cols[0])
    if agg == "count":
        return F.count(F.lit(1))
    raise DriftdeskError(f"metric {m.name} ({agg}) is not one aggregation over rows")


def sample(m: Metric):
    """``driftdesk.metrics.sample_expr`` on Spark: the denominator's sum for a ratio, else the known values."""
    F = functions()
    if m.aggregation in ("ratio", "weighted_mean"):
        return total(F.col(m.columns[1]).cast("double"))
    if m.aggregation == "per_success":
        ok_flag, *fail_flags = m.columns[1:]
        ok = F.coalesce(F.col(ok_flag).cast("boolean"), F.lit(True))
        for flag in fail_flags:
            ok = ok & ~F.coalesce(F.col(flag).cast("boolean"), F.lit(False))
        return total(ok.cast("double"))
    return F.count(F.col(m.columns[0])) if m.columns else F.count(F.lit(1))


def spread(column: str):
    """The sample standard deviation of a column (polars' ``std``: ddof 1, unknown below two values)."""
    F = functions()
    return F.stddev_samp(F.col(column).cast("double"))


def per_window(table: SparkTable, windows: Sequence[tuple[dt.datetime, dt.datetime, str]], by: str | None,
               aggregations: dict[str, object], *, like: dict[str, pl.DataType]) -> pl.DataFrame:
    """(__window, by, each aggregation) over the rows of each named window ``[start, end)`` in one pass: a row
    counts in every window that holds it (windows may coincide), typed and ordered as ``like``."""
    F = functions()
    ts = F.col("ts")
    inside = [(ts >= timestamp(start)) & (ts < timestamp(end)) for start, end, _ in windows]
    names = F.array_compact(F.array(*[F.when(c, F.lit(name)) for c, (*_, name) in zip(inside, windows)]))
    rows = table.df.where(functools.reduce(operator.or_, inside)).withColumn("__window", F.explode(names))
    keys = ["__window"] + ([by] if by else [])
    return fetch(rows.groupBy(*keys).agg(*[agg.alias(name) for name, agg in aggregations.items()]), like=like)


def window_sums(table: SparkTable, windows: Sequence[tuple[dt.datetime, dt.datetime]], columns: Sequence[str | None],
                *, known: str | None = None) -> list[tuple[float, ...]]:
    """``engine.window_sums`` on Spark: every window's sums in one pass (``per_window``)."""
    F = functions()
    if known is not None:
        table = table.where(F.col(known).isNotNull())
    sums = {f"s{i}": total(F.col(c).cast("double")) if c is not None else F.count(F.lit(1)).cast("double")
            for i, c in enumerate(columns)}
    got = per_window(table, [(start, end, f"w{i}") for i, (start, end) in enumerate(windows)], None, sums,
                     like={"__window": pl.String, **dict.fromkeys(sums, pl.Float64)})
    found = {r[0]: r[1:] for r in got.iter_rows()}
    return [found.get(f"w{i}", (0.0,) * len(columns)) for i in range(len(windows))]


def metric_points(table: SparkTable, m: Metric, *, ts: str, by: Sequence[str], where: dict | None,
                  every: str | None, volume: str | None) -> pl.DataFrame:
    """(ts, by..., value, __volume): the metric per time bucket (``every``, else each timestamp) and segment, and
    the sum of its minimum-count column ``volume`` (null without one), as ``driftdesk.seasonality`` reduces them."""
    from driftdesk.engine.spark import where_equal

    F = functions()
    for column, value in (where or {}).items():
        table = where_equal(table, column, str(value))
    schema = table.schema
    key = truncate(ts, every) if every else F.col(ts)
    out = table.df.groupBy(key.alias("ts"), *by).agg(
        metric(m, schema).alias("value"),
        (total(F.col(volume).cast("double")) if volume else F.lit(None).cast("double")).alias("__volume"))
    return fetch(out, like={"ts": pl.Datetime("us"), **{b: schema[b] for b in by}, "value": pl.Float64,
                            "__volume": pl.Float64})


def reduce(table: SparkTable, aggregations: dict[str, object], *, by: Sequence[str] = (), every: str | None = None,
           ts: str = "ts", like: dict[str, pl.DataType]) -> pl.DataFrame:
    """One row per group (the ``ts`` bucket of ``every``, then ``by``) with each named aggregation, typed and
    ordered as ``like`` (the schema polars gives the same reduction)."""
    df = table.df
    keys = list(by)
    if every is not None:
        df = df.withColumn(ts, truncate(ts, every))
        keys = [ts, *keys]
    cols = [agg.alias(name) for name, agg in aggregations.items()]
    out = df.groupBy(*keys).agg(*cols) if keys else df.agg(*cols)
    return fetch(out, like=like)


def like(schema: dict[str, pl.DataType], aggs: list[pl.Expr], keys: Sequence[pl.Expr | str] = ()) -> dict:
    """The schema polars gives ``aggs`` grouped by ``keys`` over a table of ``schema``: the types Spark's result
    takes, so both engines hand the same frame downstream."""
    empty = pl.LazyFrame(schema=schema)
    return dict((empty.group_by(list(keys)).agg(aggs) if keys else empty.select(aggs)).collect_schema())


def check_sums(table: SparkTable, present: Sequence[str], *, required: Sequence[str], source: str) -> None:
    """``business.check_kpi_columns``' value rules on Spark, counted in one pass: no negative or infinite value in
    a summed column, no missing one in a required column; a broken rule is named with a few of its values."""
    F = functions()
    rules = []
    for c in present:
        x = F.col(c).cast("double")
        rules += [(c, "negative values are not allowed", x < 0),
                  (c, "infinite values are not allowed", F.abs(x) == float("inf"))]
        if c in required:
            rules.append((c, "missing values", x.isNull() | F.isnan(x)))
    counts = fetch(table.df.select(*[F.sum(m.cast("long")).alias(f"r{i}") for i, (*_, m) in enumerate(rules)])).row(0)
    for (c, rule, mask), n in zip(rules, counts, strict=True):
        if n and rule == "missing values":
            raise DriftdeskError(f"{source}: column {c!r}: missing values ({n} rows); fill them (0 if nothing "
                                 "happened) rather than let a sum skip them")
        if n:
            values = fetch(table.df.where(mask).select(F.col(c).alias("v")).limit(3))["v"].to_list()
            raise DriftdeskError(f"{source}: column {c!r}: {rule} — {n} row{'s' if n != 1 else ''}, e.g. "
                                 + "; ".join(repr(v) for v in values))
