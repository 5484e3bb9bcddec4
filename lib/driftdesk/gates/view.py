"""The Gates page's view: a proposed policy replayed on history beside the policies it would replace, and one gate's
threshold swept.

``opening_policy`` decides which policy a dataset opens on: its adopted version when there is one that fits the
data, else the folder's ``policy.toml`` when it fits, else a starter policy generated from the data
(``driftdesk.gates.starter``); it says which, and why a candidate was passed over. "Fits" means every table and
column the policy's gates read is in the data (``policy_problems``).

``gates_view(dataset, policy, gate=..., compare=...)`` computes every replayable gate's values once and shares them
between the backtest, the compared policies' backtests and the sweep. Its ``comparison()`` puts each figure of
the proposal beside the compared policies' with the difference, and ``regressions()`` says where the proposal is
worse than the first of them (the adopted version, else the default) on recall or alerts per week.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import polars as pl

from driftdesk.errors import DriftdeskError
from driftdesk.format import format_value
from driftdesk.gates.backtest import (
    BacktestResult,
    SweepResult,
    ValuesOf,
    backtest_policy,
    gate_values_of,
    policy_values,
    sweep_gate,
)
from driftdesk.gates.engine import GateValues
from driftdesk.gates.metrics import gate_problem
from driftdesk.gates.policy import Gate, Policy, load_policy
from driftdesk.gates.starter import StarterPolicy, starter_policy
from driftdesk.jsonsafe import jsonable

POLICY_FILE = "policy.toml"
Origin = Literal["adopted", "folder", "starter"]
# the figures compared between policies: (name, unit of format_value, which way is better)
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("recall", "rate", "higher"), ("precision", "rate", "higher"), ("alerts_per_week", "ratio", "lower"),
    ("median_delay_hours", "count", "lower"), ("incidents_caught", "count", "higher"),
)
FIGURE_LABELS = {"recall": "recall", "precision": "precision", "alerts_per_week": "alerts per week",
                 "median_delay_hours": "median delay (h)", "incidents_caught": "incidents caught"}
PROPOSAL = "proposal"


def folder_policy(folder: str | Path) -> Policy | None:
    """The folder's own policy.toml (None when it has none)."""
    path = Path(folder) / POLICY_FILE
    return load_policy(path) if path.is_file() else None


def policy_problems(ds, policy: Policy) -> list[str]:
    """What the data lacks for each gate of ``policy`` (empty when the policy fits the data)."""
    return [p for g in policy.gates if (p := gate_problem(ds, g)) is not None]


def _first(problems: list[str]) -> str:
    return problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")


@dataclass(frozen=True)
class OpeningPolicy:
    """The policy a dataset opens on, where it came from (``origin``, ``label``), and the *default* it is compared
    with: the folder's policy.toml when it fits, else the starter policy. ``notes`` say why a candidate was passed
    over."""

    policy: Policy
    origin: Origin
    label: str
    default: Policy
    default_label: str
    notes: tuple[str, ...] = ()
    starter: StarterPolicy | None = None

    @property
    def sentence(self) -> str:
        """Which policy is shown, in a sentence."""
        why = {"adopted": "the version most recently adopted for this data",
               "folder": "the data folder's policy.toml (no version adopted for this data yet)",
               "starter": "generated from this data's tables, thresholds from each metric's normal spread "
                          "(no version adopted for this data yet)"}[self.origin]
        return f"Showing {self.label}: {why}."

    def to_dict(self) -> dict:
        return jsonable({"policy": self.policy.to_dict(), "origin": self.origin, "label": self.label,
                         "default": self.default.name, "default_label": self.default_label, "notes": list(self.notes),
                         "starter": self.starter.to_dict() if self.starter is not None else None})


def opening_policy(ds, folder: str | Path, *, adopted: Policy | None = None, adopted_label: str = "",
                   values_of: ValuesOf | None = None) -> OpeningPolicy:
    """The adopted version (``adopted``, from ``driftdesk.tracking.latest_adopted``) if it fits the data, else the
    folder's policy.toml if it fits, else a starter policy; a DriftdeskError when the data has nothing to gate."""
    notes: list[str] = []
    default = starter = None
    default_label = ""
    try:
        own = folder_policy(folder)
    except DriftdeskError as exc:
        own = None
        notes.append(f"the folder's policy.toml cannot be used: {exc}")
    if own is not None:
        problems = policy_problems(ds, own)
        if problems:
            notes.append(f"the folder's policy.toml ({own.name}) does not fit this data: {_first(problems)}")
        else:
            default, default_label = own, f"the folder's policy.toml ({own.name})"
    if default is None:
        starter = starter_policy(ds, values_of=values_of)
        default, default_label = starter.policy, "the starter policy"
    if adopted is not None:
        problems = policy_problems(ds, adopted)
        if not problems:
            return OpeningPolicy(adopted, "adopted", adopted_label or f"adopted {adopted.name}", default,
                                 default_label, tuple(notes), starter)
        notes.insert(0, f"{adopted_label or adopted.name} does not fit this data any more: {_first(problems)}")
    origin: Origin = "starter" if starter is not None else "folder"
    return OpeningPolicy(default, origin, default_label, default, default_label, tuple(notes), starter)


def reference_thresholds(policy: Policy | None, gate: str) -> dict | None:
    """A gate's threshold and breaches in a row in ``policy`` (what a sweep marks), None when it has no such gate."""
    if policy is None or gate not in [g.name for g in policy.gates]:
        return None
    g = policy.gate(gate)
    return {"threshold": g.threshold, "consecutive": g.consecutive}


def policy_figures(result: BacktestResult) -> dict:
    """The figures policies are compared on (``FIGURES``), plus the incidents inside the replayed history."""
    inc = result.incidents
    in_history = int(inc["in_history"].sum()) if inc.height else 0
    caught = int((inc["caught"] & inc["in_history"]).sum()) if inc.height else 0
    return {"recall": result.recall, "precision": result.precision, "alerts_per_week": result.alerts_per_week,
            "median_delay_hours": result.median_delay_hours,
            "incidents_caught": caught if in_history else None, "incidents": in_history}


@dataclass(frozen=True)
class GatesView:
    """Everything the Gates page shows of a policy: its backtest, the backtests of the policies it is compared with
    (``compared``: label -> backtest, the first being what an adoption would replace), and the sweep of the
    ``gate`` being edited (None for a release check, which has no history to sweep)."""

    policy: Policy
    gate: Gate
    backtest: BacktestResult
    sweep: SweepResult | None
    reference: dict | None
    compared: tuple[tuple[str, BacktestResult], ...] = ()

    @property
    def replayed(self) -> str:
        """How much was replayed, in a sentence."""
        checks = sum(g.release_only for g in self.policy.gates)
        days = (self.backtest.span_end - self.backtest.span_start).days
        text = f"Replayed {len(self.policy.gates) - checks} gate(s) over {format_value(days, 'count')} days"
        return text + (f"; {checks} release check(s) run only by driftdesk gates check" if checks else "")

    @property
    def has_incidents(self) -> bool:
        """Whether the data has an incidents table (without one there is no recall, precision or delay)."""
        return self.backtest.has_incident_log

    @property
    def caught(self) -> tuple[int, int]:
        """(incidents caught, incidents inside the replayed history)."""
        inc = self.backtest.incidents
        return (int((inc["caught"] & inc["in_history"]).sum()), int(inc["in_history"].sum())) if inc.height else (0, 0)

    def incidents(self) -> pl.DataFrame:
        """Each incident with its result (caught, missed, outside history) and delay first, then when and what."""
        return self.backtest.incidents.select(
            "incident_id",
            pl.when(pl.col("caught")).then(pl.lit("caught")).when(pl.col("in_history")).then(pl.lit("missed"))
            .otherwise(pl.lit("outside history")).alias("result"),
            "delay_hours", "caught_by", "start", "end", "first_alert", "layer", "severity", "segment",
        )

    def comparison(self) -> pl.DataFrame:
        """One row per figure and policy (the proposal first): its value and the proposal's difference from it
        (``difference``: proposal - value; null for the proposal's own row or an undefined figure). ``better``
        says which way is better; ``incidents``: incidents inside that policy's replayed history."""
        rows = []
        mine = policy_figures(self.backtest)
        for label, result in ((PROPOSAL, self.backtest), *self.compared):
            theirs = policy_figures(result)
            for name, unit, better in FIGURES:
                a, b = mine[name], theirs[name]
                rows.append({"figure": name, "label": FIGURE_LABELS[name], "unit": unit, "better": better,
                             "policy": label, "value": b, "incidents": theirs["incidents"],
                             "difference": a - b if label != PROPOSAL and a is not None and b is not None else None})
        return pl.DataFrame(rows, schema={"figure": pl.String, "label": pl.String, "unit": pl.String,
                                          "better": pl.String, "policy": pl.String, "value": pl.Float64,
                                          "incidents": pl.Int64, "difference": pl.Float64})

    def regressions(self) -> tuple[str, ...]:
        """Where the proposal is worse than the first compared policy on recall or alerts per week, in words (the
        proposal's figure against that policy's)."""
        if not self.compared:
            return ()
        other = self.compared[0][1]
        mine, theirs = policy_figures(self.backtest), policy_figures(other)
        out = []
        if mine["recall"] is not None and theirs["recall"] is not None and mine["recall"] < theirs["recall"] - 1e-12:
            out.append(f"recall {format_value(mine['recall'], 'rate')} against {format_value(theirs['recall'], 'rate')} "
                       f"({format_value(mine['recall'] - theirs['recall'], 'pp')})")
        if mine["alerts_per_week"] > theirs["alerts_per_week"] + 1e-9:
            out.append(f"{format_value(mine['alerts_per_week'], 'ratio')} alerts per week against "
                       f"{format_value(theirs['alerts_per_week'], 'ratio')}")
        return tuple(out)

    def to_frame(self) -> pl.DataFrame:
        return self.backtest.summary()

    def to_dict(self) -> dict:
        return jsonable({"policy": self.policy.to_dict(), "gate": self.gate.name, "backtest": self.backtest.to_dict(),
                         "sweep": self.sweep.to_dict() if self.sweep is not None else None,
                         "reference": self.reference, "comparison": self.comparison(),
                         "regressions": list(self.regressions())})

    def to_figure(self):
        return self.backtest.to_figure()

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.replayed)}</b></p>" + self.backtest._repr_html_()


def gates_view(dataset, policy: Policy, *, gate: str | None = None, reference: Mapping | None = None,
               values: Sequence[GateValues] | None = None, compare: Sequence[tuple[str, Policy]] = (),
               values_of: ValuesOf | None = None,
               progress: Callable[[float, str], None] | None = None) -> GatesView:
    """``policy`` replayed on the dataset's history beside the ``compare`` policies (label, policy; the first is what
    an adoption would replace), and its ``gate`` (the first by default) swept over thresholds with ``reference``
    marked (by default the first compared policy's values for that gate). ``values``: the proposal's replayable
    gates' values when the caller has them; ``values_of``: how any gate's values are had (``policy_values``)."""
    chosen = policy.gate(gate) if gate is not None else policy.gates[0]
    memo: dict = {}

    def shared(key: Gate, *, context: str) -> GateValues:  # one computation per gate key across the policies
        if key not in memo:
            memo[key] = (values_of or partial(gate_values_of, dataset))(key, context=context)
        return memo[key]

    values = list(values) if values is not None else policy_values(dataset, policy, progress=progress,
                                                                   values_of=shared)
    backtest = backtest_policy(dataset, policy, values=values)
    compared = tuple((label, backtest_policy(dataset, other, values=policy_values(dataset, other, values_of=shared)))
                     for label, other in compare)
    label = "current"
    if reference is None:
        found = next(((lab, ref) for lab, other in compare if (ref := reference_thresholds(other, chosen.name))), None)
        if found is not None:
            label, reference = found
    ref = dict(reference) if reference is not None else None
    sweep = None if chosen.release_only else sweep_gate(dataset, policy, chosen.name, values=values, current=ref,
                                                        current_label=label)
    return GatesView(policy, chosen, backtest, sweep, ref, compared)
