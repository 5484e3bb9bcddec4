"""Counts finer than the model's hour: modelled on Anscombe's square-root scale, hours of points judged together,
and what is decided about a series decided on its warm-up only."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from seasonality_helpers import assert_no_look_ahead

from driftdesk.seasonality import DetectConfig, detect
from driftdesk.seasonality.scales import from_working, is_counts, relative_change, to_working

T0 = dt.datetime(2026, 3, 2)
PER_DAY = 288  # 5-minute points


def _counts(days: int, rate: float, seed: int = 0) -> np.ndarray:
    """5-minute Poisson counts with a daily cycle."""
    t = np.arange(days * PER_DAY) / PER_DAY
    return np.random.default_rng(seed).poisson(rate * (1 + 0.5 * np.sin(2 * np.pi * t))).astype(float)


def _frame(values: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=5 * i) for i in range(len(values))], "value": values})


@pytest.mark.parametrize("lam", [10.0, 50.0, 1000.0])
def test_the_square_root_scale_gives_poisson_noise_a_width_of_one_half(lam):
    y = np.arange(int(lam + 12 * np.sqrt(lam) + 20))
    p = stats.poisson.pmf(y, lam)  # the exact distribution, not a simulation
    w = to_working(y.astype(float), "sqrt")
    var = float(np.sum(p * w ** 2) - np.sum(p * w) ** 2)
    assert var == pytest.approx(0.25, abs=0.01)


@given(st.lists(st.floats(0, 1e9), min_size=1, max_size=20), st.sampled_from(["log", "sqrt", "linear"]))
def test_the_working_scale_goes_back_to_the_values(values, scale):
    x = np.array(values)
    np.testing.assert_allclose(from_working(to_working(x, scale, 1.0), scale, 1.0), x, rtol=1e-9, atol=1e-6)


def test_relative_change_is_measured_on_the_series_own_scale():
    assert relative_change(np.sqrt(100.375), np.sqrt(150.375), "sqrt") == pytest.approx(0.5)
    assert relative_change(np.log(100.0), np.log(80.0), "log") == pytest.approx(-0.2)
    assert relative_change(100.0, 130.0, "linear") == pytest.approx(0.3)


@pytest.mark.parametrize(("values", "expected"), [([0, 3, 7], True), ([0, 3.5], False), ([-1, 2], False),
                                                  ([np.nan, np.nan], False), ([], False), ([4, np.nan, 2], True)])
def test_counts_are_non_negative_whole_numbers(values, expected):
    assert is_counts(np.array(values, dtype=float)) is expected


def test_five_minute_counts_are_modelled_on_square_roots_and_say_so():
    v = detect(_frame(_counts(9, 30)), causal=True).verdicts.row(0, named=True)
    assert "of counts, on their square roots" in v["verdict"]
    v = detect(_frame(_counts(9, 30) + 0.5), causal=True).verdicts.row(0, named=True)
    assert "square roots" not in v["verdict"]


def test_whole_numbers_declared_not_counts_are_judged_as_a_measurement():
    # latency in whole milliseconds looks like counts; declared not counts, it is modelled on logs, where a change
    # of unit is a constant: the same scores and flags as the same series in a unit that is not whole
    y = np.round(np.exp(np.log(150) + 0.3 * np.sin(2 * np.pi * np.arange(10 * PER_DAY) / PER_DAY)
                        + np.random.default_rng(4).normal(0, 0.25, 10 * PER_DAY)))
    declared = detect(_frame(y), causal=True, config=DetectConfig(counts=False))
    rescaled = detect(_frame(y * 1.001), causal=True)  # not whole: "auto" finds no counts
    assert "square roots" not in declared.verdicts["verdict"][0]
    assert "of counts" in detect(_frame(y), causal=True).verdicts["verdict"][0]
    np.testing.assert_allclose(declared.points["score"].to_numpy(), rescaled.points["score"].to_numpy(),
                               rtol=1e-6, atol=1e-6)
    assert declared.points["flag"].to_list() == rescaled.points["flag"].to_list()
    assert declared.to_dict()["config"]["counts"] is False


def test_counts_can_be_declared_for_values_that_are_not_whole():
    v = detect(_frame(_counts(9, 30) + 0.5), causal=True, config=DetectConfig(counts=True)).verdicts
    assert "of counts, on their square roots" in v["verdict"][0]


def test_a_burst_spread_over_an_hour_is_one_anomaly_at_its_end():
    y = _counts(18, 50, seed=2)
    hour = 16 * PER_DAY + 14 * 12  # 14:00 on day 16
    rng = np.random.default_rng(9)
    y[hour:hour + 12] = rng.poisson(50 * 1.5 * (1 + 0.5 * np.sin(2 * np.pi * (hour + np.arange(12)) / PER_DAY)))
    points = detect(_frame(y), causal=True).points
    flags = points["flag"].to_numpy()
    scores = np.abs(points["score"].to_numpy())
    assert np.nanmax(scores[hour:hour + 12]) < 5  # no point of it would be an anomaly alone
    assert flags[hour + 11] == "anomaly"  # the hour taken together is, once it is complete
    assert (flags[hour:hour + 11] == "normal").all()


def test_a_level_shift_of_counts_is_sized_on_the_counts_scale():
    y = _counts(21, 40, seed=4)
    start = 17 * PER_DAY
    t = np.arange(start, 21 * PER_DAY) / PER_DAY
    y[start:] = np.random.default_rng(5).poisson(60 * (1 + 0.5 * np.sin(2 * np.pi * t)))
    events = detect(_frame(y), causal=True).events.filter(pl.col("kind") == "level_shift")
    assert events.height >= 1
    first = events.row(0, named=True)
    assert first["direction"] == "up"
    assert first["magnitude"] == pytest.approx(0.5, abs=0.1)


def test_a_later_fraction_does_not_change_how_earlier_counts_were_judged():
    y = _counts(10, 30, seed=6)
    later = y.copy()
    later[-1] = 2.5  # the last value is no count: the series was already judged as counts on its warm-up
    a = detect(_frame(y), causal=True).points
    b = detect(_frame(later), causal=True).points
    n = len(y) - 12  # every complete hour before the changed one
    assert a["flag"][:n].to_list() == b["flag"][:n].to_list()
    np.testing.assert_allclose(a["score"][:n].fill_null(np.nan).to_numpy(), b["score"][:n].fill_null(np.nan).to_numpy())


def _jittered_counts(days: int, rate: float, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """5-minute Poisson counts (a daily cycle around ``rate``) stamped up to 1.5 minutes off their step, with 2% of
    the rows exported twice: duplicates combined by mean, jitter regridded, both making fractions of counts."""
    y = _counts(days, rate, seed)
    rng = np.random.default_rng(seed + 100)
    minutes = np.arange(y.size) * 5.0 + rng.uniform(-1.5, 1.5, y.size)
    frame = pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=float(m)) for m in minutes], "value": y})
    return pl.concat([frame, frame.sample(fraction=0.02, seed=seed)]), y


def test_counts_are_judged_on_the_rows_before_they_are_combined():
    from driftdesk.seasonality.grid import to_grid

    ts = np.array(["2026-03-02T00:00", "2026-03-02T00:00", "2026-03-02T01:00"], dtype="datetime64[us]")

    def grid(values, rule="mean"):
        return to_grid(ts, np.array(values, dtype=float), ts="ts", source="t", duplicates=rule)

    assert grid([3, 4, 5]).values.tolist() == [3.5, 5.0]  # by hand: the mean of 3 and 4
    assert grid([3, 4, 5]).holds_counts(2)  # 3.5 is the mean of two counts
    assert not grid([3, 4.5, 5], "first").holds_counts(2)  # the row "first" leaves out is no count
    assert not grid([3, -1, 5], "last").holds_counts(2)
    assert grid([3, 4, 5], "sum").values.tolist() == [7.0, 5.0]  # an explicit rule is kept
    assert not grid([np.nan, np.nan, 5]).holds_counts(1)  # no value in the first step: nothing to judge


@pytest.mark.parametrize("seed", [0, 1])
def test_small_counts_combined_by_mean_stay_counts_and_a_zero_is_no_minus_100_percent_anomaly(seed):
    frame, y = _jittered_counts(28, 3.0, seed)
    result = detect(frame, causal=True)
    v = result.verdicts.row(0, named=True)
    assert "of counts, on their square roots" in v["verdict"]
    assert "judged as counts on its rows before they were combined (whole numbers): the mean of" in v["verdict"]
    assert v["duplicate_rows"] > 0 and v["regridded"]
    points = result.points
    zeros = points.filter(pl.col("value") == 0)
    assert zeros.height > 100  # mean ~3 at 5 minutes: zeros are common, and none is an anomaly
    assert zeros["flag"].to_list() == ["normal"] * zeros.height
    anomalies = result.events.filter(pl.col("kind") == "anomaly")
    assert anomalies.filter(pl.col("magnitude") <= -0.99).height == 0


def test_counts_with_duplicates_summed_on_request_stay_counts():
    frame, _ = _jittered_counts(9, 3.0, 2)
    v = detect(frame, causal=True, duplicates="sum").verdicts.row(0, named=True)
    assert "of counts, on their square roots" in v["verdict"]
    assert "combined (sum)" in v["verdict"] and "the sum of a step's counts is still a count" in v["verdict"]


def test_a_measurement_with_decimals_is_not_counts_however_it_is_combined():
    """Latency in milliseconds with decimals, duplicated and jittered: judged as it was, a measurement on logs
    (the same bits as saying counts=False), with no word about counts."""
    frame, _ = _jittered_counts(10, 3.0, 3)
    rng = np.random.default_rng(8)
    latency = frame.with_columns(value=pl.Series(np.round(np.exp(rng.normal(np.log(120), 0.2, frame.height)), 1)))
    auto = detect(latency, causal=True)
    declared = detect(latency, causal=True, config=DetectConfig(counts=False))
    assert "counts" not in auto.verdicts["verdict"][0]
    np.testing.assert_array_equal(auto.points["score"].fill_null(np.nan).to_numpy(),
                                  declared.points["score"].fill_null(np.nan).to_numpy())
    assert auto.points["flag"].to_list() == declared.points["flag"].to_list()


@settings(max_examples=3, deadline=None)
@given(cut=st.floats(0.3, 0.95))
def test_jittered_counts_never_look_ahead(cut):
    frame, _ = _jittered_counts(10, 3.0, 4)
    assert_no_look_ahead(frame, cut)
