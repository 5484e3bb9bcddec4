"""Calibration against scikit-learn, statsmodels and hand computations, plus hypothesis properties."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.metrics import brier_score_loss
from statsmodels.stats.proportion import proportion_confint

from driftdesk.calibration import (
    bin_edges,
    calibration_by_segment,
    calibration_curve,
    calibration_series,
    compare_calibration,
    mature_labels,
    score_quantiles,
)
from driftdesk.cli import main
from driftdesk.errors import DriftdeskError, WindowError
from driftdesk.paths import sample_data_dir

T0 = dt.datetime(2026, 3, 2)


def scored(n: int, seed: int = 0, power: float = 2.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    s = rng.random(n) ** power
    y = (rng.random(n) < s).astype(int)
    ts = [T0 + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 60 * 24 * 14, n))]
    return pl.DataFrame({"ts": ts, "score": s, "label": y, "seg": rng.choice(["a", "b", "c"], n)})


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("bins", [5, 10, 17])
def test_matches_sklearn_calibration_curve_on_nonempty_bins(strategy, bins):
    df = scored(4000, seed=bins)
    res = calibration_curve(df, bins=bins, strategy=strategy)
    prob_true, prob_pred = sk_calibration_curve(df["label"].to_numpy(), df["score"].to_numpy(), n_bins=bins,
                                                strategy=strategy)
    nonempty = res.bins.filter(pl.col("count") > 0)
    np.testing.assert_allclose(nonempty["observed_rate"].to_numpy(), prob_true, rtol=1e-12)
    np.testing.assert_allclose(nonempty["mean_score"].to_numpy(), prob_pred, rtol=1e-12)
    assert res.bins.height == bins
    assert res.brier == pytest.approx(brier_score_loss(df["label"].to_numpy(), df["score"].to_numpy()), rel=1e-12)


def test_empty_bins_are_kept_with_their_count():
    df = pl.DataFrame({"score": [0.05, 0.12, 0.15, 0.22, 0.25], "label": [0, 0, 1, 0, 1]})
    res = calibration_curve(df, bins=10)
    assert res.bins.height == 10
    assert res.bins["count"].to_list() == [1, 2, 2, 0, 0, 0, 0, 0, 0, 0]
    empty = res.bins.filter(pl.col("count") == 0)
    assert empty["observed_rate"].null_count() == 7 and empty["ci_low"].null_count() == 7
    assert res.bins["lower"].to_list() == pytest.approx(list(np.linspace(0, 0.9, 10)))
    # scikit-learn drops them: 3 points instead of 10
    assert len(sk_calibration_curve(df["label"].to_numpy(), df["score"].to_numpy(), n_bins=10)[0]) == 3
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert [b["observed_rate"] for b in doc["bins"]][3:] == [None] * 7


def test_hand_computed_case_and_exact_murphy_identity():
    # two bins, one score value each: bin 0 mean .1 observed .5, bin 1 mean .9 observed 1
    df = pl.DataFrame({"score": [0.1, 0.1, 0.9, 0.9], "label": [0, 1, 1, 1]})
    res = calibration_curve(df, bins=2)
    m = res.metrics
    assert m["ece"] == pytest.approx(0.5 * 0.4 + 0.5 * 0.1)
    assert m["mce"] == pytest.approx(0.4)
    assert m["brier"] == pytest.approx((0.01 + 0.81 + 0.01 + 0.01) / 4)
    assert m["reliability"] == pytest.approx((2 * 0.4**2 + 2 * 0.1**2) / 4)
    assert m["resolution"] == pytest.approx((2 * 0.25**2 + 2 * 0.25**2) / 4)
    assert m["uncertainty"] == pytest.approx(0.75 * 0.25)
    assert m["reliability"] - m["resolution"] + m["uncertainty"] == pytest.approx(m["brier"], abs=1e-15)
    assert m["within_bin_variance"] == pytest.approx(0.0, abs=1e-15)


def test_bins_carry_wilson_interval():
    df = scored(2000, seed=3)
    res = calibration_curve(df, bins=8)
    b = res.bins.filter(pl.col("count") > 0)
    ref_low, ref_high = proportion_confint(b["positives"].to_numpy(), b["count"].to_numpy(), alpha=0.05, method="wilson")
    np.testing.assert_allclose(b["ci_low"].to_numpy(), ref_low, rtol=1e-9)
    np.testing.assert_allclose(b["ci_high"].to_numpy(), ref_high, rtol=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scores=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=200),
    data=st.data(),
    bins=st.integers(1, 20),
    strategy=st.sampled_from(["uniform", "quantile"]),
)
def test_properties(scores, data, bins, strategy):
    labels = data.draw(st.lists(st.integers(0, 1), min_size=len(scores), max_size=len(scores)))
    df = pl.DataFrame({"score": scores, "label": labels}, schema={"score": pl.Float64, "label": pl.Int64})
    res = calibration_curve(df, bins=bins, strategy=strategy)
    m = res.metrics
    assert res.bins.height == bins
    assert res.bins["count"].sum() == len(scores)
    assert 0 <= m["ece"] <= 1 + 1e-12
    assert m["ece"] <= m["mce"] + 1e-12
    assert 0 <= m["brier"] <= 1 + 1e-12
    assert m["brier"] == pytest.approx(brier_score_loss(labels, scores) if len(set(labels)) > 0 else 0, abs=1e-12)
    # Stephenson et al. (2008): the decomposition is exact once the two within-bin terms are added
    rebuilt = (m["reliability"] - m["resolution"] + m["uncertainty"]
               + m["within_bin_variance"] - 2 * m["within_bin_covariance"])
    assert rebuilt == pytest.approx(m["brier"], abs=1e-9)
    json.dumps(res.to_dict(), allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), bins=st.integers(1, 12))
def test_murphy_identity_exact_when_one_score_per_bin(data, bins):
    # every score sits at its bin's midpoint, so within-bin variance vanishes and REL - RES + UNC = Brier
    idx = data.draw(st.lists(st.integers(0, bins - 1), min_size=1, max_size=150))
    labels = data.draw(st.lists(st.integers(0, 1), min_size=len(idx), max_size=len(idx)))
    scores = [(i + 0.5) / bins for i in idx]
    m = calibration_curve(pl.DataFrame({"score": scores, "label": labels}), bins=bins).metrics
    assert m["reliability"] - m["resolution"] + m["uncertainty"] == pytest.approx(m["brier"], abs=1e-12)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pl.DataFrame({"score": [0.1, 0.2, 0.3], "label": [0, 2, 1]}), "label other than 0/1"),
        (pl.DataFrame({"score": [0.1, 1.5, 0.3], "label": [0, 1, 1]}), "outside [0, 1]"),
        (pl.DataFrame({"score": [0.1, -0.5, 0.3], "label": [0, 1, 1]}), "outside [0, 1]"),
        (pl.DataFrame({"score": [0.1, float("nan"), 0.3], "label": [0, 1, 1]}), "missing score"),
        (pl.DataFrame({"score": [0.1, None, 0.3], "label": [0, 1, 1]}), "missing score"),
        (pl.DataFrame({"score": [0.1, float("inf"), 0.3], "label": [0, 1, 1]}), "outside [0, 1]"),
        (pl.DataFrame({"score": ["a", "b"], "label": [0, 1]}), "must be numeric"),
        (pl.DataFrame({"score": [0.1, 0.2], "label": ["yes", "no"]}), "must be 0/1"),
    ],
)
def test_bad_input_names_column_and_rows(frame, message):
    with pytest.raises(DriftdeskError, match=message.replace("[", r"\[").replace("]", r"\]")) as err:
        calibration_curve(frame, source="f.csv")
    assert "f.csv" in str(err.value)
    if "row" in str(err.value):
        assert "row 2" in str(err.value)


def test_null_labels_never_count_and_are_reported():
    df = pl.DataFrame({"score": [0.2, 0.4, 0.6, 0.8], "label": [0, None, 1, None]})
    res = calibration_curve(df, bins=2)
    assert res.metrics["n"] == 2
    assert res.counts["n_unlabeled"] == 2
    all_null = pl.DataFrame({"score": [0.2, 0.4], "label": [None, None]}, schema={"score": pl.Float64, "label": pl.Int64})
    empty = calibration_curve(all_null, bins=4)
    assert empty.ece is None and empty.brier is None and empty.bins["count"].sum() == 0
    doc = json.loads(json.dumps(empty.to_dict(), allow_nan=False))
    assert doc["ece"] is None and doc["note"].startswith("undefined")
    assert calibration_curve(all_null, bins=4, strategy="quantile").bins.height == 4


def test_boolean_labels_accepted():
    df = pl.DataFrame({"score": [0.2, 0.9], "label": [False, True]})
    assert calibration_curve(df, bins=2).metrics["n_positive"] == 1


def test_label_delay_counts_only_mature_labels():
    ts = [T0 + dt.timedelta(days=d) for d in range(10)]
    df = pl.DataFrame({"ts": ts, "score": [0.5] * 10, "label": [1, 0] * 5})
    rows, info = mature_labels(df, label_delay="3d")
    # as_of = newest ts (day 9): cutoff day 6, rows of days 0..5 count
    assert info["n_used"] == 6 and info["n_immature"] == 4 and info["cutoff"] == T0 + dt.timedelta(days=6)
    assert rows.collect()["ts"].max() == T0 + dt.timedelta(days=5)
    res = calibration_curve(df, bins=2, label_delay=dt.timedelta(hours=72), as_of=T0 + dt.timedelta(days=20))
    assert res.metrics["n"] == 10
    assert calibration_curve(df, bins=2, label_delay=24).metrics["n"] == 8
    with pytest.raises(DriftdeskError, match="label delay"):
        calibration_curve(df, label_delay="soon")
    with pytest.raises(DriftdeskError, match="timestamp"):
        calibration_curve(df.drop("ts"), label_delay="1d")


def test_quantile_bins_are_equal_count_and_uniform_edges():
    df = scored(1000, seed=5)
    edges = bin_edges(df, bins=4, strategy="quantile")
    assert edges[0] == 0 and edges[-1] == 1
    np.testing.assert_allclose(edges[1:-1], np.quantile(df["score"].to_numpy(), [0.25, 0.5, 0.75]))
    counts = calibration_curve(df, bins=4, strategy="quantile").bins["count"].to_list()
    assert counts == [250, 250, 250, 250]
    with pytest.raises(DriftdeskError, match="bins"):
        bin_edges(df, bins=0)
    with pytest.raises(DriftdeskError, match="strategy"):
        bin_edges(df, bins=3, strategy="log")  # type: ignore[arg-type]


def test_by_segment_equals_each_segment_alone():
    df = scored(3000, seed=8)
    table = calibration_by_segment(df, by="seg", bins=6)
    for row in table.iter_rows(named=True):
        alone = calibration_curve(df.filter(pl.col("seg") == row["seg"]), bins=6).metrics
        assert row["ece"] == pytest.approx(alone["ece"], abs=1e-12)
        assert row["brier"] == pytest.approx(alone["brier"], abs=1e-12)


def test_score_quantiles_match_numpy():
    df = scored(999, seed=9)
    q = score_quantiles(df, quantiles=(0.1, 0.5, 0.9))
    np.testing.assert_allclose([q["q10"][0], q["q50"][0], q["q90"][0]],
                               np.quantile(df["score"].to_numpy(), [0.1, 0.5, 0.9]), rtol=1e-12)
    assert q["std"][0] == pytest.approx(np.std(df["score"].to_numpy(), ddof=1))


def test_series_per_day_equals_that_days_curve():
    df = scored(5000, seed=11)
    series = calibration_series(df, every="1d", bins=10)
    day = series.row(3, named=True)
    rows = df.filter(pl.col("ts").dt.truncate("1d") == day["ts"])
    alone = calibration_curve(rows, bins=10).metrics
    assert day["ece"] == pytest.approx(alone["ece"], abs=1e-12)
    assert day["n"] == rows.height


def test_compare_detects_overconfidence_and_collapse():
    rng = np.random.default_rng(2)
    n = 20_000
    base_s = rng.beta(2, 5, n)
    cur_true = rng.beta(2, 5, n)
    base = pl.DataFrame({"ts": [T0] * n, "score": base_s, "label": (rng.random(n) < base_s).astype(int)})
    # current: scores pulled toward the mean (collapse) and the truth lower than the score (overconfident)
    cur_s = 0.3 * cur_true + 0.7 * cur_true.mean()
    cur = pl.DataFrame({"ts": [T0 + dt.timedelta(days=7)] * n, "score": cur_s,
                        "label": (rng.random(n) < 0.6 * cur_true).astype(int)})
    df = pl.concat([base, cur]).with_columns(pl.Series("seg", rng.choice(["x", "y"], 2 * n)))
    cmp = compare_calibration(df, baseline="2026-03-01T00:00/2026-03-04T00:00",
                              current="2026-03-08T00:00/2026-03-11T00:00", by="seg", strategy="quantile")
    assert cmp.change["ece"] > 0.05
    assert cmp.collapsed and cmp.std_ratio == pytest.approx(0.3, rel=0.05)
    assert "collapse" in cmp.summary and "over-predict" in cmp.summary
    assert set(cmp.segments["seg"]) == {"x", "y"} and (cmp.segments["ece_change"] > 0).all()
    assert cmp.current.edges == cmp.baseline.edges  # shared bins
    json.dumps(cmp.to_dict(), allow_nan=False)
    with pytest.raises(WindowError, match="no rows"):
        compare_calibration(df, baseline="2027-01-01T00:00/2027-01-02T00:00", current="2026-03-08T00:00/2026-03-11T00:00")


def test_cli_calibration_json(tmp_path, capsys):
    path = tmp_path / "cal.csv"
    scored(3000, seed=4).select("score", "label").write_csv(path)
    code = main(["calibration", "--input", str(path), "--score", "score", "--label", "label", "--bins", "10",
                 "--strategy", "uniform", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and len(doc["bins"]) == 10
    assert {"ece", "mce", "brier"} <= set(doc)
    assert {"lower", "upper", "count", "mean_score", "observed_rate", "ci_low", "ci_high"} <= set(doc["bins"][0])
    seg_path = tmp_path / "seg.parquet"
    scored(3000, seed=4).write_parquet(seg_path)
    assert main(["calibration", "--input", str(seg_path), "--score", "score", "--label", "label", "--by", "seg",
                 "--label-delay", "1d", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["seg"] for s in doc["segments"]] == ["a", "b", "c"] and doc["n_immature"] > 0
    assert sum(s["n"] for s in doc["segments"]) == doc["n"]
    assert main(["calibration", "--input", str(seg_path), "--score", "score", "--label", "label", "--by", "nope"]) == 2
    assert "missing column(s) ['nope']" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    pl.DataFrame({"score": [0.1, 0.2], "label": [0, 3]}).write_csv(bad)
    assert main(["calibration", "--input", str(bad), "--score", "score", "--label", "label"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "label other than 0/1" in err and "row 2" in err


def test_cli_label_delay_reads_a_csvs_text_timestamps_with_offsets(tmp_path, capsys):
    """A CSV writes times as text ("2026-03-02T01:00:00-08:00"): --label-delay reads them as the UTC times they
    are, the same answer as the Parquet file of the same rows (it refused: 'must be a timestamp, found String')."""
    rows = scored(3000, seed=8).rename({"ts": "scored_at", "score": "p", "label": "y"})
    rows.write_parquet(tmp_path / "rows.parquet")
    rows.with_columns(pl.col("scored_at").dt.replace_time_zone("UTC").dt.convert_time_zone("America/Los_Angeles")
                      .dt.strftime("%Y-%m-%dT%H:%M:%S%:z")).write_csv(tmp_path / "rows.csv")
    docs = []
    for name in ("rows.parquet", "rows.csv"):
        assert main(["calibration", "--input", str(tmp_path / name), "--score", "p", "--label", "y", "--ts",
                     "scored_at", "--label-delay", "2d", "--by", "seg", "--format", "json"]) == 0, capsys.readouterr().err
        docs.append(json.loads(capsys.readouterr().out))
    parquet, csv = docs
    immature = int((rows["scored_at"] > rows["scored_at"].max() - dt.timedelta(days=2)).sum())  # by hand
    assert parquet["n_immature"] == csv["n_immature"] == immature > 0
    assert csv["ece"] == pytest.approx(parquet["ece"], rel=1e-12) and csv["bins"] == parquet["bins"]
    assert [s["n"] for s in csv["segments"]] == [s["n"] for s in parquet["segments"]]


@pytest.mark.skipif(not (sample_data_dir() / "decisions.parquet").exists(), reason="sample data not generated")
def test_sample_incident_c_is_a_calibration_jump_for_v2():
    from driftdesk.contract import load_table

    decisions = load_table(sample_data_dir() / "decisions.parquet", "decisions").frame
    cmp = compare_calibration(decisions, baseline="2026-09-30T00:00/2026-10-05T00:00",
                              current="2026-10-07T00:00/2026-10-12T00:00", by="model_version")
    assert cmp.change["ece"] > 0.03
    v2 = cmp.segments.filter(pl.col("model_version") == "v2.0").row(0, named=True)
    assert v2["n_current"] > 1000 and v2["ece_current"] > cmp.baseline.ece + 0.03
    assert v2["mean_score_current"] > v2["observed_rate_current"]  # overconfident
    quiet = compare_calibration(decisions, baseline="2026-08-03T00:00/2026-08-10T00:00",
                                current="2026-08-10T00:00/2026-08-17T00:00")
    assert abs(quiet.change["ece"]) < 0.01


def test_an_all_empty_label_column_means_no_labels_yet():
    df = pl.DataFrame({"score": [0.1, 0.5], "label": [None, None]}, schema={"score": pl.Float64, "label": pl.String})
    res = calibration_curve(df, bins=3)
    assert res.metrics["n"] == 0 and res.counts["n_unlabeled"] == 2


def test_a_score_column_without_values_is_read_as_missing_scores_not_as_text():
    """A CSV reader types a column without any value as text: a header-only export is an empty table (as the same
    table in Parquet), and an export whose scores went empty names the rows missing a score."""
    typed = pl.DataFrame({"score": [], "label": []}, schema={"score": pl.Float64, "label": pl.Int64})
    header_only = pl.DataFrame({"score": [], "label": []}, schema={"score": pl.String, "label": pl.String})
    assert calibration_curve(header_only, bins=4).to_dict() == calibration_curve(typed, bins=4).to_dict()
    emptied = pl.DataFrame({"score": [None, None], "label": [0, 1]}, schema={"score": pl.String, "label": pl.Int64})
    with pytest.raises(DriftdeskError, match="missing score: every row needs a predicted probability — 2 rows"):
        calibration_curve(emptied, bins=4)
    with pytest.raises(DriftdeskError, match="score column 'score' must be numeric, found String"):
        calibration_curve(pl.DataFrame({"score": ["high", None], "label": [0, 1]}), bins=4)


def test_text_timestamps_are_refused():
    df = pl.DataFrame({"ts": ["2026-03-02"], "score": [0.2], "label": [1]})
    with pytest.raises(DriftdeskError, match="must be a timestamp"):
        calibration_curve(df, label_delay="1d")
    with pytest.raises(DriftdeskError, match="must be a timestamp"):
        compare_calibration(df, baseline="2026-03-01T00:00/2026-03-02T00:00", current="2026-03-02T00:00/2026-03-03T00:00")


def test_figures_keep_empty_bins_in_the_counts():
    from driftdesk.viz.calibration import calibration_over_time

    df = pl.DataFrame({"score": [0.05, 0.12, 0.15, 0.22, 0.25], "label": [0, 0, 1, 0, 1]})
    fig = calibration_curve(df, bins=10).to_figure()
    counts = next(t for t in fig.data if t.type == "bar")
    assert list(counts.y) == [1, 2, 2, 0, 0, 0, 0, 0, 0, 0]
    curve = next(t for t in fig.data if t.name == "scores")
    assert len(curve.x) == 3  # the line only joins bins that have rows
    data = scored(4000, seed=12)
    cmp = compare_calibration(data, baseline="2026-03-02T00:00/2026-03-09T00:00",
                              current="2026-03-09T00:00/2026-03-16T00:00", by="seg")
    for kind in ("reliability", "quantiles", "segments"):
        assert cmp.to_figure(kind).data
    series = calibration_series(data, every="1d", by=["seg"])
    assert len(calibration_over_time(series, by="seg").data) == 3


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_empty_constant_and_one_row(strategy):
    empty = pl.DataFrame({"score": [], "label": []}, schema={"score": pl.Float64, "label": pl.Int64})
    res = calibration_curve(empty, bins=4, strategy=strategy)
    assert res.bins.height == 4 and res.ece is None and res.to_dict()["note"].startswith("undefined")
    constant = pl.DataFrame({"score": [0.3] * 5, "label": [0, 1, 0, 0, 1]})
    res = calibration_curve(constant, bins=4, strategy=strategy)
    assert res.bins["count"].sum() == 5 and res.ece == pytest.approx(0.1)  # |0.4 - 0.3|
    prob_true, _ = sk_calibration_curve([0, 1, 0, 0, 1], [0.3] * 5, n_bins=4, strategy=strategy)
    assert res.bins.filter(pl.col("count") > 0)["observed_rate"].to_list() == pytest.approx(list(prob_true))
    one = calibration_curve(constant.head(1), bins=4, strategy=strategy)
    assert one.ece == pytest.approx(0.3) and one.brier == pytest.approx(0.09)


@pytest.mark.parametrize("seed", range(6))
def test_score_quantiles_from_the_sorted_scores_are_polars_own_and_numpys(seed):
    from polars.testing import assert_frame_equal

    from driftdesk.calibration import DEFAULT_QUANTILES, score_quantiles

    rng = np.random.default_rng(seed)
    n = [0, 1, 2, 7, 1000, 54321][seed]
    scores = rng.beta(0.5, 3.0, n).round(2 if seed % 2 else 12)  # ties on the even seeds' coarse scores
    frame = pl.DataFrame({"score": pl.Series(scores).scatter(list(range(0, n, 5)), None) if n > 3 else scores})
    fast, plain = score_quantiles(frame), score_quantiles(frame, _plain=True)
    assert_frame_equal(fast, plain, check_exact=False, rel_tol=1e-12, abs_tol=0)  # polars' own differ by 1e-15
    values = frame["score"].drop_nulls().to_numpy()
    if values.size:
        expected = np.quantile(values, DEFAULT_QUANTILES, method="linear")
        np.testing.assert_allclose(fast.select(pl.selectors.starts_with("q")).row(0), expected, rtol=1e-12, atol=0)
    assert fast["n"][0] == n and fast["std"][0] == plain["std"][0]


def test_the_series_windows_are_shaded_as_plotlys_add_vrect_shades_them():
    from driftdesk.viz.calibration import BAND, calibration_over_time
    from driftdesk.windows import Window

    series = calibration_series(scored(2000, seed=3), every="1d")
    windows = {"baseline": Window.parse("2026-03-02T00:00/2026-03-09T00:00"),
               "current": Window.parse("2026-03-09T00:00/2026-03-16T00:00")}
    fig = calibration_over_time(series, windows=windows)
    expected = calibration_over_time(series)
    for name, w in windows.items():
        expected.add_vrect(x0=w.start, x1=w.end, fillcolor=BAND.get(name, "rgba(31, 119, 180, 0.12)"), line_width=0,
                           annotation_text=name, annotation_position="top left")
    assert fig.to_dict() == expected.to_dict()


def test_summary_does_not_call_a_change_too_small_to_show_worse_or_better():
    rng = np.random.default_rng(4)
    n = 5000
    s = rng.uniform(0.01, 0.98, n)
    y = (rng.random(n) < s).astype(int)
    frame = pl.concat([pl.DataFrame({"ts": [T0] * n, "score": s, "label": y}),
                       pl.DataFrame({"ts": [T0 + dt.timedelta(days=7)] * n, "score": s + 1e-7, "label": y})])
    cmp = compare_calibration(frame, baseline="2026-03-01T00:00/2026-03-04T00:00",
                              current="2026-03-08T00:00/2026-03-11T00:00")
    assert cmp.change["ece"] != 0 and abs(cmp.change["ece"]) < 5e-5
    assert ": unchanged;" in cmp.summary and "worse" not in cmp.summary and "better" not in cmp.summary
