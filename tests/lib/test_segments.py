"""`by`: a column name or a sequence of them, never a comma string split behind the caller's back."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from driftdesk.errors import DriftdeskError
from driftdesk.segments import by_columns


def test_by_is_a_name_or_a_sequence():
    assert by_columns(None) == ()
    assert by_columns([]) == ()
    assert by_columns("geo") == ("geo",)
    assert by_columns(["geo", "device"]) == ("geo", "device")
    assert by_columns(("geo",)) == ("geo",)
    assert by_columns("geo,device", {"geo,device"}) == ("geo,device",)  # a column whose name has a comma


@pytest.mark.parametrize("by", ["geo,device", ["geo", "a,b"]])
def test_a_comma_string_is_an_error_that_says_to_pass_a_list(by):
    with pytest.raises(DriftdeskError, match=r"pass a list, by=\['"):
        by_columns(by, {"geo", "device"})


def test_no_text_column_name():
    with pytest.raises(DriftdeskError, match="must be text"):
        by_columns([1, 2])


def frame() -> pl.DataFrame:
    n = 400
    return pl.DataFrame({
        "ts": [dt.datetime(2026, 8, 3) + dt.timedelta(hours=k % 48) for k in range(n)],
        "geo": ["US", "DE"] * (n // 2), "device": ["mobile"] * n, "x": [float(k % 7) for k in range(n)],
        "spend": [1.0] * n, "conversions": [1] * n, "clicks": [2] * n, "revenue": [3.0] * n,
        "score": [0.5] * n, "label": [k % 2 for k in range(n)],
    })


def test_every_library_by_refuses_a_comma_string():
    from driftdesk.business import kpi_table, segment_impact
    from driftdesk.calibration import calibration_by_segment
    from driftdesk.drift import compare_windows
    from driftdesk.quality import null_rate_jumps
    from driftdesk.seasonality.series import metric_series

    f = frame()
    calls = [
        lambda: compare_windows(f, f, by="geo,device"),
        lambda: null_rate_jumps(f, f, by="geo,device"),
        lambda: calibration_by_segment(f, by="geo,device"),
        lambda: kpi_table(f, by="geo,device"),
        lambda: segment_impact(f, baseline="2026-08-03T00:00/2026-08-04T00:00",
                               current="2026-08-04T00:00/2026-08-05T00:00", by="geo,device"),
        lambda: metric_series(f, "x", by="geo,device"),
    ]
    for call in calls:
        with pytest.raises(DriftdeskError, match="pass a list"):
            call()


def test_a_single_name_is_one_column_everywhere():
    from driftdesk.business import kpi_table

    assert kpi_table(frame(), by="geo").columns[0] == "geo"  # not g, e, o
