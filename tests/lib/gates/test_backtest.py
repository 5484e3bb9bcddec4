"""Backtests on hand-made histories whose alerts, delays and figures are worked out by hand in each test."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from gate_histories import T0, at, dataset, incidents_frame, kpis_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftdesk.errors import PolicyError
from driftdesk.gates import backtest_policy, load_policy, parse_policy, sweep_gate
from driftdesk.gates.policy import Gate, Policy

HOURS = 720  # 30 days


def spike_history() -> pl.DataFrame:
    """CPA 10 every hour, except 30 in hours 240-242 (a blip nobody logged) and 480-491 (incident A)."""
    spend = np.full(HOURS, 100.0)
    spend[240:243] = 300.0
    spend[480:492] = 300.0
    return kpis_frame(spend, np.full(HOURS, 10.0))


CPA_GATE = Policy(gates=(Gate(name="cpa_high", metric="cpa", threshold=20.0, window_hours=1, consecutive=2, by=()),),
                  name="hand", grace_hours=24)
INCIDENTS = incidents_frame([("A", at(480), at(492)), ("B", at(600), at(610))])


def test_alerts_and_figures_match_a_hand_computation():
    r = backtest_policy(dataset(kpis=spike_history()), CPA_GATE, incidents=INCIDENTS)
    # the value at hour end e is hour e-1's CPA; breaches at ends 241-243 and 481-492; the 2nd breach fires
    assert r.alerts["ts"].to_list() == [at(242), at(482)]
    assert r.alerts["matched"].to_list() == [False, True]
    assert r.alerts["value"].to_list() == [30.0, 30.0]
    inc = r.incidents.sort("incident_id")
    assert inc["caught"].to_list() == [True, False]
    assert inc["delay_hours"].to_list() == [2.0, None]
    assert r.precision == 0.5 and r.recall == 0.5
    assert r.alerts_per_week == pytest.approx(2 / (HOURS / 168))
    assert r.median_delay_hours == 2.0
    assert (r.span_start, r.span_end) == (T0, at(HOURS))


def test_reference_policies_by_hand():
    r = backtest_policy(dataset(kpis=spike_history()), CPA_GATE, incidents=INCIDENTS)
    never, always = r.references["never fire"], r.references["always fire"]
    assert never.alerts == 0 and never.precision is None and never.recall == 0.0 and never.median_delay_hours is None
    assert "no alerts" in never.reasons["precision"]
    # always: an alert at every hour end T0+1h .. T0+720h; inside [480, 492+24] -> 37, inside [600, 610+24] -> 35
    assert always.alerts == HOURS and always.matched_alerts == 37 + 35
    assert always.precision == pytest.approx(72 / HOURS) and always.recall == 1.0
    assert always.median_delay_hours == 0.0 and always.alerts_per_week == pytest.approx(168.0)


def test_grace_decides_whether_a_late_alert_counts():
    incidents = incidents_frame([("late", at(470), at(478))])  # ended 4 h before the alert at 482
    hist = dataset(kpis=spike_history())
    assert backtest_policy(hist, CPA_GATE, incidents=incidents, grace_hours=4).incidents["caught"].to_list() == [True]
    assert backtest_policy(hist, CPA_GATE, incidents=incidents, grace_hours=3).incidents["caught"].to_list() == [False]


def test_overlapping_incidents_are_both_caught_and_the_alert_counts_once():
    incidents = incidents_frame([("A", at(480), at(492)), ("C", at(482), at(500))])
    r = backtest_policy(dataset(kpis=spike_history()), CPA_GATE, incidents=incidents)
    assert r.incidents["caught"].to_list() == [True, True]
    assert r.incidents["delay_hours"].to_list() == [2.0, 0.0]
    assert r.score.matched_alerts == 1 and r.precision == 0.5
    assert r.alerts.filter(pl.col("matched"))["incident_ids"].to_list() == ["A, C"]
    assert any("overlap" in n for n in r.notes)


def test_empty_incident_table_gives_undefined_precision_with_a_reason():
    r = backtest_policy(dataset(kpis=spike_history()), CPA_GATE, incidents=pl.DataFrame())
    assert r.precision is None and r.recall is None and r.median_delay_hours is None
    assert "no incidents are labelled" in r.score.reasons["precision"]
    assert r.score.alerts == 2
    doc = r.to_dict()
    assert doc["precision"] is None and doc["incidents"] == [] and len(doc["alerts"]) == 2


def test_incident_without_end_is_a_point_and_end_before_start_is_an_error():
    r = backtest_policy(dataset(kpis=spike_history()), CPA_GATE,
                        incidents=incidents_frame([("P", at(481), None)]))
    assert r.incidents["caught"].to_list() == [True] and r.incidents["delay_hours"].to_list() == [1.0]
    with pytest.raises(PolicyError, match="end before start"):
        backtest_policy(dataset(kpis=spike_history()), CPA_GATE, incidents=incidents_frame([("X", at(5), at(1))]))


def test_incident_outside_history_is_left_out_of_recall():
    incidents = incidents_frame([("A", at(480), at(492)), ("old", at(-500), at(-400))])
    r = backtest_policy(dataset(kpis=spike_history()), CPA_GATE, incidents=incidents)
    assert r.recall == 1.0
    assert r.incidents.filter(pl.col("incident_id") == "old")["in_history"].to_list() == [False]
    assert any("outside the replayed span" in n for n in r.notes)


def test_day_over_day_step_fires_once_at_the_hand_computed_hour():
    # CPA 10 until hour 300, then 15. With a 24 h window the current CPA after k new hours is 10 + 5k/24 and
    # the day-before baseline is 10, so the change k/48 first exceeds 0.25 at k = 13 (hour end 313). The run
    # lasts while the baseline CPA 10 + 5j/24 stays below 12 (j <= 9, hour end 333): one alert.
    spend = np.where(np.arange(HOURS) >= 300, 150.0, 100.0)
    gate = Gate(name="dod", metric="cpa", threshold=0.25, comparison="day_over_day", window_hours=24, by=())
    r = backtest_policy(dataset(kpis=kpis_frame(spend, np.full(HOURS, 10.0))), Policy(gates=(gate,)),
                        incidents=INCIDENTS)
    assert r.alerts["ts"].to_list() == [at(313)]
    assert r.alerts["value"][0] == pytest.approx(13 / 48)


def test_segments_alert_separately_and_filter_selects_rows():
    spend = np.full((2, HOURS), 100.0)
    spend[1, 480:492] = 300.0
    frame = kpis_frame(spend, np.full((2, HOURS), 10.0), segments={"geo": ["DE", "US"]})
    per_geo = Policy(gates=(Gate(name="g", metric="cpa", threshold=20.0, window_hours=1, consecutive=2, by=("geo",)),))
    r = backtest_policy(dataset(kpis=frame), per_geo, incidents=INCIDENTS)
    assert r.alerts.select("ts", "segment").rows() == [(at(482), "geo=US")]
    only_de = Policy(gates=(Gate(name="g", metric="cpa", threshold=20.0, window_hours=1, by=("geo",),
                                 filter=(("geo", ("DE",)),)),))
    assert backtest_policy(dataset(kpis=frame), only_de, incidents=INCIDENTS).alerts.height == 0
    # without by, the two geos pool: CPA (100 + 300) / 20 = 20 is not above 20
    pooled = Policy(gates=(Gate(name="g", metric="cpa", threshold=19.9, window_hours=1, by=()),))
    assert backtest_policy(dataset(kpis=frame), pooled, incidents=INCIDENTS).alerts["ts"].to_list() == [at(481)]


def test_min_sample_silences_thin_windows():
    conv = np.full(HOURS, 10.0)
    conv[480:492] = 1.0  # CPA 100 but on one conversion an hour
    gate = Gate(name="g", metric="cpa", threshold=20.0, window_hours=1, min_sample=5, by=())
    r = backtest_policy(dataset(kpis=kpis_frame(np.full(HOURS, 100.0), conv)), Policy(gates=(gate,)),
                        incidents=INCIDENTS)
    assert r.alerts.height == 0


def test_unknown_column_is_a_clear_error():
    bad = Policy(gates=(Gate(name="g", metric="null_rate:nope", threshold=0.1),))
    with pytest.raises(PolicyError, match="no table has the column 'nope'"):
        backtest_policy(dataset(kpis=spike_history()), bad, incidents=INCIDENTS)
    bad_by = Policy(gates=(Gate(name="g", metric="cpa", threshold=0.1, by=("country",)),))
    with pytest.raises(PolicyError, match="column 'country' is not in the kpis table"):
        backtest_policy(dataset(kpis=spike_history()), bad_by, incidents=INCIDENTS)


# --------------------------------------------------------------------------- causality


@st.composite
def histories(draw):
    hours = draw(st.integers(60, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    conv = rng.poisson(20, size=(2, hours)).astype(float)
    spend = conv * rng.lognormal(2.3, 0.3, size=(2, hours))
    jumps = rng.integers(0, hours, size=3)
    for j in jumps:
        spend[:, j:j + rng.integers(1, 30)] *= rng.uniform(1.5, 3)
    gate = Gate(
        name="g", metric="cpa", by=("geo",),
        comparison=draw(st.sampled_from(["absolute", "day_over_day", "trailing", "week_over_week"])),
        threshold=draw(st.floats(0.05, 30)), direction=draw(st.sampled_from(["above", "below", "either"])),
        window_hours=draw(st.integers(1, 30)), consecutive=draw(st.integers(1, 4)),
        every_hours=draw(st.sampled_from([1, 1, 6, 24])), baseline_days=draw(st.integers(2, 4)),
        min_sample=draw(st.sampled_from([0, 10, 100])),
    )
    cut = draw(st.floats(1, hours))
    return kpis_frame(spend, conv, segments={"geo": ["a", "b"]}), gate, cut


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_cutting_history_after_t_changes_no_alert_before_t(case):
    frame, gate, cut_hours = case
    cut = T0 + dt.timedelta(hours=cut_hours)
    policy = Policy(gates=(gate,))
    full = backtest_policy(dataset(kpis=frame), policy, incidents=pl.DataFrame()).alerts
    short_frame = frame.filter(pl.col("ts") < cut)
    short = backtest_policy(dataset(kpis=short_frame), policy, incidents=pl.DataFrame()).alerts
    before = pl.col("ts") <= cut
    assert full.filter(before).select("ts", "segment", "value").rows() == \
        short.filter(before).select("ts", "segment", "value").rows()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(170, 300), st.sampled_from(["psi:x", "null_rate:x", "psi:cat"]))
def test_causality_holds_for_distribution_metrics(seed, cut_hour, metric):
    rng = np.random.default_rng(seed)
    n = 6000
    ts = [T0 + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 300 * 60, n))]
    x = rng.normal(0, 1, n) + (np.arange(n) > n * 0.7) * rng.uniform(0, 2)
    x[rng.random(n) < 0.05] = np.nan
    cat = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    frame = pl.DataFrame({"ts": ts, "x": x, "cat": cat, "score": rng.random(n), "src": rng.choice(["s", "t"], n)})
    gate = Gate(name="g", metric=metric, threshold=0.01, comparison="day_over_day" if "psi" in metric else "absolute",
                window_hours=12, by=("src",))
    policy = Policy(gates=(gate,))
    from gate_histories import table

    from driftdesk.contract import Dataset

    def run(f):
        ds = Dataset("<x>", {"decisions": table(f, "decisions", segments=["src"], features=["x", "cat"])})
        return backtest_policy(ds, policy, incidents=pl.DataFrame()).alerts

    cut = T0 + dt.timedelta(hours=cut_hour, minutes=17)
    before = pl.col("ts") <= cut
    full, short = run(frame), run(frame.filter(pl.col("ts") < cut))
    assert full.filter(before).select("ts", "segment", "value").rows() == \
        short.filter(before).select("ts", "segment", "value").rows()


# --------------------------------------------------------------------------- sweep


def test_sweep_points_equal_separate_backtests():
    two_gates = Policy(gates=(
        CPA_GATE.gates[0],
        Gate(name="cpa_dod", metric="cpa", threshold=0.5, comparison="day_over_day", window_hours=6, by=()),
    ), grace_hours=24)
    ds = dataset(kpis=spike_history())
    thresholds = [0.1, 0.5, 1.0, 1.5, 3.0]
    sweep = sweep_gate(ds, two_gates, "cpa_dod", thresholds=thresholds, consecutive=[1, 3], incidents=INCIDENTS)
    assert sweep.frame.height == 10
    for thr in thresholds:
        for k in (1, 3):
            g = Gate(name="cpa_dod", metric="cpa", threshold=thr, comparison="day_over_day", window_hours=6,
                     consecutive=k, by=())
            bt = backtest_policy(ds, two_gates.with_gate(g), incidents=INCIDENTS)
            row = sweep.point(thr, k)
            assert row["alerts"] == bt.score.alerts
            assert row["precision"] == pytest.approx(bt.precision)
            assert row["recall"] == pytest.approx(bt.recall)
            assert row["alerts_per_week"] == pytest.approx(bt.alerts_per_week)
            assert row["median_delay_hours"] == pytest.approx(bt.median_delay_hours)
    assert sweep.proposed == {"threshold": 0.5, "consecutive": 1}
    fig = sweep.to_figure()
    assert len(fig.data) >= 4


def test_sweep_regimes_by_hand():
    # CPA is 10 except 30 in the blip and in incident A. Below 10 every hour breaches: one run from the start,
    # one alert, nothing caught. Between 10 and 30: the blip and A, two alerts, A caught. At 30 and above: none.
    sweep = sweep_gate(dataset(kpis=spike_history()), CPA_GATE, "cpa_high", thresholds=[5.0, 9.9, 10.0, 29.9, 30.0],
                       consecutive=[1, 2], incidents=INCIDENTS, with_other_gates=False)
    got = {(r["threshold"], r["consecutive"]): (r["alerts"], r["recall"], r["median_delay_hours"])
           for r in sweep.frame.iter_rows(named=True)}
    assert got[(5.0, 1)] == (1, 0.0, None) and got[(9.9, 2)] == (1, 0.0, None)
    assert got[(10.0, 1)] == (2, 0.5, 1.0) and got[(29.9, 2)] == (2, 0.5, 2.0)
    assert got[(30.0, 1)] == (0, 0.0, None)
    assert sweep.point(30.0, 1)["precision"] is None


# --------------------------------------------------------------------------- the sample advertiser


@pytest.fixture(scope="module")
def sample_backtest(sample_dataset, sample_dir):
    return backtest_policy(sample_dataset, load_policy(sample_dir / "policy.toml"))


def test_default_policy_catches_incidents_a_to_d_and_f(sample_backtest):
    caught = dict(sample_backtest.incidents.select("incident_id", "caught").rows())
    for inc in ("INC-a", "INC-b", "INC-c", "INC-d", "INC-f"):
        assert caught[inc], f"{inc} missed"
    assert sample_backtest.alerts_per_week < 2.0
    assert sample_backtest.precision >= 0.7


def test_default_policy_stays_quiet_in_the_ordinary_week(sample_backtest):
    quiet = sample_backtest.alerts.filter(pl.col("ts").is_between(dt.datetime(2026, 8, 10), dt.datetime(2026, 8, 17)))
    assert quiet.height == 0


def test_result_shapes(sample_backtest):
    doc = sample_backtest.to_dict()
    for key in ("alerts", "incidents", "precision", "recall", "alerts_per_week", "median_delay_hours", "references"):
        assert key in doc
    assert {"caught", "delay_hours"} <= set(doc["incidents"][0])
    assert set(doc["references"]) == {"never fire", "always fire"}
    assert sample_backtest.summary().height == 3
    assert "Backtest" in sample_backtest._repr_html_()
    fig = sample_backtest.to_figure()
    assert len(fig.layout.shapes) == sample_backtest.incidents.height


def test_toml_policy_text_backtests(sample_dataset):
    p = parse_policy('[[gate]]\nmetric = "null_rate:ctr_7d"\nby = "source"\nthreshold = 0.2\nwindow = "6h"\n')
    r = backtest_policy(sample_dataset, p)
    assert r.incidents.filter(pl.col("incident_id") == "INC-a")["caught"].item()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.lists(st.floats(-2, 40), min_size=1, max_size=12), st.lists(st.integers(1, 5), min_size=1,
                                                                                  max_size=3, unique=True))
def test_interval_sweep_equals_the_broadcast_sweep(case, thresholds, ks):
    """Two independent ways to sweep: interval counting vs breach masks and cumulative-sum run lengths."""
    from driftdesk.gates.backtest import _span, policy_values, prepare_incidents, sweep_arrays

    frame, gate, _ = case
    ds = dataset(kpis=frame)
    values = policy_values(ds, Policy(gates=(gate,)))
    hours = frame["ts"].n_unique()
    inc = prepare_incidents(incidents_frame([("x", at(hours * 0.3), at(hours * 0.4)),
                                             ("y", at(hours * 0.35), at(hours * 0.8))]))
    kw = dict(span=_span(values), grace_hours=6)
    fast = sweep_arrays(values[0], np.array(thresholds), ks, inc, method="intervals", **kw)
    slow = sweep_arrays(values[0], np.array(thresholds), ks, inc, method="broadcast", **kw)
    assert fast.equals(slow)
