"""One local SparkSession for every Spark test of a run (it takes seconds to start), stopped when the last of them
ends: this folder is a package so that a package-scoped fixture ends with it, since other libraries (MLflow)
consult an active SparkSession and none may outlive the Spark tests. The folders read on Spark are read once
for the package too (each read checks the contract in a few Spark jobs)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="package")
def spark():
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from driftdesk.engine import spark as engine_spark

    session = engine_spark.session()
    yield session
    engine_spark.stop()


@pytest.fixture(scope="package")
def sample_on_spark(spark, sample_dir):
    """The sample folder with its row tables on Spark, and read by polars."""
    from driftdesk.engine.dataset import load_dataset_on

    return load_dataset_on(sample_dir, "spark"), load_dataset_on(sample_dir)


@pytest.fixture(scope="package")
def foreign_dir(tmp_path_factory):
    from .foreign import write_foreign

    return write_foreign(tmp_path_factory.mktemp("foreign-spark"))


@pytest.fixture(scope="package")
def foreign_on_spark(spark, foreign_dir):
    """The foreign folder (``foreign.py``) with its row tables on Spark, and read by polars."""
    from driftdesk.engine.dataset import load_dataset_on

    return load_dataset_on(foreign_dir, "spark"), load_dataset_on(foreign_dir)
