"""The bundled sample: reproducible byte for byte, valid under the contract, and every story incident is really in it.

Each incident is measured here independently with polars/scipy on the loaded tables, not by the generator's code.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.stats import mannwhitneyu

from driftdesk.contract import load_dataset, read_mappings
from driftdesk.errors import DriftdeskError
from driftdesk.sample import write_sample

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
GENERATED = ("kpis.parquet", "decisions.parquet", "llm_calls.parquet", "golden_runs.parquet", "service.parquet",
             "releases.csv", "incidents.csv", "calendar.csv", "driftdesk.toml", "policy.toml")


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def between(start: str, end: str, col: str = "ts") -> pl.Expr:
    return (pl.col(col) >= t(start)) & (pl.col(col) < t(end))


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(out)
    return out


@pytest.fixture(scope="module")
def ds():
    return load_dataset(SAMPLE)


def test_default_run_reproduces_the_committed_files_byte_for_byte(regenerated):
    for name in GENERATED:
        assert (regenerated / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_every_table_loads_through_the_contract_without_violations(ds):
    assert set(ds.tables) == {"kpis", "decisions", "llm_calls", "golden_runs", "service", "releases", "incidents",
                              "calendar"}
    assert all(not table.warnings for table in ds.tables.values())
    assert ds["kpis"].segments == ("geo", "device", "source")
    assert ds["decisions"].segments == ("geo", "device", "source")
    assert ds["decisions"].features == ("recency_days", "session_depth", "ctr_7d", "bid_floor_usd", "page_speed_ms",
                                        "ad_format", "browser")
    assert read_mappings(SAMPLE)["decisions"]["segments"] == ["geo", "device", "source"]


def test_shape_of_the_story(ds):
    kpis = ds["kpis"].frame
    assert kpis.height == 91 * 24 * 60
    assert kpis["ts"].min() == t("2026-08-03T00:00") and kpis["ts"].max() == t("2026-11-01T23:00")
    assert kpis.select(pl.struct("geo", "device", "source").n_unique()).item() == 60
    dec = ds["decisions"].frame
    assert 250_000 <= dec.height <= 350_000
    assert dec["ts"].is_sorted()
    golden = ds["golden_runs"].frame
    per_release = golden.group_by("release_id").agg(pl.col("case_id").n_unique(), pl.len(), pl.col("repeat").n_unique())
    assert set(per_release["release_id"]) == {"prompt-v2", "prompt-v3", "llm-provider-m-2026-09", "index-idx-2026-10"}
    assert (per_release["case_id"] == 120).all() and (per_release["repeat"] == 3).all()
    incidents = ds["incidents"].frame
    assert incidents["incident_id"].to_list() == ["INC-a", "INC-e1", "INC-b", "INC-e2", "INC-f", "INC-c", "INC-e3",
                                                  "INC-d"]
    releases = ds["releases"].frame
    assert {"model-v2.0-canary", "model-v2.0-full", "model-v1.9-rollback", "prompt-v3", "threshold-0.28",
            "fv-2026-08-26-tracking-sdk-4.2", "index-idx-2026-10", "llm-provider-m-2026-09",
            "config-2026-10-26"} <= set(releases["release_id"])
    assert set(releases["component"]) >= {"model", "prompt", "index", "threshold", "feature_view"}


def test_daily_and_weekly_seasonality(ds):
    kpis = ds["kpis"].frame.filter(between("2026-08-03", "2026-08-31"))
    by_hour = kpis.group_by(pl.col("ts").dt.hour().alias("h")).agg(pl.col("impressions").sum()).sort("h")
    peak = by_hour.sort("impressions")["h"][-1]
    assert 19 <= peak <= 21
    assert by_hour["impressions"].max() > 3 * by_hour["impressions"].min()
    by_dev = kpis.group_by("device", (pl.col("ts").dt.weekday() >= 6).alias("weekend")).agg(
        (pl.col("impressions").sum() / pl.col("ts").dt.date().n_unique()).alias("per_day"))
    ratio = {d: by_dev.filter(pl.col("device") == d).sort("weekend")["per_day"] for d in ("desktop", "mobile")}
    assert ratio["desktop"][1] / ratio["desktop"][0] < 0.85  # weekends lower for desktop
    assert ratio["mobile"][1] / ratio["mobile"][0] > 1.05  # and higher for mobile


def test_payday_and_labor_day_are_calendar_days_with_their_volume_spike(ds):
    cal = ds["calendar"].frame
    assert set(cal["date"].dt.date().cast(pl.String)) == {"2026-09-01", "2026-09-07", "2026-10-01", "2026-11-01"}
    assert cal.filter(pl.col("kind") == "holiday")["segment"].to_list() == ["geo=US"]
    assert cal.filter(pl.col("kind") == "promotion")["segment"].null_count() == 3
    kpis = ds["kpis"].frame.with_columns(pl.col("ts").dt.date().alias("day"))
    daily = kpis.group_by("day").agg(pl.col("impressions").sum(), pl.col("conversions").sum(), pl.col("spend").sum())
    # compare each payday with the same weekday one and two weeks before
    for payday in ("2026-09-01", "2026-10-01"):
        d = t(payday).date()
        before = daily.filter(pl.col("day").is_in([d - np.timedelta64(7, "D").item(), d - np.timedelta64(14, "D").item()]))
        today = daily.filter(pl.col("day") == d)
        lift = today["impressions"][0] / before["impressions"].mean()
        assert 1.3 < lift < 1.6, (payday, lift)
        cpa_today = today["spend"][0] / today["conversions"][0]
        cpa_before = before["spend"].sum() / before["conversions"].sum()
        assert abs(cpa_today / cpa_before - 1) < 0.05
    us = kpis.filter(pl.col("geo") == "US").group_by("day").agg(pl.col("impressions").sum())
    labor = us.filter(pl.col("day") == t("2026-09-07").date())["impressions"][0]
    mondays = us.filter(pl.col("day").is_in([t("2026-08-31").date(), t("2026-08-24").date()]))["impressions"].mean()
    assert 0.65 < labor / mondays < 0.75


def test_inc_a_ctr_7d_null_rate_jumps_in_affiliate_only_during_the_window(ds):
    dec = ds["decisions"].frame
    rates = dec.group_by(between("2026-08-26T10:00", "2026-08-28T16:00").alias("inside"),
                         (pl.col("source") == "affiliate").alias("affiliate")).agg(
        pl.col("ctr_7d").is_null().mean().alias("null_rate"), pl.len())
    rate = {(r["inside"], r["affiliate"]): r["null_rate"] for r in rates.iter_rows(named=True)}
    assert rate[(True, True)] > 0.40
    for key in ((False, True), (True, False), (False, False)):
        assert 0.01 < rate[key] < 0.03, (key, rate[key])


def test_inc_b_br_share_doubles_while_each_segments_rates_hold(ds):
    kpis = ds["kpis"].frame
    inside = kpis.filter(between("2026-09-14", "2026-09-21"))
    before = kpis.filter(between("2026-08-31", "2026-09-07"))  # the same weekdays, before Labor Day

    def share(frame: pl.DataFrame, col: str) -> float:
        return frame.filter(pl.col("geo") == "BR")[col].sum() / frame[col].sum()

    for col in ("impressions", "clicks", "spend"):
        assert 1.8 < share(inside, col) / share(before, col) < 2.3, col

    def rates(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("geo") == "BR").group_by("device", "source").agg(
            pl.col("conversions").sum(), pl.col("clicks").sum(),
            (pl.col("spend").sum() / pl.col("clicks").sum()).alias("cpc"))

    both = rates(before).join(rates(inside), on=["device", "source"], suffix="_in").with_columns(
        cr=pl.col("conversions") / pl.col("clicks"), cr_in=pl.col("conversions_in") / pl.col("clicks_in"))
    assert both.height == 12
    # each segment's CR holds: the difference is within sampling noise (|z| < 4 for a two-proportion test)
    pooled = (pl.col("conversions") + pl.col("conversions_in")) / (pl.col("clicks") + pl.col("clicks_in"))
    z = (pl.col("cr_in") - pl.col("cr")) / (pooled * (1 - pooled) * (1 / pl.col("clicks") + 1 / pl.col("clicks_in"))).sqrt()
    assert (both.select(z.abs())["cr_in"] < 4).all()
    # and its CPC: each click's cost varies (cv 0.5), so allow three standard errors of the ratio
    cpc_tolerance = 0.01 + 3 * 0.5 * (1 / pl.col("clicks") + 1 / pl.col("clicks_in")).sqrt()
    assert both.select(((pl.col("cpc_in") / pl.col("cpc") - 1).abs() < cpc_tolerance).all()).item()
    br_cr = lambda f: f.filter(pl.col("geo") == "BR")["conversions"].sum() / f.filter(pl.col("geo") == "BR")["clicks"].sum()  # noqa: E731
    assert abs(br_cr(inside) / br_cr(before) - 1) < 0.05
    # while the global CPA moves (BR is cheap per conversion): mix alone
    assert _cpa(inside) / _cpa(before) < 0.95


def _cpa(frame: pl.DataFrame) -> float:
    return frame["spend"].sum() / frame["conversions"].sum()


def test_inc_c_de_cpa_rises_15_percent_at_full_v2_traffic_only_in_de(ds):
    kpis = ds["kpis"].frame
    full = between("2026-10-07", "2026-10-12")
    # the same weekdays (Wed..Sun) of the two weeks before, avoiding the 10-01 payday is unnecessary: CPA holds on it
    weeks_before = between("2026-09-23", "2026-09-28") | between("2026-09-30", "2026-10-05")
    de = pl.col("geo") == "DE"
    change = _cpa(kpis.filter(full & de)) / _cpa(kpis.filter(weeks_before & de)) - 1
    assert 0.10 < change < 0.20, change
    others = _cpa(kpis.filter(full & ~de)) / _cpa(kpis.filter(weeks_before & ~de)) - 1
    assert abs(others) < 0.04, others


def test_inc_c_in_the_decisions_v2_bids_on_worse_de_traffic(ds):
    dec = ds["decisions"].frame
    full = between("2026-10-07", "2026-10-12")
    weeks_before = between("2026-09-23", "2026-09-28") | between("2026-09-30", "2026-10-05")

    def per_geo(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.group_by("geo").agg(
            pl.col("decision").mean().alias("bid_rate"),
            pl.col("label").filter(pl.col("decision") == 1).mean().alias("won_rate"),
            (pl.col("spend").sum() / pl.col("label").filter(pl.col("decision") == 1).sum()).alias("cpa"))

    both = per_geo(dec.filter(full)).join(per_geo(dec.filter(weeks_before)), on="geo", suffix="_before")
    ratio = {r["geo"]: r for r in both.with_columns(
        (pl.col(c) / pl.col(f"{c}_before")).alias(c) for c in ("bid_rate", "won_rate", "cpa")).iter_rows(named=True)}
    # in DE v2.0 bids on far more requests, of worse quality, and pays more per conversion
    assert ratio["DE"]["bid_rate"] > 1.4
    assert ratio["DE"]["won_rate"] < 0.9
    assert ratio["DE"]["cpa"] > 1.0
    for geo in ("US", "GB", "BR", "IN"):  # elsewhere the same requests win: the stretch is centred on the threshold
        assert 0.85 < ratio[geo]["bid_rate"] < 1.15, geo


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    return mannwhitneyu(pos, neg).statistic / (pos.size * neg.size)


def _ece(y: np.ndarray, s: np.ndarray, bins: int = 10) -> float:
    idx = np.minimum((s * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / s.size * abs(y[m].mean() - s[m].mean())
    return total


def test_inc_c_v2_keeps_auc_but_is_overconfident(ds):
    dec = ds["decisions"].frame.filter(pl.col("label").is_not_null())
    v20 = dec.filter(pl.col("model_version") == "v2.0")
    v19 = dec.filter((pl.col("model_version") == "v1.9") & between("2026-09-21", "2026-10-05"))
    assert set(v20["release_id"]) == {"model-v2.0-canary", "model-v2.0-full"}
    y20, s20 = v20["label"].to_numpy(), v20["score"].to_numpy()
    y19, s19 = v19["label"].to_numpy(), v19["score"].to_numpy()
    auc20, auc19 = _auc(y20, s20), _auc(y19, s19)
    assert 0.70 < auc19 < 0.82
    assert abs(auc20 - auc19) < 0.02
    ece19, ece20 = _ece(y19, s19), _ece(y20, s20)
    assert ece19 < 0.02
    assert ece20 > 3 * ece19 and ece20 > 0.04
    # traffic share: 10% during the canary, 100% at full, 0% after the rollback
    shares = dec.group_by(between("2026-10-05", "2026-10-07").alias("canary"),
                          between("2026-10-07", "2026-10-12").alias("full")).agg(
        (pl.col("model_version") == "v2.0").mean().alias("share"))
    share = {(r["canary"], r["full"]): r["share"] for r in shares.iter_rows(named=True)}
    assert 0.08 < share[(True, False)] < 0.12
    assert share[(False, True)] == 1.0
    assert share[(False, False)] == 0.0


def test_decisions_follow_the_threshold_in_force_and_labels_mature_late(ds):
    dec = ds["decisions"].frame
    before = dec.filter(pl.col("ts") < t("2026-09-08"))
    after = dec.filter(pl.col("ts") >= t("2026-09-08"))
    assert (before["decision"] == (before["score"] > 0.30).cast(pl.Int8)).all()
    assert (after["decision"] == (after["score"] > 0.28).cast(pl.Int8)).all()
    last3 = dec.filter(pl.col("ts") >= t("2026-10-30"))
    assert last3["label"].null_count() == last3.height
    assert dec.filter(pl.col("ts") < t("2026-10-30"))["label"].null_count() == 0


def test_inc_d_tablet_conversion_rate_decays_to_minus_35_percent(ds):
    kpis = ds["kpis"].frame
    tablet = pl.col("device") == "tablet"
    cr = lambda f: f["conversions"].sum() / f["clicks"].sum()  # noqa: E731
    baseline = cr(kpis.filter(tablet & between("2026-10-05", "2026-10-19")))
    last_day = cr(kpis.filter(tablet & between("2026-10-31", "2026-11-01")))  # Oct 31 (Nov 1 is payday)
    first_week = cr(kpis.filter(tablet & between("2026-10-19", "2026-10-26")))
    assert -0.42 < last_day / baseline - 1 < -0.26
    assert -0.15 < first_week / baseline - 1 < -0.03  # gradual: a quarter of the way down on average
    other = cr(kpis.filter(~tablet & between("2026-10-26", "2026-11-02"))) / cr(
        kpis.filter(~tablet & between("2026-10-05", "2026-10-19")))
    assert abs(other - 1) < 0.03
    # the label rate in the decisions table drifts too, while the scores do not follow
    dec = ds["decisions"].frame.filter(tablet & pl.col("label").is_not_null())
    early = dec.filter(between("2026-09-21", "2026-10-05"))
    late = dec.filter(between("2026-10-26", "2026-10-30"))
    assert late["label"].mean() / early["label"].mean() < 0.8
    assert abs(late["score"].mean() / early["score"].mean() - 1) < 0.08


def test_inc_e_llm_prompt_provider_and_index(ds):
    calls = ds["llm_calls"].frame
    ad = calls.filter(pl.col("feature") == "ad_copy")
    v2 = ad.filter(pl.col("prompt_version") == "v2")
    v3 = ad.filter(pl.col("prompt_version") == "v3")
    assert v3["ts"].min() >= t("2026-09-02") and v2["ts"].max() < t("2026-09-02")
    assert 1.18 < v3["output_tokens"].mean() / v2["output_tokens"].mean() < 1.32
    assert 0.01 < v3["judge_score"].mean() - v2["judge_score"].mean() < 0.03
    fail = calls.group_by("model").agg((~pl.col("validator_ok") & ~pl.col("error")).mean().alias("rate"), pl.len())
    rate = dict(zip(fail["model"], fail["rate"]))
    assert 0.003 < rate["provider-m-2026-06"] < 0.008
    assert 0.02 < rate["provider-m-2026-09"] < 0.045
    new = calls.filter(pl.col("model") == "provider-m-2026-09")
    assert new["ts"].min() >= t("2026-09-23") and new["ts"].max() < t("2026-09-25")
    golden = ds["golden_runs"].frame.group_by("release_id").agg(pl.col("recall_at_k").mean(), pl.col("passed").mean(),
                                                                pl.col("score").mean(), pl.col("tokens").mean())
    recall = dict(zip(golden["release_id"], golden["recall_at_k"]))
    assert recall["prompt-v2"] == pytest.approx(0.80, abs=1e-6)
    assert recall["index-idx-2026-10"] == pytest.approx(0.74, abs=1e-6)  # -7.5%
    assert recall["prompt-v3"] == recall["prompt-v2"] == recall["llm-provider-m-2026-09"]
    passed = dict(zip(golden["release_id"], golden["passed"]))
    assert passed["prompt-v3"] >= passed["prompt-v2"] > passed["index-idx-2026-10"]
    assert passed["prompt-v2"] - passed["llm-provider-m-2026-09"] > 0.05
    tokens = dict(zip(golden["release_id"], golden["tokens"]))
    assert 1.15 < tokens["prompt-v3"] / tokens["prompt-v2"] < 1.35
    idx = calls.filter(pl.col("index_version") == "idx-2026-10")
    assert idx["ts"].min() >= t("2026-10-14") and idx["ts"].max() < t("2026-10-16")
    assert idx["judge_score"].mean() < calls.filter(between("2026-10-07", "2026-10-14"))["judge_score"].mean()


def test_inc_f_scoring_api_p99_doubles_and_timeouts_spike(ds):
    svc = ds["service"].frame.filter(pl.col("service") == "scoring-api")
    inside = svc.filter(between("2026-09-29T13:00", "2026-09-29T17:00"))
    same_hours = svc.filter(pl.col("ts").dt.hour().is_between(13, 16) & between("2026-09-15", "2026-09-29"))
    assert inside.height == 4
    assert 1.7 < inside["latency_p99_ms"].mean() / same_hours["latency_p99_ms"].mean() < 2.3
    timeout_rate = lambda f: f["timeouts"].sum() / f["requests"].sum()  # noqa: E731
    assert 12 < timeout_rate(inside) / timeout_rate(same_hours) < 30
    for name in ("bidder", "llm-gateway"):  # the other services stay quiet
        other = ds["service"].frame.filter(pl.col("service") == name)
        ratio = (other.filter(between("2026-09-29T13:00", "2026-09-29T17:00"))["latency_p99_ms"].mean()
                 / other.filter(pl.col("ts").dt.hour().is_between(13, 16) & between("2026-09-15", "2026-09-29"))[
                     "latency_p99_ms"].mean())
        assert 0.75 < ratio < 1.3, (name, ratio)


def test_sample_folder_is_small(ds):
    total = sum(p.stat().st_size for p in SAMPLE.iterdir() if p.is_file())
    assert total <= 30 * 1024 * 1024


def test_scale_two_doubles_decision_rows(tmp_path):
    write_sample(tmp_path / "one", days=21)
    write_sample(tmp_path / "two", days=21, scale=2)
    n1 = pl.scan_parquet(tmp_path / "one" / "decisions.parquet").select(pl.len()).collect().item()
    n2 = pl.scan_parquet(tmp_path / "two" / "decisions.parquet").select(pl.len()).collect().item()
    assert 1.9 < n2 / n1 < 2.1
    k1 = pl.scan_parquet(tmp_path / "one" / "kpis.parquet").select(pl.len()).collect().item()
    assert k1 == 21 * 24 * 60


def test_short_run_leaves_out_incidents_past_its_end(tmp_path):
    write_sample(tmp_path, days=35)  # ends 2026-09-07: only INC-a and INC-e1 happened
    ds = load_dataset(tmp_path)
    assert ds["incidents"].frame["incident_id"].to_list() == ["INC-a", "INC-e1"]
    assert ds["releases"].frame["ts"].max() < t("2026-09-07")
    assert ds["kpis"].frame["ts"].max() == t("2026-09-06T23:00")
    assert set(ds["calendar"].frame["name"]) == {"payday promotion"}
    assert (ds["decisions"].frame["model_version"] == "v1.9").all()


@pytest.mark.parametrize("kwargs", [{"days": 13}, {"days": 0}, {"scale": 0}])
def test_bad_arguments_are_clear_errors(tmp_path, kwargs):
    with pytest.raises(DriftdeskError, match="sample: --"):
        write_sample(tmp_path, **kwargs)


def test_other_seed_gives_other_data(tmp_path):
    write_sample(tmp_path / "a", days=14, seed=1)
    write_sample(tmp_path / "b", days=14, seed=2)
    assert (tmp_path / "a" / "kpis.parquet").read_bytes() != (tmp_path / "b" / "kpis.parquet").read_bytes()


def test_generation_does_not_depend_on_python_hash_seed(tmp_path):
    code = "from driftdesk.sample import write_sample; import sys; write_sample(sys.argv[1], days=14)"
    for i, seed in enumerate(("1", "2")):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / str(i))], check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"})
    for name in GENERATED:
        assert (tmp_path / "0" / name).read_bytes() == (tmp_path / "1" / name).read_bytes(), name


def test_the_ordinary_week_is_quiet_against_the_week_before(ds):
    kpis = ds["kpis"].frame
    week = kpis.filter(between("2026-08-10", "2026-08-17"))
    before = kpis.filter(between("2026-08-03", "2026-08-10"))

    def per_geo(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.group_by("geo").agg(pl.col("impressions").sum(),
                                         (pl.col("spend").sum() / pl.col("conversions").sum()).alias("cpa"),
                                         (pl.col("conversions").sum() / pl.col("clicks").sum()).alias("cr"))

    both = per_geo(week).join(per_geo(before), on="geo", suffix="_before")
    for col in ("impressions", "cpa", "cr"):
        assert ((both[col] / both[f"{col}_before"] - 1).abs() < 0.05).all(), col
    dec = ds["decisions"].frame
    nulls = [dec.filter(w)["ctr_7d"].is_null().mean() for w in (between("2026-08-03", "2026-08-10"),
                                                                  between("2026-08-10", "2026-08-17"))]
    assert abs(nulls[0] - nulls[1]) < 0.01
    for table in ("releases", "incidents"):
        col = "ts" if table == "releases" else "start"
        assert ds[table].frame.filter(between("2026-08-10", "2026-08-17", col)).height == 0
    assert ds["calendar"].frame.filter(between("2026-08-10", "2026-08-17", "date")).height == 0
