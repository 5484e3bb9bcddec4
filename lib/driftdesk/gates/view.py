"""The Gates page's view: a proposed policy replayed on history, and one gate's threshold swept.

``gates_view(dataset, policy, gate=...)`` computes every replayable gate's values once and shares them between the
backtest and the sweep. ``default_policy(folder)`` is the policy a folder starts from; the values a sweep marks as
"current" come from ``driftdesk.tracking.adopted_thresholds``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from driftdesk.format import format_value
from driftdesk.gates.backtest import BacktestResult, SweepResult, backtest_policy, policy_values, sweep_gate
from driftdesk.gates.engine import GateValues
from driftdesk.gates.policy import Gate, Policy, load_policy
from driftdesk.jsonsafe import jsonable
from driftdesk.paths import sample_data_dir

POLICY_FILE = "policy.toml"


def default_policy(folder: str | Path) -> Policy | None:
    """The folder's own policy.toml, else the bundled sample policy (None when neither exists)."""
    for place in (Path(folder), sample_data_dir()):
        path = place / POLICY_FILE
        if path.exists():
            return load_policy(path)
    return None


@dataclass(frozen=True)
class GatesView:
    """Everything the Gates page shows of a policy: its backtest, and the sweep of the ``gate`` being edited (None
    for a release check, which has no history to sweep)."""

    policy: Policy
    gate: Gate
    backtest: BacktestResult
    sweep: SweepResult | None
    reference: dict | None

    @property
    def replayed(self) -> str:
        """How much was replayed, in a sentence."""
        checks = sum(g.release_only for g in self.policy.gates)
        days = (self.backtest.span_end - self.backtest.span_start).days
        text = f"Replayed {len(self.policy.gates) - checks} gate(s) over {format_value(days, 'count')} days"
        return text + (f"; {checks} release check(s) run only by driftdesk gates check" if checks else "")

    @property
    def caught(self) -> tuple[int, int]:
        """(incidents caught, incidents inside the replayed history)."""
        inc = self.backtest.incidents
        return (int(inc["caught"].sum()), int(inc["in_history"].sum())) if inc.height else (0, 0)

    def incidents(self) -> pl.DataFrame:
        """Each incident with its result: caught, missed, or outside the replayed history."""
        return self.backtest.incidents.select(
            "incident_id", "layer", "severity", "segment", "start", "end",
            pl.when(pl.col("caught")).then(pl.lit("caught")).when(pl.col("in_history")).then(pl.lit("missed"))
            .otherwise(pl.lit("outside history")).alias("result"),
            "delay_hours", "first_alert", "caught_by",
        )

    def to_frame(self) -> pl.DataFrame:
        return self.backtest.summary()

    def to_dict(self) -> dict:
        return jsonable({"policy": self.policy.to_dict(), "gate": self.gate.name, "backtest": self.backtest.to_dict(),
                         "sweep": self.sweep.to_dict() if self.sweep is not None else None,
                         "reference": self.reference})

    def to_figure(self):
        return self.backtest.to_figure()

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.replayed)}</b></p>" + self.backtest._repr_html_()


def gates_view(dataset, policy: Policy, *, gate: str | None = None, reference: Mapping | None = None,
               values: Sequence[GateValues] | None = None,
               progress: Callable[[float, str], None] | None = None) -> GatesView:
    """``policy`` replayed on the dataset's history, and its ``gate`` (the first by default) swept over thresholds
    with ``reference`` marked as the current values. ``values``: the replayable gates' values when the caller has
    them already (``policy_values``), else computed here (``progress(share, text)`` after each gate)."""
    chosen = policy.gate(gate) if gate is not None else policy.gates[0]
    values = list(values) if values is not None else policy_values(dataset, policy, progress=progress)
    backtest = backtest_policy(dataset, policy, values=values)
    ref = dict(reference) if reference is not None else None
    sweep = None if chosen.release_only else sweep_gate(dataset, policy, chosen.name, values=values, current=ref)
    return GatesView(policy, chosen, backtest, sweep, ref)
