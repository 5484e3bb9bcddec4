"""A split column keys every row of the result, so one named like a result column is refused by name (it would
have been overwritten), and the Seasonality view does not offer it."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from driftdesk.seasonality import SeasonalityError, detect
from driftdesk.seasonality.result import EVENT_COLUMNS, POINT_COLUMNS, RESULT_COLUMNS, VERDICT_COLUMNS


def _two_series(split: str) -> pl.DataFrame:
    stamps = [dt.datetime(2026, 1, 1) + dt.timedelta(hours=i) for i in range(72)]
    return pl.DataFrame({"ts": stamps * 2, split: ["a"] * 72 + ["b"] * 72, "value": [float(i % 24) for i in range(144)]})


@pytest.mark.parametrize("split", ["kind", "status", "score", "start"])
def test_a_split_column_named_like_a_result_column_is_refused_by_name(split):
    with pytest.raises(SeasonalityError, match=f"split column '{split}' has the name of a column of the result"):
        detect(_two_series(split), by=split)


def test_other_split_names_key_every_frame_of_the_result():
    result = detect(_two_series("kind_"), by="kind_", causal=True)
    assert result.verdicts["kind_"].to_list() == ["a", "b"]
    assert set(result.points["kind_"].unique()) == {"a", "b"}


def test_the_reserved_names_are_the_result_columns():
    result = detect(_two_series("seg"), by="seg")
    assert set(result.verdicts.columns) - {"seg"} == set(VERDICT_COLUMNS)
    assert set(result.points.columns) - {"seg"} <= set(POINT_COLUMNS)
    assert set(result.events.columns) - {"seg"} == set(EVENT_COLUMNS)
    assert set(POINT_COLUMNS) | set(EVENT_COLUMNS) | set(VERDICT_COLUMNS) == RESULT_COLUMNS
