"""Synthetic hourly series for the seasonality tests."""

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
