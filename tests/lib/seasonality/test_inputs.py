"""Bad and odd input: a clear message or a verdict, never a crash (hypothesis for the edge cases)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seasonality_helpers import T0, hourly, seasonal_series

from driftdesk.seasonality import SeasonalityError, decompose, detect
from driftdesk.seasonality.grid import default_periods


def test_default_periods_follow_the_sampling_interval():
    assert default_periods(dt.timedelta(hours=1)) == (24, 168)
    assert default_periods(dt.timedelta(minutes=15)) == (96, 672)
    assert default_periods(dt.timedelta(days=1)) == (7,)


def test_too_short_for_weekly_is_said_plainly():
    frame = hourly(seasonal_series(9))
    with pytest.raises(SeasonalityError, match="too short to separate weekly seasonality: need 14 days, have 9 days"):
        decompose(frame, periods=(24, 168))
    result = detect(frame, periods=(24, 168))
    assert result.verdicts["status"][0] == "too_short"
    assert "need 14 days, have 9 days" in result.verdict()
    # with default periods the weekly cycle is dropped and the verdict says so
    auto = detect(frame)
    assert auto.verdicts["periods"][0] == "24"
    assert "weekly seasonality not separated: need 14 days, have 9 days" in auto.verdict()


def test_duplicate_timestamps_name_the_rows_and_hint_at_dst():
    # local time across the October DST change: 02:00 appears twice
    ts = [dt.datetime(2026, 10, 25, 0) + dt.timedelta(hours=h) for h in range(4)]
    ts.insert(3, dt.datetime(2026, 10, 25, 2))
    frame = pl.DataFrame({"ts": ts, "value": np.arange(5.0)})
    with pytest.raises(SeasonalityError, match=r"duplicate timestamps.*2026-10-25 02:00.*daylight-saving"):
        detect(frame, strict=True)
    # by default they are combined (mean), counted and said
    result = detect(frame)
    assert result.verdicts["duplicate_rows"][0] == 1
    assert "1 row with a repeated timestamp combined (mean), e.g. 2026-10-25 02:00" in result.notes[0]
    assert result.points.height == 5  # still one point per input row


def test_offsets_are_converted_to_utc_so_dst_input_with_offsets_is_regular():
    text = ["2026-10-25T00:30:00+02:00", "2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00",
            "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00"]
    result = detect(pl.DataFrame({"ts": text, "value": [1.0, 2, 3, 4, 5]}))
    assert result.points["ts"].diff().drop_nulls().unique().to_list() == [dt.timedelta(hours=1)]


def test_irregular_spacing_is_an_error_with_examples():
    ts = [T0 + dt.timedelta(hours=h) for h in range(50)] + [T0 + dt.timedelta(hours=50, minutes=30)]
    frame = pl.DataFrame({"ts": ts, "value": np.ones(51)})
    with pytest.raises(SeasonalityError, match=r"irregular spacing: most steps are hourly.*2026-03-04 01:00 -> 2026-03-04 02:30"):
        detect(frame, strict=True)
    result = detect(frame)  # regridded at its typical step (hourly), the counts said
    assert result.verdicts["regridded"][0] and "put on a regular grid (hourly;" in result.notes[0]


def test_gaps_are_an_error_for_decompose_and_a_data_break_for_detect():
    values = seasonal_series(21)
    frame = hourly(values).filter((pl.col("ts") < T0 + dt.timedelta(days=15)) | (pl.col("ts") >= T0 + dt.timedelta(days=17)))
    with pytest.raises(SeasonalityError, match=r"48 of 504 hourly steps have no value.*2026-03-17 00:00 \(48 steps\)"):
        decompose(frame)
    result = detect(frame)
    assert result.verdicts["status"][0] == "data_break"
    assert "data break: no data from 17 Mar 00:00 to 19 Mar 00:00 (2 days)" in result.verdict()
    assert result.points.height == frame.height  # one point per input row
    breaks = result.events.filter(pl.col("kind") == "data_break")
    assert breaks["start"][0] == T0 + dt.timedelta(days=15)


def test_unknown_columns_and_text_values_are_named():
    frame = hourly(np.ones(30))
    with pytest.raises(SeasonalityError, match="no column 'nope'"):
        detect(frame, value="nope")
    bad = frame.with_columns(pl.col("value").cast(pl.String)).with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("n/a")).otherwise(pl.col("value")).alias("value"))
    with pytest.raises(SeasonalityError, match=r"1 values are not numbers, e.g. row 4: 'n/a'"):
        detect(bad)


def test_constant_all_null_and_one_row_get_verdicts():
    frame = pl.concat([
        hourly(np.full(24 * 15, 7.0), seg="const"),
        hourly(np.full(24 * 15, np.nan), seg="empty"),
        hourly([3.0], seg="one"),
        hourly(seasonal_series(15), seg="ok"),
    ])
    result = detect(frame, by="seg")
    status = dict(zip(result.verdicts["seg"], result.verdicts["status"]))
    assert status == {"const": "constant", "empty": "empty", "one": "too_short", "ok": "seasonal"}
    assert result.verdict(seg="const") == "constant at 7: no seasonality or drift to find"
    assert result.points.height == frame.height
    assert set(result.points["flag"].unique()) <= {"normal", "anomaly", "drift"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=0, max_value=24 * 16),
    kind=st.sampled_from(["constant", "nan", "inf", "huge", "tiny", "negative", "mixed"]),
    causal=st.booleans(),
)
def test_edge_cases_never_crash_and_stay_json_safe(n, kind, causal):
    rng = np.random.default_rng(n)
    values = {
        "constant": np.full(n, 5.0),
        "nan": np.where(rng.random(n) < 0.3, np.nan, rng.normal(10, 1, n)),
        "inf": np.where(rng.random(n) < 0.05, np.inf, rng.normal(10, 1, n)),
        "huge": rng.normal(1e300, 1e298, n),
        "tiny": rng.normal(1e-300, 1e-301, n),
        "negative": rng.normal(-50, 5, n),
        "mixed": rng.normal(0, 1, n),
    }[kind]
    frame = hourly(values)
    if n == 0:
        frame = pl.DataFrame({"ts": pl.Series([], dtype=pl.Datetime("us")), "value": pl.Series([], dtype=pl.Float64)})
    result = detect(frame, causal=causal)
    assert result.points.height == n
    doc = result.to_dict()
    import json

    json.dumps(doc, allow_nan=False)
    assert all(p["flag"] in ("normal", "anomaly", "drift") for p in doc["points"])


def test_epoch_timestamps_are_read_and_relative_seconds_are_refused():
    hours = np.arange(24 * 28)
    values = 100 * (1 + 0.3 * np.sin(2 * np.pi * hours / 24)) * np.exp(np.random.default_rng(0).normal(0, 0.02, hours.size))
    start = 1759622400  # 2025-10-05 00:00 UTC
    res = detect(pl.DataFrame({"ts": start + 3600 * hours, "value": values}))
    assert res.points["ts"][0] == dt.datetime.fromtimestamp(start, tz=dt.UTC).replace(tzinfo=None)
    assert res.verdicts["step_seconds"][0] == 3600
    with pytest.raises(SeasonalityError, match="Unix epoch"):
        detect(pl.DataFrame({"ts": 3600 * hours, "value": values}))


@pytest.mark.parametrize("months,word", [(1, "months"), (3, "quarters"), (12, "years")])
def test_calendar_month_steps_are_refused_with_the_reason(months, word):
    stamps = [dt.datetime(2020 + (k * months) // 12, 1 + (k * months) % 12, 1) for k in range(40)]
    frame = pl.DataFrame({"ts": stamps, "value": np.linspace(1.0, 2.0, 40)})
    with pytest.raises(SeasonalityError, match=f"calendar {word}, which differ in length"):
        detect(frame, strict=True)
    result = detect(frame, causal=True)  # one step per calendar unit, said so
    assert result.verdicts["status"][0] in ("seasonal", "drift", "anomaly")
    assert f"calendar {word} taken as steps of" in result.notes[0]
    assert result.points.height == 40
