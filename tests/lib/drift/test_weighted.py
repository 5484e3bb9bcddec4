"""Traffic-weighted drift: every weighted statistic against an independent reference (scipy on the repeated
sample, scipy's weighted Wasserstein, chi-squared of the weighted table, a hand-computed KS)."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import stats as sps

from driftdesk import stats as st
from driftdesk.drift import compare_frames, compare_windows
from driftdesk.errors import DriftdeskError

values = hs.lists(hs.integers(-5, 5).map(float) | hs.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=30)


def _weighted(values, seed: int, *, whole: bool = True):
    rng = np.random.default_rng(seed)
    x = np.asarray(values, dtype=float)
    w = rng.integers(1, 5, x.size).astype(float) if whole else rng.uniform(0.1, 3.0, x.size)
    return x, w


def _agg(x, w, kind="weight_sum"):
    return st.weighted_values(x, w, kind=kind)


@settings(max_examples=80, deadline=None)
@given(values, values, hs.integers(0, 10_000))
def test_integer_weights_equal_the_repeated_sample(a, b, seed):
    """With whole-number weights, every statistic is the unweighted one of the sample with each row repeated."""
    xa, wa = _weighted(a, seed)
    xb, wb = _weighted(b, seed + 1)
    ra, rb = np.repeat(xa, wa.astype(int)), np.repeat(xb, wb.astype(int))
    A, B = _agg(xa, wa), _agg(xb, wb)
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # only the statistic is the reference, not the
        warnings.simplefilter("ignore", RuntimeWarning)           # p-value scipy warns about on tiny or tied samples
        ks = sps.ks_2samp(ra, rb).statistic
    assert st.weighted_ks(A.values, A.weights, B.values, B.weights) == pytest.approx(ks, abs=1e-12)
    np.testing.assert_array_equal(st.weighted_quantile_edges(A.values, A.weights), st.quantile_edges(np.sort(ra)))
    psi = st.psi_numeric(np.sort(ra), np.sort(rb))
    assert st.weighted_psi(A, B) == pytest.approx(psi, rel=1e-9, abs=1e-12)
    if ra.size > 1:
        assert st.weighted_std(A.values, A.weights) == pytest.approx(np.std(ra, ddof=1), rel=1e-9, abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(values, values, hs.integers(0, 10_000))
def test_wasserstein_equals_scipy_with_weights(a, b, seed):
    xa, wa = _weighted(a, seed, whole=False)
    xb, wb = _weighted(b, seed + 1, whole=False)
    A, B = _agg(xa, wa), _agg(xb, wb)
    expected = sps.wasserstein_distance(xa, xb, u_weights=wa, v_weights=wb)
    assert st.weighted_wasserstein(A.values, A.weights, B.values, B.weights) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_weighted_ks_by_hand():
    # F_a: 0.75 at 1, 1 from 2 on; F_b: 0 at 1, 0.5 at 2, 1 at 3: the largest gap is 0.75 at x = 1
    assert st.weighted_ks(np.array([1.0, 2.0]), np.array([3.0, 1.0]), np.array([2.0, 3.0]), np.array([0.5, 0.5])) == 0.75
    # real weights: F_a is 0.2 on [1, 3) and 1 from 3; F_b is 0.6 on [1, 2) and 1 from 2 -> gaps 0.4 at 1, 0.8 at 2
    assert st.weighted_ks(np.array([1.0, 3.0]), np.array([0.3, 1.2]), np.array([1.0, 2.0]), np.array([1.5, 1.0])) \
        == pytest.approx(0.8)


def test_sample_sizes():
    w = np.array([1.0, 1.0, 1.0, 1.0])
    assert st.sample_size(w, "kish") == 4.0
    assert st.sample_size(np.array([10.0, 10.0, 20.0]), "weight_sum") == 40.0
    assert st.sample_size(np.array([1.0, 3.0]), "kish") == pytest.approx(16 / 10)
    with pytest.raises(DriftdeskError, match="sample size"):
        st.sample_size(w, "rows")


def _frame(rows: list[tuple[str, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"geo": pl.String, "x": pl.Float64, "impressions": pl.Int64}, orient="row")


@settings(max_examples=40, deadline=None)
@given(hs.lists(hs.tuples(hs.sampled_from("ABC"), hs.integers(0, 4).map(float) | hs.none(), hs.integers(0, 4)),
                min_size=1, max_size=25),
       hs.lists(hs.tuples(hs.sampled_from("ABD"), hs.integers(0, 6).map(float) | hs.none(), hs.integers(0, 4)),
                min_size=1, max_size=25))
def test_weighted_table_equals_the_table_of_repeated_rows(base, cur):
    """Weights that count units (impressions): the whole drift table equals the one of rows repeated w times."""
    fb, fc = _frame(base), _frame(cur)

    def repeat(f):
        return f.select(pl.all().repeat_by(pl.col("impressions")).explode()).drop_nulls("impressions").drop("impressions")

    got = compare_frames(fb, fc, columns=["geo", "x"], weight="impressions", sample="weight_sum")
    want = compare_frames(repeat(fb), repeat(fc), columns=["geo", "x"])
    keys = ["psi", "ks", "ks_pvalue", "wasserstein", "js", "chi2_pvalue", "null_rate_baseline", "null_rate_current",
            "null_pvalue", "mean_baseline", "mean_current", "out_of_range_share"]
    for g, w in zip(got.iter_rows(named=True), want.iter_rows(named=True)):
        for k in keys:
            if w[k] is None or g[k] is None:
                assert (g[k] is None) == (w[k] is None) or not repeat(fb).height or not repeat(fc).height, (k, g, w)
            else:
                assert g[k] == pytest.approx(w[k], rel=1e-9, abs=1e-12), (g["column"], k)


def test_chi2_with_spend_weights_counts_kish_rows():
    """Weights that are not counts (spend): the chi-squared test counts Kish's effective rows per window."""
    fb = pl.DataFrame({"geo": ["A", "A", "B", "B", "C"], "spend": [1.0, 3.0, 2.0, 2.0, 4.0]})
    fc = pl.DataFrame({"geo": ["A", "B", "B", "C", "C", "C"], "spend": [5.0, 1.0, 1.0, 2.0, 2.0, 1.0]})
    row = compare_frames(fb, fc, columns=["geo"], weight="spend", sample="kish").row(0, named=True)
    n_b = st.sample_size(fb["spend"].to_numpy(), "kish")
    n_c = st.sample_size(fc["spend"].to_numpy(), "kish")
    wb = fb.group_by("geo").agg(pl.col("spend").sum()).sort("geo")["spend"].to_numpy()
    wc = fc.group_by("geo").agg(pl.col("spend").sum()).sort("geo")["spend"].to_numpy()
    table = np.vstack([wb / wb.sum() * n_b, wc / wc.sum() * n_c])
    assert row["chi2_pvalue"] == pytest.approx(sps.chi2_contingency(table, correction=False).pvalue, rel=1e-9)
    # and with impressions-like weights the table is of the weights themselves
    row = compare_frames(fb, fc, columns=["geo"], weight="spend", sample="weight_sum").row(0, named=True)
    assert row["chi2_pvalue"] == pytest.approx(sps.chi2_contingency(np.vstack([wb, wc]), correction=False).pvalue,
                                               rel=1e-9)


def test_a_segment_whose_traffic_triples_is_seen_only_when_weighted():
    """Same rows per segment (hour x segment grid), but BR's impressions triple: counting rows calls it ok."""
    rng = np.random.default_rng(3)
    geos = ["US", "GB", "DE", "BR", "IN"] * 200
    base = pl.DataFrame({"geo": geos, "impressions": rng.integers(900, 1100, len(geos))})
    cur = base.with_columns(pl.when(pl.col("geo") == "BR").then(pl.col("impressions") * 3)
                            .otherwise(pl.col("impressions")).alias("impressions"))
    rows = compare_windows(base, cur, columns=["geo"]).column("geo")
    weighted = compare_windows(base, cur, columns=["geo"], weight="impressions")
    assert rows["status"] == "ok"
    assert weighted.column("geo")["status"] == "alert"
    assert weighted.column("geo")["direction"] == "BR+"
    doc = weighted.to_dict()
    assert doc["weight"]["column"] == "impressions" and doc["weight"]["sample_size"] == "weight_sum"
    kish = compare_windows(base, cur, columns=["geo"], weight="impressions", sample="kish")
    assert kish.weighting.sample_size == "kish" and kish.column("geo")["chi2_pvalue"] > weighted.column("geo")["chi2_pvalue"]


def test_default_sample_size_follows_the_weight():
    base = pl.DataFrame({"geo": ["A", "B"] * 60, "spend": [1.0, 2.0] * 60, "clicks": [3, 4] * 60})
    assert compare_windows(base, base, columns=["geo"], weight="clicks").weighting.sample_size == "weight_sum"
    assert compare_windows(base, base, columns=["geo"], weight="spend").weighting.sample_size == "kish"
    assert compare_windows(base, base, columns=["geo"]).to_dict()["weight"]["column"] is None


def test_segment_shares_are_shares_of_traffic():
    base = pl.DataFrame({"geo": ["A", "B"] * 100, "x": [1.0, 2.0] * 100, "impressions": [1, 3] * 100})
    seg = compare_windows(base, base, columns=["x"], by="geo", weight="impressions").segments
    assert dict(zip(seg["geo"], seg["share_baseline"])) == {"A": 0.25, "B": 0.75}


@pytest.mark.parametrize("bad", [-1.0, None, float("inf"), float("nan")])
def test_bad_weights_are_refused_with_rows(bad):
    base = pl.DataFrame({"geo": ["A", "B", "A"], "w": [1.0, 2.0, 3.0]})
    cur = pl.DataFrame({"geo": ["A", "B", "A"], "w": [1.0, bad, 3.0]})
    with pytest.raises(DriftdeskError, match=r"weight column 'w' of the current window: 1 row with a missing, negative or infinite weight, e.g. row 2"):
        compare_frames(base, cur, columns=["geo"], weight="w")
    with pytest.raises(DriftdeskError, match="not among the columns"):
        compare_frames(base, cur, columns=["geo"], weight="clicks")
    with pytest.raises(DriftdeskError, match="must be numeric"):
        compare_frames(base, base, columns=["w"], weight="geo")


def test_drift_view_of_kpis_weights_by_impressions_by_default(sample_dataset):
    import datetime as dt

    from driftdesk.drift import drift_view
    from driftdesk.drift.view import drift_weights

    assert drift_weights(sample_dataset, "kpis") == ["impressions", "clicks", "spend", "rows"]
    assert drift_weights(sample_dataset, "decisions") == ["rows"]
    day = dt.date(2026, 9, 16)  # incident b: BR's traffic doubles, one row per hour and segment as always
    weighted = drift_view(sample_dataset, table="kpis", day=day, vs="week_over_week", history_days=1)
    rows = drift_view(sample_dataset, table="kpis", day=day, vs="week_over_week", history_days=1, weight="rows")
    assert weighted.to_dict()["weight"]["column"] == "impressions"
    assert weighted.comparison.results["week_over_week"].column("geo")["status"] == "alert"
    assert rows.comparison.results["week_over_week"].column("geo")["status"] == "ok"
    with pytest.raises(DriftdeskError, match="no column 'cost'"):
        drift_view(sample_dataset, table="kpis", day=day, weight="cost")


def test_cli_weight(sample_dir, capsys):
    import json

    from driftdesk.cli import main

    args = ["drift", "--data", str(sample_dir), "--table", "kpis", "--columns", "geo", "--format", "json",
            "--baseline", "2026-09-07T00:00/2026-09-14T00:00", "--current", "2026-09-14T00:00/2026-09-21T00:00"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["weight"]["column"] == "impressions" and doc["columns"][0]["status"] == "alert"
    assert main([*args, "--weight", "rows"]) == 0
    assert json.loads(capsys.readouterr().out)["columns"][0]["status"] == "ok"
    assert main([*args, "--weight", "spend"]) == 0
    assert json.loads(capsys.readouterr().out)["weight"]["sample_size"] == "kish"
    assert main([*args, "--weight", "nope"]) == 2
    assert "weight column 'nope'" in capsys.readouterr().err
