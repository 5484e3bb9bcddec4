"""Scores, flags and events: against hand computations and on series whose truth we built."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from seasonality_helpers import T0, hourly, seasonal_series

from driftdesk.seasonality import DetectConfig, causal_flags, detect
from driftdesk.seasonality.batch import robust_z
from driftdesk.seasonality.rowstats import (
    block_means,
    fill_rows,
    mad_rows,
    mad_rows_of,
    median_1d,
    nanmedian_rows,
    nanmedian_rows_of,
    vif_rows,
)


def test_robust_z_matches_a_hand_computation():
    resid = np.array([[1.0, 2.0, 3.0, 4.0, 100.0, -2.0, 0.5]])
    clean = np.ones_like(resid, dtype=bool)
    med = 2.0  # median of -2, 0.5, 1, 2, 3, 4, 100
    mad = 1.4826022185056018 * 1.5  # |dev| sorted 0, 1, 1, 1.5, 2, 4, 98 -> median 1.5
    assert mad == pytest.approx(stats.median_abs_deviation(resid[0], scale="normal"))
    np.testing.assert_allclose(robust_z(resid, clean)[0], (resid[0] - med) / mad)
    # points that are not clean (calendar, missing) do not enter the median or the MAD
    clean[0, 4] = False
    kept = np.delete(resid[0], 4)
    expect = (resid[0] - np.median(kept)) / stats.median_abs_deviation(kept, scale="normal")
    np.testing.assert_allclose(robust_z(resid, clean)[0], expect)


def test_row_median_and_mad_match_numpy_and_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20, 33))
    a[a > 1.2] = np.nan
    np.testing.assert_allclose(nanmedian_rows(a), np.array([np.median(r[np.isfinite(r)]) for r in a]))
    np.testing.assert_allclose(mad_rows(a), [stats.median_abs_deviation(r[np.isfinite(r)], scale="normal") for r in a])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), shapes=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 40)), min_size=1,
                                                    max_size=5), holes=st.floats(0.0, 1.0), rounded=st.booleans())
def test_medians_and_spreads_of_several_arrays_at_once_are_numpys_and_scipys(seed, shapes, holes, rounded):
    """The refit's batched row statistics, each row against numpy's median and scipy's MAD of its finite values
    (exactly: the same middle values, the same arithmetic), rows without any finite value NaN."""
    rng = np.random.default_rng(seed)
    arrays = []
    for m, n in shapes:
        a = rng.standard_t(3, (m, n)) * 10.0
        a = np.round(a, 0) if rounded else a  # ties
        a[rng.random((m, n)) < holes] = np.nan
        a[rng.random((m, n)) < 0.05] = np.inf
        arrays.append(a)

    def finite(row):
        return row[np.isfinite(row)]

    for a, med, mad in zip(arrays, nanmedian_rows_of(arrays), mad_rows_of(arrays), strict=True):
        assert med.shape == mad.shape == (a.shape[0],)
        for row, got, got_mad in zip(a, med, mad):
            r = finite(row)
            if r.size == 0:
                assert np.isnan(got) and np.isnan(got_mad)
                continue
            assert got == np.median(r)
            assert got_mad == pytest.approx(stats.median_abs_deviation(r, scale="normal"), rel=1e-12, abs=0)
            assert got_mad == 1.482602218505602 * np.median(np.abs(r - np.median(r)))
        np.testing.assert_array_equal(med, nanmedian_rows(a))
        np.testing.assert_array_equal(mad, mad_rows(a))
    assert nanmedian_rows_of([]) == [] and mad_rows_of([]) == []
    for a in arrays:
        if np.isfinite(a).any():
            assert median_1d(finite(a.ravel())) == float(np.median(finite(a.ravel())))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 6), n=st.integers(1, 30), holes=st.floats(0.0, 1.0))
def test_fill_rows_is_a_forward_then_backward_fill_by_hand(seed, m, n, holes):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(m, n))
    a[rng.random((m, n)) < holes] = np.nan
    a[rng.integers(m)] = np.nan  # a row without any value stays empty
    expect = a.copy()
    for row in expect:
        for j in range(1, n):
            if np.isnan(row[j]):
                row[j] = row[j - 1]
        for j in range(n - 2, -1, -1):
            if np.isnan(row[j]):
                row[j] = row[j + 1]
    before = a.copy()
    np.testing.assert_array_equal(fill_rows(a), expect)
    np.testing.assert_array_equal(a, before)  # the input is left as it was


def test_block_means_and_the_variance_inflation_by_hand():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(3, 50))
    a[0, :9] = np.nan  # the first whole block (from the end) keeps 3 of its 12 values: below half, no mean
    a[1, 40:46] = np.nan  # exactly half: a mean of the other six
    means = block_means(a, 12)
    whole = a[:, 2:].reshape(3, 4, 12)  # four whole blocks, counted from the end
    for i in range(3):
        for j in range(4):
            vals = whole[i, j][np.isfinite(whole[i, j])]
            if vals.size >= 6:
                assert means[i, j] == pytest.approx(vals.mean(), rel=1e-14)
            else:
                assert np.isnan(means[i, j])
    assert block_means(a[:, :35], 12) is None and block_means(a, 1) is None
    mad = lambda x: stats.median_abs_deviation(x[np.isfinite(x)], scale="normal")  # noqa: E731
    expect = [12 * (mad(means[i]) / mad(a[i])) ** 2 for i in range(3)]
    np.testing.assert_allclose(vif_rows(a, 12), expect, rtol=1e-12)
    np.testing.assert_allclose(vif_rows(a, 12, standardised=True), [12 * mad(means[i]) ** 2 for i in range(3)],
                               rtol=1e-12)
    np.testing.assert_array_equal(vif_rows(a[:, :35], 12), np.ones(3))


@pytest.mark.parametrize("causal", [False, True])
def test_seasonality_alone_is_not_drift(causal):
    frame = pl.concat([hourly(seasonal_series(42, seed=s), seed=s) for s in range(6)])
    result = detect(frame, by="seed", causal=causal)
    assert result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"])).height == 0
    assert (result.points["flag"] == "drift").sum() == 0


def test_a_ten_percent_level_shift_is_drift_within_a_day_and_dated():
    values = seasonal_series(42, seed=3)
    shift_at = 24 * 30 + 9
    values[shift_at:] *= 1.10
    result = detect(hourly(values), causal=True)
    drifts = result.events.filter(pl.col("kind") == "level_shift")
    assert drifts.height == 1
    ev = drifts.row(0, named=True)
    start = T0 + dt.timedelta(hours=shift_at)
    assert ev["direction"] == "up"
    assert ev["magnitude"] == pytest.approx(0.10, abs=0.03)
    assert dt.timedelta(0) <= ev["detected_at"] - start <= dt.timedelta(hours=24)
    assert abs(ev["start"] - start) <= dt.timedelta(hours=12)
    assert result.verdict().startswith(f"level shift of +{round(ev['magnitude'] * 100)}% since {start.day} Apr")
    # one alert: the flags leave normal once and come back
    flags = result.points["flag"].to_numpy()
    runs = np.flatnonzero(np.diff((flags != "normal").astype(int)) == 1)
    assert len(runs) == 1


def _drift_alerts(flags: np.ndarray) -> int:
    """Runs of drift flags: what a gate on the causal flags would fire."""
    drift = (flags == "drift").astype(int)
    return int((np.diff(np.concatenate([[0], drift])) == 1).sum())


def test_a_dip_that_comes_back_is_one_alarm_and_the_return_is_no_drift():
    values = seasonal_series(42, seed=5)
    dip_at, back_at = 24 * 30 + 6, 24 * 32 + 6
    values[dip_at:back_at] *= 0.85
    result = detect(hourly(values), causal=True)
    assert _drift_alerts(result.points["flag"].to_numpy()) == 1
    drifts = result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"]))
    assert drifts.height == 1
    ev = drifts.row(0, named=True)
    dip, back = T0 + dt.timedelta(hours=dip_at), T0 + dt.timedelta(hours=back_at)
    assert ev["direction"] == "down" and ev["magnitude"] == pytest.approx(-0.15, abs=0.03)
    assert abs(ev["end"] - back) <= dt.timedelta(hours=12)  # the episode ends where the level came back
    assert f"back by {back.day} Apr" in result.verdict()
    # the batch view marks the episode as drift from its start to its end, and not after
    batch = detect(hourly(values))
    ts = batch.points["ts"].to_numpy()
    drift = batch.points["flag"].to_numpy() == "drift"
    assert drift[(ts >= np.datetime64(dip + dt.timedelta(hours=12))) & (ts < np.datetime64(back - dt.timedelta(hours=12)))].all()
    assert not drift[ts >= np.datetime64(back + dt.timedelta(hours=12))].any()
    # and its edges are no anomalies: the hours the scan judged against a stale level belong to the episode or
    # to the level it came back to, and the step is taken out of the decomposition only while it lasted
    assert batch.events.filter(pl.col("kind") == "anomaly").height == 0
    assert batch.verdict().startswith("level shift of -1") and "anomaly" not in batch.verdict()


def test_a_move_past_the_old_level_is_a_new_alarm_not_a_recovery():
    values = seasonal_series(42, seed=5)
    dip_at, up_at = 24 * 30 + 6, 24 * 32 + 6
    values[dip_at:] *= 0.85
    values[up_at:] *= 1.4  # ends 19% above where it started: a change of its own
    result = detect(hourly(values), causal=True)
    assert _drift_alerts(result.points["flag"].to_numpy()) == 2
    drifts = result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"])).sort("start")
    assert drifts["direction"].to_list() == ["down", "up"]


def test_a_spike_is_an_anomaly_not_drift():
    values = seasonal_series(35, seed=4)
    at = 24 * 25 + 14
    values[at:at + 3] *= 1.8
    for causal in (False, True):
        result = detect(hourly(values), causal=causal)
        assert result.events["kind"].to_list() == ["anomaly"]
        ev = result.events.row(0, named=True)
        assert ev["start"] == T0 + dt.timedelta(hours=at) and ev["end"] == T0 + dt.timedelta(hours=at + 2)
        assert ev["direction"] == "up" and ev["magnitude"] == pytest.approx(0.8, abs=0.15)
        assert result.verdict().startswith(("anomaly on 27 Mar 14:00 (+", "anomaly on 27 Mar 15:00 (+", "anomaly on 27 Mar 16:00 (+"))


def test_calendar_days_are_calendar_not_drift_or_anomaly():
    values = seasonal_series(42, seed=5)
    promo = 24 * 29
    values[promo:promo + 24] *= 1.45
    frame = hourly(values)
    without = detect(frame, causal=True)
    assert without.events.height > 0  # the promotion is visible...
    day = (T0 + dt.timedelta(hours=promo)).date()
    result = detect(frame, causal=True, calendar=[day])
    assert result.events.height == 0  # ...and calendar once listed
    assert result.points.filter(pl.col("calendar"))["flag"].unique().to_list() == ["normal"]
    cal = pl.DataFrame({"date": [str(day)], "segment": ["geo=US"]})
    scoped = detect(frame.with_columns(geo=pl.lit("DE")), by="geo", causal=True, calendar=cal)
    assert scoped.events.height > 0  # a US holiday is not a DE calendar day


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut_hour=st.integers(min_value=24 * 13, max_value=24 * 35 - 1), seed=st.integers(0, 3),
       shape=st.sampled_from(["flat", "shift", "spike", "gap", "ramp"]))
def test_causal_flags_up_to_t_do_not_change_when_later_data_is_cut(cut_hour, seed, shape):
    values = seasonal_series(35, seed=seed)
    if shape == "shift":
        values[24 * 20:] *= 0.85
    elif shape == "spike":
        values[24 * 18 + 5] *= 2.5
    elif shape == "gap":
        values[24 * 19:24 * 19 + 30] = np.nan
    elif shape == "ramp":
        values[24 * 17:] *= np.linspace(1, 0.6, values.size - 24 * 17)
    frame = hourly(values)
    full = causal_flags(frame)
    cut = causal_flags(frame.filter(pl.col("ts") <= T0 + dt.timedelta(hours=cut_hour)))
    head = full.head(cut.height)
    assert cut["flag"].to_list() == head["flag"].to_list()
    np.testing.assert_array_equal(cut["score"].to_numpy(), head["score"].to_numpy())


def test_causal_flags_for_many_segments_match_one_by_one():
    frames = [hourly(seasonal_series(30, seed=s) * (1 + (s == 2) * 0.2 * (np.arange(720) > 500)), seg=f"s{s}")
              for s in range(4)]
    together = causal_flags(pl.concat(frames), by="seg")
    for f in frames:
        alone = causal_flags(f)
        mine = together.filter(pl.col("seg") == f["seg"][0])
        assert mine["flag"].to_list() == alone["flag"].to_list()
        np.testing.assert_allclose(mine["score"].to_numpy(), alone["score"].to_numpy(), rtol=1e-9, atol=1e-9)


def test_batch_decomposition_adds_up_and_flags_the_same_shift():
    values = seasonal_series(42, seed=8)
    values[24 * 28:] *= 0.8
    result = detect(hourly(values))
    p = result.points
    np.testing.assert_allclose((p["trend"] + p["seasonal"] + p["resid"]).to_numpy(), p["value"].to_numpy(), rtol=1e-9)
    ev = result.events.filter(pl.col("kind") == "level_shift").row(0, named=True)
    assert ev["direction"] == "down" and ev["magnitude"] == pytest.approx(-0.2, abs=0.04)
    # batch flags cover the change from its (hindsight) start
    assert p.filter(pl.col("ts") == ev["start"])["flag"][0] == "drift"


def test_daily_data_uses_a_weekly_period():
    rng = np.random.default_rng(2)
    days = 120
    t = np.arange(days)
    v = 100 * (1 + 0.2 * np.sin(2 * np.pi * t / 7)) * (1 + rng.normal(0, 0.02, days))
    v[90:] *= 1.25
    frame = pl.DataFrame({"ts": [dt.datetime(2026, 1, 1) + dt.timedelta(days=int(i)) for i in t], "value": v})
    result = detect(frame, causal=True, config=DetectConfig())
    assert result.verdicts["periods"][0] == "7"
    ev = result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"]))
    assert ev.height >= 1 and ev["detected_at"][0] <= dt.datetime(2026, 1, 1) + dt.timedelta(days=97)


def test_daily_data_sees_a_dip_come_back():
    # on daily data the drift flag holds half a day at most (one step): a 12-step hold would hide 12 days and
    # the return after three would be called a shift of its own
    rng = np.random.default_rng(0)
    d = np.arange(200)
    values = 1000 * (1 + 0.2 * np.sin(2 * np.pi * d / 7)) * np.exp(rng.normal(0, 0.03, d.size))
    values[150:153] *= 0.7
    start = dt.datetime(2026, 1, 1)
    frame = pl.DataFrame({"ts": [start + dt.timedelta(days=int(k)) for k in d], "value": values})
    for causal in (True, False):
        result = detect(frame, causal=causal)
        drifts = result.events.filter(pl.col("kind").is_in(["level_shift", "trend_change"]))
        assert drifts.height == 1, drifts
        ev = drifts.row(0, named=True)
        assert ev["direction"] == "down" and ev["start"] == start + dt.timedelta(days=150)
        assert ev["end"] == start + dt.timedelta(days=152)
        assert result.verdict().startswith("level shift of -") and "back by 3 Jun" in result.verdict()


def test_a_series_around_zero_states_changes_in_its_own_units():
    # a net-change metric (negative and positive values): a percentage of a level near zero means nothing
    rng = np.random.default_rng(1)
    t = np.arange(42 * 24)
    values = 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, t.size)
    values[24 * 30:] -= 8
    result = detect(hourly(values), causal=True)
    ev = result.events.filter(pl.col("kind") == "level_shift").row(0, named=True)
    assert ev["magnitude_abs"] == pytest.approx(-8, abs=1.0)
    assert result.verdict().startswith(f"level shift of {ev['magnitude_abs']:+.3g} since")


def _daily(n_series: int, days: int, seed: int, shift: float = 0.0, at: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    start = dt.datetime(2025, 1, 6)
    frames = []
    for i in range(n_series):
        y = rng.uniform(200, 5000) * (1 + 0.2 * np.sin(2 * np.pi * (t - i) / 7)) * np.exp(rng.normal(0, 0.04, days))
        y[at:] *= 1 + shift * (1 if i % 2 else -1)
        frames.append(pl.DataFrame({"s": i, "ts": [start + dt.timedelta(days=int(k)) for k in t], "value": y}))
    return pl.concat(frames)


def test_daily_level_shifts_are_called_within_a_week():
    # daily data has no within-day hours for the mean test's 12 / 24-step windows: it takes the mean of the last 3
    # and 7 days instead (before, the step CUSUM tuned for hourly data alone caught about 40% of 20% shifts)
    frame = _daily(8, 300, seed=3, shift=0.2, at=200)
    flags = causal_flags(frame, by="s")
    start = dt.datetime(2025, 1, 6) + dt.timedelta(days=200)
    caught = 0
    for (_, ), g in flags.group_by(["s"], maintain_order=True):
        drift = g.filter((pl.col("flag") == "drift") & (pl.col("ts") >= start))
        caught += drift.height > 0 and drift["ts"].min() - start <= dt.timedelta(days=7)
        assert g.filter((pl.col("flag") == "drift") & (pl.col("ts") < start)).height == 0
    assert caught >= 7


def test_daily_seasonality_alone_is_not_drift():
    flags = causal_flags(_daily(10, 400, seed=4), by="s")
    assert (flags["flag"] == "drift").sum() == 0


def test_weekly_data_with_a_steady_trend_is_not_a_stream_of_anomalies():
    # weekly data (period 52): the causal level is a median of deseasonalised values; over two years (104 weeks)
    # it would trail a steady trend by a year and call every week an anomaly. It spans at most 28 steps.
    rng = np.random.default_rng(6)
    t = np.arange(520)
    values = 300 * np.exp(0.0006 * t) * (1 + 0.01 * np.sin(2 * np.pi * t / 52)) * np.exp(rng.normal(0, 0.005, t.size))
    frame = pl.DataFrame({"ts": [dt.datetime(2010, 1, 4) + dt.timedelta(weeks=int(k)) for k in t], "value": values})
    flags = causal_flags(frame)
    assert (flags["flag"] == "anomaly").sum() <= 5
    assert (flags["flag"] == "drift").sum() == 0
