"""Which rows a rollout metric reads: none of its columns missing, as every null rate counts missing
(``metrics.is_missing``: null, or NaN in a float column; an infinity is a value); each sum over those rows only."""

from __future__ import annotations

import math

import polars as pl
import pytest

from driftdesk.rollout.compare import RolloutMetric, known, sum_exprs

NAN, INF = math.nan, math.inf
FRAME = pl.DataFrame({"y": [1.0, None, NAN, 4.0, INF, 6.0], "x": [1, 2, 3, None, 5, 6],
                      "f32": pl.Series([0.5, 0.5, 0.5, 0.5, 0.5, NAN], dtype=pl.Float32),
                      "flag": [True, False, True, True, None, False]})


@pytest.mark.parametrize(("columns", "want"), [
    (("y",), [True, False, False, True, True, True]),
    (("y", "x"), [True, False, False, False, True, True]),
    (("x", "f32"), [True, True, True, False, True, False]),
    (("flag",), [True, True, True, True, False, True]),
])
def test_known_rows_are_those_with_no_missing_column(columns, want):
    metric = RolloutMetric("m", "m", "mean", columns, "count", "rows")
    assert FRAME.select(known(metric).alias("k"))["k"].to_list() == want


def test_a_ratio_sums_its_known_rows_only():
    metric = RolloutMetric("rate:y/x", "y per x", "ratio", ("y", "x"), "rate", "rows")
    got = FRAME.select(sum_exprs(metric)).row(0, named=True)
    # rows 1 and 6 (row 5's y is inf: a value, so the sums are inf)
    assert got["rate__y/x__n"] == 3
    assert got["rate__y/x__x"] == 1 + 5 + 6 and got["rate__y/x__xx"] == 1 + 25 + 36
    assert got["rate__y/x__y"] == INF
    finite = FRAME.slice(0, 4).vstack(FRAME.slice(5, 1)).select(sum_exprs(metric)).row(0, named=True)
    assert finite["rate__y/x__y"] == 1.0 + 6.0 and finite["rate__y/x__xy"] == 1 * 1 + 6 * 6
