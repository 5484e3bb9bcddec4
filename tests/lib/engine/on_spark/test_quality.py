"""The data-quality checks on Spark: Spark reduces each window to the counts the polars checks read (rows and
missing values per segment, the latest time per source, repeated keys, a column's range and its values outside
it), so every check's counts are identical and its values equal to 1e-9; the counts match ones made by hand, and a
column the rules name but the table lacks gets the polars engine's message."""

from __future__ import annotations

import datetime as dt
import json
import math

import polars as pl
import pytest

from driftdesk.engine import spark as engine_spark
from driftdesk.errors import DriftdeskError
from driftdesk.quality import duplicate_keys, out_of_range, quality_report

from .same import assert_same

pytestmark = pytest.mark.spark
NOW = dt.datetime(2026, 6, 6, 22)  # about 1.5 h after the last row of each geo, 3 h after the last without one


def _window(n: int, start: dt.datetime, *, shift: float, every_nth_null: int) -> pl.DataFrame:
    """x: floats with NaN and nulls (and, shifted, values past the other window's range); k: integers; geo: text
    with nulls; ts: every 7 minutes, a few rows at the time of the row three before (the same geo: a repeated
    key); flag: booleans."""
    x = [None if i % every_nth_null == 0 else math.nan if i % 31 == 0 else (i % 50) / 5 + shift for i in range(n)]
    ts = [start + dt.timedelta(minutes=7 * (i - (3 if i % 97 == 4 else 0))) for i in range(n)]  # geo repeats too
    return pl.DataFrame({"x": x, "k": [i % 13 for i in range(n)],
                         "geo": [None if i % 17 == 0 else ("US", "DE", "FR")[i % 3] for i in range(n)],
                         "ts": ts, "flag": [i % 4 == 0 for i in range(n)]},
                        schema={"x": pl.Float64, "k": pl.Int64, "geo": pl.String, "ts": pl.Datetime("us"),
                                "flag": pl.Boolean})


@pytest.fixture(scope="module")
def windows(spark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("quality-windows")
    frames = {"baseline": _window(1_200, dt.datetime(2026, 6, 1), shift=0.0, every_nth_null=40),
              "current": _window(1_000, dt.datetime(2026, 6, 2), shift=1.5, every_nth_null=9)}
    for name, frame in frames.items():
        frame.write_parquet(folder / f"{name}.parquet")
    return {name: (engine_spark.read_parquet(folder / f"{name}.parquet"), frame) for name, frame in frames.items()}


def _doc(result) -> list[dict]:
    return json.loads(result.checks.sort("check", "column", "segment", nulls_last=True).write_json())


def test_every_check_counts_on_spark_as_with_polars_and_by_hand(windows):
    (b_spark, b), (c_spark, c) = windows["baseline"], windows["current"]
    kw = {"ts": "ts", "by": "geo", "keys": ["ts", "geo"], "now": NOW}
    want = quality_report(b, c, **kw)
    got = quality_report(b_spark, c_spark, **kw)
    assert_same(_doc(got), _doc(want))
    checks = {r["check"] for r in _doc(want) if r["status"] != "ok"}
    assert {"null_rate_jump", "out_of_range", "duplicate_keys", "freshness"} <= checks  # every check has findings

    # by hand: the current window's missing x (null or NaN), its values outside the baseline's range, its keys
    xs_b, xs_c = b["x"].to_list(), c["x"].to_list()
    lo = min(v for v in xs_b if v is not None and not math.isnan(v))
    hi = max(v for v in xs_b if v is not None and not math.isnan(v))
    values = [(v, t, g) for v, t, g in zip(xs_c, c["ts"].to_list(), c["geo"].to_list())
              if v is not None and not math.isnan(v)]  # NaN is missing, as the null rates count it
    bad = [(v, t, g) for v, t, g in values if v < lo or v > hi]
    outside, present = len(bad), len(values)
    first = sorted(bad, key=lambda r: (-max(lo - r[0], r[0] - hi), r[1], r[2] is None, r[2] or ""))[:3]
    ex = "; ".join(f"ts={t}, geo={g}: {v}" for v, t, g in first)
    row = next(r for r in _doc(got) if r["check"] == "out_of_range" and r["column"] == "x")
    assert row["message"] == f"{outside:,} of {present:,} values outside [{lo}, {hi}], e.g. {ex}"
    assert row["value"] == pytest.approx(outside / present, rel=1e-12)
    missing = sum(1 for v in xs_c if v is None or math.isnan(v))
    jump = next(r for r in _doc(got) if r["check"] == "null_rate_jump" and r["column"] == "x" and r["segment"] is None)
    missing_b = sum(1 for v in xs_b if v is None or math.isnan(v))
    assert jump["value"] == pytest.approx(missing / len(xs_c) - missing_b / len(xs_b), rel=1e-12)
    keys = list(zip(c["ts"].to_list(), c["geo"].to_list()))
    repeated = sum(n for n in (keys.count(k) for k in set(keys)) if n > 1)
    dup = next(r for r in _doc(got) if r["check"] == "duplicate_keys")
    assert dup["value"] == repeated > 0
    first = sorted(k for k in set(keys) if keys.count(k) > 1)[0]  # every repeated key twice: the first in key order
    assert f"e.g. ts={first[0]}, geo={first[1]} (x2);" in dup["message"]


def test_a_column_the_rules_name_but_the_table_lacks_gets_the_same_message(windows):
    c_spark, c = windows["current"]
    for check in (lambda f: out_of_range(f, ranges={"price": (0.0, 1.0)}),
                  lambda f: duplicate_keys(f, keys=["ts", "user"])):
        with pytest.raises(DriftdeskError) as want:
            check(c)
        with pytest.raises(DriftdeskError) as got:
            check(c_spark)
        assert str(got.value) == str(want.value)
        assert "price" in str(want.value) or "user" in str(want.value)


def test_out_of_range_examples_on_spark_as_with_polars(spark, tmp_path):
    """A small frame: the furthest outside first, ties in key order (a null key last), missing values skipped."""
    t0 = dt.datetime(2026, 6, 1)
    frame = pl.DataFrame({"ts": [t0 + dt.timedelta(hours=i % 3) for i in range(8)],
                          "geo": ["US", None, "DE", "US", "FR", "DE", None, "US"],
                          "x": [1.0, 3.0, math.nan, -1.0, None, math.inf, 3.0, 0.5],
                          "n": [1, 2, 3, -4, 5, 6, 7, 8], "y": [0.5] * 8})
    frame.write_parquet(tmp_path / "small.parquet")
    table = engine_spark.read_parquet(tmp_path / "small.parquet")
    kw = {"ranges": {"x": (0.0, 2.0), "n": (0, 6), "y": (0.0, 1.0)}, "keys": ["ts", "geo"]}
    want = out_of_range(frame, **kw)
    assert out_of_range(table, **kw).to_dicts() == want.to_dicts()
    msgs = dict(zip(want["column"], want["message"]))
    assert msgs["x"] == ("4 of 6 values outside [0.0, 2.0], e.g. ts=2026-06-01 02:00:00, geo=DE: inf; "
                         "ts=2026-06-01 00:00:00, geo=US: -1.0; ts=2026-06-01 00:00:00, geo=None: 3.0")
    assert msgs["n"] == ("3 of 8 values outside [0, 6], e.g. ts=2026-06-01 00:00:00, geo=US: -4; "
                         "ts=2026-06-01 01:00:00, geo=US: 8; ts=2026-06-01 00:00:00, geo=None: 7")
    assert msgs["y"] == "0 of 8 values outside [0.0, 1.0]"
