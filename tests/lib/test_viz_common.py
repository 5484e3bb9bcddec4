"""Figure details every page relies on."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from driftdesk.seasonality import detect
from driftdesk.viz.common import hold_flat_panel, stacked_panels
from driftdesk.viz.seasonality import seasonality_figure


def test_a_flat_panel_is_drawn_around_its_level_and_a_moving_one_is_left_to_plotly():
    fig = stacked_panels(["a", "b", "c"])
    hold_flat_panel(fig, 0, pl.Series([1.5, 1.5 + 5e-15, None, float("nan")]))
    hold_flat_panel(fig, 1, pl.Series([0.0, 1e-17]))
    hold_flat_panel(fig, 2, pl.Series([1.0, 1.2]))
    assert np.allclose(fig.layout.yaxis.range, [1.35, 1.65])
    assert list(fig.layout.yaxis2.range) == [-1.0, 1.0]
    assert fig.layout.yaxis3.range is None


def test_a_constant_series_draws_readable_panels():
    ts = pl.datetime_range(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 29), "1h", eager=True)
    frame = pl.DataFrame({"ts": ts, "value": np.full(ts.len(), 1.5)})
    fig = seasonality_figure(detect(frame))
    trend = fig.layout.yaxis2.range
    assert trend is not None and trend[0] < 1.5 < trend[1] and trend[1] - trend[0] > 0.1
