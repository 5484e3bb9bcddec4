"""The Overview's answer: the day in one sentence, with the numbers of the metrics table and, for a business ratio,
the segment whose own rate moved, computed by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from driftdesk.contract import Dataset, validate_frame
from driftdesk.format import format_value
from driftdesk.overview import overview

DAY = dt.date(2026, 9, 15)


def kpis_table(frame: pl.DataFrame):
    table, violations = validate_frame(frame, "kpis")
    assert table is not None, violations
    return table


def two_geos(*, de_conversions_on_day: float) -> pl.DataFrame:
    """US and DE, hourly, the same every day: 100 clicks and 4 (US) or 2 (DE) conversions for $50 an hour; on DAY
    DE converts ``de_conversions_on_day`` an hour instead."""
    ts = pl.datetime_range(dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 16), "1h", closed="left", eager=True)
    one = pl.DataFrame({"ts": ts})
    frames = []
    for geo, conversions in (("US", 4.0), ("DE", 2.0)):
        on_day = de_conversions_on_day if geo == "DE" else conversions
        frames.append(one.with_columns(
            geo=pl.lit(geo), clicks=pl.lit(100.0), spend=pl.lit(50.0), revenue=pl.lit(120.0), impressions=pl.lit(1000.0),
            conversions=pl.when(pl.col("ts").dt.date() == DAY).then(on_day).otherwise(conversions)))
    return pl.concat(frames)


def test_a_business_alert_names_the_segment_whose_own_rate_moved():
    result = overview(Dataset("x", {"kpis": kpis_table(two_geos(de_conversions_on_day=0.5))}), day=DAY)
    # by hand: CPA was 2 x 50 / 6 = $16.67 an hour, on the day 100 / 4.5 = $22.22: +33%; DE's conversion rate
    # fell by three quarters (2 -> 0.5 per 100 clicks), US's did not move; DE's share of conversions fell from a
    # third to 0.5 / 4.5
    assert result.answer.startswith("Business alert: CPA rose 33% week over week ($16.67 → $22.22): ")
    assert "-75% conversion rate on geo=DE (rate, +$" in result.answer
    assert "geo=DE's share of conversions 33.3% → 11.1% (mix, " in result.answer
    assert "geo=US" not in result.answer.split(";")[0]
    assert result.to_dict()["answer"] == result.answer


def test_a_quiet_day_says_so_with_the_days_cpa():
    result = overview(Dataset("x", {"kpis": kpis_table(two_geos(de_conversions_on_day=2.0))}), day=DAY)
    cpa = result.metrics.filter(pl.col("metric") == "cpa").row(0, named=True)
    assert result.answer == (f"Nothing moved beyond its thresholds on {DAY.isoformat()}: 1 layer ok against the day "
                             f"before and the week before; CPA {format_value(cpa['current'], 'usd')} (0.0% week over "
                             "week); not judged: service, data, model, llm.")


@pytest.mark.parametrize("day", ["2026-08-27", "2026-09-29", "2026-11-01"])
def test_the_answer_on_the_sample_uses_the_metrics_numbers(sample_dataset, day):
    result = overview(sample_dataset, day=day)
    flagged = result.metrics.filter(pl.col("status").is_in(["warn", "alert"]))
    if flagged.is_empty():
        assert result.answer.startswith(f"Nothing moved beyond its thresholds on {day}: 5 layers ok")
        return
    lead = flagged.sort(pl.col("status") == "alert", descending=True).row(0, named=True)
    before = format_value(lead["week_over_week"], lead["unit"])
    assert f"({before} → {format_value(lead['current'], lead['unit'])})" in result.answer
    assert result.answer.startswith(f"{lead['layer'].capitalize()} alert: ")
