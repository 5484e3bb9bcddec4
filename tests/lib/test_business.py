"""Business KPIs and the mix / rate decomposition: hand computations, exactness properties, bad input, the sample story."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftdesk.business import decision_drift, format_effect, impact_summary, kpi_table, segment_impact, spend_shift
from driftdesk.cli import main
from driftdesk.errors import DriftdeskError, WindowError
from driftdesk.paths import sample_data_dir

T0 = dt.datetime(2026, 3, 2)
BASE = "2026-03-02T00:00/2026-03-09T00:00"
CUR = "2026-03-09T00:00/2026-03-16T00:00"


def kpis(rows_b: dict, rows_c: dict, *, by: str = "geo", hours: int = 1) -> pl.DataFrame:
    """A kpis frame: per segment (spend, conversions[, revenue, clicks]) split evenly over `hours` rows per window."""
    out = []
    for start, rows in ((T0, rows_b), (T0 + dt.timedelta(days=7), rows_c)):
        for seg, values in rows.items():
            spend, conv, *rest = values
            revenue = rest[0] if rest else conv * 30.0
            clicks = rest[1] if len(rest) > 1 else conv * 20.0
            for h in range(hours):
                out.append({"ts": start + dt.timedelta(hours=h), by: seg, "spend": spend / hours,
                            "conversions": conv / hours, "revenue": revenue / hours, "clicks": clicks / hours,
                            "impressions": clicks * 10 / hours})
    return pl.DataFrame(out)


def test_kpis_are_ratios_of_sums_not_means_of_ratios():
    df = pl.DataFrame({
        "geo": ["A", "A", "B"], "spend": [100.0, 10.0, 50.0], "conversions": [10.0, 1.0, 0.0],
        "revenue": [300.0, 5.0, 0.0], "clicks": [100.0, 50.0, 20.0], "impressions": [1000.0, 500.0, 100.0],
    })
    t = kpi_table(df, by=["geo"]).row(0, named=True)
    assert t["cpa"] == pytest.approx(110 / 11)  # mean of per-row CPAs would be 10 too; use ROAS and CR
    assert t["roas"] == pytest.approx(305 / 110) and t["roas"] != pytest.approx((3 + 0.5) / 2)
    assert t["cr"] == pytest.approx(11 / 150) and t["cr"] != pytest.approx((0.1 + 0.02) / 2)
    assert t["ctr"] == pytest.approx(150 / 1500) and t["cpc"] == pytest.approx(110 / 150)
    b = kpi_table(df, by=["geo"]).row(1, named=True)
    assert b["cpa"] is None and b["cpa_note"] == "no conversions"
    assert b["roas"] == 0.0
    total = kpi_table(df).row(0, named=True)
    assert total["cpa"] == pytest.approx(160 / 11) and total["rows"] == 3


def test_zero_spend_and_min_conversions_give_null_with_a_reason():
    df = pl.DataFrame({"geo": ["A", "B"], "spend": [0.0, 90.0], "conversions": [0.0, 3.0], "revenue": [10.0, 20.0]})
    t = kpi_table(df, by=["geo"], min_conversions=5)
    a, b = t.row(0, named=True), t.row(1, named=True)
    assert a["roas"] is None and a["roas_note"] == "no spend"
    assert b["cpa"] is None and b["cpa_note"].startswith("too few conversions (3.0 < 5)")
    assert t["cr"].null_count() == 2 and t["cr_note"][0] == "no clicks column"
    for col, dtype in t.schema.items():
        if dtype == pl.Float64:
            assert not t[col].is_infinite().any(), col


def test_delta_method_interval_matches_hand_formula_and_bootstrap():
    rng = np.random.default_rng(0)
    n = 400
    conv = rng.poisson(20, n).astype(float)
    spend = conv * rng.gamma(20, 1, n) + rng.normal(0, 20, n).clip(-50, 50) + 60
    df = pl.DataFrame({"spend": spend, "conversions": conv})
    t = kpi_table(df, confidence=0.9).row(0, named=True)
    r = spend.sum() / conv.sum()
    se = math.sqrt(n / (n - 1) * np.sum((spend - r * conv) ** 2)) / conv.sum()
    z = 1.6448536269514722
    assert t["cpa_ci_low"] == pytest.approx(r - z * se, rel=1e-10)
    assert t["cpa_ci_high"] == pytest.approx(r + z * se, rel=1e-10)
    boot = []
    for _ in range(600):
        idx = rng.integers(0, n, n)
        boot.append(spend[idx].sum() / conv[idx].sum())
    assert se == pytest.approx(np.std(boot), rel=0.15)


def test_every_buckets_sum_back_to_the_total():
    df = kpis({"A": (100, 10), "B": (50, 5)}, {"A": (120, 8), "B": (70, 7)}, hours=48)
    daily = kpi_table(df, by=["geo"], every="1d")
    assert daily.columns[:2] == ["ts", "geo"]
    total = kpi_table(df, by=["geo"])
    agg = daily.group_by("geo").agg(pl.col("spend_sum").sum(), pl.col("conversions_sum").sum()).sort("geo")
    np.testing.assert_allclose(agg["spend_sum"], total["spend_sum"])
    np.testing.assert_allclose(agg["conversions_sum"], total["conversions_sum"])


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pl.DataFrame({"geo": ["A", "B"], "spend": [1.0, -2.0], "conversions": [1.0, 1.0]}), "'spend': negative values"),
        (pl.DataFrame({"geo": ["A", "B"], "spend": [1.0, 2.0], "conversions": [-1.0, 1.0]}), "'conversions': negative"),
        (pl.DataFrame({"geo": ["A", "B"], "spend": [1.0, None], "conversions": [1.0, 1.0]}), "'spend': missing values"),
        (pl.DataFrame({"geo": ["A", "B"], "spend": [1.0, float("inf")], "conversions": [1.0, 1.0]}), "infinite"),
        (pl.DataFrame({"geo": ["A"], "conversions": [1.0]}), "missing column"),
    ],
)
def test_bad_kpis_are_refused_with_column_and_row(frame, message):
    with pytest.raises(DriftdeskError, match=message):
        kpi_table(frame, by=["geo"], source="k.csv")


# --------------------------------------------------------------------------- decomposition


def effects_total(result) -> float:
    return result.segments["mix_effect"].sum() + result.segments["rate_effect"].fill_null(0).sum()


def test_pure_mix_has_no_rate_effect():
    # each segment keeps its CPA; BR (dearer) doubles
    r = segment_impact(kpis({"US": (2000, 100), "BR": (2000, 50)}, {"US": (2000, 100), "BR": (4000, 100)}),
                       baseline=BASE, current=CUR, by="geo", min_conversions=0)
    assert r.segments["rate_effect"].abs().max() == pytest.approx(0, abs=1e-12)
    assert r.total["change"] == pytest.approx(6000 / 200 - 4000 / 150)
    assert effects_total(r) == pytest.approx(r.total["change"], abs=1e-12)
    br = r.segments.filter(pl.col("geo") == "BR").row(0, named=True)
    assert br["mix_effect"] > 0 and "more traffic in geo=BR (mix)" in r.summary


def test_pure_rate_has_no_mix_effect():
    # shares of conversions unchanged, DE's CPA rises
    r = segment_impact(kpis({"US": (2000, 100), "DE": (1000, 100)}, {"US": (2000, 100), "DE": (1500, 100)}),
                       baseline=BASE, current=CUR, by="geo", min_conversions=0)
    assert r.segments["mix_effect"].abs().max() == pytest.approx(0, abs=1e-12)
    de = r.segments.filter(pl.col("geo") == "DE").row(0, named=True)
    assert de["rate_effect"] == pytest.approx(r.total["change"]) and de["change"] == pytest.approx(5.0)
    assert "costlier clicks in geo=DE (rate)" in r.summary  # clicks held, so CR held: each click cost more


def test_rate_effect_is_the_shapley_average_of_both_substitution_orders():
    b = {"A": (1000.0, 40.0), "B": (3000.0, 60.0), "C": (500.0, 50.0)}
    c = {"A": (1300.0, 50.0), "B": (2500.0, 40.0), "C": (900.0, 70.0)}
    r = segment_impact(kpis(b, c), baseline=BASE, current=CUR, by="geo", min_conversions=0)
    d0, d1 = sum(v[1] for v in b.values()), sum(v[1] for v in c.values())
    m0_tot, m1_tot = sum(v[0] for v in b.values()) / d0, sum(v[0] for v in c.values()) / d1
    for seg in b:
        w0, w1 = b[seg][1] / d0, c[seg][1] / d1
        m0, m1 = b[seg][0] / b[seg][1], c[seg][0] / c[seg][1]
        # Shapley: average of "change the rate first" (w0 fixed) and "change the rate last" (w1 fixed)
        rate = ((w0 * m1 - w0 * m0) + (w1 * m1 - w1 * m0)) / 2
        mix = ((w1 * m0 - w0 * m0) + (w1 * m1 - w0 * m1)) / 2 - (m0_tot + m1_tot) / 2 * (w1 - w0)
        row = r.segments.filter(pl.col("geo") == seg).row(0, named=True)
        assert row["rate_effect"] == pytest.approx(rate, rel=1e-12)
        assert row["mix_effect"] == pytest.approx(mix, rel=1e-12, abs=1e-12)
    assert effects_total(r) == pytest.approx(m1_tot - m0_tot, abs=1e-12)


# denominators are zero or at least 0.01 (conversions, spend, clicks); 1e-220 conversions would only test float cancellation
denominator = st.one_of(st.just(0.0), st.floats(0.01, 1e4))
segment_values = st.tuples(
    st.booleans(), st.booleans(),
    st.floats(0, 1e6, allow_nan=False), denominator,
    st.floats(0, 1e6, allow_nan=False), denominator,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segs=st.lists(segment_values, min_size=1, max_size=7), metric=st.sampled_from(["cpa", "roas", "cr"]))
def test_mix_plus_rate_equals_total_change_exactly(segs, metric):
    b, c = {}, {}
    for i, (in_b, in_c, nb, db, nc, dc) in enumerate(segs):
        if in_b:
            b[f"s{i}"] = (nb, db, nb * 1.5, db * 7)
        if in_c:
            c[f"s{i}"] = (nc, dc, nc * 0.5, dc * 9)
    if not b or not c:
        return
    r = segment_impact(kpis(b, c), baseline=BASE, current=CUR, by="geo", metric=metric)
    json.dumps(r.to_dict(), allow_nan=False)
    assert isinstance(r.summary, str) and r.summary
    if r.total["change"] is None:
        assert r.total["note"].startswith("undefined")
        assert r.segments["mix_effect"].null_count() == r.segments.height
        return
    scale = max(1.0, abs(r.total["baseline"]), abs(r.total["current"]))
    assert abs(effects_total(r) - r.total["change"]) <= 1e-9 * scale
    assert r.total["mix_effect"] + r.total["rate_effect"] == pytest.approx(r.total["change"], abs=1e-9 * scale)
    undefined = r.segments.filter(pl.col("rate_effect").is_null())
    assert undefined["note"].null_count() == 0  # every missing rate says why


def test_segment_in_one_window_only_is_explicit_mix():
    r = segment_impact(kpis({"US": (2000, 100), "DE": (1000, 50)}, {"US": (2000, 100), "BR": (500, 50)}),
                       baseline=BASE, current=CUR, by="geo", min_conversions=0)
    br = r.segments.filter(pl.col("geo") == "BR").row(0, named=True)
    de = r.segments.filter(pl.col("geo") == "DE").row(0, named=True)
    assert br["rate_effect"] is None and br["baseline"] is None and "only in the current window" in br["note"]
    assert de["rate_effect"] is None and de["current"] is None and "only in the baseline window" in de["note"]
    assert br["mix_effect"] < 0  # a cheaper-than-average segment arrived
    assert effects_total(r) == pytest.approx(r.total["change"], abs=1e-12)


def test_zero_conversions_is_undefined_never_infinite(capsys):
    r = segment_impact(kpis({"US": (2000, 100), "DE": (1000, 50)}, {"US": (2000, 100), "DE": (1000, 0)}),
                       baseline=BASE, current=CUR, by="geo", min_conversions=0)
    de = r.segments.filter(pl.col("geo") == "DE").row(0, named=True)
    assert de["current"] is None and de["rate_effect"] is None and "no conversions in the current window" in de["note"]
    assert effects_total(r) == pytest.approx(r.total["change"], abs=1e-12)
    none = segment_impact(kpis({"US": (2000, 100)}, {"US": (2000, 0)}), baseline=BASE, current=CUR, by="geo")
    assert none.total["current"] is None and none.total["change"] is None
    assert "undefined" in none.total["note"] and "cannot be compared" in none.summary
    doc = json.loads(json.dumps(none.to_dict(), allow_nan=False))
    assert doc["total"]["change"] is None


def test_too_few_conversions_is_flagged():
    r = segment_impact(kpis({"US": (2000, 100), "DE": (100, 5)}, {"US": (2000, 100), "DE": (300, 6)}),
                       baseline=BASE, current=CUR, by="geo", min_conversions=30)
    de = r.segments.filter(pl.col("geo") == "DE").row(0, named=True)
    assert de["note"].startswith("too few conversions (5.0 < 30)")
    assert de["rate_effect"] is not None  # kept so the parts still add up


def test_summary_sentence_reads_like_the_story():
    b = {"US": (2000, 100), "BR": (2000, 50), "DE": (1000, 50)}
    c = {"US": (2000, 100), "BR": (4000, 100), "DE": (1400, 50)}
    r = segment_impact(kpis(b, c), baseline=BASE, current=CUR, by="geo", min_conversions=0)
    pct = 100 * (7400 / 250 - 25) / 25
    assert r.summary.startswith(f"CPA rose {pct:.0f}% week over week, from $25.00 to $29.60 (+$4.60): ")
    assert "more traffic in geo=BR (mix)" in r.summary and "costlier clicks in geo=DE (rate)" in r.summary
    # effects are in dollars, written as the table and the waterfall write them, and add up to the change
    parts = r.summary.split(": ", 1)[1].rstrip(".").split(", ")
    dollars = [float(p.split(" from ")[0].replace("$", "")) for p in parts]
    assert sum(dollars) == pytest.approx(29.6 - 25.0, abs=0.2)
    for part in parts:
        effect = part.split(" from ")[0]
        assert any(format_effect(v, "cpa") == effect for v in r.segments["mix_effect"].to_list()
                   + r.segments["rate_effect"].to_list())
    assert impact_summary(r) == r.summary
    roas = segment_impact(kpis(b, c), baseline=BASE, current=CUR, by="geo", metric="roas")
    assert roas.summary.startswith("ROAS ")


def test_window_without_rows_is_a_clear_error():
    df = kpis({"US": (2000, 100)}, {"US": (2000, 100)})
    with pytest.raises(WindowError, match="current window .* has no rows; the data spans"):
        segment_impact(df, baseline=BASE, current="2027-01-01T00:00/2027-01-02T00:00", by="geo")
    with pytest.raises(DriftdeskError, match="metric"):
        segment_impact(df, baseline=BASE, current=CUR, by="geo", metric="ltv")  # type: ignore[arg-type]


def test_spend_shift_shares():
    s = spend_shift(kpis({"US": (3000, 1), "BR": (1000, 1)}, {"US": (3000, 1), "BR": (3000, 1)}),
                    baseline=BASE, current=CUR, by="geo")
    br = s.filter(pl.col("geo") == "BR").row(0, named=True)
    assert br["share_baseline"] == pytest.approx(0.25) and br["share_current"] == pytest.approx(0.5)
    assert s["share_current"].sum() == pytest.approx(1.0) and s["share_change"].sum() == pytest.approx(0.0, abs=1e-12)


def test_decision_drift_by_band():
    ts = [T0] * 6 + [T0 + dt.timedelta(days=7)] * 6
    df = pl.DataFrame({
        "ts": ts, "geo": ["A"] * 12,
        "score": [0.05, 0.05, 0.4, 0.4, 0.4, 0.9] * 2,
        "decision": [0, 0, 1, 0, 0, 1] + [0, 1, 1, 1, 1, 1],
    })
    out = decision_drift(df, baseline=BASE, current=CUR, by="geo", bands=(0, 0.3, 1))
    low, high = out.row(0, named=True), out.row(1, named=True)
    assert (low["band_lower"], low["band_upper"]) == (0.0, 0.3)
    assert low["positive_share_baseline"] == 0 and low["positive_share_current"] == 0.5
    assert high["positive_share_baseline"] == pytest.approx(0.5) and high["change"] == pytest.approx(0.5)
    assert 0 <= high["positive_share_baseline_ci_low"] <= 0.5 <= high["positive_share_baseline_ci_high"] <= 1


def test_cli_impact_json_and_bad_input(tmp_path, capsys):
    b = {"US": (2000, 100), "BR": (2000, 50), "DE": (1000, 50)}
    c = {"US": (2000, 100), "BR": (4000, 100), "DE": (1400, 50)}
    path = tmp_path / "kpis.parquet"
    kpis(b, c, hours=3).write_parquet(path)
    code = main(["impact", "--input", str(path), "--baseline", BASE, "--current", CUR, "--by", "geo",
                 "--metric", "cpa", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and set(doc["total"]) >= {"baseline", "current", "change"}
    seg = doc["segments"]
    assert {"geo", "baseline", "current", "change", "mix_effect", "rate_effect"} <= set(seg[0])
    assert sum(s["mix_effect"] + (s["rate_effect"] or 0) for s in seg) == pytest.approx(doc["total"]["change"], abs=1e-9)
    assert main(["impact", "--input", str(path), "--baseline", BASE, "--current", CUR, "--by", "geo"]) == 0
    assert "CPA rose" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    kpis(b, c).with_columns(pl.when(pl.col("geo") == "DE").then(-1.0).otherwise(pl.col("spend")).alias("spend")).write_csv(bad)
    assert main(["impact", "--input", str(bad), "--baseline", BASE, "--current", CUR, "--by", "geo"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "spend" in err and ">= 0" in err


# --------------------------------------------------------------------------- the sample story

needs_sample = pytest.mark.skipif(not (sample_data_dir() / "kpis.parquet").exists(), reason="sample data not generated")


@pytest.fixture(scope="module")
def sample_kpis() -> pl.DataFrame:
    from driftdesk.contract import load_table

    return load_table(sample_data_dir() / "kpis.parquet", "kpis").frame


def largest_effect(result) -> tuple[str, str, float]:
    rows = []
    for row in result.segments.iter_rows(named=True):
        name = " ".join(f"{c}={row[c]}" for c in result.by)
        rows += [(name, "mix", row["mix_effect"]), (name, "rate", row["rate_effect"] or 0.0)]
    return max(rows, key=lambda r: abs(r[2]))


@needs_sample
def test_sample_incident_b_is_mix_from_br(sample_kpis):
    r = segment_impact(sample_kpis, baseline="2026-09-07T00:00/2026-09-14T00:00",
                       current="2026-09-14T00:00/2026-09-21T00:00", by="geo")
    name, kind, value = largest_effect(r)
    assert (name, kind) == ("geo=BR", "mix")
    assert abs(value) > 0.6 * abs(r.total["change"]) and abs(r.total["rate_effect"]) < 0.3 * abs(r.total["mix_effect"])
    assert "traffic in geo=BR (mix)" in r.summary


@needs_sample
def test_sample_incident_c_is_rate_in_de(sample_kpis):
    r = segment_impact(sample_kpis, baseline="2026-09-30T00:00/2026-10-05T00:00",
                       current="2026-10-07T00:00/2026-10-12T00:00", by="geo")
    name, kind, value = largest_effect(r)
    assert (name, kind) == ("geo=DE", "rate") and value > 0.5 * r.total["change"] > 0
    de = r.segments.filter(pl.col("geo") == "DE").row(0, named=True)
    assert de["current"] / de["baseline"] == pytest.approx(1.15, abs=0.06)
    assert "lower conversion in geo=DE (rate)" in r.summary  # DE's bids went to worse traffic


@needs_sample
def test_sample_incident_d_is_rate_in_tablet(sample_kpis):
    r = segment_impact(sample_kpis, baseline="2026-10-19T00:00/2026-10-26T00:00",
                       current="2026-10-26T00:00/2026-11-02T00:00", by="device")
    assert largest_effect(r)[:2] == ("device=tablet", "rate")
    assert "lower conversion in device=tablet (rate)" in r.summary


@needs_sample
def test_sample_ordinary_week_stays_quiet(sample_kpis):
    r = segment_impact(sample_kpis, baseline="2026-08-03T00:00/2026-08-10T00:00",
                       current="2026-08-10T00:00/2026-08-17T00:00", by="geo")
    assert abs(r.total["change_pct"]) < 2


@settings(max_examples=30, deadline=None)
@given(spend=st.lists(st.floats(0, 1e300, allow_nan=False), min_size=2, max_size=6),
       conv=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=6))
def test_huge_values_never_print_infinity(spend, conv):
    n = min(len(spend), len(conv))
    df = pl.DataFrame({"ts": [T0 + dt.timedelta(days=7 * (i % 2)) for i in range(n)], "geo": ["a", "b"] * (n // 2) + ["a"] * (n % 2),
                       "spend": spend[:n], "conversions": conv[:n]})
    table = kpi_table(df, by=["geo"])
    for col in ("cpa", "cpa_ci_low", "cpa_ci_high", "roas", "cpc"):
        assert not table[col].is_infinite().any() and not table[col].is_nan().any()
    r = segment_impact(df, baseline=BASE, current=CUR, by="geo")
    json.dumps(r.to_dict(), allow_nan=False)
    assert "inf" not in r.summary and "nan" not in r.summary


def test_text_timestamps_are_refused_with_a_hint():
    df = pl.DataFrame({"ts": ["2026-03-02"], "geo": ["a"], "spend": [1.0], "conversions": [1.0]})
    with pytest.raises(DriftdeskError, match="must be a timestamp"):
        kpi_table(df, every="1d")
    with pytest.raises(DriftdeskError, match="must be a timestamp"):
        segment_impact(df, baseline=BASE, current=CUR, by="geo")


def test_figures_show_every_effect_or_say_why_not():
    b = {"US": (2000, 100), "BR": (2000, 50), "DE": (1000, 50)}
    c = {"US": (2000, 100), "BR": (4000, 100), "DE": (1400, 50)}
    r = segment_impact(kpis(b, c), baseline=BASE, current=CUR, by="geo", min_conversions=0)
    water = r.to_figure("waterfall").data[0]
    assert list(water.measure) == ["absolute"] + ["relative"] * (len(water.x) - 2) + ["total"]
    assert sum(water.y[1:-1]) == pytest.approx(r.total["change"], abs=1e-12)  # steps land on the current value
    heat = r.to_figure("heatmap").data[0]
    assert sorted(heat.y) == ["BR", "DE", "US"]
    assert sum(v[0] for v in heat.z) == pytest.approx(r.total["change"], abs=1e-9)  # dollars, as the waterfall
    spend = r.to_figure("spend").data
    assert [t.name for t in spend] == ["baseline", "current"]
    undefined = segment_impact(kpis({"US": (2000, 100)}, {"US": (2000, 0)}), baseline=BASE, current=CUR, by="geo")
    assert "undefined" in undefined.to_figure("waterfall").layout.annotations[0].text
    assert "<b>" in r._repr_html_()


def test_cpa_rate_is_worded_by_what_moved():
    # DE: same clicks and click cost, half the conversions -> CPA doubles through conversion rate
    b = {"US": (2000.0, 100.0, 0.0, 2000.0), "DE": (1000.0, 100.0, 0.0, 1000.0)}
    c = {"US": (2000.0, 100.0, 0.0, 2000.0), "DE": (1000.0, 50.0, 0.0, 1000.0)}
    r = segment_impact(kpis(b, c), baseline=BASE, current=CUR, by="geo", min_conversions=0)
    assert "lower conversion in geo=DE (rate)" in r.summary
    no_clicks = kpis(b, c).drop("clicks")
    r = segment_impact(no_clicks, baseline=BASE, current=CUR, by="geo", min_conversions=0)
    assert "costlier conversions in geo=DE (rate)" in r.summary


@pytest.mark.skipif(not (sample_data_dir() / "decisions.parquet").exists(), reason="sample data not generated")
def test_sample_threshold_change_shows_as_decision_drift_in_one_band():
    from driftdesk.contract import load_table

    decisions = load_table(sample_data_dir() / "decisions.parquet", "decisions").frame
    out = decision_drift(decisions, baseline="2026-09-01T00:00/2026-09-08T00:00",
                         current="2026-09-08T00:00/2026-09-15T00:00", bands=(0, 0.2, 0.28, 0.3, 1))
    moved = out.filter(pl.col("change").abs() > 0.5)
    # the bid threshold went from 0.30 to 0.28 on 2026-09-08: only the band in between changes its decisions
    assert moved.select("band_lower", "band_upper").rows() == [(0.28, 0.3)]
    assert moved["positive_share_current"][0] > 0.95 and moved["positive_share_baseline"][0] < 0.05


def test_empty_kpis_give_undefined_not_errors():
    empty = pl.DataFrame({"geo": [], "spend": [], "conversions": []},
                         schema={"geo": pl.String, "spend": pl.Float64, "conversions": pl.Float64})
    total = kpi_table(empty).row(0, named=True)
    assert total["rows"] == 0 and total["cpa"] is None and total["cpa_note"] == "no conversions"
    assert kpi_table(empty, by=["geo"]).height == 0


def test_an_overlapping_baseline_is_named_not_called_week_over_week():
    # two-week windows one week apart share a week: the sentence must not say "week over week"
    frame = kpis({"US": (2000, 100), "DE": (1000, 50)}, {"US": (2000, 80), "DE": (1000, 50)})
    r = segment_impact(frame, baseline="2026-03-02T00:00/2026-03-16T00:00",
                       current="2026-03-09T00:00/2026-03-23T00:00", by="geo")
    assert r.period == "against an overlapping baseline (7 of 14 days shared)"
    assert "week over week" not in r.summary
    assert r.summary.endswith("The baseline overlaps the current window by 7 of its 14 days: shared rows make a "
                              "change look smaller.")
    apart = segment_impact(frame, baseline=BASE, current=CUR, by="geo")
    assert apart.period == "week over week" and "overlap" not in apart.summary
