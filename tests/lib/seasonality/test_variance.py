"""Variance changes: the noise's spread widens while the level stays; told apart from level shifts and anomalies,
and called without looking ahead."""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest
from scipy import stats

from driftdesk.seasonality import detect
from driftdesk.seasonality.variance import P_BEFORE, P_DOUBLED, _no_spread, exceedance_llr

T0 = dt.datetime(2026, 1, 5)  # a Monday
CHANGE = 28 * 24  # the variance doubles four weeks in


def _series(*, doubled: bool = True, shift: float = 0.0, seed: int = 7, weeks: int = 8) -> pl.DataFrame:
    """Hourly, a daily cycle, 3% noise; from CHANGE on the noise's variance doubles (or the level moves by
    ``shift``), the level unchanged."""
    n = weeks * 7 * 24
    t = np.arange(n)
    noise = np.random.default_rng(seed).normal(0, 1, n)
    if doubled:
        noise[CHANGE:] *= np.sqrt(2)
    level = np.where(t >= CHANGE, 1 + shift, 1.0)
    y = 1000 * level * (1 + 0.3 * np.sin(2 * np.pi * t / 24)) * (1 + 0.03 * noise)
    return pl.DataFrame({"ts": [T0 + dt.timedelta(hours=int(i)) for i in t], "value": y})


def test_a_doubled_normal_variance_passes_the_quartile_as_often_as_the_normal_says():
    q = NormalDist().inv_cdf(1 - P_BEFORE / 2)  # the upper quartile of |Z|, from the standard library
    assert 2 * (1 - NormalDist(0, np.sqrt(2)).cdf(q)) == pytest.approx(P_DOUBLED, abs=1e-12)
    d = np.random.default_rng(0).normal(0, np.sqrt(2), 400_000)  # and by simulation
    assert np.mean(np.abs(d) > q) == pytest.approx(P_DOUBLED, abs=0.003)


@pytest.mark.parametrize("beyond", [True, False])
def test_the_evidence_per_value_is_the_bernoulli_likelihood_ratio(beyond):
    expected = stats.bernoulli.logpmf(int(beyond), P_DOUBLED) - stats.bernoulli.logpmf(int(beyond), P_BEFORE)
    assert exceedance_llr(beyond) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("causal", [True, False])
def test_a_doubled_variance_is_a_variance_change_not_a_level_shift(causal):
    result = detect(_series(), causal=causal)
    events = result.events
    change = events.filter(pl.col("kind") == "variance_change")
    assert change.height == 1
    e = change.row(0, named=True)
    true_start = T0 + dt.timedelta(hours=CHANGE)
    assert e["direction"] == "up"
    assert abs(e["start"] - true_start) <= dt.timedelta(days=2)
    assert true_start < e["detected_at"] <= true_start + dt.timedelta(days=10)
    assert e["magnitude"] == pytest.approx(np.sqrt(2) - 1, abs=0.25)  # the spread grows by sqrt(2)
    assert events.filter(pl.col("kind").is_in(["level_shift", "trend_change"])).height == 0
    v = result.verdicts.row(0, named=True)
    assert v["status"] == "variance_change" and "variance change" in v["verdict"]
    assert set(result.points["flag"].unique()) <= {"normal", "anomaly", "drift"}  # no new flag word


def test_the_same_noise_without_the_change_has_no_variance_change():
    events = detect(_series(doubled=False), causal=True).events
    assert events.filter(pl.col("kind") == "variance_change").height == 0


def test_a_level_shift_is_not_a_variance_change():
    events = detect(_series(doubled=False, shift=0.3), causal=True).events
    assert events.filter(pl.col("kind").is_in(["level_shift", "trend_change"])).height >= 1
    assert events.filter(pl.col("kind") == "variance_change").height == 0


@pytest.mark.parametrize("cut_days", [30, 36, 41, 50])
def test_variance_changes_never_look_ahead(cut_days):
    frame = _series()
    t_cut = T0 + dt.timedelta(days=cut_days)

    def called(f: pl.DataFrame) -> list[tuple]:
        ev = detect(f, causal=True).events.filter((pl.col("kind") == "variance_change")
                                                  & (pl.col("detected_at") <= t_cut))
        return ev.select("start", "detected_at", "magnitude").rows()

    assert called(frame) == called(frame.filter(pl.col("ts") <= t_cut))


def test_a_reference_without_spread_is_one_whose_mad_is_zero():
    """The test skips a day whose reference has a MAD of 0; it is told without taking the MAD (more than half the
    values one value): the same answer as numpy's median of absolute deviations, on ties, halves and constants."""
    rng = np.random.default_rng(3)
    cases = [np.array([1.0]), np.array([2.0, 2.0]), np.array([1.0, 2.0]), np.array([1.0, 1.0, 2.0]),
             np.array([1.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0, 3.0]), np.array([0.0, 0.0, -0.0, 5.0, -5.0])]
    for n in (5, 6, 101, 200):
        for share in (0.0, 0.3, 0.5, 0.51, 0.9, 1.0):
            x = np.round(rng.normal(0, 1, n), 1)
            same = rng.permutation(n)[:int(round(share * n))]
            x[same] = rng.choice([0.0, 0.7, -1e-300])
            cases.append(x)
    for x in cases:
        mad = np.median(np.abs(x - np.median(x)))
        assert _no_spread(x) == (mad == 0), x
