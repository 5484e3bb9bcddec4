"""Gates: policies of alert and release rules, evaluated on a candidate and simulated on history.

policy.py (frozen rules, TOML), metrics.py (metrics from the registry as additive hourly components),
engine.py (causal windowed values, breaches, runs), backtest.py (replay, incident matching, sweeps),
evaluate.py (the release gate: candidate vs baseline).
"""

from driftdesk.gates.backtest import BacktestResult, SweepResult, backtest_policy, prepare_incidents, sweep_gate
from driftdesk.gates.evaluate import CheckResult, check_release
from driftdesk.gates.metrics import gate_metric, metric_catalog, metric_components, metric_names
from driftdesk.gates.policy import Gate, Policy, decode_policy, encode_policy, load_policy, parse_policy

__all__ = [
    "BacktestResult", "CheckResult", "Gate", "Policy", "SweepResult", "backtest_policy", "check_release",
    "decode_policy", "encode_policy", "gate_metric", "load_policy", "metric_catalog", "metric_components",
    "metric_names", "parse_policy", "prepare_incidents", "sweep_gate",
]
