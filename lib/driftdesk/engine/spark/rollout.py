"""A rollout judged on Spark: the two arms' rows stay where they are stored and Spark returns the aggregates the
judge reads (``driftdesk.rollout.judge.ArmAggregates``): per interval between evaluation-window edges, arm and
segment, the sums of a ratio, rate or mean metric and the calibration cells; for a distribution metric (PSI and
KS of a column) each distinct value with its count, so the statistics are the exact ones, or, when those groups
would not fit the memory budget, the histogram sketch of ``driftdesk.sketch`` (its stated bounds, said in the
result's notes). No row reaches the driver: every frame fetched is one row per group of a reduction.

``rows_within`` brings a table's rows in a few windows, within the memory budget (the incident view's drift and
data-quality checks compare every column of the day before an incident with a week earlier, from rows).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Sequence

import polars as pl

from driftdesk import sketch
from driftdesk.engine.budget import memory_budget, require_fits
from driftdesk.engine.spark import SparkTable, fetch, functions, sketch_bin, timestamp
from driftdesk.rollout.compare import ECE_BINS, RolloutMetric
from driftdesk.windows import Window

BYTES_PER_VALUE = 16  # a value in the polars frame and its Arrow copy on the way


class SparkArms:
    """The arms of a rollout in a Spark table, as ``judge_aggregates`` reads them (``ArmAggregates``). The arm
    column is chosen by the judge's own rule (``rollout.judge.arm_column``), from each candidate column's distinct
    values; clicks and conversions are derived where missing, as ``rollout_units`` derives them."""

    def __init__(self, table: SparkTable, *, control: str, candidate: str, arm: str | None = None,
                 ts: str = "ts", source: str = "decisions") -> None:
        from driftdesk.rollout.judge import ARM_COLUMNS, arm_column, require_time

        F = functions()
        columns = table.columns
        require_time(columns, ts, source)
        options = [c for c in ([arm] if arm else ARM_COLUMNS) if c in columns]
        found = fetch(table.df.select(*[F.collect_set(F.col(c).cast("string")).alias(c) for c in options])) \
            if options else pl.DataFrame()
        values = {c: sorted(found[c][0]) for c in options}
        longest = max((len(v) for v in values.values()), default=0)
        distinct = pl.DataFrame({c: pl.Series(c, values.get(c, []) + [None] * (longest - len(values.get(c, []))),
                                              dtype=pl.String) for c in columns})
        self.column = arm_column(distinct, control, candidate, arm)  # the judge's choice, or its message
        self.candidate, self.ts, self.source = candidate, ts, source
        self.notes: list[str] = []
        self._budget = memory_budget()
        name = F.col(self.column).cast("string")
        df = table.df.where(name.isin(control, candidate)).withColumn(
            "__arm", F.when(name == candidate, F.lit("candidate")).otherwise(F.lit("control")))
        schema = dict(table.schema)
        bought = F.col("decision").cast("double") if "decision" in schema else F.lit(1.0)
        if "clicks" not in schema and ("decision" in schema or "label" in schema):
            df, schema["clicks"] = df.withColumn("clicks", bought), pl.Float64
        if "conversions" not in schema and "label" in schema:
            df, schema["conversions"] = df.withColumn("conversions", F.col("label").cast("double") * bought), pl.Float64
        schema["__arm"] = pl.String
        self.df, self.schema = df, schema

    def candidate_times(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        F = functions()
        rows = self.df.where(F.col("__arm") == "candidate")
        return fetch(rows.select(F.min(self.ts).alias("a"), F.max(self.ts).alias("b"))).row(0)

    def control_rows(self, span: Window) -> int:
        F = functions()
        t = F.col(self.ts)
        return int(self.df.where((F.col("__arm") == "control") & (t >= timestamp(span.start))
                                 & (t < timestamp(span.end))).count())

    def reduce(self, kind: str, metric: RolloutMetric, edges: Sequence[dt.datetime],
               keys: tuple[str, ...]) -> pl.DataFrame:
        F = functions()
        t = F.col(self.ts)
        part = F.when(t < timestamp(edges[1]), F.lit(0))
        for i, edge in enumerate(edges[2:-1], start=1):
            part = part.when(t < timestamp(edge), F.lit(i))
        part = part.otherwise(F.lit(len(edges) - 2)).cast("long")
        rows = self.df.where((t >= timestamp(edges[0])) & (t < timestamp(edges[-1]))).withColumn("__part", part)
        by = ["__part", "__arm", *keys]
        like = {"__part": pl.Int64, "__arm": pl.String, **{k: self.schema[k] for k in keys}}
        if kind == "sums":
            sums = part_sums(metric)
            grouped = rows.groupBy(*by).agg(*[v.alias(k) for k, v in sums.items()])
            like |= dict.fromkeys(sums, pl.Float64)
        elif kind == "cells":
            score, label = metric.columns
            s = F.col(score).cast("double")
            bin_ = F.floor(F.least(F.greatest(s * ECE_BINS, F.lit(0.0)), F.lit(ECE_BINS - 1.0))).cast("int")
            grouped = rows.where(known(metric)).groupBy(*by, bin_.alias("__bin"),
                                                        F.col(label).cast("tinyint").alias("__label")).agg(
                F.count(F.lit(1)).cast("double").alias("count"), F.sum(s).alias("score_sum"),
                F.sum(s * s).alias("score_sq"))
            like |= {"__bin": pl.Int32, "__label": pl.Int8, "count": pl.Float64, "score_sum": pl.Float64,
                     "score_sq": pl.Float64}
        else:
            x = F.col(metric.columns[0]).cast("double")
            finite = x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf"))
            exact = rows.groupBy(*by, F.when(finite, x).alias("value")).agg(
                F.count(F.lit(1)).cast("double").alias("count"))
            out = self._fetch(exact, {**like, "value": pl.Float64, "count": pl.Float64})
            if out is not None:
                return out
            # each distinct value does not fit: the histogram sketch of each group, with its stated bounds
            grouped = rows.groupBy(*by, F.when(finite, sketch_bin(x)).alias("bin")).agg(
                F.count(F.lit(1)).cast("double").alias("count"), F.min(F.when(finite, x)).alias("lo"),
                F.max(F.when(finite, x)).alias("hi"), F.sum(F.when(finite, x)).alias("sum"),
                F.sum(F.when(finite, x * x)).alias("sq"))
            like |= {"bin": pl.Int64, "count": pl.Float64, "lo": pl.Float64, "hi": pl.Float64, "sum": pl.Float64,
                     "sq": pl.Float64}
            self.notes.append(
                f"{metric.name}: its distinct values per interval, arm and segment do not fit the memory budget; PSI "
                f"and KS were read off histogram sketches (values known to within {sketch.ALPHA:.2%}), within the "
                "bounds stated in driftdesk.sketch")
        out = self._fetch(grouped, like)
        if out is None:
            most = self._most(like)
            require_fits((most + 1) * len(like) * BYTES_PER_VALUE,
                         what=f"{self.source}: the rollout's {metric.name} per interval, arm and segment "
                              f"({', '.join(keys) or 'all traffic'}), more than {most:,} groups",
                         hint="judge a shorter span with --start / --end, or fewer segment columns with --by")
        return out

    def _most(self, like: dict) -> int:
        """The most groups of a reduction's columns the memory budget holds."""
        return max(1, self._budget // (len(like) * BYTES_PER_VALUE))

    def _fetch(self, grouped, like: dict) -> pl.DataFrame | None:
        """A reduction's groups, or None when there are more than the memory budget holds (at most one more is
        fetched to know it: one Spark job, never more than the budget in memory)."""
        most = self._most(like)
        out = fetch(grouped.limit(most + 1), like=like)
        return out if out.height <= most else None


def known(metric: RolloutMetric):
    """``rollout.compare.known`` on Spark: rows where every column the metric reads is known."""
    F = functions()
    return functools.reduce(operator.and_, [F.col(c).isNotNull() & ~F.isnan(F.col(c).cast("double"))
                                            for c in metric.columns])


def part_sums(metric: RolloutMetric) -> dict[str, object]:
    """``rollout.judge.part_sums_exprs`` on Spark: the rows and ``rollout.compare.sum_exprs``, with polars' rules
    (a sum of no rows is 0)."""
    F = functions()
    k, ok = metric.key, known(metric)

    def total(expr):
        return F.coalesce(F.sum(F.when(ok, expr)), F.lit(0.0))
    f = [F.col(c).cast("double") for c in metric.columns]
    n = F.sum(ok.cast("double"))
    out = {"__rows": F.count(F.lit(1)).cast("double")}
    if metric.kind in ("ratio", "rate") and len(f) == 2:
        y, x = f
        return {**out, f"{k}__n": n, f"{k}__y": total(y), f"{k}__x": total(x), f"{k}__yy": total(y * y),
                f"{k}__xx": total(x * x), f"{k}__xy": total(x * y)}
    if metric.kind == "rate":
        flag = (F.lit(1.0) - f[0]) if metric.negate else f[0]
        return {**out, f"{k}__x": n, f"{k}__y": total(flag)}
    if metric.kind == "mean":
        y = f[0]
        return {**out, f"{k}__n": n, f"{k}__y": total(y), f"{k}__x": n, f"{k}__yy": total(y * y),
                f"{k}__xx": n, f"{k}__xy": total(y)}
    return out


def judge_on_spark(table: SparkTable, *, control: str, candidate: str, arm: str | None = None, ts: str = "ts",
                   source: str = "decisions", **kw):
    """``judge_rollout`` of a Spark table: ``judge_aggregates`` of its ``SparkArms`` (keywords as there)."""
    from driftdesk.rollout.judge import judge_aggregates

    arms = SparkArms(table, control=control, candidate=candidate, arm=arm, ts=ts, source=source)
    return judge_aggregates(arms, control=control, candidate=candidate, ts=ts, source=source, **kw)


def rows_within(table: SparkTable, windows: Sequence[Window], *, source: str, ts: str = "ts") -> pl.DataFrame:
    """A table's rows inside any of ``windows``, every column, as a polars frame within the memory budget: what an
    incident's view reads as rows (its drift and data-quality checks of the day before it and a week earlier,
    which compare every column, and the KPI sums of the incident and the window before it), not the days between
    them."""
    F = functions()
    t = F.col(ts)
    rows = table.df.where(functools.reduce(operator.or_, [(t >= timestamp(w.start)) & (t < timestamp(w.end))
                                                          for w in windows]))
    n = rows.count()
    require_fits(n * len(table.columns) * BYTES_PER_VALUE,
                 what=f"{source}: the {n:,} rows of the windows around the incident",
                 hint="investigate with --engine polars, which scans a table larger than memory")
    return fetch(rows)
