"""Seasonal strength: the share of the detrended variation the periods explain, so noise is not called seasonal."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.seasonal import seasonal_decompose

from driftdesk.seasonality import detect
from driftdesk.seasonality.strength import MIN_STRENGTH, centred_moving_average, seasonal_strength

T0 = dt.datetime(2026, 3, 2)


@pytest.mark.parametrize("period", [7, 24, 12, 5])
def test_moving_average_is_seasonal_decomposes_trend(period):
    x = np.random.default_rng(period).normal(10, 2, 20 * period)
    ours = centred_moving_average(x, period)[0]
    theirs = seasonal_decompose(x, period=period, model="additive").trend
    assert np.isnan(ours).sum() == np.isnan(theirs).sum()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_a_missing_value_blanks_the_windows_that_hold_it():
    x = np.arange(40, dtype=float)
    x[20] = np.nan
    ma = centred_moving_average(x, 5)[0]
    assert np.isnan(ma[18:23]).all() and np.isfinite(ma[[17, 23]]).all()
    assert ma[10] == pytest.approx(np.mean(x[8:13]))


@pytest.mark.parametrize("amplitude", [0.0, 0.5, 3.0])
def test_strength_is_the_adjusted_r2_on_position_dummies(amplitude):
    period, n = 24, 24 * 10
    rng = np.random.default_rng(3)
    h = np.arange(n)
    x = 50 + 0.01 * h + amplitude * np.sin(2 * np.pi * h / period) + rng.normal(0, 1, n)
    detrended = x - seasonal_decompose(x, period=period).trend
    ok = np.isfinite(detrended)
    dummies = (h[ok, None] % period == np.arange(period)[None, :]).astype(float)
    fit = sm.OLS(detrended[ok], dummies).fit()  # no constant: the dummies span it; statsmodels knows (k_constant)
    expected = max(0.0, fit.rsquared_adj)
    assert seasonal_strength(x, period)[0] == pytest.approx(expected, abs=1e-10)


def test_noise_scores_near_zero_and_a_cycle_near_one():
    rng = np.random.default_rng(7)
    h = np.arange(24 * 56)
    noise = rng.normal(100, 5, h.size)
    cycle = 100 + 30 * np.sin(2 * np.pi * h / 24) + rng.normal(0, 5, h.size)
    s = seasonal_strength(np.stack([noise, cycle]), 168)
    assert s[0] < MIN_STRENGTH < 0.9 < s[1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e12, 1e12), st.just(float("nan")), st.just(float("inf"))), max_size=120),
       st.integers(1, 30))
def test_strength_is_a_share_or_unknown(values, period):
    s = seasonal_strength(np.array(values, dtype=float).reshape(1, -1) if values else np.empty((1, 0)), period)
    assert s.shape == (1,)
    assert np.isnan(s[0]) or 0.0 <= s[0] <= 1.0


def test_constant_and_empty_are_unknown():
    assert np.isnan(seasonal_strength(np.full(24 * 10, 3.0), 24)[0])
    assert np.isnan(seasonal_strength(np.full(24 * 10, np.nan), 24)[0])
    assert np.isnan(seasonal_strength(np.ones(30), 24)[0])  # fewer than two cycles once detrended


def _frame(y, minutes=60):
    return pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=minutes * i) for i in range(len(y))], "value": y})


@pytest.mark.parametrize("causal", [False, True])
def test_the_verdict_does_not_call_noise_seasonal(causal):
    rng = np.random.default_rng(11)
    h = np.arange(24 * 42)
    noise = detect(_frame(100 + rng.normal(0, 5, h.size)), causal=causal).verdicts.row(0, named=True)
    daily = detect(_frame(100 + 25 * np.sin(2 * np.pi * h / 24) + rng.normal(0, 5, h.size)),
                   causal=causal).verdicts.row(0, named=True)
    assert noise["status"] == daily["status"] == "seasonal"
    assert noise["verdict"].startswith("no clear seasonal pattern (daily + weekly explain")
    assert noise["seasonal_strength"] < MIN_STRENGTH
    assert daily["verdict"] == "seasonal pattern (daily + weekly), no drift"
    assert daily["seasonal_strength"] > 0.9


def test_a_five_minute_series_names_its_cycles_in_days():
    rng = np.random.default_rng(5)
    i = np.arange(288 * 21)
    y = 100 + 25 * np.sin(2 * np.pi * i / 288) + rng.normal(0, 5, i.size)
    v = detect(_frame(y, minutes=5), causal=True).verdicts.row(0, named=True)
    assert "seasonal pattern (daily + weekly)" in v["verdict"] and "step" not in v["verdict"].split("[")[0]


def _reference_strength(x: np.ndarray, period: int) -> float:
    """statsmodels: detrended by seasonal_decompose's moving average, adjusted R^2 on position dummies."""
    h = np.arange(x.size)
    detrended = x - seasonal_decompose(x, period=period).trend
    ok = np.isfinite(detrended)
    dummies = (h[ok, None] % period == np.arange(period)[None, :]).astype(float)
    return max(0.0, sm.OLS(detrended[ok], dummies).fit().rsquared_adj)


@pytest.mark.parametrize(("amplitude", "shown"), [(0.0, "no clear pattern"), (2.5, "no clear pattern"),
                                                  (4.0, "seasonal"), (25.0, "seasonal")])
@pytest.mark.parametrize("causal", [False, True])
def test_status_and_sentence_agree_where_they_are_shown_together(amplitude, shown, causal):
    """Noise, a weak daily cycle (about 5% of the variation), a modest one (18%) and a clear one: the JSON status stays 'seasonal' (consumers key on it), the
    strength is statsmodels', and the status as shown beside the sentence never says 'seasonal' next to 'no clear
    seasonal pattern'."""
    from driftdesk.seasonality import DetectConfig
    from driftdesk.seasonality.verdicts import shown_status

    h = np.arange(24 * 42)
    x = 100 + amplitude * np.sin(2 * np.pi * h / 24) + np.random.default_rng(11).normal(0, 5, h.size)
    result = detect(_frame(x), causal=causal, config=DetectConfig(log=False))  # strength on the values themselves
    v = result.verdicts.with_columns(shown_status().alias("shown")).row(0, named=True)
    assert v["status"] == "seasonal"
    assert v["seasonal_strength"] == pytest.approx(_reference_strength(x, 168), abs=1e-9)
    assert v["shown"] == shown
    if shown == "seasonal":
        assert v["seasonal_strength"] >= MIN_STRENGTH and v["verdict"].startswith("seasonal pattern (daily + weekly)")
    else:
        assert v["seasonal_strength"] < MIN_STRENGTH and (amplitude == 0 or v["seasonal_strength"] > 0.01)
        assert v["verdict"].startswith("no clear seasonal pattern (daily + weekly explain")
    assert "seasonal: no clear" not in result._repr_html_().replace("</td><td>", ": ")


def test_a_series_without_a_period_reads_no_clear_pattern():
    from driftdesk.seasonality.verdicts import NO_CLEAR_PATTERN, shown_status

    years = pl.DataFrame({"ts": [dt.datetime(1900 + i, 1, 1) for i in range(60)],
                          "value": np.random.default_rng(2).normal(50, 3, 60)})
    v = detect(years).verdicts.with_columns(shown_status().alias("shown")).row(0, named=True)
    assert (v["status"], v["shown"], v["periods"]) == ("seasonal", NO_CLEAR_PATTERN, "")
    assert v["verdict"].startswith("no seasonal period fits, no drift")


def test_other_statuses_read_as_themselves():
    from driftdesk.seasonality.verdicts import shown_status

    frame = pl.DataFrame({"status": ["drift", "anomaly", "seasonal", "seasonal", "too_short"],
                          "periods": ["24, 168", "24, 168", "24, 168", "24, 168", ""],
                          "seasonal_strength": [0.01, None, None, 0.5, None]})
    assert frame.select(shown_status())["status"].to_list() == ["drift", "anomaly", "seasonal", "seasonal",
                                                                  "too_short"]
