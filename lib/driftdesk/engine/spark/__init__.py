"""The Spark engine: the reductions of ``driftdesk.engine`` run on Apache Spark through PySpark, for inputs larger
than one machine. The only package that imports pyspark (an optional extra: ``pip install driftdesk[spark]``), and
only inside functions, so ``import driftdesk`` never needs it.

It returns the aggregates the polars engine returns (a column's values with their counts, category counts, the
histogram sketch of ``driftdesk.sketch`` with the same fixed bins; per-bin, per-segment and per-hour sums in the
submodules named after the analysis they serve), so every statistic after it is the same code. The session is one
per process: ``DRIFTDESK_SPARK_MASTER`` (a ``spark://host:port`` URL, ``yarn``, ...) or local mode on this
machine's cores. A ``spark://`` master that does not answer is reported within seconds instead of leaving Spark to
retry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import polars as pl

from driftdesk import sketch
from driftdesk import stats as st
from driftdesk.engine.budget import Path_
from driftdesk.errors import DriftdeskError

MASTER_ENV = "DRIFTDESK_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"
CONNECT_TIMEOUT = 3.0  # seconds to wait for a spark:// master before saying it cannot be reached
_SESSION = None


def functions():
    """``pyspark.sql.functions``, imported on first use."""
    return _pyspark()[1]


def _pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession, functions
    except ImportError as exc:
        raise DriftdeskError("--engine spark needs PySpark: pip install 'driftdesk[spark]' (and Java 17)") from exc
    return SparkSession, functions


def _check_reachable(master: str) -> None:
    """A standalone master (spark://host:port[,host:port]) must accept a connection within CONNECT_TIMEOUT."""
    if not master.startswith("spark://"):
        return
    problems = []
    for hostport in master[len("spark://"):].split(","):
        url = urlparse(f"spark://{hostport}")
        try:
            with socket.create_connection((url.hostname or "", url.port or 7077), timeout=CONNECT_TIMEOUT):
                return
        except OSError as exc:
            problems.append(f"{hostport}: {exc.strerror or exc}")
    raise DriftdeskError(f"Spark master {master} cannot be reached ({'; '.join(problems)}); check "
                         f"{MASTER_ENV} or leave it unset for local mode")


def session():
    """The process's SparkSession: created once (it takes seconds), in UTC, without the web UI."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    spark_session, _ = _pyspark()
    master = os.environ.get(MASTER_ENV) or DEFAULT_MASTER
    _check_reachable(master)
    try:
        _SESSION = (spark_session.builder.master(master).appName("driftdesk")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.session.timeZone", "UTC")
                    .config("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
                    .config("spark.driver.memory", os.environ.get("DRIFTDESK_SPARK_DRIVER_MEMORY", "2g"))
                    .getOrCreate())
        _SESSION.sparkContext.setLogLevel("ERROR")
    except Exception as exc:  # py4j and Java failures come as many types; say what to check
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DriftdeskError(f"cannot start Spark with master {master!r}: {first} (Spark needs Java 17: "
                             "java -version)") from exc
    return _SESSION


def stop() -> None:
    """Stop the process's session (tests and benchmarks end with it)."""
    global _SESSION
    if _SESSION is not None:
        session, _SESSION = _SESSION, None
        with contextlib.suppress(Exception):  # a JVM that already exited has nothing left to stop
            session.stop()


# --------------------------------------------------------------------------- tables


def _polars_type(spark_type) -> pl.DataType:
    name = type(spark_type).__name__
    return {
        "StringType": pl.String, "VarcharType": pl.String, "CharType": pl.String, "BooleanType": pl.Boolean,
        "ByteType": pl.Int8, "ShortType": pl.Int16, "IntegerType": pl.Int32, "LongType": pl.Int64,
        "FloatType": pl.Float32, "DoubleType": pl.Float64, "DecimalType": pl.Float64, "DateType": pl.Date,
        "TimestampType": pl.Datetime("us", "UTC"), "TimestampNTZType": pl.Datetime("us"), "NullType": pl.Null,
    }.get(name, pl.Binary)


@dataclass(frozen=True)
class SparkTable:
    """Rows in Spark (a Parquet file or folder), with the column types in polars' words."""

    df: object
    source: str

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {f.name: _polars_type(f.dataType) for f in self.df.schema.fields}

    @property
    def columns(self) -> list[str]:
        return list(self.df.columns)

    def __contains__(self, column: object) -> bool:
        return column in self.df.columns

    def count(self) -> int:
        return int(self.df.count())

    def where(self, condition) -> SparkTable:
        """The rows meeting a Spark condition, lazily (a new table; nothing runs yet)."""
        return SparkTable(self.df.where(condition), self.source)

    def with_columns(self, **columns) -> SparkTable:
        return SparkTable(self.df.withColumns(columns), self.source)


def read_parquet(path: str | Path) -> SparkTable:
    """A Parquet file, or a folder of Parquet files that share one schema, as a Spark table."""
    from driftdesk.errors import InputFileError
    from driftdesk.io import parquet_files, table_format

    if Path(path).is_file() and Path(path).suffix.lower() != ".parquet":
        raise InputFileError(f"{path}: the Spark engine reads Parquet files (a file or a folder of them); convert "
                             "the file to Parquet or use --engine polars")
    if Path(path).is_dir() and table_format(path) == "csv":
        raise InputFileError(f"{path}: a folder of CSV files; the Spark engine reads Parquet files (a file or a folder "
                             "of them), whose timestamps and numbers are typed: convert the files to Parquet or use "
                             "--engine polars, which reads a folder of CSV files as one table")
    files = parquet_files(path)  # refuses a missing path and a folder of mixed schemas, naming the files
    reader = session().read
    if Path(path).is_dir():  # key=value folders under it are partition columns, as driftdesk.io reads them
        reader = reader.option("basePath", str(path))
    df = reader.parquet(*[str(f) for f in files])
    return SparkTable(df, str(path))


def where_equal(table: SparkTable, column: str, value: str | None) -> SparkTable:
    _, F = _pyspark()
    col = F.col(column).cast("string")
    return SparkTable(table.df.where(col.isNull() if value is None else col == value), table.source)


def timestamp(value: dt.datetime):
    """A naive UTC time (driftdesk's convention) as a Spark literal of the same wall-clock time."""
    F = functions()
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return F.lit(value.isoformat(sep=" ")).cast("timestamp_ntz")


def where_between(table: SparkTable, column: str, start: dt.datetime, end: dt.datetime) -> SparkTable:
    """The rows with ``start <= column < end`` (a window: start included, end excluded)."""
    col = functions().col(column)
    return table.where((col >= timestamp(start)) & (col < timestamp(end)))


def span(table: SparkTable, column: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and last time in a column."""
    F = functions()
    row = fetch(table.df.select(F.min(column).alias("a"), F.max(column).alias("b"))).row(0)
    return row[0], row[1]


_EVERY = re.compile(r"^(\d+)(m|h|d|w)$")
_MICROS = {"m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000, "w": 7 * 86_400_000_000}
_MONDAY = 4 * 86_400_000_000  # 1970-01-05, the first Monday after the epoch: weeks start on Mondays


def truncate(column: str, every: str):
    """The column's times floored as polars' ``dt.truncate`` floors them: to multiples of ``every`` since the
    epoch ("15m", "1h", "1d"), weeks since a Monday ("1w")."""
    F = functions()
    m = _EVERY.match(every)
    if not m:
        raise DriftdeskError(f"on Spark, time buckets are minutes, hours, days or weeks (e.g. 15m, 1h, 1d, 1w), "
                             f"got {every!r}")
    step = int(m.group(1)) * _MICROS[m.group(2)]
    origin = _MONDAY if m.group(2) == "w" else 0
    micros = F.unix_micros(F.col(column).cast("timestamp"))
    return F.timestamp_micros(micros - F.pmod(micros - F.lit(origin), F.lit(step))).cast("timestamp_ntz")


def fetch(df, like: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """A (small, aggregated) Spark result as a polars frame, through Arrow rather than row by row. Times come back
    naive in UTC, as driftdesk keeps them; ``like`` (a polars schema) gives the columns their polars types and
    order, so a frame from Spark is the frame the polars path builds."""
    out = pl.from_arrow(df.toArrow())
    if not isinstance(out, pl.DataFrame):
        out = out.to_frame()
    out = out.with_columns(pl.col(c).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
                           for c, t in out.schema.items() if isinstance(t, pl.Datetime) and t.time_zone)
    if like is not None:
        out = out.select([pl.col(c).cast(t) for c, t in like.items()])
    return out


# --------------------------------------------------------------------------- reductions


def _physical(field_type: pl.DataType, name: str):
    _, F = _pyspark()
    col = F.col(name)
    if isinstance(field_type, pl.Datetime):
        return F.unix_micros(col).cast("double")  # polars' physical datetime: microseconds since the epoch
    if field_type == pl.Date:
        return F.unix_date(col).cast("double")
    return col.cast("double")


def _long(df, F, columns: list[tuple[str, object]], value: str):
    """One row per (row, column): the columns stacked, so one Spark job reduces them all."""
    pairs = F.array(*[F.struct(F.lit(name).alias("c"), expr.alias(value)) for name, expr in columns])
    return df.select(F.explode(pairs).alias("p")).select("p.c", f"p.{value}")


def reduce_columns(table: SparkTable, items: list[tuple[str, str]], *, path: Path_) -> dict:
    """Each column of a window reduced as ``engine.local.reduce_columns`` reduces it, one Spark job per kind."""
    _, F = _pyspark()
    schema = table.schema
    df = table.df
    cats = [name for name, kind in items if kind == "categorical"]
    nums = [name for name, kind in items if kind != "categorical"]
    out: dict = {}
    if cats:
        rows = fetch(_long(df, F, [(c, F.col(c).cast("string")) for c in cats], "v").groupBy("c", "v").count())
        per: dict[str, dict] = {c: {} for c in cats}
        for c, v, n in rows.iter_rows():
            per[c][v] = int(n)
        for c in cats:
            counts = per[c]
            missing = counts.pop(None, 0)
            names = sorted(counts)
            out[c] = st.CategoryCounts(tuple(names), np.array([counts[k] for k in names], dtype=np.int64),
                                       sum(counts.values()) + missing, missing)
    if nums and path == "exact":  # each distinct value with its count: the sorted column, rebuilt in numpy
        long = _long(df, F, [(c, _physical(schema[c], c)) for c in nums], "x")
        frame = fetch(long.groupBy("c", "x").count())
        for c in nums:
            part = frame.filter(pl.col("c") == c)
            values = part["x"].fill_null(float("nan")).to_numpy()
            out[c] = st.numeric_sketch(np.repeat(values, part["count"].to_numpy()), in_place=True)
    elif nums:
        out.update(_histograms(_long(df, F, [(c, _physical(schema[c], c)) for c in nums], "x"), F, nums))
    return out


def sketch_bin(x):
    """``sketch.bin_expr`` on Spark: the fixed bin of a finite value (a double column)."""
    F = functions()
    k = (F.ceil(F.log(F.abs(x)) / sketch.LOG_GAMMA).cast("long") + sketch.OFFSET)
    return F.when(x > sketch.TINY, k).when(x < -sketch.TINY, -k).otherwise(F.lit(0).cast("long"))


def _histograms(long, F, names: list[str]) -> dict[str, sketch.HistogramSketch]:
    x = F.col("x")
    bad = F.isnan(x) | (F.abs(x) == float("inf"))
    totals = {r["c"]: r for r in fetch(long.groupBy("c").agg(
        F.count(F.lit(1)).alias("n"), F.sum((x.isNull() | F.isnan(x)).cast("long")).alias("m"),
        F.sum((F.abs(x) == float("inf")).cast("long")).alias("i"))).iter_rows(named=True)}
    hist = fetch(long.where(x.isNotNull() & ~bad).groupBy("c", sketch_bin(x).alias("bin"))
                  .agg(F.count(F.lit(1)).cast("double").alias("count"), F.min(x).alias("lo"), F.max(x).alias("hi"),
                       F.sum(x).alias("sum"), F.sum(x * x).alias("sq")))
    out = {}
    for name in names:
        t = totals.get(name)
        out[name] = sketch.from_frame(hist.filter(pl.col("c") == name).drop("c"),
                                      n_rows=int(t["n"]) if t else 0, n_missing=int((t["m"] if t else 0) or 0),
                                      n_infinite=int((t["i"] if t else 0) or 0))
    return out
