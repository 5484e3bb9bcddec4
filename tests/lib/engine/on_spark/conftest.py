"""One local SparkSession for every Spark test of a run (it takes seconds to start), stopped when the last of them
ends: this folder is a package so that a package-scoped fixture ends with it, since other libraries (MLflow)
consult an active SparkSession and none may outlive the Spark tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="package")
def spark():
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from driftdesk.engine import spark as engine_spark

    session = engine_spark.session()
    yield session
    engine_spark.stop()
