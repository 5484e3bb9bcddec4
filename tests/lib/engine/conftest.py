"""One local SparkSession for the Spark tests of a run (it takes seconds to start), stopped when they end: other
libraries (MLflow) consult an active SparkSession, so none may outlive the Spark tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from driftdesk.engine import spark as engine_spark

    session = engine_spark.session()
    yield session
    engine_spark.stop()
