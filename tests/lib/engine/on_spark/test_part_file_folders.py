"""A folder of Parquet part files in key=value partition folders reads on Spark with the same columns as on polars."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.spark
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from foreign_data import foreign_kpis, spark_dataset, with_date  # noqa: E402


def test_partition_columns_read_on_spark_as_on_polars(spark, tmp_path):
    from driftdesk.engine.spark import fetch, read_parquet
    from driftdesk.io import scan_table

    frame = with_date(foreign_kpis(days=3))
    root = spark_dataset(tmp_path / "env=prod" / "export", frame, ["date"])
    on_spark = read_parquet(root)
    on_polars = scan_table(root).collect()
    assert sorted(on_spark.df.columns) == sorted(on_polars.columns)
    got = fetch(on_spark.df.groupBy("date").count()).sort("date")
    want = on_polars.group_by("date").agg(pl.len().alias("count")).sort("date")
    assert got["date"].to_list() == want["date"].to_list() and got["count"].to_list() == want["count"].to_list()
