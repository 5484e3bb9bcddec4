"""Metric components and the engine, against hand computations and the drift / calibration modules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from gate_histories import T0, at, dataset, kpis_frame, table
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from driftdesk.calibration import calibration_curve
from driftdesk.contract import Dataset
from driftdesk.errors import PolicyError
from driftdesk.gates.engine import breaches, fires, gate_values, run_lengths
from driftdesk.gates.metrics import gate_metric, metric_catalog, metric_components, metric_names
from driftdesk.gates.policy import Gate


def decisions(frame: pl.DataFrame) -> Dataset:
    return Dataset("<x>", {"decisions": table(frame, "decisions")})


def test_catalog_names_every_family():
    names = metric_names()
    for n in ("null_rate:<column>", "psi:<column>", "cpa", "cr", "ece", "latency_p99_ms", "timeout_rate",
              "share:<column>", "validator_failure_rate"):
        assert n in names
    assert all(m.doc for m in metric_catalog())
    assert gate_metric("ece_change").canonical == "ece_change"
    with pytest.raises(PolicyError, match="unknown metric"):
        gate_metric("moon_phase")


def test_null_rate_by_hand():
    frame = pl.DataFrame({
        "ts": [at(0), at(0.5), at(0.9), at(1), at(1.2), at(3)],
        "src": ["a", "a", "b", "a", "a", "b"],
        "x": [1.0, None, float("nan"), None, 2.0, 3.0],
        "score": [0.5] * 6,
    })
    s = metric_components(decisions(frame), "null_rate:x", by=("src",))
    assert s.segments == ("src=a", "src=b") and s.hours == 4 and s.start == T0
    # hour 0: a has 1 null of 2, b 1 (NaN) of 1; hour 1: a 1 of 2; hour 3: b 0 of 1
    np.testing.assert_array_equal(s.components[0, :, 0], [1, 1, 0, 0])
    np.testing.assert_array_equal(s.components[0, :, 1], [2, 2, 0, 0])
    np.testing.assert_array_equal(s.components[1, :, 0], [1, 0, 0, 0])
    np.testing.assert_array_equal(s.components[1, :, 1], [1, 0, 0, 1])
    level = s.level(s.components)
    assert level[0, 0] == 0.5 and np.isnan(level[0, 2])


def test_window_cpa_is_a_ratio_of_sums():
    spend = np.array([100.0, 300.0, 50.0, 0.0])
    conv = np.array([10.0, 10.0, 1.0, 0.0])
    s = metric_components(dataset(kpis=kpis_frame(spend, conv)), "cpa", by=())
    gv = gate_values(s, Gate(name="g", metric="cpa", threshold=1, window_hours=2, by=()))
    # windows ending at hour ends 2, 3, 4: (100+300)/20, (300+50)/11, 50/1 - never the mean of hourly CPAs
    assert not gv.valid[0, 0]  # at the first hour end the 2 h window is not full yet
    np.testing.assert_allclose(gv.values[0, 1:], [20.0, 350 / 11, 50.0])
    assert gv.times.astype("datetime64[us]").tolist() == [at(1), at(2), at(3), at(4)]


def test_share_sums_to_one_across_segments():
    rng = np.random.default_rng(1)
    spend = rng.uniform(0, 100, size=(3, 48))
    s = metric_components(dataset(kpis=kpis_frame(spend, np.ones((3, 48)))), "share:spend", by=("geo",))
    np.testing.assert_allclose(s.level(s.components).sum(axis=0), 1.0)
    with pytest.raises(PolicyError, match="needs by"):
        metric_components(dataset(kpis=kpis_frame(spend, np.ones((3, 48)))), "share:spend", by=())


def test_latency_is_request_weighted():
    frame = pl.DataFrame({"ts": [at(0), at(1)], "service": ["api", "api"], "requests": [100.0, 300.0],
                          "latency_p99_ms": [10.0, 50.0], "timeouts": [1.0, 0.0]})
    ds = Dataset("<x>", {"service": table(frame, "service")})
    gv = gate_values(metric_components(ds, "latency_p99_ms"), Gate(name="g", metric="latency_p99_ms", threshold=1,
                                                               window_hours=2))
    assert gv.values[0, -1] == pytest.approx((100 * 10 + 300 * 50) / 400)
    assert metric_components(ds, "timeout_rate").segments == ("service=api",)


def test_psi_of_a_category_against_a_hand_computation():
    # baseline day: 80 a, 20 b; current day: 50 a, 50 b
    rows = [("a", 0)] * 80 + [("b", 0)] * 20 + [("a", 47)] * 50 + [("b", 47)] * 50
    frame = pl.DataFrame({"ts": [at(h) for _, h in rows], "cat": [c for c, _ in rows],
                          "score": [0.5] * len(rows)})
    s = metric_components(decisions(frame), "psi:cat", by=())
    gv = gate_values(s, Gate(name="g", metric="psi:cat", threshold=0.1, comparison="day_over_day",
                             window_hours=24))
    expected = (0.5 - 0.8) * np.log(0.5 / 0.8) + (0.5 - 0.2) * np.log(0.5 / 0.2)
    assert gv.times[gv.valid[0]].astype("datetime64[us]").tolist() == [at(48)]
    assert gv.values[0][gv.valid[0]][0] == pytest.approx(expected)


def test_ece_equals_the_calibration_module():
    rng = np.random.default_rng(3)
    n = 4000
    score = rng.uniform(0, 1, n)
    label = (rng.uniform(0, 1, n) < score ** 1.5).astype(int)
    frame = pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 48 * 60, n)],
                          "score": score, "label": label, "geo": rng.choice(["x", "y"], n)})
    s = metric_components(decisions(frame), "ece", by=("geo",))
    total = s.components.sum(axis=1)
    for i, geo in enumerate(("x", "y")):
        ref = calibration_curve(frame.filter(pl.col("geo") == geo), bins=10).ece
        assert s.level(total[i]) == pytest.approx(ref, rel=1e-9)


def test_numeric_psi_waits_for_its_reference_week():
    rng = np.random.default_rng(0)
    n = 24 * 10 * 60
    x = rng.normal(size=n)
    x[24 * 9 * 60:] += 1.0  # day 9 shifts by one standard deviation
    frame = pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=i) for i in range(n)], "x": x, "score": rng.uniform(size=n)})
    s = metric_components(decisions(frame), "psi:x", by=())
    gv = gate_values(s, Gate(name="g", metric="psi:x", threshold=0.1, comparison="day_over_day", window_hours=24))
    t = gv.times.astype("datetime64[us]")
    assert t.min() == np.datetime64(at(168))
    same = gv.values[0][(t <= np.datetime64(at(24 * 9))) & gv.valid[0]]
    # same distribution: PSI of 10 bins on 1,440 rows a day is sampling noise, about 9 * 2 / 1440 = 0.0125
    assert same.size and np.max(same) < 0.05
    assert gv.values[0][t == np.datetime64(at(24 * 10))][0] > 0.5


# --------------------------------------------------------------------------- engine


def _runs_by_loop(mask: np.ndarray) -> np.ndarray:
    out = np.zeros(mask.shape, dtype=int)
    for idx in np.ndindex(mask.shape[:-1]):
        run = 0
        for j, m in enumerate(mask[idx]):
            run = run + 1 if m else 0
            out[idx + (j,)] = run
    return out


@settings(max_examples=80, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(0, 40))))
def test_run_lengths_equal_a_plain_loop(mask):
    np.testing.assert_array_equal(run_lengths(mask), _runs_by_loop(mask))


def test_fires_once_per_run():
    mask = np.array([1, 1, 1, 0, 1, 1, 0, 1], dtype=bool)
    assert np.nonzero(fires(mask, 2))[0].tolist() == [1, 5]
    assert np.nonzero(fires(mask, 1))[0].tolist() == [0, 4, 7]


def test_breach_directions():
    v = np.array([[-3.0, -1.0, 0.0, 2.0, np.nan]])
    ok = np.isfinite(v)
    assert breaches(v, ok, [1.5], "above")[0, 0].tolist() == [False, False, False, True, False]
    assert breaches(v, ok, [-1.5], "below")[0, 0].tolist() == [True, False, False, False, False]
    assert breaches(v, ok, [1.5], "either")[0, 0].tolist() == [True, False, False, True, False]
    assert breaches(v, ok, [0.5, 5.0], "above").shape == (2, 1, 5)


def test_daily_evaluation_runs_at_midnight():
    s = metric_components(dataset(kpis=kpis_frame(np.full(24 * 5, 100.0), np.full(24 * 5, 10.0))), "cpa", by=())
    gv = gate_values(s, Gate(name="g", metric="cpa", threshold=1, window_hours=24, every_hours=24))
    assert gv.times.astype("datetime64[us]").tolist() == [at(24 * d) for d in range(1, 6)]


def test_week_over_week_needs_a_week_and_a_window_of_history():
    s = metric_components(dataset(kpis=kpis_frame(np.full(24 * 10, 100.0), np.full(24 * 10, 10.0))), "cpa", by=())
    gv = gate_values(s, Gate(name="g", metric="cpa", threshold=1, window_hours=24, comparison="week_over_week"))
    first = gv.times[gv.valid[0]].astype("datetime64[us]").min()
    assert first == at(168 + 24)
    assert np.nanmax(np.abs(gv.values)) == 0.0


# --------------------------------------------------------------------------- seasonality flags


def test_seasonality_flag_parses_its_inner_metric():
    spec = gate_metric("seasonality_flag:null_rate:ctr_7d")
    assert spec.canonical == "seasonality_flag:null_rate:ctr_7d" and spec.table is None
    with pytest.raises(PolicyError, match="needs a level metric"):
        gate_metric("seasonality_flag:psi:geo")
    with pytest.raises(PolicyError, match="unknown metric"):
        gate_metric("seasonality_flag:moon")


def test_seasonality_flag_catches_the_de_cpa_shift(sample_dataset):
    s = metric_components(sample_dataset, "seasonality_flag:cpa", by=("geo",))
    flagged = s.components[..., 0].sum(axis=1)
    de = s.segments.index("geo=DE")
    hours = np.nonzero(s.components[de, :, 0])[0]
    first = s.start + dt.timedelta(hours=int(hours.min()))
    # INC-c: DE CPA +15% once v2.0 takes all traffic on 2026-10-07
    assert dt.datetime(2026, 10, 5) <= first <= dt.datetime(2026, 10, 12)
    assert flagged[s.segments.index("geo=US")] == 0  # Labor Day and paydays are calendar, not drift


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(24 * 15, 24 * 24))
def test_seasonality_flag_is_causal(seed, cut_hour):
    rng = np.random.default_rng(seed)
    hours = 24 * 28
    cycle = 1 + 0.3 * np.sin(np.arange(hours) / 24 * 2 * np.pi)
    conv = rng.poisson(50 * cycle).astype(float)
    spend = conv * 10 * (1 + (np.arange(hours) > 24 * 20) * 0.4) * rng.lognormal(0, 0.05, hours)
    frame = kpis_frame(spend, conv)
    gate = Gate(name="g", metric="seasonality_flag:cpa", threshold=0.5, window_hours=1, by=())
    cut = at(cut_hour)
    full = gate_values(metric_components(dataset(kpis=frame), gate.metric, by=()), gate)
    short = gate_values(metric_components(dataset(kpis=frame.filter(pl.col("ts") < cut)), gate.metric, by=()), gate)
    n = short.times.size
    keep = full.times[:n] <= np.datetime64(cut, "us")
    np.testing.assert_array_equal(full.values[:, :n][:, keep], short.values[:, keep])


# --------------------------------------------------------------------------- edge cases


def test_one_row_history_gives_no_alert_and_no_crash():
    from driftdesk.gates import backtest_policy
    from driftdesk.gates.policy import Policy

    one = kpis_frame(np.array([100.0]), np.array([10.0]))
    for comparison in ("absolute", "day_over_day", "trailing"):
        gate = Gate(name="g", metric="cpa", threshold=0.0, comparison=comparison, window_hours=1, by=())
        r = backtest_policy(dataset(kpis=one), Policy(gates=(gate,)), incidents=pl.DataFrame())
        assert r.alerts.height == (1 if comparison == "absolute" else 0)


def test_all_null_and_constant_columns():
    n = 24 * 9
    frame = pl.DataFrame({"ts": [at(h) for h in range(n)], "x": [None] * n, "c": [3.0] * n,
                          "score": [0.5] * n}, schema_overrides={"x": pl.Float64})
    ds = decisions(frame)
    nulls = metric_components(ds, "null_rate:x", by=())
    assert np.all(nulls.level(nulls.components) == 1.0)
    gv = gate_values(metric_components(ds, "psi:c", by=()), Gate(name="g", metric="psi:c", threshold=0.1,
                                                             comparison="day_over_day", window_hours=24))
    assert gv.valid.any() and np.nanmax(gv.values) == 0.0
    with pytest.raises(PolicyError, match="no finite values"):
        metric_components(ds, "psi:x", by=())


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 50)),
              elements=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(1e308))),
       st.floats(-1e308, 1e308), st.integers(1, 4))
def test_breaches_never_fire_on_undefined_values(values, threshold, k):
    valid = np.isfinite(values)
    for direction in ("above", "below", "either"):
        f = fires(breaches(values, valid, [threshold], direction)[0], k)
        assert not (f & ~valid).any()


def test_an_old_metric_name_gives_exactly_the_same_components():
    rng = np.random.default_rng(4)
    n = 500
    calls = pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 48 * 60, n)],
                          "feature": rng.choice(["a", "b"], n), "output_tokens": rng.integers(10, 900, n),
                          "model": ["m"] * n})
    ds = Dataset("<x>", {"llm_calls": table(calls, "llm_calls")})
    new = metric_components(ds, "tokens_out_mean")
    old = metric_components(ds, "output_tokens_mean")
    assert old.metric.canonical == "tokens_out_mean" and old.metric.note and not new.metric.note
    np.testing.assert_array_equal(old.components, new.components)
    assert old.segments == new.segments == ("feature=a", "feature=b")
    hourly = calls.group_by(pl.col("ts").dt.truncate("1h"), "feature").agg(pl.col("output_tokens").mean())
    one = hourly.sort("ts", "feature").row(0, named=True)
    i = 0 if one["feature"] == "a" else 1
    t = int((one["ts"] - T0) // dt.timedelta(hours=1))
    assert new.level(new.components[i, t]) == pytest.approx(one["output_tokens"])


def test_gates_read_the_registry_and_refuse_what_they_cannot_replay():
    assert gate_metric("latency_p99_ms").table == "service"  # the LLM calls' p99 is a percentile, not replayable
    assert gate_metric("llm_error_rate").table == "llm_calls" and gate_metric("error_rate").table == "service"
    for name in ("score_mean", "tokens_in_mean", "judge_score_mean"):
        assert name in metric_names()
    assert gate_metric("latency_p50_ms").table == "service"
    with pytest.raises(PolicyError, match="cannot replay"):
        gate_metric("ttft_p50_ms")  # a percentile of the LLM calls' rows
    with pytest.raises(PolicyError, match="already compares two windows"):
        gate_metric("psi_change:geo")
    with pytest.raises(PolicyError, match="takes no column"):
        gate_metric("cpa:spend")
