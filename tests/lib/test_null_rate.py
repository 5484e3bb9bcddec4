"""One null rate everywhere: the registry's ``null_rate``, the Overview's data check, a gate's ``null_rate:<column>``
and the quality checks count the same rows as missing (``driftdesk.metrics.is_missing``: null, or NaN in a float
column; an infinity is a value), checked against a count by hand over mixes of NaN, None and infinities."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.contract import Dataset, Table
from driftdesk.gates.metrics import metric_components
from driftdesk.metrics import is_missing, metric_expr, resolve_metric
from driftdesk.overview import DEFAULT_CHECKS
from driftdesk.quality import null_rates

VALUES = st.one_of(st.none(), st.just(math.nan), st.just(math.inf), st.just(-math.inf),
                   st.floats(allow_nan=False, allow_infinity=False, width=32))


def by_hand(values: list) -> float:
    return sum(v is None or (isinstance(v, float) and math.isnan(v)) for v in values) / len(values)


def faces(frame: pl.DataFrame) -> dict[str, float]:
    """The null rate of column ``x`` as each face computes it, over all the rows."""
    registry = frame.select(metric_expr(resolve_metric("null_rate:x", columns=frame.columns))).item()
    table = Table("decisions", frame, "<frame>", features=("x",))  # not through the contract: NaN stays NaN
    check = next(c for c in DEFAULT_CHECKS if c.metric == "null_rate")
    ((subject, expr),) = check.exprs(table)
    overview = frame.select(expr).item()
    gate = metric_components(Dataset("<x>", {"decisions": table}), "null_rate:x", by=()).components
    quality = null_rates(frame, columns=["x"]).row(0, named=True)
    return {"registry": registry, "overview": overview, "gate": gate[..., 0].sum() / gate[..., 1].sum(),
            "quality": quality["missing"] / quality["rows"]}


def frame_of(values: list, dtype: pl.DataType) -> pl.DataFrame:
    ts = [dt.datetime(2026, 1, 5) + dt.timedelta(minutes=7 * i) for i in range(len(values))]
    return pl.DataFrame({"ts": ts, "score": [0.5] * len(values), "x": pl.Series(values, dtype=dtype, strict=False)})


@settings(max_examples=60, deadline=None)
@given(values=st.lists(VALUES, min_size=1, max_size=30), dtype=st.sampled_from([pl.Float64, pl.Float32]))
def test_every_face_counts_null_and_nan_and_not_infinity(values, dtype):
    want = by_hand(values)
    for face, got in faces(frame_of(values, dtype)).items():
        assert got == pytest.approx(want, abs=1e-12), face


def test_by_hand_and_on_columns_that_cannot_hold_nan():
    values = [1.0, None, math.nan, math.inf, -math.inf, 0.0, math.nan, None]
    assert set(faces(frame_of(values, pl.Float64)).values()) == {0.5}
    frame = pl.DataFrame({"n": [1, None, 3, None], "s": ["NaN", None, "nan", "a"], "b": [True, None, False, True]})
    assert frame.select(is_missing(c).sum() for c in frame.columns).row(0) == (2, 1, 1)  # text "NaN" is text
