"""A rollout's rows on Spark: the two arms' rows in the rollout's span, selected where the table is stored and
brought as one polars frame for ``driftdesk.rollout.judge_rollout``, as the polars engine narrows a scanned
table before collecting it (the judge's windows, segments and intervals read rows: PSI and KS read every value).
The rows brought must fit the memory budget; past it the message names the rows and the budget."""

from __future__ import annotations

import datetime as dt

import polars as pl

from driftdesk.engine.budget import require_fits
from driftdesk.engine.spark import SparkTable, fetch, functions, timestamp

BYTES_PER_VALUE = 16  # a value in the polars frame and its Arrow copy on the way


def arm_rows(table: SparkTable, *, control: str, candidate: str, arm: str | None = None,
             start: dt.datetime | None = None, end: dt.datetime | None = None, ts: str = "ts",
             source: str = "decisions") -> pl.DataFrame:
    """The rows of both arms in the rollout's span, every column: what ``judge_rollout`` reads of the table. The arm
    column and the span are chosen by the judge's own rules (``rollout.judge.arm_column`` from each candidate
    column's distinct values, ``rollout.judge.rollout_span`` from the times of the candidate's first and last
    rows, ``start`` and ``end``)."""
    from driftdesk.rollout.judge import ARM_COLUMNS, arm_column, rollout_span

    F = functions()
    columns = table.columns
    options = [c for c in ([arm] if arm else ARM_COLUMNS) if c in columns]
    found = fetch(table.df.select(*[F.collect_set(F.col(c).cast("string")).alias(c) for c in options])) \
        if options else pl.DataFrame()
    values = {c: sorted(found[c][0]) for c in options}
    longest = max((len(v) for v in values.values()), default=0)
    distinct = pl.DataFrame({c: pl.Series(c, values.get(c, []) + [None] * (longest - len(values.get(c, []))),
                                          dtype=pl.String) for c in columns})
    column = arm_column(distinct, control, candidate, arm)  # the judge's choice, or its message
    if ts not in columns:
        return fetch(table.df.limit(0))  # the judge names the missing time column
    arms = table.df.where(F.col(column).cast("string").isin(control, candidate))
    first, last = fetch(arms.where(F.col(column).cast("string") == candidate)
                        .select(F.min(ts).alias("a"), F.max(ts).alias("b"))).row(0)
    span = rollout_span(first, last, start, end)
    rows = arms.where((F.col(ts) >= timestamp(span.start)) & (F.col(ts) < timestamp(span.end)))
    n = rows.count()
    require_fits(n * len(columns) * BYTES_PER_VALUE, what=f"{source}: the rollout's {n:,} rows of {control} and "
                 f"{candidate}", hint="judge a shorter span with --start / --end")
    return fetch(rows)


def rows_since(table: SparkTable, since: dt.datetime, *, source: str, ts: str = "ts") -> pl.DataFrame:
    """A table's rows from ``since`` on, every column, as a polars frame within the memory budget (an incident's
    investigation reads a few days around it: its windows, the week before, a canary that took traffic then)."""
    F = functions()
    rows = table.df.where(F.col(ts) >= timestamp(since))
    n = rows.count()
    require_fits(n * len(table.columns) * BYTES_PER_VALUE, what=f"{source}: the {n:,} rows from {since:%Y-%m-%d %H:%M}",
                 hint="investigate with --engine polars, which scans a table larger than memory")
    return fetch(rows)
