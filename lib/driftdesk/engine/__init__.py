"""Where the reduction from rows to aggregates runs: polars (in memory, or its streaming engine on lazy scans of
files larger than memory) or Apache Spark (``engine/spark/``, the only package that imports pyspark).

The reduction is the one step that touches every row; everything downstream reads its aggregates (a column's
sorted values or category counts, a histogram sketch, per-group sums), so both engines return the same
aggregates and every statistic, verdict and figure after them is the same code.

Which path a numeric column takes depends on the rows and a memory budget (``DRIFTDESK_MEMORY_BUDGET``, e.g.
``3G``; by default a quarter of the machine's memory): sorted in memory (exact) when it fits, else the
histogram sketch of ``driftdesk.sketch`` (statistics within a stated bound). Reading a whole table into memory
beyond the budget is refused with a message naming the table, its size and the budget (``require_fits``), so a
large input never ends in a swap storm.
"""

from __future__ import annotations

import polars as pl

from driftdesk.engine.budget import (
    BUDGET_ENV,
    ENGINES,
    EXACT_BYTES_PER_VALUE,
    GROUPED_BYTES_PER_VALUE,
    Engine,
    MemoryBudgetError,
    Path_,
    check_engine,
    collect,
    exact_fits,
    human,
    memory_budget,
    parse_size,
    require_fits,
)

__all__ = ["BUDGET_ENV", "ENGINES", "EXACT_BYTES_PER_VALUE", "Engine", "GROUPED_BYTES_PER_VALUE", "MemoryBudgetError", "Path_", "check_engine",
           "collect", "exact_fits", "height", "human", "is_spark", "lazy", "memory_budget", "parse_size",
           "reduce_columns", "require_fits", "schema", "where_between", "where_equal", "window_sums"]


def is_spark(frame: object) -> bool:
    """Whether a frame is a Spark table (``engine.spark.SparkTable``), without importing pyspark."""
    return type(frame).__name__ == "SparkTable"


def lazy(frame):
    """Rows ready to be reduced: a polars frame as a LazyFrame, a Spark table as it is."""
    if is_spark(frame):
        return frame
    from driftdesk.io import as_lazy

    return as_lazy(frame)


def schema(frame) -> dict[str, pl.DataType]:
    """A frame's columns and their polars types (a Spark table's types are mapped to polars ones)."""
    if is_spark(frame):
        return frame.schema
    return dict(frame.collect_schema()) if isinstance(frame, pl.LazyFrame) else dict(frame.schema)


def height(frame) -> int:
    if is_spark(frame):
        return frame.count()
    if isinstance(frame, pl.LazyFrame):
        return int(collect(frame.select(pl.len())).item())
    return frame.height


def where_equal(frame, column: str, value: str | None):
    """The rows whose ``column``, read as text, equals ``value`` (null when ``value`` is None), lazily."""
    if is_spark(frame):
        from driftdesk.engine import spark

        return spark.where_equal(frame, column, value)
    col = pl.col(column).cast(pl.String)
    return frame.lazy().filter(col.is_null() if value is None else col == value)


def where_between(frame, column: str, start, end):
    """The rows with ``start <= column < end`` (a window: start included, end excluded): a polars frame filtered as
    it is (an eager frame stays in memory, a scan stays lazy), a Spark table lazily."""
    if is_spark(frame):
        from driftdesk.engine import spark

        return spark.where_between(frame, column, start, end)
    return frame.filter((pl.col(column) >= start) & (pl.col(column) < end))


def window_sums(frame, windows, columns, *, known: str | None = None) -> list[tuple[float, ...]]:
    """Per window ``(start, end)`` of ``ts``, the sum of each of ``columns`` over its rows, as float64 (nulls
    skipped, 0 over no rows; a column None counts the rows), only the rows whose ``known`` column is not null when
    given; on Spark in one pass over the rows of every window."""
    if is_spark(frame):
        from driftdesk.engine.spark.aggregate import window_sums as on_spark

        return on_spark(frame, windows, columns, known=known)
    from driftdesk.engine import local

    return local.window_sums(frame, windows, columns, known=known)


def reduce_columns(frame, items: list[tuple[str, str]], *, path: Path_) -> dict:
    """Each column of a window reduced for drift, by the frame's engine: {column: aggregate}.

    ``items`` are (column, kind) with kind 'numeric' or 'categorical'. Numeric columns become sorted arrays
    (``path='exact'``) or histogram sketches (``'sketch'``), categorical ones category counts (exact either way).
    """
    if is_spark(frame):
        from driftdesk.engine import spark

        return spark.reduce_columns(frame, items, path=path)
    from driftdesk.engine import local

    return local.reduce_columns(frame, items, path=path)
