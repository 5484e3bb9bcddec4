"""Gates: policies of alert and release rules, evaluated on a candidate and simulated on history.

policy.py (frozen rules, TOML), metrics.py (the metric registry as additive hourly components),
engine.py (causal windowed values, breaches, runs), backtest.py (replay, incident matching, sweeps),
evaluate.py (the release gate: candidate vs baseline).
"""

from driftdesk.gates.backtest import BacktestResult, SweepResult, backtest_policy, prepare_incidents, sweep_gate
from driftdesk.gates.evaluate import CheckResult, check_release
from driftdesk.gates.metrics import metric_catalog, metric_names, metric_series, parse_metric
from driftdesk.gates.policy import Gate, Policy, decode_policy, encode_policy, load_policy, parse_policy

__all__ = [
    "BacktestResult", "CheckResult", "Gate", "Policy", "SweepResult", "backtest_policy", "check_release",
    "decode_policy", "encode_policy", "load_policy", "metric_catalog", "metric_names", "metric_series",
    "parse_metric", "parse_policy", "prepare_incidents", "sweep_gate",
]
