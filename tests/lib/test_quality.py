"""Quality checks: each against a hand count on small frames, and the sample's incident a."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from driftdesk.errors import DriftdeskError
from driftdesk.quality import (
    duplicate_keys,
    freshness,
    null_rate_jumps,
    null_rates,
    out_of_range,
    quality_report,
    schema_changes,
)

T0 = dt.datetime(2026, 8, 10)


def test_null_rates_count_null_and_nan():
    f = pl.DataFrame({"x": [1.0, None, float("nan"), 4.0], "s": ["a", None, "b", "c"], "g": ["u", "u", "v", "v"]})
    overall = {r["column"]: r for r in null_rates(f).iter_rows(named=True)}
    assert (overall["x"]["missing"], overall["s"]["missing"], overall["x"]["rows"]) == (2, 1, 4)
    per = null_rates(f, by="g").filter(pl.col("column") == "x").sort("segment")
    assert per["missing"].to_list() == [1, 1]


def test_null_rate_jump_uses_effect_size_and_a_test():
    rng = np.random.default_rng(1)
    base = pl.DataFrame({"x": np.where(rng.random(2000) < 0.02, None, 1.0), "g": ["a", "b"] * 1000})
    cur = pl.DataFrame({"x": np.where(rng.random(2000) < 0.12, None, 1.0), "g": ["a", "b"] * 1000})
    out = null_rate_jumps(base, cur)
    row = out.filter(pl.col("column") == "x").row(0, named=True)
    k0, k1 = base["x"].null_count(), cur["x"].null_count()
    assert row["value"] == pytest.approx(k1 / 2000 - k0 / 2000)
    assert row["status"] == "alert"
    p = sps.chi2_contingency(np.array([[k0, 2000 - k0], [k1, 2000 - k1]]), correction=False).pvalue
    assert f"p={p:.2g}" in row["message"]
    assert set(null_rate_jumps(base, base)["status"]) == {"ok"}
    small = null_rate_jumps(base.head(50), cur.head(50))  # below min_rows: no verdict on noise
    assert small.is_empty()


def test_freshness_per_source():
    f = pl.DataFrame({"ts": [T0, T0 + dt.timedelta(hours=10), T0 + dt.timedelta(hours=3)], "src": ["a", "a", "b"]})
    out = freshness(f, by="src").sort("segment")
    assert out["status"].to_list() == ["ok", "alert"]
    assert out["value"].to_list() == [0.0, 7.0]
    with pytest.raises(DriftdeskError, match="'when' not found"):
        freshness(f, ts="when")


def test_schema_changes_new_missing_retyped():
    a = pl.DataFrame({"x": [1], "y": ["a"], "z": [1.0]})
    b = pl.DataFrame({"x": [1.0], "y": [1], "w": [True]})
    out = {r["column"]: r for r in schema_changes(a, b).iter_rows(named=True)}
    assert out["z"]["message"].startswith("column missing")
    assert out["w"]["message"].startswith("new column")
    assert out["x"]["status"] == "warn" and "Int64 → Float64" in out["x"]["message"]
    assert out["y"]["status"] == "alert"


def test_duplicates_and_out_of_range():
    f = pl.DataFrame({"ts": [T0, T0, T0, T0 + dt.timedelta(hours=1)], "geo": ["US", "US", "DE", "US"],
                      "v": [1.0, 5.0, -1.0, None]})
    dup = duplicate_keys(f, keys=["ts", "geo"]).row(0, named=True)
    assert dup["value"] == 2.0 and dup["status"] == "alert" and "geo=US" in dup["message"]
    assert duplicate_keys(f, keys=["ts", "geo", "v"])["status"].to_list() == ["ok"]
    oor = out_of_range(f, ranges={"v": (0.0, 2.0)}).row(0, named=True)
    assert oor["value"] == pytest.approx(2 / 3) and oor["status"] == "alert"
    vs_base = out_of_range(f, baseline=pl.DataFrame({"v": [0.0, 10.0]})).row(0, named=True)
    assert vs_base["value"] == pytest.approx(1 / 3)


def test_report_on_sample_incident_a(sample_dataset):
    frame = sample_dataset["decisions"].frame
    base = frame.filter(pl.col("ts").dt.date() == dt.date(2026, 8, 19))
    cur = frame.filter(pl.col("ts").dt.date() == dt.date(2026, 8, 26))
    rep = quality_report(base, cur, by="source")
    issues = rep.issues()
    nulls = issues.filter(pl.col("check") == "null_rate_jump")
    assert set(nulls["column"]) == {"ctr_7d"}
    assert set(nulls["segment"].drop_nulls()) == {"source=affiliate"}
    assert rep.status == "alert"
    json.dumps(rep.to_dict(), allow_nan=False)
    assert rep.to_figure().data and "<table>" in rep._repr_html_()
    quiet = quality_report(frame.filter(pl.col("ts").dt.date() == dt.date(2026, 8, 3)),
                           frame.filter(pl.col("ts").dt.date() == dt.date(2026, 8, 10)), by="source")
    assert quiet.issues().filter(pl.col("check") != "out_of_range").is_empty()


def test_out_of_range_names_the_rows_furthest_outside():
    ts = [T0 + dt.timedelta(hours=i) for i in range(7)]
    f = pl.DataFrame({"ts": ts, "geo": ["US", "US", "DE", "US", "FR", "DE", "US"],
                      "v": [1.0, 3.0, -1.0, None, 5.0, 3.0, 2.5], "ok": [0.5] * 7})
    got = {r["column"]: r for r in out_of_range(f, ranges={"v": (0.0, 2.0), "ok": (0.0, 1.0)},
                                                keys=["ts", "geo"]).iter_rows(named=True)}
    # outside [0, 2]: 3.0 (1 past), -1.0 (1), 5.0 (3), 3.0 (1), 2.5 (0.5): 5.0 first, then the ties by ts
    assert got["v"]["message"] == ("5 of 6 values outside [0.0, 2.0], e.g. ts=2026-08-10 04:00:00, geo=FR: 5.0; "
                                   "ts=2026-08-10 01:00:00, geo=US: 3.0; ts=2026-08-10 02:00:00, geo=DE: -1.0")
    assert got["v"]["value"] == pytest.approx(5 / 6)
    assert got["ok"]["message"] == "0 of 7 values outside [0.0, 1.0]" and got["ok"]["status"] == "ok"
    # without keys the values alone; with fewer examples asked, fewer shown; an integer column keeps its values
    assert out_of_range(f, ranges={"v": (0.0, 2.0)}, examples=2)["message"][0] == \
        "5 of 6 values outside [0.0, 2.0], e.g. 5.0; -1.0"
    counts = pl.DataFrame({"n": [3, -2, 7, 1]})
    assert out_of_range(counts, ranges={"n": (0, None)})["message"][0] == "1 of 4 values outside [0, None], e.g. -2"
    with pytest.raises(DriftdeskError, match=r"key column\(s\) \['user'\] not found"):
        out_of_range(f, ranges={"v": (0.0, 2.0)}, keys=["user"])


def test_out_of_range_skips_missing_values_and_shows_infinities():
    nan, inf = float("nan"), float("inf")
    f = pl.DataFrame({"v": [nan, -inf, None, 1.0, inf, 2.5]})
    # NaN and null are missing (the null-rate checks count them); ±inf lie furthest outside, then 2.5
    row = out_of_range(f, ranges={"v": (0.0, 2.0)}).row(0, named=True)
    assert row["message"] == "3 of 4 values outside [0.0, 2.0], e.g. -inf; inf; 2.5"
    assert row["value"] == pytest.approx(3 / 4)
    assert out_of_range(f, ranges={"v": (None, 2.0)})["message"][0] == "2 of 4 values outside [None, 2.0], e.g. inf; 2.5"
    assert out_of_range(f, ranges={"v": (0.0, None)})["message"][0] == "1 of 4 values outside [0.0, None], e.g. -inf"


def test_quality_report_names_out_of_range_rows_by_ts_and_segment():
    base = pl.DataFrame({"ts": [T0, T0], "geo": ["US", "DE"], "v": [0.0, 1.0]})
    cur = pl.DataFrame({"ts": [T0 + dt.timedelta(days=1)] * 2, "geo": ["US", "DE"], "v": [0.5, 9.0]})
    rep = quality_report(base, cur, by="geo", now=T0 + dt.timedelta(days=1)).checks
    row = rep.filter(pl.col("check") == "out_of_range").row(0, named=True)
    assert row["message"] == "1 of 2 values outside [0.0, 1.0], e.g. ts=2026-08-11 00:00:00, geo=DE: 9.0"
    keyed = quality_report(base, cur, by="geo", keys=["geo"], now=T0 + dt.timedelta(days=1)).checks
    assert keyed.filter(pl.col("check") == "out_of_range")["message"][0].endswith("e.g. geo=DE: 9.0")
