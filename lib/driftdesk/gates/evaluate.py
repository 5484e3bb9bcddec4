"""The release gate: evaluate a policy once on a candidate against a baseline, so CI can block a change.

Each gate's metric is computed over the *whole* candidate and the *whole* baseline (window, evaluation step
and consecutive breaches are backtest notions and do not apply here). ``absolute`` gates read the candidate
alone; every baseline comparison (day_over_day, week_over_week, trailing) compares the candidate with the
baseline given; PSI bins come from the baseline. A gate with ``by`` is evaluated per segment and fails when
any segment breaches; the gate's reported value is its worst segment. Segments below ``min_sample`` are not
judged. A gate whose metric needs a table (or a filter column) the inputs do not have is reported as not
applicable (passed null) rather than failing the whole check; if no gate applies, that is bad input. A budget
gate watches spend over time (the backtest replays it) and does not apply to a release.

A failing gate with ``on_fail = "warn"`` is reported with status ``warn`` and passed true: the release is not
blocked. Golden cases that flipped are counted case by case, over the cases of both releases.

Baseline and candidate may be the same folder or file: ``baseline_release`` / ``candidate_release`` then pick
each side's rows by ``release_id`` (tables without that column do not apply; an unknown release is bad input).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from driftdesk import engine
from driftdesk.contract import validate_frame
from driftdesk.errors import ContractError, DriftdeskError, InputFileError, PolicyError
from driftdesk.gates.engine import breaches, compare
from driftdesk.gates.metrics import distinct_texts, gate_metric, is_budget, metric_components, required_columns
from driftdesk.gates.policy import Gate, Policy
from driftdesk.io import scan_table
from driftdesk.jsonsafe import jsonable

_TABLE_ORDER = ("decisions", "kpis", "service", "llm_calls")


def remembered_mappings(path: Path) -> dict[str, dict]:
    """The role mappings the driftdesk.toml beside a file remembers for that file (``file = "<its name>"``)."""
    from driftdesk.contract import read_settings

    settings = read_settings(path.parent)
    return {t: m for t, m in settings.mappings.items() if settings.files.get(t) == path.name}


class FileTables:
    """One file seen as whichever contract table a metric needs (validated on first use, then cached). Read whole
    on polars within the memory budget; else ``frame`` is the raw rows (a lazy scan, or on Spark) and each table is
    read by the engine (``driftdesk.engine.dataset``). A table the driftdesk.toml beside the file maps to it is
    read through that mapping, as the folder would be."""

    def __init__(self, path: str | Path, *, engine: str = "polars"):
        from driftdesk.engine.scan import scanned

        self.path, self.engine = Path(path), engine
        self.whole = engine == "polars" and not scanned(self.path)
        if self.whole:
            self.frame = scan_table(self.path).collect()
        elif engine == "spark":
            from driftdesk.engine.spark import read_parquet

            self.frame = read_parquet(self.path)
        else:
            self.frame = scan_table(self.path)
        self._tables: dict[str, object] = {}
        self.problems: dict[str, str] = {}
        self.mappings = remembered_mappings(self.path)

    def get(self, name: str):
        if name not in self._tables and not self.whole:
            from driftdesk.engine.dataset import read_table_on

            try:
                self._tables[name] = read_table_on(self.path, name, engine=self.engine,
                                                   mapping=self.mappings.get(name))
            except (ContractError, InputFileError, engine.MemoryBudgetError) as exc:  # not this table (or not whole)
                self._tables[name] = None
                self.problems[name] = str(exc)[:300]
        if name not in self._tables:
            try:
                table, violations = validate_frame(self.frame, name, source=str(self.path),
                                                   mapping=self.mappings.get(name))
            except ContractError as exc:  # e.g. a required column of that table is missing: not this table
                table, violations = None, []
                self.problems[name] = str(exc)[:300]
            if table is None and violations:
                self.problems[name] = "; ".join(v.message for v in violations if v.severity == "error")[:300]
            self._tables[name] = table
        return self._tables[name]


def open_tables(path: str | Path, *, engine: str = "polars"):
    """A folder of contract tables (a Dataset) or a single file seen as any table; ``engine`` reads the row-level
    tables (``driftdesk.engine.dataset``)."""
    from driftdesk.engine.dataset import load_dataset_on

    path = Path(path)
    if path.is_dir():
        return load_dataset_on(path, engine)
    return FileTables(path, engine=engine)


def _tables_for(inputs, gate: Gate):
    spec = gate_metric(gate.metric)
    names = (spec.table,) if spec.table else _TABLE_ORDER
    needs = (*required_columns(spec), *(c for c, _ in gate.filter))
    for name in names:
        t = inputs.get(name)
        if t is not None and all(c in engine.schema(t.frame) for c in needs):
            return name, t
    return None, None


class ReleaseTables:
    """The rows of one release (``release_id``) in every table of a Dataset or FileTables; a table without a
    release_id column, or without rows of that release, is absent."""

    def __init__(self, inputs, release: str, *, role: str):
        self.inputs, self.release = inputs, release
        known = _release_ids(inputs)
        if release not in known:
            if isinstance(inputs, FileTables) or any("release_id" in engine.schema(t.frame)
                                                     for n, t in inputs.tables.items() if n not in _LOGS):
                raise PolicyError(f"the {role} release {release!r} is in no table of the {role} (releases there: "
                                  f"{', '.join(sorted(known)[:20]) or 'none, no table has a release_id column'})")
            rows = ", ".join(n for n in inputs.tables if n not in _LOGS) or "none"
            raise PolicyError(f"the {role} release {release!r}: no table of rows of the {role} has a release_id "
                              f"column ({rows}), so one release's rows cannot be told from another's (a releases "
                              "log lists releases, it holds none of their rows); add a release_id column to the "
                              "rows, or pass each release's rows as its own file or folder")

    @property
    def problems(self) -> dict[str, str]:
        return getattr(self.inputs, "problems", {})

    def get(self, name: str):
        table = self.inputs.get(name)
        if table is None or "release_id" not in engine.schema(table.frame):
            return None
        if not isinstance(table.frame, pl.DataFrame):  # a scan or a Spark table: selected lazily where the rows are
            rows = engine.where_equal(table.frame, "release_id", self.release)
            return replace(table, frame=rows) if _has_rows(rows) else None
        rows = table.frame.filter(pl.col("release_id") == self.release)
        return replace(table, frame=rows) if rows.height else None


def _has_rows(frame) -> bool:
    if engine.is_spark(frame):
        return bool(frame.df.take(1))
    return engine.collect(frame.head(1)).height > 0


_LOGS = ("releases", "incidents", "calendar")  # tables that name releases or days, not rows of a release


def _release_ids(inputs) -> set[str]:
    """The release ids of the rows: a releases log names releases that may have no rows here."""
    frames = [inputs.frame] if isinstance(inputs, FileTables) else [t.frame for n, t in inputs.tables.items()
                                                                     if n not in _LOGS]
    return {r for f in frames if "release_id" in engine.schema(f) for r in distinct_texts(f, "release_id")}


@dataclass(frozen=True)
class CheckResult:
    """Pass or fail per gate, and overall; `segments` has every judged segment of every gate."""

    policy: Policy
    passed: bool
    gates: pl.DataFrame  # name, metric, segment, value, threshold, direction, passed, action, status, reason
    segments: pl.DataFrame

    @property
    def failed(self) -> pl.DataFrame:
        """The gates that block the release."""
        return self.gates.filter(pl.col("passed") == False)  # noqa: E712

    @property
    def warnings(self) -> pl.DataFrame:
        """The gates that breached but only warn (``on_fail = "warn"``)."""
        return self.gates.filter(pl.col("status") == "warn")

    def to_frame(self) -> pl.DataFrame:
        return self.gates

    def to_dict(self) -> dict:
        return jsonable({"policy": self.policy.name, "passed": self.passed, "gates": self.gates,
                         "warnings": self.warnings["name"].to_list(), "segments": self.segments,
                         "notes": list(self.policy.notes)})

    def to_figure(self):
        from driftdesk.viz.gates import check_figure

        return check_figure(self)

    def _repr_html_(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return f"<h4>Release gate {self.policy.name}: {verdict}</h4>" + self.gates._repr_html_()


_GATE_SCHEMA = {"name": pl.String, "metric": pl.String, "segment": pl.String, "value": pl.Float64,
                "threshold": pl.Float64, "direction": pl.String, "passed": pl.Boolean, "action": pl.String,
                "status": pl.String, "reason": pl.String, "baseline_value": pl.Float64,
                "candidate_value": pl.Float64, "on_fail": pl.String}


def _judge(gate: Gate, baseline, candidate, index: int) -> tuple[dict, list[dict]]:
    context = f"gate {index + 1} ({gate.name!r})"
    row = {"name": gate.name, "metric": gate.metric, "segment": None, "value": None, "threshold": gate.threshold,
           "direction": gate.direction, "passed": None, "action": gate.action, "status": "not_applicable",
           "reason": None, "baseline_value": None, "candidate_value": None, "on_fail": gate.on_fail}
    if is_budget(gate.metric):
        row["reason"] = "a budget burn is watched over time (gates backtest, the LLM page), not in a release check"
        return row, []
    name, cand_table = _tables_for(candidate, gate)
    if cand_table is None:
        row["reason"] = f"the candidate has no table with what {gate.metric} needs"
        return row, []
    needs_baseline = gate.comparison != "absolute"
    base_table = baseline.get(name) if needs_baseline else None
    if needs_baseline and base_table is None:
        row["reason"] = f"the baseline has no {name} table for {gate.metric}"
        return row, []
    spec = gate_metric(gate.metric)
    reference = base_table.frame if (needs_baseline and spec.kind == "distance") else None
    cand = metric_components({name: cand_table}, gate.metric, by=gate.by, filter=gate.filter, context=context,
                             reference=reference)
    c_sum = cand.components.sum(axis=1)  # (S, K): the whole candidate
    c_keys = cand.segments
    b_sum = None
    if needs_baseline:
        # PSI: bins from the baseline on both sides; golden flips: the cases of both releases on both sides
        base_reference = (cand_table.frame if spec.paired else base_table.frame) if spec.kind == "distance" else None
        base = metric_components({name: base_table}, gate.metric, by=gate.by, filter=gate.filter, context=context,
                                 reference=base_reference)
        b_index = {s: i for i, s in enumerate(base.segments)}
        b_sum = np.zeros_like(c_sum)
        present = np.array([s in b_index for s in c_keys])
        for i, s in enumerate(c_keys):
            if s in b_index:
                if base.components.shape[-1] != c_sum.shape[-1]:
                    raise DriftdeskError(f"{context}: baseline and candidate bins differ for {gate.metric}")
                b_sum[i] = base.components[b_index[s]].sum(axis=0)
    else:
        present = np.ones(len(c_keys), bool)
    value = compare(c_sum, b_sum, gate=gate, series=cand)
    sample_ok = (cand.sample(c_sum) >= gate.min_sample) & present
    if b_sum is not None:
        sample_ok &= cand.sample(b_sum) >= gate.min_sample
    judged = sample_ok & np.isfinite(value)
    breach = breaches(value, judged, np.array([gate.threshold]), gate.direction)[0]
    level = cand.level
    seg_rows = []
    for i, s in enumerate(c_keys):
        seg_rows.append({
            "name": gate.name, "segment": s, "value": float(value[i]) if np.isfinite(value[i]) else None,
            "judged": bool(judged[i]), "passed": (not bool(breach[i])) if judged[i] else None,
            "candidate_value": float(level(c_sum[i])) if level is not None else None,
            "baseline_value": float(level(b_sum[i])) if (level is not None and b_sum is not None) else None,
            "sample": float(cand.sample(c_sum[i])),
        })
    if not judged.any():
        row.update(status="insufficient_sample",
                   reason=f"no segment has a defined value with at least {gate.min_sample:g} {spec.sample_doc}")
        return row, seg_rows
    # the worst segment: the one furthest past (or closest to) the threshold in the gate's direction
    v = np.where(judged, value, np.nan)
    key = {"above": v, "below": -v, "either": np.abs(v)}[gate.direction]
    worst = int(np.nanargmax(key))
    failed = bool(breach.any())
    warns = failed and gate.on_fail == "warn"
    row.update(segment=c_keys[worst], value=float(value[worst]), passed=warns or not failed,
               status="warn" if warns else "fail" if failed else "pass",
               candidate_value=seg_rows[worst]["candidate_value"], baseline_value=seg_rows[worst]["baseline_value"])
    if failed:
        bad = [c_keys[i] for i in np.nonzero(breach)[0]]
        row["reason"] = (("warning, not blocking: " if warns else "") + f"{len(bad)} segment(s) breach: "
                         + ", ".join(bad[:5]) + ("..." if len(bad) > 5 else ""))
    return row, seg_rows


def check_release(policy: Policy, *, baseline, candidate, baseline_release: str | None = None,
                  candidate_release: str | None = None, engine: str = "polars") -> CheckResult:
    """Evaluate every gate of `policy` on `candidate` against `baseline` (Datasets, FileTables or paths), each
    optionally narrowed to one release's rows; ``engine`` reads the row-level tables of paths."""
    baseline = open_tables(baseline, engine=engine) if isinstance(baseline, str | Path) else baseline
    candidate = open_tables(candidate, engine=engine) if isinstance(candidate, str | Path) else candidate
    if baseline_release is not None:
        baseline = ReleaseTables(baseline, baseline_release, role="baseline")
    if candidate_release is not None:
        candidate = ReleaseTables(candidate, candidate_release, role="candidate")
    rows, segs = [], []
    for i, gate in enumerate(policy.gates):
        row, seg_rows = _judge(gate, baseline, candidate, i)
        rows.append(row)
        segs += seg_rows
    gates = pl.DataFrame(rows, schema=_GATE_SCHEMA)
    if gates.filter(pl.col("status") != "not_applicable").height == 0:
        problems = getattr(candidate, "problems", {})
        detail = "; ".join(f"as {k}: {v}" for k, v in problems.items())
        raise PolicyError("no gate of the policy applies to the candidate"
                          + (f" ({detail})" if detail else "") + "; gates need "
                          + ", ".join(f"{g.name}: {g.metric}" for g in policy.gates))
    segments = pl.DataFrame(segs, schema={"name": pl.String, "segment": pl.String, "value": pl.Float64,
                                          "judged": pl.Boolean, "passed": pl.Boolean, "candidate_value": pl.Float64,
                                          "baseline_value": pl.Float64, "sample": pl.Float64})
    passed = not bool((gates["passed"] == False).any())  # noqa: E712
    return CheckResult(policy, passed, gates, segments)


__all__ = ["CheckResult", "FileTables", "ReleaseTables", "check_release", "open_tables"]
