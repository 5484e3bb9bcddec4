"""Rollouts: a candidate judged against its control per segment (canary or shadow), under a rollout policy, and the
decision replayed along the rollout's timeline.

compare.py (each metric per arm, its change and interval), judge.py (arms, evaluations, decisions, the replay).
"""

from driftdesk.rollout.compare import VERDICTS, RolloutMetric, rollout_metric
from driftdesk.rollout.judge import (
    DECISIONS,
    RolloutResult,
    canary_pairs,
    default_rollout_policy,
    judge_aggregates,
    judge_rollout,
    rollout_policy,
    rollout_view,
    versions,
)

__all__ = ["DECISIONS", "VERDICTS", "RolloutMetric", "RolloutResult", "canary_pairs", "default_rollout_policy",
           "judge_aggregates", "judge_rollout", "rollout_metric", "rollout_policy", "rollout_view", "versions"]
