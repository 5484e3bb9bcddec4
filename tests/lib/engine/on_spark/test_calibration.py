"""Calibration on Spark gives the polars engine's per-bin aggregates (identical counts, sums to the last bits that
summation order allows) and so the same ECE, MCE and Brier to 1e-9: whole tables, windows with a label delay,
quantile bins, segments, time buckets, and the CLI's answer on the sample."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftdesk import calibration as cal
from driftdesk.errors import DriftdeskError

from .same import assert_same

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Scored rows over ten days: labels late or missing, a segment with nulls, scores at the bin edges and 0/1."""
    rng = np.random.default_rng(3)
    n = 40_000
    score = rng.beta(2, 5, n)
    score[:6] = [0.0, 1.0, 0.1, 0.5, 0.9999999, 0.30000000000000004]
    label = (rng.random(n) < score * 1.1).astype(float)
    label[rng.random(n) < 0.05] = np.nan
    frame = pl.DataFrame({
        "ts": pl.datetime_range(dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 11), "20s", eager=True)[:n],
        "score": score, "label": pl.Series(label).fill_nan(None).cast(pl.Int8),
        "geo": pl.Series(rng.choice(["US", "DE", ""], n)).replace("", None),
        "device": rng.choice(["ios", "web"], n),
    })
    path = tmp_path_factory.mktemp("spark-calibration") / "scored.parquet"
    frame.write_parquet(path)
    return path


def _both(path):
    from driftdesk.engine import spark as engine_spark

    return engine_spark.read_parquet(path), pl.scan_parquet(path)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_bin_aggregates_identical(spark, scored, strategy):
    on_spark, local = _both(scored)
    rows_s, counts_s = cal.mature_labels(on_spark, label_delay="2d")
    rows_p, counts_p = cal.mature_labels(local, label_delay="2d")
    assert counts_s == counts_p and counts_s["n_immature"] > 0 and counts_s["n_unlabeled"] > 0
    edges = cal.bin_edges(rows_p, bins=12, strategy=strategy)
    np.testing.assert_array_equal(cal.bin_edges(rows_s, bins=12, strategy=strategy), edges)
    got = cal.bin_aggregates(rows_s, edges=edges, group=["geo"])
    want = cal.bin_aggregates(rows_p, edges=edges, group=["geo"])
    assert got.schema == want.schema
    assert got.select("geo", "bin", "count", "positives").equals(want.select("geo", "bin", "count", "positives"))
    for c in ("score_sum", "score_sq", "score_label"):
        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12, atol=0)


def test_curve_and_segments_equal(spark, scored):
    on_spark, local = _both(scored)
    for kw in ({"bins": 10}, {"bins": 15, "strategy": "quantile", "label_delay": "36h"}):
        assert_same(cal.calibration_curve(on_spark, **kw).to_dict(), cal.calibration_curve(local, **kw).to_dict())
        got = cal.calibration_by_segment(on_spark, by=["geo", "device"], **kw)
        want = cal.calibration_by_segment(local, by=["geo", "device"], **kw)
        assert_same(got.to_dicts(), want.to_dicts())


def test_comparison_and_series_equal(spark, scored):
    on_spark, local = _both(scored)
    kw = {"baseline": "2026-03-01T00:00/2026-03-05T00:00", "current": "2026-03-05T00:00/2026-03-09T00:00",
          "by": "geo", "strategy": "quantile", "label_delay": "1d"}
    assert_same(cal.compare_calibration(on_spark, **kw).to_dict(), cal.compare_calibration(local, **kw).to_dict())
    for every in ("6h", "1d", "1w"):
        got = cal.calibration_series(on_spark, every=every, by=["device"])
        want = cal.calibration_series(local, every=every, by=["device"])
        assert got["ts"].to_list() == want["ts"].to_list(), every
        assert_same(got.to_dicts(), want.to_dicts())


def test_bad_scores_are_named_as_on_polars(spark, tmp_path):
    path = tmp_path / "bad.parquet"
    pl.DataFrame({"score": [0.2, 1.5, 0.3, -1.0], "label": [0, 1, 1, 0]}).write_parquet(path)
    on_spark, local = _both(path)
    with pytest.raises(DriftdeskError, match="score outside") as want:
        cal.calibration_curve(local)
    with pytest.raises(DriftdeskError, match=r"column 'score': score outside \[0, 1\].* 2 rows, e.g. 1.5; -1.0") as got:
        cal.calibration_curve(on_spark)
    assert str(want.value).split(" e.g.")[0] == str(got.value).split(" e.g.")[0]


def test_cli_windows_through_the_contract(spark, sample_dir):
    """``--baseline/--current`` reads the file as a contract table on either engine: the same answer."""
    from .test_golden import BEFORE_C, DURING_C, run_case

    args = ["calibration", "--data", str(sample_dir), "--baseline", BEFORE_C, "--current", DURING_C, "--by",
            "model_version", "--label-delay", "2d"]
    code_s, got = run_case([*args, "--engine", "spark"])
    code_p, want = run_case(args)
    assert code_s == code_p == 0
    assert_same(got, want)
    args = ["calibration", "--input", str(sample_dir / "decisions.parquet"), "--baseline", BEFORE_C, "--current",
            DURING_C, "--by", "geo"]
    assert_same(run_case([*args, "--engine", "spark"])[1], run_case(args)[1])


def test_quantile_edges_past_the_budget_come_from_the_same_sketch(spark, scored, monkeypatch):
    """Past the memory budget both engines take quantile edges from the histogram sketch, built from the same
    fixed bins, so the edges agree; each lies within the sketch's bin of the exact edge."""
    from driftdesk import engine

    on_spark, local = _both(scored)
    exact = cal.bin_edges(local, bins=10, strategy="quantile")
    monkeypatch.setenv(engine.BUDGET_ENV, "1K")
    got, want = cal.bin_edges(on_spark, bins=10, strategy="quantile"), cal.bin_edges(local, bins=10, strategy="quantile")
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert not np.array_equal(want, exact)
    np.testing.assert_allclose(want[1:-1], exact[1:-1], rtol=2 ** -9)
