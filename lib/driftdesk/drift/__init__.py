"""Drift: per-column and per-segment statistics between a baseline and a current window, with verdicts."""

from driftdesk.drift.compare import (
    compare_baselines,
    compare_frames,
    compare_windows,
    drift_history,
    segment_table,
)
from driftdesk.drift.consensus import consensus, consensus_sentence
from driftdesk.drift.result import BaselineComparison, DriftHistory, DriftResult, Weighting
from driftdesk.drift.thresholds import REASON_CODES, Thresholds
from driftdesk.drift.view import DriftView, drift_view

__all__ = [
    "REASON_CODES",
    "BaselineComparison",
    "DriftHistory",
    "DriftResult",
    "DriftView",
    "Thresholds",
    "Weighting",
    "compare_baselines",
    "compare_frames",
    "compare_windows",
    "consensus",
    "consensus_sentence",
    "drift_history",
    "drift_view",
    "segment_table",
]
