"""A folder's dataset with its row-level tables (decisions, kpis, llm calls, service) read by an engine: on polars,
read whole while they fit the memory budget and scanned lazily past it (``engine.scan``); on Spark, as Spark
tables. The small tables (calendar, releases, golden runs, incidents) are read whole on either engine: they hold
one row per day, release or case. What reads the dataset afterwards (the gates' metric series) reduces each table
on its own engine, so the aggregates, and every statistic after them, are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path

from driftdesk.contract import Dataset, Table, load_dataset, load_table
from driftdesk.engine.budget import check_engine

ROW_TABLES = ("decisions", "kpis", "llm_calls", "service")


def read_table_on(path: str | Path, table: str, *, mapping: Mapping | None = None, engine: str = "polars") -> Table:
    """One contract table, read by ``engine`` when it is a row-level table, else whole."""
    if table in ROW_TABLES:
        if check_engine(engine) == "spark":
            from driftdesk.engine.spark.contract import read_contract

            return read_contract(path, table, mapping=mapping)
        from driftdesk.engine.scan import scan_contract, scanned

        if scanned(path):
            return scan_contract(path, table, mapping=mapping)
    return load_table(path, table, mapping=mapping)


def load_dataset_on(folder: str | Path, engine: str = "polars", *, tables: list[str] | None = None,
                    holidays: str | list[str] | None = None) -> Dataset:
    """``contract.load_dataset`` with the row-level tables read by ``engine`` (see the module docstring)."""
    return load_dataset(folder, tables=tables, holidays=holidays, read=partial(read_table_on, engine=check_engine(engine)))
