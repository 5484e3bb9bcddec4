"""Drift: per-column and per-segment statistics between a baseline and a current window, with verdicts."""

from driftdesk.drift.compare import (
    Thresholds,
    compare_baselines,
    compare_frames,
    compare_windows,
    drift_history,
    segment_table,
)
from driftdesk.drift.result import BaselineComparison, DriftHistory, DriftResult

__all__ = [
    "BaselineComparison",
    "DriftHistory",
    "DriftResult",
    "Thresholds",
    "compare_baselines",
    "compare_frames",
    "compare_windows",
    "drift_history",
    "segment_table",
]
