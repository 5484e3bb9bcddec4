"""A starter policy from the data's own tables and columns, with thresholds from each metric's normal spread: the
rule checked by hand and by properties, and the policy on folders in other people's shapes (foreign names, no
incidents, no calendar, short or five-minute histories) loads, backtests and sweeps. Which policy a dataset opens on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gate_histories import dataset, kpis_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from driftdesk.contract import load_dataset
from driftdesk.errors import DriftdeskError, PolicyError
from driftdesk.gates import backtest_policy, parse_policy, sweep_gate
from driftdesk.gates.backtest import load_history, policy_values
from driftdesk.gates.metrics import gate_problem
from driftdesk.gates.policy import parse_gate
from driftdesk.gates.starter import MIN_MARGIN, spread_threshold, starter_policy
from driftdesk.gates.view import POLICY_FILE, opening_policy, policy_problems
from foreign_data import write_foreign_folder

# --------------------------------------------------------------------------- the threshold rule


def test_the_rule_by_hand():
    values = np.arange(101) / 100  # median 0.5, 95th percentile 0.95
    assert spread_threshold(values, "above") == pytest.approx((0.5 + 2 * 0.45, 0.5, 0.95))
    # falling metrics: the 5th percentile, the threshold below the median
    assert spread_threshold(values, "below") == pytest.approx((0.5 - 2 * 0.45, 0.5, 0.05))
    # a metric that barely moves gets the margin, not its own tiny spread
    assert spread_threshold(np.full(50, 0.02), "above")[0] == pytest.approx(0.02 + MIN_MARGIN)
    # undefined evaluations are skipped; none at all is an error naming the reason
    assert spread_threshold(np.array([np.nan, *values, np.inf]), "above")[0] == pytest.approx(1.4)
    with pytest.raises(DriftdeskError, match="no evaluation"):
        spread_threshold(np.array([np.nan]), "above")


def test_the_rule_on_normal_changes_is_about_three_standard_deviations():
    sigma = 0.08
    values = stats.norm.ppf((np.arange(20_000) + 0.5) / 20_000, scale=sigma)  # exact normal quantiles
    threshold, median, upper = spread_threshold(values, "above")
    expected = 2 * stats.norm.ppf(0.95) * sigma  # 3.29 sigma
    assert upper == pytest.approx(stats.norm.ppf(0.95) * sigma, rel=1e-3)
    assert expected <= threshold <= expected * 1.1 + 1e-12  # rounded up to two significant digits
    assert threshold == 0.27


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=200), st.sampled_from(["above", "below"]))
def test_the_threshold_is_past_the_percentile_and_the_margin(values, direction):
    x = np.array(values)
    threshold, median, upper = spread_threshold(x, direction)
    sign = 1 if direction == "above" else -1
    t, m, q = sign * threshold, sign * median, sign * upper  # in the alerting direction: larger is further out
    exact = m + 2 * max(q - m, MIN_MARGIN / 2)
    tol = 1e-9 * max(1.0, abs(exact))
    assert t >= exact - tol  # rounding only moves it further out
    assert t <= exact + abs(exact) / 10 + tol  # by less than one unit of the second significant digit
    assert t >= q - tol and t >= m + MIN_MARGIN - tol


# --------------------------------------------------------------------------- folders in other shapes


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    return write_foreign_folder(tmp_path_factory.mktemp("foreign") / "advertiser")


def _replays(ds, policy, incidents=None):
    """Backtest the policy and sweep every replayable gate: nothing may raise."""
    values = policy_values(ds, policy)
    result = backtest_policy(ds, policy, incidents=incidents, values=values)
    for gv in values:
        sweep = sweep_gate(ds, policy, gv.gate.name, values=values, incidents=incidents)
        assert sweep.frame.height > 0
    return result


def test_a_foreign_folder_gets_gates_for_its_own_columns(foreign):
    ds, incidents = load_history(foreign.folder)
    assert incidents is None  # this advertiser keeps no incident log
    starter = starter_policy(ds)
    names = [g.name for g in starter.policy.gates]
    assert names == ["nulls_bid_usd", "cpa_by_Country", "cpa_by_Platform", "cr_by_Country", "cr_by_Platform",
                     "roas_by_Country", "roas_by_Platform"]
    cpa = starter.policy.gate("cpa_by_Country")
    assert (cpa.comparison, cpa.direction, cpa.by, cpa.min_sample) == ("week_over_week", "above", ("Country",), 30.0)
    assert starter.policy.gate("cr_by_Platform").threshold < 0  # conversion rate alerts when it falls
    row = starter.thresholds.filter(pl.col("gate") == "cpa_by_Country").row(0, named=True)
    assert row["threshold"] == spread_threshold(policy_values(ds, starter.policy)[1].values, "above")[0]
    assert policy_problems(ds, starter.policy) == []
    assert parse_policy(starter.policy.to_toml()) == starter.policy  # it can be adopted as a file
    result = _replays(ds, starter.policy, incidents)
    assert not result.has_incident_log and result.score.recall is None
    assert "recall needs an incidents table" in result.score.reasons["recall"]
    assert result.alerts_per_week < 2  # quiet on ordinary weeks: Black Friday doubles traffic, CPA unchanged


def test_the_foreign_folder_without_a_calendar_or_incidents_opens_on_the_starter(foreign):
    ds = load_dataset(foreign.folder)
    opening = opening_policy(ds, foreign.folder)
    assert opening.origin == "starter" and opening.policy.name == "starter" and opening.default == opening.policy
    assert "generated from this data" in opening.sentence and opening.starter is not None


def _short_kpis(days: int, *, every: str = "1h") -> pl.DataFrame:
    start = dt.datetime(2026, 3, 2)
    ts = pl.datetime_range(start, start + dt.timedelta(days=days), every, closed="left", eager=True)
    rng = np.random.default_rng(days)
    return pl.DataFrame({"ts": ts, "clicks": rng.poisson(400, ts.len()).astype(float),
                         "conversions": rng.poisson(40, ts.len()).astype(float),
                         "spend": rng.normal(800, 40, ts.len()), "revenue": rng.normal(2000, 100, ts.len())})


def test_a_short_history_without_segments_compares_day_over_day_and_pools_traffic(tmp_path):
    _short_kpis(6).write_csv(tmp_path / "export.csv")
    ds = load_dataset(tmp_path)
    starter = starter_policy(ds)
    assert [(g.name, g.comparison, g.by) for g in starter.policy.gates] == [
        ("cpa", "day_over_day", ()), ("cr", "day_over_day", ()), ("roas", "day_over_day", ())]
    _replays(ds, starter.policy)


def test_five_minute_data_with_odd_segment_names(tmp_path):
    frame = _short_kpis(16, every="5m")
    frame = frame.with_columns(pl.Series("Sales Region", np.where(np.arange(frame.height) % 2 == 0, "N", "S")),
                               pl.Series("Sales (Region)", np.where(np.arange(frame.height) % 3 == 0, "E", "W")))
    frame.write_parquet(tmp_path / "kpis.parquet")
    ds = load_dataset(tmp_path)
    names = [g.name for g in starter_policy(ds).policy.gates]
    assert names[:2] == ["cpa_by_Sales_Region", "cpa_by_Sales_Region_2"]  # both read alike: made unique
    assert load_dataset(tmp_path)["kpis"].segments == ("Sales Region", "Sales (Region)")
    _replays(ds, starter_policy(ds).policy)


def test_segments_named_in_another_script_keep_their_names_in_the_gates(tmp_path):
    """Gate names keep letters of any script: segments 地域 and デバイス give cpa_by_地域 and cpa_by_デバイス, not
    cpa_by and cpa_by_2, which say nothing of the segment; the policy's TOML reads back the same."""
    frame = _short_kpis(16)
    frame = frame.with_columns(pl.Series("地域", np.where(np.arange(frame.height) % 2 == 0, "東京", "大阪")),
                               pl.Series("デバイス", np.where(np.arange(frame.height) % 3 == 0, "PC", "スマホ")))
    frame.write_parquet(tmp_path / "kpis.parquet")
    starter = starter_policy(load_dataset(tmp_path))
    names = [g.name for g in starter.policy.gates]
    assert names[:2] == ["cpa_by_地域", "cpa_by_デバイス"]
    assert [g.name for g in parse_policy(starter.to_toml()).gates] == names


def test_too_little_history_is_said_and_nothing_to_gate_is_an_error():
    ds = dataset(kpis=kpis_frame(np.full(30, 100.0), np.full(30, 10.0)))  # 30 hours
    with pytest.raises(DriftdeskError, match="too few for a change against the day before"):
        starter_policy(ds)


def test_the_sample_gets_every_layer_and_release_checks(sample_dataset, sample_dir):
    starter = starter_policy(sample_dataset)
    metrics = {g.metric for g in starter.policy.gates}
    assert {"null_rate:ctr_7d", "cpa", "cr", "roas", "latency_p99_ms", "error_rate", "timeout_rate",
            "tokens_out_mean", "cost_per_call", "validator_failure_rate", "golden_pass_rate",
            "golden_flips_to_fail"} <= metrics
    assert starter.policy.gate("latency_p99_ms_by_service").comparison == "trailing"
    flips = starter.policy.gate("golden_known_failure_flips")
    assert flips.release_only and flips.filter == (("case_kind", ("known_failure",)),)
    checks = starter.thresholds.filter(pl.col("comparison") == "release")
    assert checks["evaluations"].null_count() == checks.height  # no history behind a release check
    ds, incidents = load_history(sample_dir)
    result = _replays(ds, starter.policy, incidents)
    # generated without reading the incident log, it still catches most incidents at a few alerts a week
    assert result.recall >= 0.75 and result.alerts_per_week < 8


# --------------------------------------------------------------------------- which policy a dataset opens on


def test_the_sample_opens_on_its_own_policy_and_an_adopted_version_before_it(sample_dataset, sample_dir):
    opening = opening_policy(sample_dataset, sample_dir)
    assert opening.origin == "folder" and opening.policy.name == "northwind-default" and opening.starter is None
    adopted = parse_policy('[policy]\nname = "mine"\n[[gate]]\nname = "c"\nmetric = "cpa"\nthreshold = 30.0\n')
    opening = opening_policy(sample_dataset, sample_dir, adopted=adopted, adopted_label="adopted mine v2")
    assert (opening.origin, opening.policy, opening.label) == ("adopted", adopted, "adopted mine v2")
    assert opening.default.name == "northwind-default"


def test_policies_that_do_not_fit_are_passed_over_and_named(foreign, tmp_path):
    ds = load_dataset(foreign.folder)
    sample_like = parse_policy('[policy]\nname = "sample-like"\n[[gate]]\nname = "nulls"\n'
                               'metric = "null_rate:ctr_7d"\nthreshold = 0.2\n')
    opening = opening_policy(ds, foreign.folder, adopted=sample_like, adopted_label="adopted sample-like v1")
    assert opening.origin == "starter"
    assert opening.notes[0].startswith("adopted sample-like v1 does not fit this data any more")
    assert "ctr_7d" in opening.notes[0]
    folder = tmp_path / "copy"
    folder.mkdir()
    for f in Path(foreign.folder).iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / POLICY_FILE).write_text("[policy\nname = 'broken'\n", encoding="utf-8")
    opening = opening_policy(ds, folder)
    assert opening.origin == "starter" and "policy.toml cannot be used" in opening.notes[0]
    (folder / POLICY_FILE).write_text(sample_like.to_toml(), encoding="utf-8")
    opening = opening_policy(ds, folder)
    assert opening.origin == "starter" and "does not fit this data" in opening.notes[0]


def test_gate_problems_name_the_missing_table_or_column(foreign):
    ds = load_dataset(foreign.folder)

    def problem(**raw):
        return gate_problem(ds, parse_gate({"name": "g", "threshold": 0.1, **raw}))

    assert problem(metric="cpa", by=["Country"]) is None
    assert "no column 'geo'" in problem(metric="cpa", by=["geo"])
    assert "needs the service table" in problem(metric="latency_p99_ms")
    assert "no table has the column 'ctr_7d'" in problem(metric="null_rate:ctr_7d")
    assert "no column 'geo'" in problem(metric="seasonality_flag:cpa", by=["geo"])
    assert problem(metric="cpa", filter={"Platform": ["ios"]}) is None
    with pytest.raises(PolicyError):
        parse_gate({"name": "g", "metric": "nonsense", "threshold": 1})


# --------------------------------------------------------------------------- the CLI


def test_the_cli_writes_a_starter_that_backtests_without_incidents(foreign, tmp_path, capsys):
    import json

    from driftdesk.cli import main
    from driftdesk.gates import load_policy

    out = tmp_path / "policy.toml"
    assert main(["gates", "starter", "--data", str(foreign.folder), "--out", str(out), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["written"] == str(out) and doc["policy"]["policy"]["name"] == "starter"
    assert [row["gate"] for row in doc["thresholds"]][:2] == ["nulls_bid_usd", "cpa_by_Country"]
    written = load_policy(out)  # the commented header parses as TOML
    assert written == starter_policy(load_dataset(foreign.folder)).policy
    assert out.read_text(encoding="utf-8").startswith("# A starter policy generated by driftdesk")
    assert main(["gates", "backtest", "--policy", str(out), "--data", str(foreign.folder), "--format", "json"]) == 0
    backtest = json.loads(capsys.readouterr().out)
    assert backtest["recall"] is None and backtest["alerts_per_week"] >= 0
    assert "recall needs an incidents table" in backtest["reasons"]["recall"]
    # an existing file is kept unless --force
    assert main(["gates", "starter", "--data", str(foreign.folder), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["gates", "starter", "--data", str(foreign.folder), "--out", str(out), "--force"]) == 0
