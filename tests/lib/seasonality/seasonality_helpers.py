"""Synthetic hourly series for the seasonality tests, and the causal mode's no-look-ahead check."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

T0 = dt.datetime(2026, 3, 2)  # a Monday


def hourly(values, *, start: dt.datetime = T0, **extra) -> pl.DataFrame:
    values = np.asarray(values, dtype=float)
    ts = [start + dt.timedelta(hours=h) for h in range(len(values))]
    return pl.DataFrame({"ts": ts, "value": values, **extra})


def seasonal_series(days: int, *, seed: int = 0, level: float = 100.0, noise: float = 0.03) -> np.ndarray:
    """Daily and weekly multiplicative cycles with multiplicative noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 24)
    base = level * (1 + 0.3 * np.sin(2 * np.pi * t / 24)) * (1 + 0.1 * np.sin(2 * np.pi * t / 168))
    return base * (1 + rng.normal(0, noise, t.size))


def assert_no_look_ahead(frame: pl.DataFrame, cut: float) -> None:
    """Causal flags and scores of every row up to a cut (a row's own time: the tightest cut, at fraction ``cut`` of
    the rows) are the same whether the rows after it exist or not; a regridded row shows the last step complete at
    its time."""
    from driftdesk.seasonality import detect

    t_cut = frame["ts"].sort()[int(cut * (frame.height - 1))]
    full = detect(frame, causal=True).points
    part = detect(frame.filter(pl.col("ts") <= t_cut), causal=True).points
    a = full.filter(pl.col("ts") <= t_cut).sort("ts", maintain_order=True)
    b = part.filter(pl.col("ts") <= t_cut).sort("ts", maintain_order=True)
    assert a["flag"].to_list() == b["flag"].to_list()
    np.testing.assert_allclose(a["score"].fill_null(np.nan).to_numpy(), b["score"].fill_null(np.nan).to_numpy(),
                               rtol=1e-9, atol=1e-9)
