"""A rollout judged on Spark: the two arms' rows stay where they are stored and Spark returns the aggregates the
judge reads (``driftdesk.rollout.judge.ArmAggregates``): per interval between evaluation-window edges, arm and
segment, the sums of a ratio, rate or mean metric and the calibration cells; for a distribution metric (PSI and
KS of a column) each distinct value with its count, so the statistics are the exact ones, or, when those groups
would not fit the memory budget, the histogram sketch of ``driftdesk.sketch`` (its stated bounds, said in the
result's notes). No row reaches the driver: every frame fetched is one row per group of a reduction (for a
continuous column's values, about as many groups as rows, of two or three columns, within the budget). The replay's
reductions take one Spark job for every metric's sums, one per calibration metric for its cells and one per
distribution metric for its values (a second for its sketch past the budget), each over every segmentation at once.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import operator
from collections.abc import Mapping, Sequence

import polars as pl

from driftdesk import sketch
from driftdesk.engine.budget import memory_budget, require_fits
from driftdesk.engine.spark import SparkTable, fetch, functions, sketch_bin, timestamp
from driftdesk.engine.spark.series import is_missing
from driftdesk.rollout.compare import ECE_BINS, RolloutMetric, sum_exprs
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
        self._prepared: dict[tuple, pl.DataFrame] = {}
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

    def prepare(self, requests) -> None:
        """Compute every reduction the replay will ask for in one Spark job per kind (all sums together, the cells
        and a column's values per metric): the rows are reduced once per interval between any two consecutive edges
        of any request, with each segmentation a copy of the row (``explode``); each request is then its own
        segmentation's groups, the intervals inside its edges added into its own (a handful of numbers)."""
        jobs: dict[tuple, list] = {}
        for kind, metric, edges, keys in requests:
            jobs.setdefault((kind, None if kind == "sums" else metric.name), []).append(
                (kind, metric, tuple(edges), tuple(keys)))
        for (kind, _), asked in jobs.items():
            edges = sorted({e for _, _, request_edges, _ in asked for e in request_edges})
            keysets = list(dict.fromkeys(keys for *_, keys in asked))
            metrics = list({m.name: m for _, m, _, _ in asked}.values())
            combined = self._reduce(kind, metrics, edges, keysets)
            for _, metric, request_edges, keys in asked:
                self._prepared[(kind, metric.name, request_edges, keys)] = _narrowed(
                    combined, kind, metric, edges, request_edges, keysets.index(keys), keys)

    def reduce(self, kind: str, metric: RolloutMetric, edges: Sequence[dt.datetime],
               keys: tuple[str, ...]) -> pl.DataFrame:
        found = self._prepared.get((kind, metric.name, tuple(edges), tuple(keys)))
        if found is not None:
            return found
        return _narrowed(self._reduce(kind, [metric], list(edges), [tuple(keys)]), kind, metric, list(edges),
                         tuple(edges), 0, tuple(keys))

    def _reduce(self, kind: str, metrics: list[RolloutMetric], edges: list[dt.datetime],
                keysets: list[tuple[str, ...]]) -> pl.DataFrame:
        """One Spark job: per interval between consecutive ``edges`` (``__part``), arm and segmentation (``__seg``,
        its index in ``keysets``; the key columns outside it null), the ``kind``'s aggregates of ``metrics``; for
        ``"values"`` per interval, arm and every key column of ``keysets`` at once (no ``__seg``), since a column's
        distinct values make about as many groups as rows in any segmentation."""
        F = functions()
        t = F.col(self.ts)
        part = F.when(t < timestamp(edges[1]), F.lit(0))
        for i, edge in enumerate(edges[2:-1], start=1):
            part = part.when(t < timestamp(edge), F.lit(i))
        part = part.otherwise(F.lit(len(edges) - 2)).cast("long")
        rows = self.df.where((t >= timestamp(edges[0])) & (t < timestamp(edges[-1]))).withColumn("__part", part)
        names = list(dict.fromkeys(k for keys in keysets for k in keys))
        like = {"__part": pl.Int64, "__arm": pl.String, **{f"__key{j}": self.schema[k] for j, k in enumerate(names)}}
        if kind == "values":  # grouped by every segment column at once: as many groups as rows at most
            rows = rows.select("*", *[F.col(k).alias(f"__key{j}") for j, k in enumerate(names)])
        else:  # a copy of each row per segmentation, the key columns outside it null: a few groups each
            types = {f.name: f.dataType for f in self.df.schema.fields}
            copies = F.array(*[F.struct(F.lit(i).alias("__seg"), *[
                (F.col(k) if k in keys else F.lit(None).cast(types[k])).alias(f"__key{j}")
                for j, k in enumerate(names)]) for i, keys in enumerate(keysets)])
            rows = rows.withColumn("__copy", F.explode(copies)).select(
                "*", F.col("__copy.__seg").alias("__seg"),
                *[F.col(f"__copy.__key{j}").alias(f"__key{j}") for j in range(len(names))])
            like = {"__seg": pl.Int32, **like}
        by = list(like)
        what = f"{', '.join(m.name for m in metrics)} per interval, arm and segment"
        if kind == "sums":
            sums = {k: v for m in metrics for k, v in part_sums(m, self.schema).items()}
            grouped = rows.groupBy(*by).agg(*[v.alias(k) for k, v in sums.items()])
            like |= dict.fromkeys(sums, pl.Float64)
        elif kind == "cells":
            (metric,) = metrics
            score, label = metric.columns
            s = F.col(score).cast("double")
            bin_ = F.floor(F.least(F.greatest(s * ECE_BINS, F.lit(0.0)), F.lit(ECE_BINS - 1.0))).cast("int")
            grouped = rows.where(known(metric, self.schema)).groupBy(*by, bin_.alias("__bin"),
                                                        F.col(label).cast("tinyint").alias("__label")).agg(
                F.count(F.lit(1)).cast("double").alias("count"), F.sum(s).alias("score_sum"),
                F.sum(s * s).alias("score_sq"))
            like |= {"__bin": pl.Int32, "__label": pl.Int8, "count": pl.Float64, "score_sum": pl.Float64,
                     "score_sq": pl.Float64}
        else:
            (metric,) = metrics
            x = F.col(metric.columns[0]).cast("double")
            finite = x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf"))
            exact = rows.groupBy(*by, F.when(finite, x).alias("value")).agg(
                F.count(F.lit(1)).cast("double").alias("count"))
            out = self._fetch(exact, {**like, "value": pl.Float64, "count": pl.Float64})
            if out is not None:
                return _named(out, names)
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
                         what=f"{self.source}: the rollout's {what}, more than {most:,} groups",
                         hint="judge a shorter span with --start / --end, or fewer segment columns with --by")
        return _named(out, names)

    def _most(self, like: dict) -> int:
        """The most groups of a reduction's columns the memory budget holds."""
        return max(1, self._budget // (len(like) * BYTES_PER_VALUE))

    def _fetch(self, grouped, like: dict) -> pl.DataFrame | None:
        """A reduction's groups, or None when there are more than the memory budget holds (at most one more is
        fetched to know it: one Spark job, never more than the budget in memory)."""
        most = self._most(like)
        out = fetch(grouped.limit(most + 1), like=like)
        return out if out.height <= most else None


def _named(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    return frame.rename({f"__key{j}": k for j, k in enumerate(names)})


def _narrowed(combined: pl.DataFrame, kind: str, metric: RolloutMetric, edges: list[dt.datetime],
              request_edges: Sequence[dt.datetime], seg: int, keys: tuple[str, ...]) -> pl.DataFrame:
    """One request's groups of a combined reduction: its segmentation's rows, each interval between consecutive
    ``edges`` inside the request's own edges added into the request's interval that holds it, its groups added over
    the key columns outside it (one row per group, as ``_part_sums`` returns it)."""
    inside = [request_edges[0] <= a and b <= request_edges[-1] for a, b in zip(edges[:-1], edges[1:])]
    to = pl.Series([bisect.bisect_right(request_edges, a) - 1 if ok else -1 for a, ok in zip(edges[:-1], inside)],
                   dtype=pl.Int64)
    rows = combined.filter(pl.col("__seg") == seg) if "__seg" in combined.columns else combined
    rows = rows.with_columns(pl.col("__part").replace_strict(pl.Series(range(len(to)), dtype=pl.Int64), to)).filter(
        pl.col("__part") >= 0)
    by = ["__part", "__arm", *keys]
    if kind == "sums":
        sums = ["__rows", *(e.meta.output_name() for e in sum_exprs(metric))]  # part_sums' names
        return rows.group_by(by).agg(pl.col(sums).sum()).select(*by, *sums)
    if kind == "cells":
        by += ["__bin", "__label"]
        return rows.group_by(by).agg(pl.col("count", "score_sum", "score_sq").sum()).select(
            *by, "count", "score_sum", "score_sq")
    if "value" in combined.columns:
        return rows.group_by([*by, "value"]).agg(pl.col("count").sum()).select(*by, "value", "count")
    return rows.group_by([*by, "bin"]).agg(pl.col("count").sum(), pl.col("lo").min(), pl.col("hi").max(),
                                           pl.col("sum").sum(), pl.col("sq").sum()).select(*by, *sketch.COLUMNS)


def known(metric: RolloutMetric, schema: Mapping[str, pl.DataType]):
    """``rollout.compare.known`` on Spark: rows where no column the metric reads is missing (``series.is_missing``
    with the column's type from ``schema``)."""
    return ~functools.reduce(operator.or_, [is_missing(c, schema[c].is_float()) for c in metric.columns])


def part_sums(metric: RolloutMetric, schema: Mapping[str, pl.DataType]) -> dict[str, object]:
    """``rollout.judge.part_sums_exprs`` on Spark: the rows and ``rollout.compare.sum_exprs``, with polars' rules
    (a sum of no rows is 0)."""
    F = functions()
    k, ok = metric.key, known(metric, schema)

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
