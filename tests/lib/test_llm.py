"""LLM metrics against numpy and hand-computed cases."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.errors import DriftdeskError
from driftdesk.jsonsafe import jsonable
from driftdesk.llm import GROUP_METRICS, compare_calls, golden_summary, metrics_over_time, summarize_calls
from driftdesk.windows import Window

T0 = dt.datetime(2026, 9, 1)


def make_calls(n: int = 2000, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        "ts": [T0 + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 60 * 48, n))],
        "prompt_version": rng.choice(["v2", "v3"], n),
        "latency_ms": rng.lognormal(6, 0.5, n),
        "ttft_ms": rng.lognormal(5, 0.4, n),
        "input_tokens": rng.integers(100, 900, n).astype(float),
        "output_tokens": rng.integers(20, 300, n).astype(float),
        "cost": rng.random(n) / 100,
        "validator_ok": rng.random(n) > 0.03,
        "refusal": rng.random(n) < 0.01,
        "error": rng.random(n) < 0.002,
        "judge_score": rng.random(n),
    })


def test_group_metrics_match_numpy():
    calls = make_calls()
    out = summarize_calls(calls, by=["prompt_version"])
    assert out["prompt_version"].to_list() == ["v2", "v3"]
    for row in out.iter_rows(named=True):
        g = calls.filter(pl.col("prompt_version") == row["prompt_version"])
        lat = g["latency_ms"].to_numpy()
        assert row["calls"] == g.height
        for q, name in ((50, "latency_p50_ms"), (95, "latency_p95_ms"), (99, "latency_p99_ms")):
            assert row[name] == pytest.approx(np.percentile(lat, q), rel=1e-12)
        assert row["ttft_p95_ms"] == pytest.approx(np.percentile(g["ttft_ms"].to_numpy(), 95), rel=1e-12)
        assert row["validator_failure_rate"] == pytest.approx((~g["validator_ok"].to_numpy()).mean())
        assert row["refusal_rate"] == pytest.approx(g["refusal"].to_numpy().mean())
        assert row["cost_total"] == pytest.approx(g["cost"].to_numpy().sum())
        assert row["cost_per_call"] == pytest.approx(g["cost"].to_numpy().sum() / g.height)
        assert row["tokens_out_mean"] == pytest.approx(g["output_tokens"].to_numpy().mean())


def test_hand_computed_small_case():
    calls = pl.DataFrame({
        "ts": [T0] * 4,
        "latency_ms": [100.0, 200.0, 300.0, 400.0],
        "validator_ok": [True, False, True, True],
        "cost": [0.1, 0.2, 0.3, 0.4],
    })
    row = summarize_calls(calls).row(0, named=True)
    assert row["calls"] == 4
    assert row["validator_failure_rate"] == 0.25
    assert row["latency_p50_ms"] == 250.0  # linear interpolation between 200 and 300
    assert row["latency_p95_ms"] == pytest.approx(385.0)  # 300 + 0.85 * 100
    assert row["cost_per_call"] == pytest.approx(0.25)
    assert row["refusal_rate"] is None  # column absent: undefined, not zero


def test_compare_windows_changes():
    calls = make_calls()
    b = Window(T0, T0 + dt.timedelta(days=1))
    c = Window(T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2))
    res = compare_calls(calls, by=["prompt_version"], baseline=b, current=c)
    cmp = res.comparison.filter((pl.col("prompt_version") == "v3") & (pl.col("metric") == "latency_p95_ms")).row(0, named=True)
    lat = calls.filter(pl.col("prompt_version") == "v3")
    base = np.percentile(lat.filter(b.contains())["latency_ms"].to_numpy(), 95)
    cur = np.percentile(lat.filter(c.contains())["latency_ms"].to_numpy(), 95)
    assert cmp["baseline"] == pytest.approx(base) and cmp["current"] == pytest.approx(cur)
    assert cmp["relative_change"] == pytest.approx(cur / base - 1)
    doc = res.to_dict()
    json.dumps(doc, allow_nan=False)
    assert set(GROUP_METRICS) <= set(doc["groups"][0])


def test_rate_pvalues_match_statsmodels():
    from statsmodels.stats.proportion import proportions_ztest

    rng = np.random.default_rng(3)
    n0, n1 = 4000, 1500
    calls = pl.DataFrame({
        "ts": [T0] * n0 + [T0 + dt.timedelta(days=1)] * n1,
        "validator_ok": np.concatenate([rng.random(n0) > 0.005, rng.random(n1) > 0.03]),
    })
    res = compare_calls(calls, baseline=Window(T0, T0 + dt.timedelta(days=1)),
                        current=Window(T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2)))
    row = res.comparison.filter(pl.col("metric") == "validator_failure_rate").row(0, named=True)
    fails = [int((~calls["validator_ok"][:n0]).sum()), int((~calls["validator_ok"][n0:]).sum())]
    _, expected = proportions_ztest(fails, [n0, n1])
    assert row["p_value"] == pytest.approx(expected, rel=1e-9)
    assert res.summary() and "validator failure rate rose" in res.summary()[0]


def test_rare_rate_noise_is_not_a_regression():
    # 2 refusals in 1,000 calls, then 4 in 1,000: +100%, but well within noise
    calls = pl.DataFrame({
        "ts": [T0] * 1000 + [T0 + dt.timedelta(days=1)] * 1000,
        "refusal": [True] * 2 + [False] * 998 + [True] * 4 + [False] * 996,
    })
    res = compare_calls(calls, baseline=Window(T0, T0 + dt.timedelta(days=1)),
                        current=Window(T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2)))
    row = res.comparison.filter(pl.col("metric") == "refusal_rate").row(0, named=True)
    assert row["relative_change"] == pytest.approx(1.0) and row["p_value"] > 0.3
    assert res.regressions().height == 0


def test_new_version_is_compared_with_all_baseline_calls():
    base = pl.DataFrame({"ts": [T0] * 100, "model": ["m1"] * 100, "cost": [1.0] * 100})
    cur = pl.DataFrame({"ts": [T0 + dt.timedelta(days=1)] * 50, "model": ["m2"] * 50, "cost": [2.0] * 50})
    res = compare_calls(pl.concat([base, cur]), by=["model"], baseline=Window(T0, T0 + dt.timedelta(days=1)),
                        current=Window(T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2)))
    row = res.comparison.filter((pl.col("model") == "m2") & (pl.col("metric") == "cost_per_call")).row(0, named=True)
    assert (row["baseline"], row["current"], row["reference"]) == (1.0, 2.0, "all baseline calls")
    assert any("model=m2 (new" in s for s in res.summary())


def test_regressions_flag_a_cost_jump():
    calls = make_calls(1000)
    later = calls.with_columns(pl.col("ts") + dt.timedelta(days=2), pl.col("cost") * 1.5)
    both = pl.concat([calls, later])
    b = Window(T0, T0 + dt.timedelta(days=2))
    c = Window(T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=4))
    reg = compare_calls(both, baseline=b, current=c).regressions(relative=0.2)
    assert set(reg["metric"]) == {"cost_total", "cost_per_call", "cost_per_success"}


def test_golden_summary_median_over_repeats():
    runs = pl.DataFrame({
        "release_id": ["r1"] * 6 + ["r2"] * 6,
        "case_id": ["a", "a", "a", "b", "b", "b"] * 2,
        "repeat": [0, 1, 2] * 4,
        "passed": [True, True, False, False, False, True, True, True, True, True, False, False],
        "recall_at_k": [0.8] * 6 + [0.7] * 6,
    })
    out = golden_summary(runs)
    assert out["pass_rate"].to_list() == [0.5, 0.5]  # r1: a passes 2/3, b fails 2/3; r2: a passes, b fails
    assert out["recall_at_k_mean"].to_list() == pytest.approx([0.8, 0.7])
    assert out["cases"].to_list() == [2, 2]


def test_metrics_over_time_and_budget():
    calls = make_calls(500)
    daily = metrics_over_time(calls, budget_per_day=2.0)
    assert daily["calls"].sum() == calls.height
    assert daily["cost_total"].sum() == pytest.approx(calls["cost"].sum())
    assert daily["budget_burn"].to_list() == pytest.approx((daily["cost_total"] / 2.0).to_list())
    hourly = metrics_over_time(calls, by=["prompt_version"], every="1h", budget_per_day=2.0)
    assert hourly["budget_burn"].to_list() == pytest.approx((hourly["cost_total"] / (2.0 / 24)).to_list())
    first_hour = calls.filter(pl.col("ts") < T0 + dt.timedelta(hours=1), pl.col("prompt_version") == "v2")
    row = hourly.filter((pl.col("ts") == T0) & (pl.col("prompt_version") == "v2")).row(0, named=True)
    assert row["latency_p95_ms"] == pytest.approx(np.percentile(first_hour["latency_ms"].to_numpy(), 95))
    with pytest.raises(DriftdeskError, match="budget"):
        metrics_over_time(calls, budget_per_day=0)


def test_bad_input_messages():
    calls = make_calls(10)
    with pytest.raises(DriftdeskError, match="unknown group column"):
        summarize_calls(calls, by=["nope"])
    with pytest.raises(DriftdeskError, match="both"):
        compare_calls(calls, baseline=Window(T0, T0 + dt.timedelta(days=1)))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.just(float('nan')), st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=1e12)), max_size=30))
def test_no_crash_on_odd_latencies(values):
    calls = pl.DataFrame({"ts": [T0] * len(values), "latency_ms": pl.Series(values, dtype=pl.Float64)})
    out = summarize_calls(calls)
    json.dumps(jsonable(out), allow_nan=False)


def test_cli_llm_json(tmp_path):
    calls = make_calls(300)
    path = tmp_path / "calls.parquet"
    calls.write_parquet(path)
    proc = subprocess.run([sys.executable, "-m", "driftdesk.cli", "llm", "--input", str(path), "--by", "prompt_version",
                           "--format", "json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    keys = {"calls", "validator_failure_rate", "refusal_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
            "tokens_in_mean", "tokens_out_mean", "cost_total", "cost_per_call", "prompt_version"}
    assert keys <= set(doc["groups"][0])
    bad = subprocess.run([sys.executable, "-m", "driftdesk.cli", "llm", "--input", str(path), "--by", "nope",
                          "--format", "json"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "nope" in bad.stderr and bad.stderr.count("\n") == 1


@settings(max_examples=80, deadline=None)
@given(text=st.text(alphabet="abcdefghij-0123456789", min_size=0, max_size=60))
def test_long_release_ids_wrap_without_losing_a_character(text):
    from driftdesk.viz.llm import _wrap_id

    wrapped = _wrap_id(text)
    assert wrapped.replace("<br>", "") == text
    # every break comes right after a dash, and a line (its closing dash aside) only runs past 12 characters when
    # it is one piece with no dash to break at
    lines = wrapped.split("<br>")
    assert all(line.endswith("-") for line in lines[:-1])
    assert all(len(line[:-1] if line.endswith("-") else line) <= 12 or "-" not in line[:-1] for line in lines)


def test_regressions_name_the_release_that_introduced_them():
    from driftdesk.llm import regression_releases

    calls = make_calls(1200).with_columns(pl.lit("m1").alias("model"), pl.lit("r1").alias("release_id"))
    later = calls.with_columns(pl.col("ts") + dt.timedelta(days=2), pl.col("cost") * 2,
                               pl.lit("m2").alias("model"), pl.lit("r2").alias("release_id"))
    both = pl.concat([calls, later])
    b, c = Window(T0, T0 + dt.timedelta(days=2)), Window(T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=4))
    releases = pl.DataFrame({"ts": [T0 - dt.timedelta(days=9), T0 + dt.timedelta(days=2, hours=1)],
                             "release_id": ["r1", "r2-rollout"], "component": ["llm_model", "llm_model"],
                             "version": ["m1", "m2"], "note": ["old", "new provider model"]})
    by_model = regression_releases(compare_calls(both, by=["model"], baseline=b, current=c), both, releases)
    row = by_model.filter(pl.col("metric") == "cost_per_call").row(0, named=True)
    assert (row["model"], row["release_id"], row["found_by"], row["release_note"]) == (
        "m2", "r2-rollout", "version", "new provider model")
    overall = regression_releases(compare_calls(both, baseline=b, current=c), both, releases)
    row = overall.filter(pl.col("metric") == "cost_per_call").row(0, named=True)
    assert (row["release_id"], row["found_by"]) == ("r2", "new in the window")  # r2 is not in the releases table
    assert row["release_ts"] == later["ts"].min()
    quiet = regression_releases(compare_calls(both.drop("release_id"), baseline=b, current=c),
                                both.drop("release_id"), None)
    assert quiet["release_id"].null_count() == quiet.height > 0


def test_golden_releases_in_shipping_order_and_the_default_pair(sample_dataset):
    from driftdesk.llm import golden_pair, golden_releases

    assert golden_releases(sample_dataset) == ["prompt-v2", "prompt-v3", "llm-provider-m-2026-09", "index-idx-2026-10"]
    assert golden_pair(sample_dataset, dt.date(2026, 9, 24)) == ("prompt-v2", "llm-provider-m-2026-09")
    assert golden_pair(sample_dataset, dt.date(2026, 11, 1)) == ("prompt-v2", "index-idx-2026-10")


def test_llm_view_carries_budget_golden_and_output_drift(sample_dataset):
    from driftdesk.llm import llm_view

    view = llm_view(sample_dataset, by="feature", end_day=dt.date(2026, 9, 2), days=1, budget_per_day=8.0,
                    budget_as_of=12, golden_candidate="prompt-v3")
    assert view.burn.as_of == dt.datetime(2026, 9, 2, 12) and view.golden_comparison.candidate == "prompt-v3"
    assert view.output.table.filter(pl.col("feature") == "ad_copy")["tokens_status"][0] == "alert"  # INC-e1
    doc = json.loads(json.dumps(view.to_dict(), allow_nan=False))
    assert doc["regressions"][0]["release_id"] == "prompt-v3"
    assert doc["golden_comparison"]["flips_to_pass"] == 11 and doc["budget_burn"]["groups"][0]["budget"] == 8.0
