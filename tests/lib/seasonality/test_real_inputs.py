"""Real monitoring series as they come: repeated timestamps, jittered steps, gaps, short histories, constant
stretches, 5-minute data, and the bad input around them. Each gets a verdict or a clear message, and the causal
mode never looks ahead on any of them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seasonality_helpers import assert_no_look_ahead

from driftdesk.seasonality import SeasonalityError, detect
from driftdesk.seasonality.grid import to_grid

T0 = dt.datetime(2026, 3, 2)


def _cycle(n: int, step_minutes: float, seed: int = 0, noise: float = 0.03) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hours = np.arange(n) * step_minutes / 60
    return 100 * (1 + 0.3 * np.sin(2 * np.pi * hours / 24)) * np.exp(rng.normal(0, noise, n))


def _frame(minutes: np.ndarray, values: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=float(m)) for m in minutes], "value": values})


def _hourly(n: int, seed: int = 0) -> pl.DataFrame:
    return _frame(np.arange(n) * 60.0, _cycle(n, 60, seed))


def kinds() -> dict[str, pl.DataFrame]:
    """One series of each kind real data comes in."""
    rng = np.random.default_rng(3)
    dup = _hourly(24 * 10)
    dst = pl.concat([dup, dup.filter(pl.col("ts") == T0 + dt.timedelta(days=5, hours=2))])  # a repeated hour
    jitter_min = np.arange(12 * 24 * 6) * 5.0 + rng.uniform(-1.5, 1.5, 12 * 24 * 6)
    gaps = _hourly(24 * 20).filter(~pl.col("ts").is_between(T0 + dt.timedelta(days=9), T0 + dt.timedelta(days=11)))
    constant = _hourly(24 * 10).with_columns(pl.when(pl.int_range(pl.len()).is_between(100, 160)).then(100.0)
                                             .otherwise(pl.col("value")).alias("value"))
    return {
        "duplicates": dst,
        "jittered": _frame(jitter_min, _cycle(len(jitter_min), 5)),
        "gaps": gaps,
        "four_days": _hourly(24 * 4),
        "constant_stretch": constant,
        "five_minute": _frame(np.arange(12 * 24 * 9) * 5.0, _cycle(12 * 24 * 9, 5)),
        "five_minute_counts": _frame(np.arange(12 * 24 * 9) * 5.0, rng.poisson(_cycle(12 * 24 * 9, 5) / 4).astype(float)),
        "out_of_order": _hourly(24 * 6).sample(fraction=1.0, shuffle=True, seed=1),
    }


@pytest.mark.parametrize("kind", list(kinds()))
@pytest.mark.parametrize("causal", [False, True])
def test_every_kind_of_real_series_gets_a_verdict(kind, causal):
    frame = kinds()[kind]
    result = detect(frame, causal=causal)
    v = result.verdicts.row(0, named=True)
    assert v["status"] in ("seasonal", "anomaly", "drift", "data_break"), v
    assert result.points.height == frame.height  # one point per input row
    assert set(result.points["flag"].unique()) <= {"normal", "anomaly", "drift"}


def test_duplicates_are_combined_by_the_rule_asked_for_and_counted():
    ts = [T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)]
    frame = pl.concat([_hourly(24 * 3), pl.DataFrame({"ts": ts[1:3], "value": [10.0, 30.0]})])
    for rule, expected in (("mean", None), ("sum", None), ("first", None), ("last", 30.0)):
        result = detect(frame, duplicates=rule)
        assert result.verdicts["duplicate_rows"][0] == 2
        assert f"combined ({rule})" in result.notes[0]
        if expected is not None:  # the step's value is the last row's: its residual to the trend is its own
            row = result.points.filter(pl.col("ts") == ts[1]).tail(1).row(0, named=True)
            assert row["value"] == expected
    with pytest.raises(SeasonalityError, match="duplicates="):
        detect(frame, duplicates="median")


def test_jittered_five_minute_sensors_are_regridded_with_counts():
    result = detect(kinds()["jittered"])
    v = result.verdicts.row(0, named=True)
    assert v["regridded"] and v["step_seconds"] == 300 and v["model_step_seconds"] == 3600
    assert "irregular spacing put on a regular grid (every 5 minutes;" in result.notes[0]
    with pytest.raises(SeasonalityError, match="irregular spacing"):
        detect(kinds()["jittered"], strict=True)


def test_a_four_day_history_uses_the_daily_period_and_says_so():
    result = detect(kinds()["four_days"], causal=True)
    assert result.verdicts["periods"][0] == "24, 168"
    assert result.verdicts["live_from"][0] == T0 + dt.timedelta(days=2)
    assert result.points.filter(pl.col("ts") >= T0 + dt.timedelta(days=2))["score"].is_not_null().all()
    batch = detect(kinds()["four_days"])
    assert batch.verdicts["periods"][0] == "24" and "weekly seasonality not separated" in batch.verdict()


def test_a_series_still_warming_up_says_until_when():
    result = detect(_hourly(30), causal=True)
    assert "warming up until 4 Mar 00:00: no flags yet" in result.verdict()
    assert (result.points["flag"] == "normal").all()


def test_a_short_series_without_a_period_is_judged_against_a_robust_level():
    values = np.r_[np.full(20, 10.0) + np.random.default_rng(0).normal(0, 0.1, 20), 25.0]
    result = detect(_frame(np.arange(21) * 60.0, values))
    assert "judged against a robust level" in result.verdict()
    assert result.points["flag"][-1] == "anomaly"


@pytest.mark.parametrize("frame,words", [
    (_hourly(5), "fewer than 8 values"),
    (pl.DataFrame({"ts": [T0 + dt.timedelta(hours=h) for h in range(50)], "value": [None] * 50},
                  schema={"ts": pl.Datetime("us"), "value": pl.Float64}), "no values"),
    (pl.DataFrame({"ts": [T0] * 6, "value": np.arange(6.0)}), "all 6 rows share one timestamp"),
])
def test_hopeless_series_get_a_verdict_that_says_why(frame, words):
    result = detect(frame, causal=True)
    assert result.verdicts["status"][0] in ("too_short", "empty") and words in result.verdict()


def test_steps_that_vary_by_orders_of_magnitude_get_a_coarser_grid_not_a_hang():
    minutes = np.r_[np.arange(200) * 1.0, 200 + np.arange(1, 60) * 60 * 24 * 3]  # a minute, then 3-day steps
    result = detect(_frame(minutes, np.random.default_rng(0).normal(10, 1, len(minutes))))
    assert result.verdicts["regridded"][0]
    assert result.points.height == len(minutes)
    with pytest.raises(SeasonalityError, match="orders of magnitude"):
        detect(_frame(minutes, np.ones(len(minutes)) + np.arange(len(minutes))), strict=True)


def test_a_twenty_thousand_point_five_minute_series_is_quick_and_judged():
    import time

    n = 20_000
    values = _cycle(n, 5, seed=4)
    values[15_000:] *= 1.3  # a level shift late in the series
    frame = _frame(np.arange(n) * 5.0, values)
    for causal in (True, False):
        start = time.perf_counter()
        result = detect(frame, causal=causal)
        assert time.perf_counter() - start < 60  # generous: a shared test machine (the benchmark measures it)
        assert result.verdicts["status"][0] == "drift"
        shift = result.events.filter(pl.col("kind") == "level_shift").row(0, named=True)
        assert abs(shift["start"] - (T0 + dt.timedelta(minutes=5 * 15_000))) <= dt.timedelta(hours=6)


def test_a_runaway_series_raises_episodes_within_the_budget():
    rng = np.random.default_rng(2)
    values = _cycle(24 * 42, 60, seed=2)
    spikes = rng.choice(np.arange(24 * 15, 24 * 42), 200, replace=False)
    values[spikes] *= 3.0  # misbehaving all the time
    result = detect(_hourly(24 * 42).with_columns(pl.Series("value", values)), causal=True)
    v = result.verdicts.row(0, named=True)
    flags = result.points.sort("ts")["flag"].to_numpy()
    abnormal = flags != "normal"
    alerts = int((abnormal & ~np.r_[False, abnormal[:-1]]).sum())
    assert alerts == v["alerts"] <= 7 * 4  # at most the budget in each of the 4 weeks after the warm-up
    assert v["suppressed_alerts"] > 0 or v["episodes"] < 200


@pytest.mark.parametrize("kind", list(kinds()))
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.floats(0.3, 0.95))
def test_causal_flags_never_look_ahead(kind, cut):
    assert_no_look_ahead(kinds()[kind], cut)


def test_a_regridded_step_is_shown_only_once_it_is_complete():
    """Two jittered rows inside one 5-minute step: cut between them, the first row shows what it shows with the
    second one there (the step's value, which takes in both, is known at the step's end, not at its first row)."""
    frame = kinds()["jittered"].sort("ts")
    minutes = ((frame["ts"] - T0).dt.total_microseconds() / 60e6).to_numpy()
    shared = np.flatnonzero((minutes[:-1] // 5 == minutes[1:] // 5) & (minutes[:-1] % 5 > 0))
    full = detect(frame, causal=True).points.sort("ts")
    assert full["score"].is_not_null().sum() > frame.height // 4
    for i in shared[[len(shared) // 2, -2]]:
        part = detect(frame.head(int(i) + 1), causal=True).points.sort("ts")
        a = full.head(int(i) + 1)
        assert a["flag"].to_list() == part["flag"].to_list()
        np.testing.assert_allclose(a["score"].fill_null(np.nan).to_numpy(), part["score"].fill_null(np.nan).to_numpy(),
                                   rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def five_minute_changes() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Four weeks of 5-minute points: a level shift of +50% from day 16 at 12:00, noise x4 from day 22."""
    n, day = 288 * 28, 288
    values = _cycle(n, 5, seed=5)
    values[day * 16 + 144:] *= 1.5
    values[day * 22:] *= np.exp(np.random.default_rng(9).normal(0, 0.12, n - day * 22))
    frame = _frame(np.arange(n) * 5.0, values)
    return frame, detect(frame, causal=True).events


@pytest.mark.parametrize("kind", ["level_shift", "variance_change"])
def test_five_minute_events_are_detected_when_their_hour_is_over(five_minute_changes, kind):
    """An hour's mean is known at its last point (minute 55 here), so is anything the hourly model calls on it:
    with the rows up to that point the event is there, detected then; with the rows before it, not."""
    frame, events = five_minute_changes
    event = events.filter(pl.col("kind") == kind).row(0, named=True)
    at = event["detected_at"]
    assert at.minute == 55 and at >= event["start"] + dt.timedelta(minutes=55)
    if kind == "level_shift":  # the change starts at 12:00 on day 16: its hour is over at 12:55
        assert event["start"] == T0 + dt.timedelta(days=16, hours=12)
        first_drift = detect(frame, causal=True).points.filter(pl.col("flag") == "drift")["ts"].min()
        assert first_drift == at
    known = detect(frame.filter(pl.col("ts") <= at), causal=True).events.filter(pl.col("kind") == kind)
    assert known.height and known["detected_at"][0] == at and known["start"][0] == event["start"]
    before = detect(frame.filter(pl.col("ts") < at), causal=True).events.filter(pl.col("kind") == kind)
    assert before.filter(pl.col("start") == event["start"]).is_empty()


def test_a_regridded_step_is_stamped_at_its_end_and_holds_the_rows_since_the_step_before():
    minutes = np.array([1.0, 4.0, 9.0, 14.0, 18.0, 23.0, 26.0, 31.0, 35.0, 36.0])  # about every 5 minutes
    values = np.arange(len(minutes), dtype=float)
    stamps = np.datetime64(T0, "us") + (minutes * 60e6).astype("timedelta64[us]")
    grid = to_grid(stamps, values, ts="ts", source="test")
    assert grid.notes.regridded and grid.step == dt.timedelta(minutes=5)
    assert grid.start == T0 + dt.timedelta(minutes=5)  # the first step ends at 00:05 and holds 00:01 and 00:04
    assert grid.row_pos.tolist() == [0, 0, 1, 2, 3, 4, 5, 6, 6, 7]  # 00:35 ends its step, 00:31 shares it
    assert grid.known_positions().tolist() == [-1, -1, 0, 1, 2, 3, 4, 5, 6, 6]  # complete at each row's time
    np.testing.assert_allclose(grid.values, [0.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.5, 9.0])
