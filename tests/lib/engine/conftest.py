"""One local SparkSession for every Spark test of a run (it takes seconds to start)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from driftdesk.engine import spark as engine_spark

    session = engine_spark.session()
    yield session
    engine_spark.stop()
