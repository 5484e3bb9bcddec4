"""The scale a series is modelled on (its working scale), and the way back to its own.

``log``: strictly positive metrics, log(max(y, 0) + c) (shifts and seasonality are multiplicative there);
``sqrt``: counts finer than the model's step, Anscombe's sqrt(y + 3/8), on which Poisson noise has the same width
(1/2) at every level, so a quiet night and a busy afternoon are judged alike; ``linear``: anything else."""

from __future__ import annotations

import numpy as np

ANSCOMBE = 0.375
SCALES = ("log", "sqrt", "linear")


def to_working(values: np.ndarray, scale: str, offset: np.ndarray | float = 0.0) -> np.ndarray:
    """Values on the working scale (``offset``: the log scale's c)."""
    if scale == "log":
        return np.log(np.maximum(values, 0.0) + offset)
    if scale == "sqrt":
        return np.sqrt(np.maximum(values, 0.0) + ANSCOMBE)
    return values


def from_working(w: np.ndarray, scale: str, offset: np.ndarray | float = 0.0) -> np.ndarray:
    """The inverse of ``to_working`` (a working value below the scale's floor maps to its floor)."""
    if scale == "log":
        return np.exp(w) - offset
    if scale == "sqrt":
        return np.maximum(w, 0.0) ** 2 - ANSCOMBE
    return w


def relative_change(old_w: float, new_w: float, scale: str) -> float:
    """(new - old) / |old| on the series' own scale, from two working-scale levels."""
    if scale == "log":
        return float(np.expm1(new_w - old_w))
    old, new = (float(from_working(np.float64(x), scale)) for x in (old_w, new_w))
    if not np.isfinite(old) or old == 0:
        return float("inf")
    return (new - old) / abs(old)


def is_counts(values: np.ndarray) -> bool:
    """Non-negative whole numbers (events counted per step), and at least one value."""
    finite = values[np.isfinite(values)]
    return bool(finite.size and (finite >= 0).all() and np.array_equal(finite, np.round(finite)))
