"""compare_windows: statistics match scipy on frames, verdicts follow thresholds, bad input never crashes."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from driftdesk.drift import REASON_CODES, Thresholds, compare_windows
from driftdesk.drift.thresholds import QUIET_CODES
from driftdesk.errors import DriftdeskError

RNG = np.random.default_rng(3)


def frames(n_b=4000, n_c=3000, shift=0.0, null_c=0.0, cats_c=("a", "b", "c"), p_c=(0.5, 0.3, 0.2)):
    xb = RNG.normal(0, 1, n_b)
    xc = RNG.normal(shift, 1, n_c)
    xc = np.where(RNG.random(n_c) < null_c, np.nan, xc)
    b = pl.DataFrame({"x": xb, "k": RNG.integers(0, 5, n_b), "c": RNG.choice(["a", "b", "c"], n_b, p=[0.5, 0.3, 0.2]),
                      "seg": RNG.choice(["s1", "s2"], n_b)})
    c = pl.DataFrame({"x": xc, "k": RNG.integers(0, 5, n_c), "c": RNG.choice(list(cats_c), n_c, p=list(p_c)),
                      "seg": RNG.choice(["s1", "s2"], n_c)})
    return b, c


def test_frame_statistics_equal_scipy():
    b, c = frames(shift=0.6)
    r = compare_windows(b, c, columns=["x", "c"])
    x = r.column("x")
    ref = sps.ks_2samp(b["x"].to_numpy(), c["x"].to_numpy(), method="asymp")
    assert x["ks"] == pytest.approx(ref.statistic, abs=1e-9)
    assert x["ks_pvalue"] == pytest.approx(ref.pvalue, abs=1e-9)
    assert x["wasserstein"] == pytest.approx(sps.wasserstein_distance(b["x"].to_numpy(), c["x"].to_numpy()), rel=1e-9)
    assert x["wasserstein_norm"] == pytest.approx(x["wasserstein"] / np.std(b["x"].to_numpy(), ddof=1), rel=1e-9)
    assert x["status"] == "alert"  # a 0.6 sd shift: PSI about 0.35
    cat = r.column("c")
    pb = b["c"].value_counts().sort("c")["count"].to_numpy()
    pc = c["c"].value_counts().sort("c")["count"].to_numpy()
    assert cat["js"] == pytest.approx(jensenshannon(pb / pb.sum(), pc / pc.sum(), base=2), abs=1e-12)
    assert cat["chi2_pvalue"] == pytest.approx(sps.chi2_contingency(np.vstack([pb, pc]), correction=False).pvalue,
                                               rel=1e-9)
    assert cat["status"] == "ok" and cat["ks"] is None and x["js"] is None  # stats of the other kind are null


def test_same_distribution_is_ok_and_verdict_rests_on_effect_size():
    b, c = frames()
    r = compare_windows(b, c)
    assert set(r.columns["status"]) == {"ok"}
    # a tiny shift on a huge sample is significant but not a drift: the verdict needs the effect size
    big_b = pl.DataFrame({"x": RNG.normal(0, 1, 400_000)})
    big_c = pl.DataFrame({"x": RNG.normal(0.03, 1, 400_000)})
    row = compare_windows(big_b, big_c).column("x")
    assert row["ks_pvalue"] < 1e-6 and row["status"] == "ok"


def test_null_jump_new_categories_and_custom_thresholds():
    b, c = frames(null_c=0.2, cats_c=("a", "b", "z"), p_c=(0.5, 0.3, 0.2))
    r = compare_windows(b, c)
    x, cat = r.column("x"), r.column("c")
    assert x["status"] == "alert" and "null rate" in x["reasons"] and x["direction"] == "nulls_up"
    assert x["null_rate_current"] == pytest.approx(c["x"].is_nan().mean())
    assert cat["new_categories"] == ["z"] and cat["vanished_categories"] == ["c"]
    assert cat["out_of_range_share"] == pytest.approx((c["c"] == "z").mean())
    loose = Thresholds(null_rate_warn=0.5, null_rate_alert=0.6, psi_warn=5, psi_alert=6, js_warn=0.9, js_alert=0.95)
    assert compare_windows(b, c, columns=["x"], thresholds=loose).column("x")["status"] == "ok"


def test_thresholds_round_trip_and_reject_nonsense():
    t = Thresholds(psi_warn=0.05, min_rows=30)
    assert Thresholds.from_dict(t.to_dict()) == t
    with pytest.raises(DriftdeskError, match="unknown drift threshold"):
        Thresholds.from_dict({"psi": 1})
    with pytest.raises(DriftdeskError, match="warn threshold"):
        Thresholds(psi_warn=0.3, psi_alert=0.2)


def test_old_threshold_names_are_read_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning) as seen:
        t = Thresholds.from_dict({"psi_drift": 0.3, "null_rate_drift": 0.1})
    assert sorted(str(w.message) for w in seen) == [
        "drift threshold 'null_rate_drift' is deprecated; use 'null_rate_alert'",
        "drift threshold 'psi_drift' is deprecated; use 'psi_alert'"]
    assert (t.psi_alert, t.null_rate_alert) == (0.3, 0.1)
    with pytest.warns(DeprecationWarning):  # the drift JSON's thresholds (old and new keys side by side) read back
        doc = compare_windows(*frames(n_b=200, n_c=200), columns=["x"]).to_dict()["thresholds"]
        assert Thresholds.from_dict(doc) == Thresholds()


def test_reason_codes_name_each_signal():
    b, c = frames(shift=0.6, null_c=0.2, cats_c=("a", "b", "z"))
    r = compare_windows(b, c)
    for row in r.columns.iter_rows(named=True):
        assert row["reason_codes"] and set(row["reason_codes"]) <= set(REASON_CODES)
        assert (row["status"] in ("warn", "alert")) == (not set(row["reason_codes"]) <= set(QUIET_CODES))
    assert {"null_rate_up", "distribution_shift"} <= set(r.column("x")["reason_codes"])
    assert "new_categories" in r.column("c")["reason_codes"]
    assert r.column("k")["reason_codes"] == ["no_shift"]
    few = compare_windows(b.head(10), c.head(10)).column("x")
    assert (few["status"], few["reason_codes"]) == ("not_enough_data", ["not_enough_rows"])


def test_segments_show_which_segment_carries_the_shift():
    b, c = frames(n_b=6000, n_c=6000)
    c = c.with_columns(pl.when(pl.col("seg") == "s2").then(pl.col("x") + 1.0).otherwise(pl.col("x")).alias("x"))
    r = compare_windows(b, c, columns=["x", "c"], by="seg")
    seg = r.segments.filter(pl.col("column") == "x")
    assert seg.filter(pl.col("seg") == "s2")["status"][0] == "alert"
    assert seg.filter(pl.col("seg") == "s1")["status"][0] == "ok"
    assert seg["share_baseline"].sum() == pytest.approx(1.0)
    doc = r.to_dict()
    json.dumps(doc, allow_nan=False)
    assert {"columns", "segments", "by"} <= set(doc)


def test_bad_input_gives_verdicts_or_clear_messages():
    b, c = frames()
    with pytest.raises(DriftdeskError, match=r"unknown column\(s\) \['nope'\]"):
        compare_windows(b, c, columns=["nope"])
    empty = compare_windows(b.clear(), c)
    assert set(empty.columns["status"]) == {"not_enough_data"}
    assert empty.status == "not_enough_data"
    # all-null and constant columns, a type change between windows, a column missing in one window
    b2 = b.with_columns(pl.lit(None, dtype=pl.Float64).alias("allnull"), pl.lit(7.0).alias("const"),
                        pl.col("k").cast(pl.String).alias("typed"))
    c2 = c.with_columns(pl.lit(None, dtype=pl.Float64).alias("allnull"), pl.lit(7.0).alias("const"),
                        pl.col("k").alias("typed"), pl.lit(1.0).alias("only_current"))
    r = compare_windows(b2, c2)
    assert r.column("allnull")["status"] == "ok" and "missing in both" in r.column("allnull")["reasons"]
    assert r.column("const")["status"] == "ok" and r.column("const")["psi"] == 0.0
    assert r.column("const")["wasserstein_norm"] is None  # a constant baseline has no spread to normalise by
    assert r.column("typed")["status"] == "alert" and "type changed" in r.column("typed")["reasons"]
    assert "missing in the baseline" in r.column("only_current")["reasons"]
    one = compare_windows(b.head(1), c.head(1))
    assert set(one.columns["status"]) == {"not_enough_data"}
    json.dumps(r.to_dict(), allow_nan=False)


def test_lazy_frames_give_the_same_table(tmp_path):
    b, c = frames(shift=0.1)
    b.write_parquet(tmp_path / "b.parquet")
    c.write_parquet(tmp_path / "c.parquet")
    eager = compare_windows(b, c).to_frame()
    lazy = compare_windows(pl.scan_parquet(tmp_path / "b.parquet"), pl.scan_parquet(tmp_path / "c.parquet")).to_frame()
    assert eager.equals(lazy)


def test_figures_and_html():
    b, c = frames(shift=0.5)
    r = compare_windows(b, c, by="seg")
    assert r.to_figure().data and r.to_figure("c").data
    assert "<table>" in r._repr_html_()


@settings(max_examples=30, deadline=None)
@given(hs.lists(hs.one_of(hs.none(), hs.floats(allow_nan=True, allow_infinity=True)), max_size=150),
       hs.lists(hs.one_of(hs.none(), hs.floats(allow_nan=True, allow_infinity=True)), max_size=150),
       hs.lists(hs.one_of(hs.none(), hs.sampled_from(["a", "b", "ç", ""])), min_size=1, max_size=150))
def test_never_crashes_on_odd_values(xb, xc, cats):
    b = pl.DataFrame({"x": pl.Series(xb, dtype=pl.Float64), "c": pl.Series((cats * (len(xb) + 1))[: len(xb)], dtype=pl.String)})
    c = pl.DataFrame({"x": pl.Series(xc, dtype=pl.Float64), "c": pl.Series((cats * (len(xc) + 1))[: len(xc)], dtype=pl.String)})
    r = compare_windows(b, c, thresholds=Thresholds(min_rows=1))
    json.dumps(r.to_dict(), allow_nan=False)
    for row in r.columns.iter_rows(named=True):
        assert row["status"] in ("ok", "warn", "alert", "not_enough_data")
        if row["ks"] is not None:
            assert 0.0 <= row["ks"] <= 1.0


def test_a_categorical_with_100k_levels_through_frames():
    b = pl.DataFrame({"id": [f"u{k}" for k in RNG.integers(0, 100_000, 300_000)]})
    c = pl.DataFrame({"id": [f"u{k}" for k in RNG.integers(50_000, 150_000, 300_000)]})
    row = compare_windows(b, c).column("id")
    assert row["status"] == "alert" and len(row["new_categories"]) == 20  # listed up to 20
    pb = b["id"].value_counts().rename({"count": "b"})
    pc = c["id"].value_counts().rename({"count": "c"})
    j = pb.join(pc, on="id", how="full", coalesce=True).fill_null(0)
    ref = jensenshannon(j["b"].to_numpy() / 300_000, j["c"].to_numpy() / 300_000, base=2)
    assert row["js"] == pytest.approx(ref, abs=1e-12)


def test_compare_baselines_needs_a_datetime_column():
    import datetime as dt

    from driftdesk.drift import compare_baselines
    from driftdesk.windows import Window, baselines_for

    w = Window(dt.datetime(2026, 8, 10), dt.datetime(2026, 8, 11), "current")
    frame = pl.DataFrame({"ts": ["2026-08-10"], "x": [1.0]})
    with pytest.raises(DriftdeskError, match="expected a datetime"):
        compare_baselines(frame, current=w, baselines=baselines_for(w))
    with pytest.raises(DriftdeskError, match="'when' not found"):
        compare_baselines(frame, current=w, baselines=baselines_for(w), ts="when")
    ok = pl.DataFrame({"ts": [dt.datetime(2026, 8, 10, 5)], "x": [1.0]})
    res = compare_baselines(ok, current=w, baselines=baselines_for(w))  # empty baselines: a verdict, no crash
    assert res.status == "not_enough_data" and res.sentence.startswith("Not enough data")
