"""The Overview's statuses: hand-computed values, significance, alignment, calendar, absent tables."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftdesk.contract import Dataset, validate_frame
from driftdesk.overview import Overview, dataset_summary, default_day, overview
from driftdesk.stats import two_proportion_z

DAY = dt.date(2026, 9, 15)


def table(frame: pl.DataFrame, name: str, **kw):
    t, violations = validate_frame(frame, name, **kw)
    assert t is not None, violations
    return t


def kpis(days: int = 16, *, start: dt.datetime = dt.datetime(2026, 9, 1), end: dt.datetime | None = None,
         spend: float = 50.0, conversions: float = 2.0) -> pl.DataFrame:
    stop = end or start + dt.timedelta(days=days)
    ts = pl.datetime_range(start, stop, "1h", closed="left", eager=True)
    return pl.DataFrame({"ts": ts}).with_columns(geo=pl.lit("US"), clicks=pl.lit(100.0), conversions=pl.lit(conversions),
                                                 spend=pl.lit(spend), revenue=pl.lit(150.0))


def business(result: Overview, metric: str) -> dict:
    return result.metrics.filter((pl.col("layer") == "business") & (pl.col("metric") == metric)).row(0, named=True)


def test_values_are_ratios_of_sums_by_hand():
    frame = kpis().with_columns(
        # the chosen day: spend 60 per hour in the first 12 hours, 40 after; conversions 3 per hour
        spend=pl.when(pl.col("ts").dt.date() == DAY).then(pl.when(pl.col("ts").dt.hour() < 12).then(60.0).otherwise(40.0))
        .otherwise(pl.col("spend")),
        conversions=pl.when(pl.col("ts").dt.date() == DAY).then(3.0).otherwise(pl.col("conversions")),
    )
    result = overview(Dataset("x", {"kpis": table(frame, "kpis")}), day=DAY)
    cpa = business(result, "cpa")
    assert cpa["current"] == pytest.approx((12 * 60 + 12 * 40) / (24 * 3))
    assert cpa["day_over_day"] == pytest.approx(50 / 2)
    assert cpa["change_day_over_day"] == pytest.approx((1200 / 72 - 25) / 25)
    assert cpa["status"] == "ok"  # CPA went down: good news is not an alert
    cr = business(result, "cr")
    assert cr["current"] == pytest.approx(72 / 2400)
    assert result.status("business") == "alert"  # conversions +50% against both baselines
    assert business(result, "conversions")["status"] == "alert"


def test_partial_day_is_compared_with_the_same_hours():
    # data ends at 11:00 on the day: the current window is 00:00-12:00, and so are its baselines
    frame = kpis(end=dt.datetime(2026, 9, 15, 12)).with_columns(
        spend=pl.when(pl.col("ts").dt.hour() < 12).then(10.0).otherwise(90.0))
    result = overview(Dataset("x", {"kpis": table(frame, "kpis")}), day=DAY)
    spend = business(result, "spend")
    assert spend["current"] == pytest.approx(12 * 10.0)
    assert spend["day_over_day"] == pytest.approx(12 * 10.0)
    assert spend["week_over_week"] == pytest.approx(12 * 10.0)
    assert spend["status"] == "ok"


def test_volume_needs_both_baselines_and_skips_calendar_days():
    # the day before was a quiet Monday-like day (half spend): day over day +100%, week over week flat
    frame = kpis().with_columns(spend=pl.when(pl.col("ts").dt.date() == DAY - dt.timedelta(days=1)).then(25.0)
                                .otherwise(50.0))
    result = overview(Dataset("x", {"kpis": table(frame, "kpis")}), day=DAY)
    spend = business(result, "spend")
    assert spend["status_day_over_day"] == "alert" and spend["status_week_over_week"] == "ok"
    assert spend["status"] == "ok"
    # a promotion day doubles volume against both baselines: calendar, not drift
    promo = kpis().with_columns(spend=pl.when(pl.col("ts").dt.date() == DAY).then(100.0).otherwise(50.0))
    calendar = table(pl.DataFrame({"date": [DAY.isoformat()], "name": ["payday"], "kind": ["promotion"]}), "calendar")
    plain = overview(Dataset("x", {"kpis": table(promo, "kpis")}), day=DAY)
    assert business(plain, "spend")["status"] == "alert"
    with_calendar = overview(Dataset("x", {"kpis": table(promo, "kpis"), "calendar": calendar}), day=DAY)
    assert business(with_calendar, "spend")["status"] == "ok"
    assert "payday" in business(with_calendar, "spend")["note"]


def decisions(n_per_hour: int, null_share_on_day: float) -> pl.DataFrame:
    ts = pl.datetime_range(dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 16), "1h", closed="left", eager=True)
    frame = pl.DataFrame({"ts": ts}).join(pl.DataFrame({"i": range(n_per_hour)}), how="cross")
    on_day = pl.col("ts").dt.date() == DAY
    cut = int(round(null_share_on_day * n_per_hour))
    return frame.select(
        "ts", geo=pl.lit("US"), score=pl.lit(0.2),
        ctr_7d=pl.when(on_day & (pl.col("i") < cut)).then(None).otherwise(pl.col("i").cast(pl.Float64)),
    )


def test_null_rate_jump_alerts_only_when_it_stands_out_from_noise():
    big = overview(Dataset("x", {"decisions": table(decisions(40, 0.5), "decisions")}), day=DAY)
    row = big.layer("data").filter(pl.col("subject") == "ctr_7d").row(0, named=True)
    assert row["current"] == pytest.approx(0.5) and row["status"] == "alert"
    # 3 nulls out of 24 rows is 12.5%, but one day of 24 rows cannot tell that from chance at z >= 3
    one_per_hour = decisions(1, 0.0).with_columns(
        ctr_7d=pl.when((pl.col("ts").dt.date() == DAY) & (pl.col("ts").dt.hour() < 3)).then(None).otherwise(pl.col("ctr_7d")))
    tiny = overview(Dataset("x", {"decisions": table(one_per_hour, "decisions")}), day=DAY)
    row = tiny.layer("data").filter(pl.col("subject") == "ctr_7d").row(0, named=True)
    assert row["current"] == pytest.approx(3 / 24)
    assert two_proportion_z(0, 24, 3, 24) < 3
    assert row["status"] == "ok"


def test_absent_tables_and_empty_days_are_said_plainly():
    ds = Dataset("x", {"kpis": table(kpis(), "kpis")})
    result = overview(ds, day=DAY)
    assert result.status("service") == "missing"
    assert "no service table loaded" in result.layers.filter(pl.col("layer") == "service")["note"].item()
    later = overview(ds, day=dt.date(2026, 12, 1))
    assert later.status("business") == "not_enough_data"
    first = overview(ds, day=dt.date(2026, 9, 1))  # no baseline before the data starts
    assert first.status("business") == "not_enough_data"


def test_default_day_is_the_latest_whole_day():
    ds = Dataset("x", {"kpis": table(kpis(end=dt.datetime(2026, 9, 15, 12)), "kpis")})
    assert default_day(ds) == dt.date(2026, 9, 14)
    assert overview(ds).day == dt.date(2026, 9, 14)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spend=st.floats(0.0, 1e9), conversions=st.floats(0.0, 1e6), day_offset=st.integers(-3, 20))
def test_steady_traffic_is_never_flagged_and_serialises(spend, conversions, day_offset):
    ds = Dataset("x", {"kpis": table(kpis(spend=spend, conversions=conversions), "kpis")})
    result = overview(ds, day=dt.date(2026, 9, 1) + dt.timedelta(days=day_offset))
    assert set(result.layers["status"]) <= {"ok", "not_enough_data", "missing"}
    json.dumps(result.to_dict(), allow_nan=False)
    assert "<table>" in result._repr_html_()


def test_sample_story_is_visible_in_the_overview(sample_dataset):
    def status(day: str, layer: str) -> str:
        return overview(sample_dataset, day=day).status(layer)

    assert status("2026-08-26", "data") == "alert"  # INC-a: ctr_7d nulls in affiliate traffic
    assert status("2026-09-23", "llm") == "alert"  # INC-e2: validator failures
    assert status("2026-09-29", "service") == "alert"  # INC-f: scoring-api p99 and timeouts
    assert status("2026-10-07", "model") in ("warn", "alert")  # INC-c: v2.0 at full traffic
    # the ordinary week raises no alert in any layer
    for offset in range(7):
        day = dt.date(2026, 8, 10) + dt.timedelta(days=offset)
        assert "alert" not in set(overview(sample_dataset, day=day).layers["status"]), day


def test_summary_and_figure(sample_dataset):
    summary = dataset_summary(sample_dataset)
    kpis_row = summary.filter(pl.col("table") == "kpis").row(0, named=True)
    assert kpis_row["rows"] == sample_dataset["kpis"].frame.height
    assert kpis_row["start"] == dt.datetime(2026, 8, 3)
    result = overview(sample_dataset, day="2026-10-08", span_days=14)
    fig = result.to_figure()
    names = {t.name for t in fig.data if t.name}  # (label and shading traces have no legend name)
    assert "release" in names and any(n.startswith("incident") for n in names)
    assert set(result.events["name"]) >= {"INC-c", "model-v2.0-full"}


def test_a_probe_extends_a_layer_without_changing_the_overview():
    def drift_probe(dataset, day):
        return [{"layer": "data", "metric": "psi", "label": "PSI", "subject": "ctr_7d", "unit": "ratio",
                 "current": 0.31, "status": "alert", "note": f"drift on {day.isoformat()}"}]

    ds = Dataset("x", {"decisions": table(decisions(40, 0.0), "decisions")})
    plain = overview(ds, day=DAY)
    assert plain.status("data") == "ok"
    probed = overview(ds, day=DAY, probes=[drift_probe])
    assert probed.status("data") == "alert"
    assert "PSI (ctr_7d)" in probed.layers.filter(pl.col("layer") == "data")["note"].item()
    assert probed.layer("data").filter(pl.col("metric") == "psi")["current"].item() == pytest.approx(0.31)
    with pytest.raises(ValueError, match="bad record"):
        overview(ds, day=DAY, probes=[lambda d, day: [{"layer": "weather", "status": "ok"}]])


def test_a_cards_headlines_are_each_metrics_most_moved_subject_flagged_first(sample_dataset):
    result = overview(sample_dataset, day="2026-09-29")  # the scoring-api latency spike (INC-f)
    for layer in result.layers["layer"]:
        rows = result.headlines(layer)
        metrics = result.layer(layer)
        assert len(rows) == min(4, metrics["metric"].n_unique())
        assert len({r["metric"] for r in rows}) == len(rows)
        ranks = [0 if r["status"] in ("alert", "warn") else 1 for r in rows]
        assert ranks == sorted(ranks)  # flagged metrics lead
        for r in rows:  # nothing of the same metric is worse, or as bad and moved more
            same = metrics.filter(pl.col("metric") == r["metric"]).iter_rows(named=True)
            worst = max(("not_enough_data", "ok", "warn", "alert").index(o["status"]) for o in same)
            assert ("not_enough_data", "ok", "warn", "alert").index(r["status"]) == worst
    service = result.headlines("service")
    assert service[0]["status"] == "alert" and service[0]["subject"] == "scoring-api"
    assert len(result.headlines("service", limit=1)) == 1


def test_the_headline_and_the_status_counts(sample_dataset):
    result = overview(sample_dataset, day="2026-10-08")
    assert result.headline == ("Status of 2026-10-08 (Thursday, UTC) against the same hours one day earlier "
                               "(2026-10-07) and one week earlier (2026-10-01).")
    counts = {s: result.layers.filter(pl.col("status") == s).height for s in ("alert", "warn", "ok")}
    words = [f"{n} {w}" for n, w in ((counts["alert"], "alert"), (counts["warn"], "warning"), (counts["ok"], "ok")) if n]
    assert result.status_counts == f"Layers: {', '.join(words)}."
