"""Judge a rollout (a canary with split traffic, or a shadow with the same requests scored twice) under a policy,
and replay the judgement along the rollout's timeline: when would it have rolled back?

A rollout policy is a gate policy (``driftdesk.gates.policy``, the same TOML) whose gates compare the candidate
with the control (``comparison = "release"``). Each gate is evaluated every ``every`` hours on the last ``window``
hours of the rollout, per segment (its ``by`` columns; without ``by``, each segment column of the table on its own
and all traffic), with ``min_sample`` per arm. Decisions, most severe first:

* ``rollback``: a gate whose action is rollback is in breach (beyond its threshold and beyond the noise) in any
  segment with enough data, ``consecutive`` evaluations in a row. "Beyond the noise" is judged for the whole
  rollout: the error rate ``1 - confidence`` is split across the action's gates and segmentations and the segments,
  and each share held over the gate's evaluations over the span, which overlap (``overlap_level``; or split
  across them, ``comparison_level``), so identical arms are rolled back with a chance of at most ``1 - confidence``
  however long the rollout and however many segments;
* ``pause_for_review``: the same for a gate whose action is pause_for_review (quality: calibration, score
  distribution, latency, cost);
* ``continue``: something was judged and nothing above happened (notify gates are reported, not acted on);
* ``not_enough_data``: nothing could be judged (no control traffic, too few rows in every segment).

The rollout's decision is its first rollback along the timeline (a rollback ends a rollout), else its first pause,
else the last evaluation's decision. Its ``segments`` are the comparisons at that moment.

Which rows are which arm: the first of ``model_version``, ``release_id`` or ``variant`` that holds both names
(or the ``arm`` column given). A shadow comparison has both arms on the same requests; the same code judges it.
On a per-request table (decisions) without kpis columns, a bought lead is a row with ``decision`` = 1 (every row
without a decision column) and its conversion is its ``label``: ``clicks`` and ``conversions`` are derived so
that CPA, ROAS and CR read as in the registry (spend / conversions, revenue / spend, conversions / clicks).

The replay reads rows only through reductions per interval between evaluation-window edges, arm and segment (the
sums of a metric, the calibration cells, a column's values), so ``judge_aggregates`` judges a rollout from
aggregates an engine returns instead of rows (``ArmAggregates``; on Spark ``engine.spark.rollout``).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from importlib import resources
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import polars as pl

from driftdesk import sketch
from driftdesk.engine.budget import collect
from driftdesk.errors import DriftdeskError, PolicyError
from driftdesk.gates.policy import Gate, Policy, load_policy, parse_policy
from driftdesk.io import as_lazy
from driftdesk.jsonsafe import jsonable
from driftdesk.rollout.compare import (
    ARMS,
    ECE_BINS,
    RolloutMetric,
    arm_values,
    calibration_cells,
    change_unit,
    compare_calibration_cells,
    compare_calibration_segments,
    compare_distribution_aggregates,
    compare_distributions,
    compare_sums,
    ece_change_intervals,
    rollout_metric,
    sum_exprs,
    verdict,
)
from driftdesk.rollout.looks import look_level
from driftdesk.segments import by_columns
from driftdesk.stats import ks_pvalue
from driftdesk.windows import Window

ARM_COLUMNS = ("model_version", "release_id", "variant")
DECISIONS = ("not_enough_data", "continue", "pause_for_review", "rollback")
HOUR = dt.timedelta(hours=1)
REDUCTIONS = {"ratio": "sums", "rate": "sums", "mean": "sums", "calibration": "cells", "distribution": "values"}
DEFERRED = "__deferred"  # a row's key for what an ECE interval or a KS p-value not computed yet is read off
SEGMENT_SCHEMA = {
    "ts": pl.Datetime("us"), "gate": pl.String, "action": pl.String, "segment": pl.String, "metric": pl.String,
    "control": pl.Float64, "candidate": pl.Float64, "change": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "p_value": pl.Float64, "n_control": pl.Float64, "n_candidate": pl.Float64, "threshold": pl.Float64,
    "verdict": pl.String, "note": pl.String, "level": pl.Float64,
}
CORRECTIONS = ("overlap", "bonferroni", "none")
# a rollout's looks are counted over at least a week, so a live rollout judged on its first days uses the levels it
# will have after a week: the chance of a false rollback stays 1 - confidence as its data grows (up to that week)
PLANNED_HOURS = 7 * 24
# statistics that are, to first order, sums over the window's rows: their looks' correlation is the windows' overlap
LINEAR_KINDS = ("ratio", "rate", "mean")
Level = float | Callable[[int], float]  # a comparison's confidence, or of the number of segments it is judged among


def _level(confidence: Level, n_segments: int) -> float:
    return confidence(max(n_segments, 1)) if callable(confidence) else confidence


def comparison_level(confidence: float, *, comparisons: int, looks: int, segments: int) -> float:
    """The confidence of one segment's interval (or one KS test) under the Bonferroni correction of a rollout: the
    error rate ``1 - confidence`` (the chance of a false rollback over the whole rollout, and of a false pause) is
    split equally across the ``comparisons`` (gate, segmentation) pairs of an action (all traffic, and each segment
    column, for every gate that rolls back), then across that gate's ``looks`` (its evaluations over the rollout)
    and the ``segments`` of the segmentation: ``1 - (1 - confidence) / (comparisons * looks * segments)``. The shares
    add up to the rate, so whatever the correlation of overlapping windows and segments, the chance that any
    comparison of a rollout with no real change is a breach, let alone ``consecutive`` in a row, is at most
    ``1 - confidence`` (Boole's inequality)."""
    return 1 - (1 - confidence) / (comparisons * looks * segments)


def overlap_level(confidence: float, *, comparisons: int, segments: int, window_hours: int, every_hours: int,
                  looks: int) -> float:
    """The confidence of one segment's interval under the ``"overlap"`` correction: the error rate is split across
    the ``comparisons`` and the ``segments`` as by ``comparison_level``, and each share ``(1 - confidence) /
    (comparisons * segments)`` is the chance that any of the gate's ``looks`` (windows of ``window_hours`` every
    ``every_hours``) is a breach by chance, their statistics correlated by the hours their windows share
    (``driftdesk.rollout.looks.look_level``). Overlapping looks are fewer independent chances than looks, so each
    interval is narrower than Bonferroni's (never wider) and the rate over the rollout is the same."""
    if not 0 < confidence < 1:
        raise DriftdeskError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    return look_level((1 - confidence) / (comparisons * segments), window_hours=window_hours,
                      every_hours=every_hours, looks=looks)


def _levels(plan: Sequence[tuple[int, Gate, tuple[str, ...]]], kinds: Mapping[str, str], span: Window,
            times: Sequence[dt.datetime], confidence: float,
            correction: str) -> dict[tuple[int, tuple[str, ...]], tuple[Level, tuple]]:
    """Each (gate, segmentation)'s comparison level (of its number of segments) and what it depends on (a memo's
    key): over the rollout's planned looks, ``overlap_level`` (``correction="overlap"``, for a gate on a ratio, rate
    or mean: ``kinds`` by gate name; an ECE or a KS statistic is no sum over rows, and its looks keep Bonferroni's
    split) or ``comparison_level`` (``"bonferroni"``); or ``confidence`` as it is (``"none"``: every comparison at
    that level, the false alarm rate then grows with looks, segments and gates)."""
    if correction not in CORRECTIONS:
        raise DriftdeskError(f"unknown correction {correction!r}: one of {list(CORRECTIONS)}")
    if correction == "none":
        return {(i, keys): (confidence, ("none", confidence)) for i, _, keys in plan}
    per_action: dict[str, int] = {}
    for _, gate, _ in plan:
        per_action[gate.action] = per_action.get(gate.action, 0) + 1
    out = {}
    for i, gate, keys in plan:
        planned = -(-PLANNED_HOURS // gate.every_hours)  # the looks of a rollout of PLANNED_HOURS at least
        looks = max(len(_gate_window_list(gate, span, times)), planned, 1)
        comparisons = per_action[gate.action]
        if correction == "overlap" and kinds[gate.name] in LINEAR_KINDS:
            out[(i, keys)] = (partial(_overlap_level, confidence, comparisons, gate.window_hours, gate.every_hours,
                                      looks),
                              ("overlap", confidence, comparisons, gate.window_hours, gate.every_hours, looks))
        else:
            out[(i, keys)] = (partial(_split_level, confidence, comparisons, looks),
                              ("bonferroni", confidence, comparisons, looks))
    return out


def _split_level(confidence: float, comparisons: int, looks: int, segments: int) -> float:
    return comparison_level(confidence, comparisons=comparisons, looks=looks, segments=segments)


def _overlap_level(confidence: float, comparisons: int, window_hours: int, every_hours: int, looks: int,
                   segments: int) -> float:
    return overlap_level(confidence, comparisons=comparisons, segments=segments, window_hours=window_hours,
                         every_hours=every_hours, looks=looks)


def default_rollout_policy() -> Policy:
    """The rollout policy shipped with driftdesk (rollout/default_policy.toml)."""
    text = resources.files("driftdesk.rollout").joinpath("default_policy.toml").read_text(encoding="utf-8")
    return rollout_policy(parse_policy(text, source="driftdesk default rollout policy"))


def rollout_policy(policy: Policy | str | Path) -> Policy:
    """A policy whose every gate compares the candidate with the control (comparison = "release")."""
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    wrong = [g.name for g in policy.gates if g.comparison != "release"]
    if wrong:
        raise PolicyError(f"rollout policy {policy.name!r}: gate(s) {wrong} must compare the candidate with the "
                          "control: write comparison = \"release\"")
    return policy


# --------------------------------------------------------------------------- arms


def arm_column(frame: pl.DataFrame | pl.LazyFrame, control: str, candidate: str, column: str | None = None) -> str:
    """The column that tells the arms apart: ``column``, or the first of ARM_COLUMNS holding both names."""
    if control == candidate:
        raise DriftdeskError(f"control and candidate are both {control!r}: name two different versions")
    names = frame.collect_schema().names()
    options = [column] if column else [c for c in ARM_COLUMNS if c in names]
    if column and column not in names:
        raise DriftdeskError(f"no column {column!r} to tell the arms apart; the table has {names}")
    if not options:
        raise DriftdeskError(f"no column tells the arms apart: add one of {list(ARM_COLUMNS)} (or name it)")
    values = _distinct(frame, options)
    for col in options:
        have = values(col)
        if control in have and candidate in have:
            return col
    shown = "; ".join(f"{c}: {', '.join(sorted(values(c))[:8])}" for c in options)
    raise DriftdeskError(f"no column holds both the control {control!r} and the candidate {candidate!r} ({shown})")


def _distinct(frame: pl.DataFrame | pl.LazyFrame, options: Sequence[str]) -> Callable[[str], set[str]]:
    """Each option column's distinct values as text: of a DataFrame when asked, of a LazyFrame in one streaming
    pass over those columns only."""
    if isinstance(frame, pl.LazyFrame):
        found = pl.collect_all([frame.select(pl.col(c).cast(pl.String)).unique().drop_nulls() for c in options],
                               engine="streaming")
        return {c: set(f[c].to_list()) for c, f in zip(options, found)}.__getitem__
    return lambda col: set(frame[col].cast(pl.String).unique().drop_nulls().to_list())


def rollout_units(frame: pl.DataFrame, *, column: str, control: str, candidate: str) -> pl.DataFrame:
    """The rows of both arms with an ``__arm`` column, and ``clicks`` / ``conversions`` derived where missing."""
    arm = pl.col(column).cast(pl.String)
    out = frame.filter(arm.is_in([control, candidate])).with_columns(
        pl.when(arm == candidate).then(pl.lit("candidate")).otherwise(pl.lit("control")).alias("__arm"))
    extra = []
    bought = pl.col("decision").cast(pl.Float64) if "decision" in frame.columns else pl.lit(1.0)
    if "clicks" not in frame.columns and ("decision" in frame.columns or "label" in frame.columns):
        extra.append(bought.alias("clicks"))
    if "conversions" not in frame.columns and "label" in frame.columns:
        extra.append((pl.col("label").cast(pl.Float64) * bought).alias("conversions"))
    return out.with_columns(extra) if extra else out


# --------------------------------------------------------------------------- one evaluation


def _segmentations(gate: Gate, segments: Sequence[str], by: Sequence[str] | None) -> list[tuple[str, ...]]:
    if by is not None:
        return [tuple(by)]
    if gate.by is not None:
        return [gate.by]
    return [()] + [(c,) for c in segments]


def _segment_name(keys: Sequence[str], values: Sequence) -> str:
    return " ".join(f"{k}={v}" for k, v in zip(keys, values)) or "all"


def evaluate_window(units: pl.DataFrame, gate: Gate, metric: RolloutMetric, keys: tuple[str, ...], *,
                    confidence: float) -> list[dict]:
    """Every segment's comparison and verdict under one gate in one window of rows."""
    relative = gate.change == "relative"
    rows: list[dict] = []
    if metric.kind in ("ratio", "rate", "mean"):
        sums = units.group_by("__arm", *keys).agg(sum_exprs(metric))
        sums = arm_values(sums, metric)
        groups = _arm_rows(sums, keys)
        for seg, arms in groups.items():
            rows.append({"segment": _segment_name(keys, seg), **dict(zip(keys, seg)),
                         **compare_sums(metric, arms.get("control"), arms.get("candidate"), relative=relative,
                                        confidence=confidence)})
    elif metric.kind == "calibration":
        cells = calibration_cells(units.lazy(), metric, ["__arm", *keys]).collect()
        empty = cells.head(0)
        for seg, part in _partitions(cells, keys).items():
            arms = part.partition_by("__arm", as_dict=True)
            rows.append({"segment": _segment_name(keys, seg), **dict(zip(keys, seg)),
                         **compare_calibration_cells(metric, arms.get(("control",), empty), arms.get(("candidate",), empty),
                                                     relative=relative, confidence=confidence)})
    else:
        rows = _settled(_distribution_rows(units, metric, keys)(0, units.height), gate, metric, confidence)
        for row in rows:
            if DEFERRED in row:
                row.update(_draw(row.pop(DEFERRED), confidence))
        return rows
    return _with_verdicts(rows, gate, metric, confidence)


def _distribution_rows(units: pl.DataFrame, metric: RolloutMetric,
                       keys: tuple[str, ...]) -> Callable[[int, int], list[dict]]:
    """Every segment's PSI of a distribution metric in the rows ``a:b`` of ``units``, as a function of (a, b), its
    KS p-value left under ``DEFERRED`` (``_settled`` computes it where a verdict reads it). Each row's segment and
    arm are read once, here: a window of a replay is then slices of arrays."""
    values = units[metric.columns[0]].cast(pl.Float64).to_numpy()  # missing: NaN, left out as not finite
    if keys:
        frame = units.select(keys)
        distinct = frame.unique(maintain_order=True)
        found = distinct.rows()
        rank = sorted(range(len(found)), key=lambda i: tuple(str(v) for v in found[i]))
        position = np.empty(len(found), dtype=np.int64)
        position[rank] = np.arange(len(found))
        code = frame.join(distinct.with_columns(pl.Series("__segment", position)), on=list(keys), how="left",
                          nulls_equal=True, maintain_order="left")["__segment"].to_numpy()
        segments = [found[i] for i in rank]
    else:
        code, segments = np.zeros(units.height, dtype=np.int64), [()]
    group = 2 * code + (units["__arm"] == ARMS[1]).to_numpy()  # control 2s, candidate 2s + 1

    def rows_of(a: int, b: int) -> list[dict]:
        finite = np.isfinite(values[a:b])
        kept, kept_group = values[a:b][finite], group[a:b][finite]
        order = np.lexsort((kept, kept_group))  # by segment and arm, each run of values sorted
        compared = compare_distributions(metric, kept[order], np.searchsorted(kept_group[order],
                                                                              np.arange(2 * len(segments) + 1)))
        rows = []
        for s in np.unique(code[a:b]):
            seg = segments[s]
            row = {"segment": _segment_name(keys, seg), **dict(zip(keys, seg)), **compared[s]}
            statistic = row.pop("ks_statistic")
            if statistic is not None:
                row[DEFERRED] = ("ks", statistic, int(row["n_control"]), int(row["n_candidate"]))
            rows.append(row)
        return rows
    return rows_of


def _distribution_windows(arms: ArmAggregates, gate: Gate, metric: RolloutMetric, keys: tuple[str, ...],
                          windows: Sequence[Window], *, confidence: Level) -> list[Callable[[], list[dict]]]:
    """``_distribution_rows`` in every window from one reduction of the arms (``ArmAggregates.reduce("values")``):
    each arm's distinct values with their counts per interval, added over a window's intervals (or its histogram
    sketch's bins, merged), then compared by ``compare_distribution_aggregates``; the segments of a window are
    those with rows in it, in the order of their values as text, as ``_distribution_rows`` orders them."""
    edges = sorted({e for w in windows for e in (w.start, w.end)})
    at = {e: i for i, e in enumerate(edges)}
    reduced = arms.reduce("values", metric, edges, keys)
    exact = "value" in reduced.columns
    found = reduced.select(keys).rows() if keys else [()] * reduced.height
    segments = sorted(set(found), key=lambda k: tuple(str(v) for v in k))
    confidence = _level(confidence, len(segments))
    index = {seg: i for i, seg in enumerate(segments)}
    code = np.array([index[k] for k in found], dtype=np.int64)
    group = 2 * code + (reduced["__arm"] == ARMS[1]).to_numpy()
    n_parts = len(edges) - 1
    order = np.lexsort((reduced["__part"].to_numpy(), group))  # by group, then interval
    key = (group * n_parts + reduced["__part"].to_numpy())[order]
    ordered = reduced[order]
    if exact:
        values = ordered["value"].fill_null(float("nan")).to_numpy()
        counts = ordered["count"].to_numpy()

    def aggregate(a: int, b: int):
        if exact:
            v, c = values[a:b], counts[a:b]
            finite = np.isfinite(v)
            distinct, inverse = np.unique(v[finite], return_inverse=True)
            return distinct, np.bincount(inverse, weights=c[finite], minlength=distinct.size)
        part = ordered[a:b]
        return sketch.from_frame(part.select(sketch.COLUMNS), n_rows=int(part["count"].sum()), n_missing=0,
                                 n_infinite=0)

    def compare(w: int) -> list[dict]:
        lo, hi = at[windows[w].start], at[windows[w].end]
        rows = []
        for s in range(len(segments)):
            bounds = [(np.searchsorted(key, g * n_parts + lo), np.searchsorted(key, g * n_parts + hi))
                      for g in (2 * s, 2 * s + 1)]
            if all(a == b for a, b in bounds):
                continue  # no row of this segment in the window
            seg = segments[s]
            row = {"segment": _segment_name(keys, seg), **dict(zip(keys, seg)),
                   **compare_distribution_aggregates(metric, *(aggregate(a, b) for a, b in bounds))}
            statistic = row.pop("ks_statistic")
            if statistic is not None:
                row[DEFERRED] = ("ks", statistic, int(row["n_control"]), int(row["n_candidate"]))
            rows.append(row)
        return _settled(rows, gate, metric, confidence)
    return [partial(compare, w) for w in range(len(windows))]


def _partitions(frame: pl.DataFrame, keys: Sequence[str]) -> dict[tuple, pl.DataFrame]:
    if not keys:
        return {(): frame}
    return {tuple(k): part for k, part in sorted(frame.partition_by(list(keys), as_dict=True).items(),
                                                 key=lambda kv: tuple(str(v) for v in kv[0]))}


def _arm_rows(sums: pl.DataFrame, keys: Sequence[str]) -> dict[tuple, dict[str, dict]]:
    out: dict[tuple, dict[str, dict]] = {}
    for row in sums.iter_rows(named=True):
        out.setdefault(tuple(row[k] for k in keys), {})[row["__arm"]] = row
    return dict(sorted(out.items(), key=lambda kv: tuple(str(v) for v in kv[0])))


# --------------------------------------------------------------------------- the replay


@dataclass(frozen=True)
class RolloutResult:
    """A rollout's decision, the segment comparisons behind it, and the decision replayed over its timeline."""

    control: str
    candidate: str
    arm_column: str
    policy: Policy
    span: Window
    decision: str
    decided_at: dt.datetime | None
    reason: str
    segments: pl.DataFrame  # the comparisons at the decision (SEGMENT_SCHEMA plus the segment columns)
    timeline: pl.DataFrame  # ts, decision, segments, gates
    replayed: pl.DataFrame  # every comparison at every evaluation, the intervals in ``deferred`` not yet drawn
    segment_columns: tuple[str, ...]
    confidence: float
    notes: tuple[str, ...] = ()
    units: dict[str, tuple[str, str]] = field(default_factory=dict)  # gate -> units of its values and of its change
    deferred: tuple[tuple[int, tuple], ...] = ()  # (row of ``replayed``, what to draw): ECE intervals, KS p-values
    correction: str = "overlap"  # how ``confidence`` (of the whole rollout) is split across comparisons

    @cached_property
    def evaluations(self) -> pl.DataFrame:
        """Every comparison at every evaluation, each with its interval and p-value (drawn on first use where no
        verdict and not the decision needed it: the same number the replay would have drawn)."""
        return draw_deferred(self.replayed, self.deferred, confidence=self.confidence)

    def unit(self, gate: str) -> tuple[str, str]:
        """(unit of both arms' values, unit of the change and threshold) of a gate, for ``driftdesk.format``."""
        return self.units.get(gate, ("score", "score"))

    @property
    def broken_segments(self) -> list[str]:
        """The segments in breach of a rollback gate at the decision."""
        return self.segments.filter((pl.col("verdict") == "breach") & (pl.col("action") == "rollback"))[
            "segment"].unique(maintain_order=True).to_list()

    def to_frame(self) -> pl.DataFrame:
        return self.segments

    def to_dict(self) -> dict:
        seg_cols = [c for c in self.segment_columns if c in self.segments.columns]
        return jsonable({
            "decision": self.decision, "decided_at": self.decided_at, "reason": self.reason,
            "control": self.control, "candidate": self.candidate, "arm_column": self.arm_column,
            "policy": self.policy.name, "confidence": self.confidence, "correction": self.correction,
            "span": self.span.to_dict(),
            "segments": self.segments.select(*seg_cols, *[c for c in SEGMENT_SCHEMA if c != "ts"]),
            "timeline": self.timeline, "notes": list(self.notes),
        })

    def to_figure(self):
        from driftdesk.viz.rollout import rollout_figure

        return rollout_figure(self)

    def _repr_html_(self) -> str:
        return (f"<h4>{html.escape(self.candidate)} vs {html.escape(self.control)}: {html.escape(self.decision)}</h4>"
                f"<p>{html.escape(self.reason)}</p>" + self.segments.drop("ts")._repr_html_())


def _evaluation_times(span: Window, every_hours: int) -> list[dt.datetime]:
    times, t = [], span.start + dt.timedelta(hours=every_hours)
    while t < span.end:
        times.append(t)
        t += dt.timedelta(hours=every_hours)
    return [*times, span.end]


def rollout_span(first_row: dt.datetime | None, last_row: dt.datetime | None, start: dt.datetime | None = None,
                 end: dt.datetime | None = None) -> Window:
    """The span of rows a rollout compares, from the times of the candidate's first and last rows: ``start``, else
    the hour of its first row, to ``end``, else the end of the hour of its last row (what every engine selects)."""
    if (start is None and first_row is None) or (end is None and last_row is None):
        raise DriftdeskError("the candidate has no rows: name the rollout's span (start and end)")
    first = start or first_row.replace(minute=0, second=0, microsecond=0)
    last = end or (last_row.replace(minute=0, second=0, microsecond=0) + HOUR)
    if last <= first:
        raise DriftdeskError(f"the rollout span {first.isoformat()} to {last.isoformat()} is empty")
    return Window(first, last, "rollout")


def _runs(evals: pl.DataFrame) -> pl.DataFrame:
    """Per gate and segment, how many evaluations in a row (up to each one) were in breach."""
    return evals.sort("gate", "segment", "ts").with_columns(
        (pl.col("verdict") == "breach").cast(pl.Int32).alias("__b")).with_columns(
        pl.col("__b").cum_sum().over("gate", "segment").alias("__c")).with_columns(
        (pl.col("__c") - pl.when(pl.col("__b") == 0).then(pl.col("__c")).otherwise(None)
         .forward_fill().over("gate", "segment").fill_null(0)).alias("run")).drop("__b", "__c")


def _decide(evals: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The decision at each evaluation time, with the segments and gates that made it: a rollback where a rollback
    gate has fired (been in breach ``consecutive`` evaluations in a row), else a pause where a pause gate has, else
    continue where anything was judged, else not_enough_data. The segments are those of the gates that acted (for
    continue, of any gate that fired), in gate then segment order; the gates are sorted by name."""
    need = {g.name: g.consecutive for g in policy.gates}
    fired = _runs(evals).with_columns(
        (pl.col("run") >= pl.col("gate").replace_strict(need, return_dtype=pl.Int64)).alias("fired"))

    def named(column: str, where: pl.Expr, *, sort: bool) -> pl.Expr:
        values = pl.col(column).filter(where)
        return (values.unique().sort() if sort else values.unique(maintain_order=True)).str.join(", ")

    acted = {a: pl.col("fired") & (pl.col("action") == a) for a in ("rollback", "pause_for_review")}
    per_time = fired.group_by("ts").agg(
        *(pl.col("fired").filter(acted[a]).any().alias(f"__{a}") for a in acted),
        (pl.col("verdict") != "not_enough_data").any().alias("__judged"),
        *(named("segment", acted[a], sort=False).alias(f"__segments_{a}") for a in acted),
        named("segment", pl.col("fired"), sort=False).alias("__segments"),
        *(named("gate", acted[a], sort=True).alias(f"__gates_{a}") for a in acted),
        named("gate", pl.col("fired"), sort=True).alias("__gates"))
    decision = (pl.when(pl.col("__rollback")).then(pl.lit("rollback"))
                .when(pl.col("__pause_for_review")).then(pl.lit("pause_for_review"))
                .when(pl.col("__judged")).then(pl.lit("continue")).otherwise(pl.lit("not_enough_data")))
    return per_time.sort("ts").select(
        pl.col("ts").cast(pl.Datetime("us")), decision.alias("decision"),
        pl.when(pl.col("__rollback")).then(pl.col("__segments_rollback"))
        .when(pl.col("__pause_for_review")).then(pl.col("__segments_pause_for_review"))
        .otherwise(pl.col("__segments")).alias("segments"),
        pl.when(pl.col("__rollback")).then(pl.col("__gates_rollback"))
        .when(pl.col("__pause_for_review")).then(pl.col("__gates_pause_for_review"))
        .when(pl.col("__judged")).then(pl.col("__gates")).otherwise(pl.lit("")).alias("gates"))


def judge_rollout(frame: pl.DataFrame | pl.LazyFrame, *, control: str, candidate: str, policy: Policy | None = None,
                  by: str | Sequence[str] | None = None, arm: str | None = None, segments: Sequence[str] = (),
                  start: dt.datetime | None = None, end: dt.datetime | None = None, confidence: float = 0.95,
                  ts: str = "ts", source: str = "decisions", memo: Memo | None = None,
                  interval_of: IntervalOf | None = None, decision_only: bool = False,
                  correction: str = "overlap") -> RolloutResult:
    """Judge ``candidate`` against ``control`` under ``policy`` (default: ``default_rollout_policy()``) and replay
    the decision over the rollout, from the candidate's first row to its last (or ``start`` / ``end``).

    ``by`` overrides every gate's segment columns; ``segments`` are the table's segment columns, judged one at a
    time for a gate without ``by`` (default: the string columns that are not the arm column). ``memo(gate, keys,
    span, every, level, compute)``: a caller's cache of one gate's evaluations in one segmentation (``keys``) over
    the rollout's ``span`` at an evaluation step of ``every`` hours, its comparisons at ``level`` (a tuple that
    tells what their confidence depends on), returning ``compute()`` or what it returned before for the same
    table, arms and arguments.
    ``confidence``: the chance that a rollout with no real change is not rolled back (nor paused) by chance.
    ``correction``: how it is kept over the rollout's many comparisons: ``"bonferroni"`` splits the error rate
    ``1 - confidence`` across the gates of an action, their segments and their evaluations over the span
    (``comparison_level``; each row's ``level``), so the longer the span the wider each interval (its looks are
    counted over ``PLANNED_HOURS`` at least, so a live rollout keeps its levels through its first week);
    ``"overlap"`` (default) splits it across gates and segments alike, and gives each share to all of a gate's
    looks at once, their statistics correlated by the hours their windows share (``overlap_level``; for ratios,
    rates and means; ECE and PSI gates keep Bonferroni's split of their looks); ``"none"`` judges every comparison
    at ``confidence`` (the false rollback rate then grows with looks, segments and gates).
    ``interval_of(control, candidate, relative, confidence)``: a caller's cache of the ECE intervals drawn for the
    decision's segments, ``ece_change_interval`` of the same cells or what it returned before for them.
    ``decision_only``: for a caller that reads the decision, its time, reason and verdicts only: the replay ends at
    the first rollback (a rollback ends a rollout, so they are those of the whole replay; the timeline and the
    evaluations end there) and the decision's intervals and p-values that no verdict read are left to
    ``evaluations``.
    """
    policy = rollout_policy(policy) if policy is not None else default_rollout_policy()
    df = _narrowed(frame, control=control, candidate=candidate, policy=policy, by=by, arm=arm, segments=segments,
                   start=start, end=end, ts=ts) if isinstance(frame, pl.LazyFrame) else as_lazy(frame).collect()
    require_time(df.columns, ts, source)
    column = arm_column(df, control, candidate, arm)
    arms = FrameArms(rollout_units(df, column=column, control=control, candidate=candidate), column, ts=ts)

    def in_span(span: Window) -> tuple[FrameArms, int]:
        rows = arms.within(span)
        return rows, rows.control_rows(span)
    return _judged(arms, in_span, control=control, candidate=candidate, policy=policy, by=by, segments=segments,
                   start=start, end=end, confidence=confidence, ts=ts, source=source, memo=memo,
                   interval_of=interval_of, decision_only=decision_only, correction=correction)


class ArmAggregates(Protocol):
    """The two arms' rows where they are stored (a Spark table), read only through reductions: what
    ``judge_aggregates`` asks of them instead of rows (and ``judge_rollout`` of rows in memory, ``FrameArms``).

    ``column`` is the arm column (chosen by ``arm_column``'s rule), ``schema`` the columns of ``rollout_units``
    of the rows (``__arm`` and the derived ``clicks`` / ``conversions`` included) with their polars types.
    ``candidate_times()``: the candidate's first and last time; ``control_rows(span)``: the control's rows in it.
    ``prepare(requests)`` is told every ``(kind, metric, edges, keys)`` the replay will ``reduce`` before it asks
    (an engine may compute them in fewer passes over the rows; ``requests`` is an iterator, read during the call
    if at all).
    ``reduce(kind, metric, edges, keys)`` reduces the rows from the first edge to the last per interval between
    consecutive edges (``__part``, 0 for the first), ``__arm`` and ``keys``, returning what ``_part_sums`` returns
    for ``"sums"`` and ``"cells"``; for ``"values"`` (a distribution metric) the key ``value`` (the metric's column
    as float64, null where not finite) and a ``count`` column (exact), or ``sketch.COLUMNS`` with ``bin`` null
    where not finite (the histogram sketch, when the distinct values would not fit in memory; ``notes`` then says
    so)."""

    column: str
    schema: Mapping[str, pl.DataType]
    notes: list[str]

    def candidate_times(self) -> tuple[dt.datetime | None, dt.datetime | None]: ...

    def control_rows(self, span: Window) -> int: ...

    def prepare(self, requests: Iterable[tuple[str, RolloutMetric, Sequence[dt.datetime], tuple[str, ...]]]) -> None:
        ...

    def reduce(self, kind: Literal["sums", "cells", "values"], metric: RolloutMetric,
               edges: Sequence[dt.datetime], keys: tuple[str, ...]) -> pl.DataFrame: ...


class FrameArms:
    """The arms' rows in memory (``rollout_units``, ``rows``) as ``ArmAggregates``: ``reduce`` groups them in
    polars (``_part_sums``), the rows with their interval between window edges computed once and shared by every
    reduction with the same edges (a replay's gates and segmentations mostly have the same). A distribution metric
    is compared from the values themselves (``rows``), so it is not asked for ``"values"``."""

    def __init__(self, rows: pl.DataFrame, column: str, *, ts: str) -> None:
        self.rows, self.column, self.ts = rows, column, ts
        self.schema = rows.schema
        self.notes: list[str] = []
        self._parts: Parts = {}

    def candidate_times(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        times = self.rows.filter(pl.col("__arm") == "candidate")[self.ts]
        return times.min(), times.max()

    def control_rows(self, span: Window) -> int:
        return self.rows.filter(span.contains(self.ts) & (pl.col("__arm") == "control")).height

    def within(self, span: Window) -> FrameArms:
        """The arms' rows in ``span``."""
        return FrameArms(self.rows.filter(span.contains(self.ts)), self.column, ts=self.ts)

    def prepare(self, requests) -> None:
        """Nothing ahead (``requests`` is not read): each reduction is a grouped polars query when asked, over the
        shared rows."""

    def reduce(self, kind: Literal["sums", "cells"], metric: RolloutMetric, edges: Sequence[dt.datetime],
               keys: tuple[str, ...]) -> pl.DataFrame:
        return _part_sums(self.rows, edges, ["__arm", *keys], kind, metric, ts=self.ts, parts=self._parts)


def judge_aggregates(arms: ArmAggregates, *, control: str, candidate: str, policy: Policy | None = None,
                     by: str | Sequence[str] | None = None, segments: Sequence[str] = (),
                     start: dt.datetime | None = None, end: dt.datetime | None = None, confidence: float = 0.95,
                     ts: str = "ts", source: str = "decisions", memo: Memo | None = None,
                     interval_of: IntervalOf | None = None, decision_only: bool = False,
                  correction: str = "overlap") -> RolloutResult:
    """``judge_rollout`` from the arms' aggregates instead of their rows (``ArmAggregates``: an engine that keeps
    the rows, such as Spark, reduces them per interval, arm, segment, cell or value): the same replay, comparisons
    and decision from the same sums (to the last bits an order of additions can change), and the same PSI and KS
    from the distinct values with their counts (or within the sketch's stated bounds, said in the notes)."""
    policy = rollout_policy(policy) if policy is not None else default_rollout_policy()

    def in_span(span: Window) -> tuple[ArmAggregates, int]:
        return arms, arms.control_rows(span)
    result = _judged(arms, in_span, control=control, candidate=candidate, policy=policy, by=by, segments=segments,
                     start=start, end=end, confidence=confidence, ts=ts, source=source, memo=memo,
                     interval_of=interval_of, decision_only=decision_only, correction=correction)
    return replace(result, notes=(*result.notes, *dict.fromkeys(arms.notes))) if arms.notes else result


def require_time(columns: Sequence[str], ts: str, source: str) -> None:
    """A rollout is judged over time: the table needs its time column."""
    if ts not in columns:
        raise DriftdeskError(f"{source}: no {ts!r} column; a rollout is judged over time")


def _judged(units: ArmAggregates, in_span: Callable[[Window], tuple[ArmAggregates, int]], *, control: str,
            candidate: str, policy: Policy, by, segments, start: dt.datetime | None, end: dt.datetime | None,
            confidence: float, ts: str, source: str, memo: Memo | None, interval_of: IntervalOf | None,
            decision_only: bool, correction: str = "overlap") -> RolloutResult:
    """The judgement of ``judge_rollout`` and ``judge_aggregates`` once the arms are known: the rollout's span
    (``rollout_span`` of the candidate's times, ``start`` and ``end``), ``in_span(span)`` the units in it and the
    control's rows there."""
    column = units.column
    names = list(units.schema)
    by_cols = by_columns(by, names) if by is not None else None
    seg_cols = tuple(segments) or tuple(c for c, t in units.schema.items()
                                        if t == pl.String and c not in (*ARM_COLUMNS, column, "__arm"))
    visible = [n for n in names if n != "__arm"]  # the arm label is internal: never offered as a column
    for c in [*(by_cols or ()), *(c for g in policy.gates for c in (g.by or ()))]:
        if c not in names:
            raise DriftdeskError(f"{source}: no segment column {c!r}; the table has {visible}")
    metrics = {g.name: rollout_metric(g.metric, visible, context=f"rollout gate {g.name!r}")
               for g in policy.gates}
    value_units = {g.name: (metrics[g.name].unit, change_unit(metrics[g.name], relative=g.change == "relative"))
                   for g in policy.gates}
    span = rollout_span(*units.candidate_times(), start, end)
    units, n_control = in_span(span)
    notes: list[str] = []
    if n_control == 0:
        notes.append(f"no control traffic ({column} = {control}) between {span.start.isoformat()} and "
                     f"{span.end.isoformat()}: nothing can be judged")
    evals, deferred = _replay(units, policy, metrics, span, seg_cols, by_cols, ts=ts, confidence=confidence,
                              memo=memo, stop_at_rollback=decision_only, correction=correction)
    timeline = _decide(evals, policy)
    decision, decided_at, reason = _final(timeline, evals, policy)
    if decision_only and decision == "rollback":  # rows are in time order: those up to the decision lead
        kept = evals.filter(pl.col("ts") <= decided_at).height
        evals, timeline = evals.head(kept), timeline.filter(pl.col("ts") <= decided_at)
        deferred = tuple(d for d in deferred if d[0] < kept)
    shown = ({i for i, t in enumerate(evals["ts"].to_list()) if t == decided_at}
             if decided_at is not None and not decision_only else set())
    evals = draw_deferred(evals, [d for d in deferred if d[0] in shown], confidence=confidence,
                          interval_of=interval_of)
    at = evals.filter(pl.col("ts") == decided_at) if decided_at is not None else evals.head(0)
    cols = [c for c in dict.fromkeys([*(by_cols or ()), *seg_cols]) if c in evals.columns]
    return RolloutResult(control, candidate, column, policy, span, decision, decided_at, reason,
                         at.select(*SEGMENT_SCHEMA, *cols), timeline, evals, tuple(cols), confidence, tuple(notes),
                         value_units, tuple(d for d in deferred if d[0] not in shown), correction)


def _narrowed(frame: pl.LazyFrame, *, control: str, candidate: str, policy: Policy, by, arm: str | None,
              segments: Sequence[str], start: dt.datetime | None, end: dt.datetime | None, ts: str) -> pl.DataFrame:
    """A lazy table (a decision log larger than memory) reduced to what the replay reads before anything is
    collected: the columns of the time, the arms, the segments and the gates' metrics, the rows of the two arms in
    the rollout's span (found by a lazy min / max over the candidate's rows), collected by the streaming engine.
    Where a named column or metric cannot be resolved, one row of each arm with every column is returned, so
    ``judge_rollout``'s checks name what is missing as they do on the table read whole."""
    schema = frame.collect_schema()
    if ts not in schema:
        return pl.DataFrame(schema=schema)
    column = arm_column(frame, control, candidate, arm)
    arm_rows = pl.col(column).cast(pl.String).is_in([control, candidate])
    columns = rollout_units(pl.DataFrame(schema=schema), column=column, control=control, candidate=candidate).schema
    seg_cols = tuple(segments) or tuple(c for c, t in columns.items()
                                        if t == pl.String and c not in (*ARM_COLUMNS, column, "__arm"))
    named = [ts, column, *seg_cols, *by_columns(by, columns), *(c for g in policy.gates for c in (g.by or ()))]
    try:
        named += [c for g in policy.gates for c in rollout_metric(g.metric, columns, context="").columns]
    except PolicyError:
        named.append("")  # judge_rollout names the metric that cannot be read
    if not set(named) <= set(columns):
        each = [frame.filter(pl.col(column).cast(pl.String) == v).head(1) for v in (control, candidate)]
        return collect(pl.concat(each))
    if {"clicks", "conversions"} & set(named) - set(schema):  # derived by rollout_units from these
        named += [c for c in ("decision", "label") if c in schema]
    rows = frame.filter(arm_rows).select(c for c in schema if c in set(named))
    cand = rows.filter(pl.col(column).cast(pl.String) == candidate)
    first, last = collect(cand.select(pl.col(ts).min().alias("first"), pl.col(ts).max().alias("last"))).row(0)
    return collect(rows.filter(rollout_span(first, last, start, end).contains(ts)))


Memo = Callable[[Gate, tuple[str, ...], Window, int, tuple, Callable[[], list[dict]]], list[dict]]
Cells = tuple[np.ndarray, np.ndarray, np.ndarray]
IntervalOf = Callable[[Cells, Cells, bool, float], tuple[float | None, float | None]]
Parts = dict[tuple[dt.datetime, ...], pl.DataFrame]  # a replay's rows with their interval, by window edges


def _replay(units: ArmAggregates, policy: Policy, metrics: dict[str, RolloutMetric], span: Window,
            seg_cols: Sequence[str], by_cols: Sequence[str] | None, *, ts: str, confidence: float,
            memo: Memo | None = None, stop_at_rollback: bool = False,
            correction: str = "overlap") -> tuple[pl.DataFrame, tuple[tuple[int, tuple], ...]]:
    """Every evaluation of every gate in every segmentation over the rollout, in time order (then gate, then
    segmentation), and what is left to draw ((row, deferred) pairs, ``_settled``). One gate's evaluations in one
    segmentation depend on nothing else, so ``memo`` may keep them. ``stop_at_rollback`` (without ``memo``)
    evaluates time by time and stops at the first rollback."""
    every = min(g.every_hours for g in policy.gates)
    times = _evaluation_times(span, every)
    plan = [(index, gate, keys) for index, gate in enumerate(policy.gates)
            for keys in _segmentations(gate, seg_cols, by_cols)]
    by_time: dict[tuple, dict[dt.datetime, list[dict]]] = {(index, keys): {} for index, _, keys in plan}
    units.prepare((REDUCTIONS[metrics[gate.name].kind], metrics[gate.name],  # every reduction to come, lazily
                   sorted({e for w in windows for e in (w.start, w.end)}), keys)
                  for _, gate, keys in plan if (windows := _gate_window_list(gate, span, times)))
    levels = _levels(plan, {name: m.kind for name, m in metrics.items()}, span, times, confidence, correction)
    if stop_at_rollback and memo is None:
        times = _replay_until_rollback(units, plan, by_time, metrics, span, times, ts=ts, levels=levels)
    else:
        for index, gate, keys in plan:
            def compute(gate=gate, keys=keys, level=levels[(index, keys)][0]) -> list[dict]:
                return _gate_evaluations(units, gate, metrics[gate.name], keys, span, times, ts=ts,
                                         confidence=level)
            rows = (memo(gate, keys, span, every, levels[(index, keys)][1], compute) if memo is not None
                    else compute())
            at = by_time[(index, keys)]
            for row in rows:
                at.setdefault(row["ts"], []).append(row)
    rows = [row for t in times for at in by_time.values() for row in at.get(t, [])]
    schema = {**SEGMENT_SCHEMA, **{c: units.schema[c] for c in seg_cols if c in units.schema},
              **{c: units.schema[c] for c in (by_cols or ()) if c in units.schema}}
    deferred = tuple((i, row[DEFERRED]) for i, row in enumerate(rows) if DEFERRED in row)
    if not rows:
        return pl.DataFrame(schema=schema), deferred
    return pl.DataFrame({k: [r.get(k) for r in rows] for k in schema}, schema=schema), deferred


def _replay_until_rollback(units: ArmAggregates, plan: Sequence[tuple[int, Gate, tuple[str, ...]]],
                           by_time: dict[tuple, dict[dt.datetime, list[dict]]], metrics: dict[str, RolloutMetric],
                           span: Window, times: Sequence[dt.datetime], *, ts: str,
                           levels: dict[tuple[int, tuple[str, ...]], tuple[Level, tuple]]) -> list[dt.datetime]:
    """Fill ``by_time`` time by time (each gate's sums reduced once, its windows compared when reached) until a
    rollback gate has been in breach in a segment ``consecutive`` evaluations in a row, as ``_decide`` counts them;
    the times evaluated. What comes after a rollback cannot change the rollout's decision."""
    windows = {(index, keys): dict(_gate_windows(units, gate, metrics[gate.name], keys, span, times, ts=ts,
                                                 confidence=levels[(index, keys)][0])) for index, gate, keys in plan}
    runs: dict[tuple[str, str], int] = {}
    for n, t in enumerate(times):
        rollback = False
        for index, gate, keys in plan:
            evaluate = windows[(index, keys)].get(t)
            if evaluate is None:
                continue
            rows = by_time[(index, keys)][t] = evaluate()
            for row in rows:
                run = runs[(gate.name, row["segment"])] = (runs.get((gate.name, row["segment"]), 0) + 1
                                                           if row["verdict"] == "breach" else 0)
                rollback |= gate.action == "rollback" and run >= gate.consecutive
        if rollback:
            return list(times[:n + 1])
    return list(times)


def _gate_window_list(gate: Gate, span: Window, times: Sequence[dt.datetime]) -> list[Window]:
    """A gate's windows: its last ``window`` hours (from the span's start at most) at each of its times."""
    return [Window(max(span.start, t - dt.timedelta(hours=gate.window_hours)), t) for t in times
            if t == span.end or not (t - span.start) % dt.timedelta(hours=gate.every_hours)]


def _gate_windows(units: ArmAggregates, gate: Gate, metric: RolloutMetric, keys: tuple[str, ...],
                  span: Window, times: Sequence[dt.datetime], *, ts: str,
                  confidence: Level) -> list[tuple[dt.datetime, Callable[[], list[dict]]]]:
    """One gate's windows in one segmentation at its own times (every ``gate.every_hours``, and the end), each as
    (its end, a function that compares the arms in it): the sums are reduced here, once, and each window's
    comparisons made when asked for."""
    windows = _gate_window_list(gate, span, times)
    if not windows:
        return []
    if metric.kind == "distribution" and not isinstance(units, FrameArms):
        per_window = _distribution_windows(units, gate, metric, keys, windows, confidence=confidence)
    elif metric.kind == "distribution":  # PSI and KS read every value: no sums to reuse, each window is a slice
        ordered = units.rows.sort(ts)
        starts = ordered[ts].search_sorted(pl.Series([w.start for w in windows], dtype=units.schema[ts]), "left")
        ends = ordered[ts].search_sorted(pl.Series([w.end for w in windows], dtype=units.schema[ts]), "left")
        rows_of = _distribution_rows(ordered, metric, keys)
        confidence = _level(confidence, ordered.select(keys).n_unique() if keys else 1)

        def compare(a: int, b: int) -> list[dict]:
            return _settled(rows_of(a, b), gate, metric, confidence)
        per_window = [partial(compare, a, b) for a, b in zip(starts.to_list(), ends.to_list())]
    else:
        per_window = _evaluate_windows(units, gate, metric, keys, windows, confidence=confidence)

    def evaluate(w: int) -> list[dict]:
        return [{**row, "ts": windows[w].end, "gate": gate.name, "action": gate.action, "threshold": gate.threshold}
                for row in per_window[w]()]
    return [(window.end, partial(evaluate, w)) for w, window in enumerate(windows)]


def _gate_evaluations(units: ArmAggregates, gate: Gate, metric: RolloutMetric,
                      keys: tuple[str, ...], span: Window, times: Sequence[dt.datetime], *, ts: str,
                      confidence: Level) -> list[dict]:
    """One gate's evaluations in one segmentation at its own times (every ``gate.every_hours``, and the end)."""
    return [row for _, evaluate in _gate_windows(units, gate, metric, keys, span, times, ts=ts, confidence=confidence)
            for row in evaluate()]


def _window_sums(units: ArmAggregates, windows: Sequence[Window], keys: Sequence[str],
                 kind: Literal["sums", "cells"], metric: RolloutMetric,
                 sums: Sequence[str]) -> tuple[pl.DataFrame, np.ndarray]:
    """Each group's sums in each window, from one reduction: the rows summed once per key and per interval between
    consecutive window edges (the key ``__part``: ``ArmAggregates.reduce``), and a window's sums add its intervals'
    (a handful of numbers, not a pass over rows; added rather than differenced from cumulative sums, so a huge value
    in one hour leaves the precision of the others intact).

    Returns the groups (every column of the reduction but ``__part`` and the ``sums``, in first-seen order)
    and an array (window, group, sum) of the ``sums`` columns."""
    edges = sorted({e for w in windows for e in (w.start, w.end)})
    reduced = units.reduce(kind, metric, edges, tuple(keys))
    groups = [c for c in reduced.columns if c not in sums and c != "__part"]
    ids = reduced.select(groups).unique(maintain_order=True).with_row_index("__group")
    reduced = reduced.join(ids, on=groups, how="left", nulls_equal=True)
    dense = np.zeros((len(edges) - 1, ids.height, len(sums)))
    dense[reduced["__part"].to_numpy(), reduced["__group"].to_numpy()] = reduced.select(sums).to_numpy()
    at = {e: i for i, e in enumerate(edges)}
    return ids.drop("__group"), np.stack([dense[at[w.start]:at[w.end]].sum(axis=0) for w in windows])


def part_sums_exprs(metric: RolloutMetric) -> list[pl.Expr]:
    """What a replay sums per arm, segment and interval of a ratio, rate or mean metric: the rows, and
    ``sum_exprs``."""
    return [pl.len().cast(pl.Float64).alias("__rows"), *sum_exprs(metric)]


def _part_sums(units: pl.DataFrame, edges: Sequence[dt.datetime], keys: list[str], kind: Literal["sums", "cells"],
               metric: RolloutMetric, *, ts: str, parts: Parts | None = None) -> pl.DataFrame:
    """The rows from the first edge to the last reduced per key and per interval between consecutive edges
    (``__part``, 0 for the first): ``part_sums_exprs`` (plain grouped sums), or the ``calibration_cells``.
    ``parts``: the rows with their interval, kept by their edges for the other reductions of the same ``units``
    with the same edges (a replay's gates and segmentations mostly share them)."""
    bounds = tuple(edges)
    rows = parts.get(bounds) if parts is not None else None
    if rows is None:
        edges = pl.Series(bounds, dtype=units.schema[ts])
        rows = (units.lazy().filter((pl.col(ts) >= edges[0]) & (pl.col(ts) < edges[-1]))
                .with_columns((pl.lit(edges).search_sorted(pl.col(ts), side="right").cast(pl.Int64) - 1)
                              .alias("__part"))).collect()
        if parts is not None:
            parts[bounds] = rows
    by = ["__part", *keys]
    if kind == "cells":
        return calibration_cells(rows.lazy(), metric, by).collect()
    return rows.lazy().group_by(by).agg(part_sums_exprs(metric)).collect()


def _evaluate_windows(units: ArmAggregates, gate: Gate, metric: RolloutMetric, keys: tuple[str, ...],
                      windows: Sequence[Window], *, confidence: Level) -> list[Callable[[], list[dict]]]:
    """``evaluate_window`` in every window of a ratio, rate, mean or calibration metric, from one reduction: a
    function per window that compares the arms in it."""
    relative = gate.change == "relative"
    if metric.kind == "calibration":
        ids, sums = _window_sums(units, windows, keys, "cells", metric, ["count", "score_sum", "score_sq"])
        cells_in = _cell_arrays(ids, keys)
        confidence = _level(confidence, ids.select(keys).n_unique() if keys else 1)

        def calibrate(w: int) -> list[dict]:
            return _calibration_rows(cells_in(sums[w]), gate, metric, keys, confidence=confidence)
        return [partial(calibrate, w) for w in range(len(windows))]
    names = [e.meta.output_name() for e in part_sums_exprs(metric)]
    ids, sums = _window_sums(units, windows, keys, "sums", metric, names)
    confidence = _level(confidence, ids.select(keys).n_unique() if keys else 1)
    groups = ids.height  # every window's groups one after the other, as one frame
    frame = ids.select(pl.all().gather(np.tile(np.arange(groups), len(windows)))).with_columns(
        pl.Series("__window", np.repeat(np.arange(len(windows), dtype=np.int64), groups)),
        *(pl.Series(n, sums[:, :, i].reshape(-1)) for i, n in enumerate(names))).filter(pl.col("__rows") > 0)
    valued = arm_values(frame.drop("__rows"), metric)
    by_window = valued.partition_by("__window", as_dict=True, include_key=False)

    def compare(w: int) -> list[dict]:
        rows = []
        part = by_window.get((w,))
        for seg, arms in (_arm_rows(part, keys) if part is not None else {}).items():
            rows.append({"segment": _segment_name(keys, seg), **dict(zip(keys, seg)),
                         **compare_sums(metric, arms.get("control"), arms.get("candidate"), relative=relative,
                                        confidence=confidence)})
        return _with_verdicts(rows, gate, metric, confidence)
    return [partial(compare, w) for w in range(len(windows))]


def _calibration_rows(cells: dict[tuple, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]], gate: Gate,
                      metric: RolloutMetric, keys: Sequence[str], *, confidence: float) -> list[dict]:
    """Every segment's ECE comparison and verdict in one window. The bootstrap interval (the costly part: thousands
    of resamples) is drawn where the verdict reads it, a change beyond the threshold in a segment with enough data;
    elsewhere the row keeps its cells under ``DEFERRED`` and ``draw_deferred`` draws the same interval when it is
    shown."""
    if not cells:
        return []
    relative = gate.change == "relative"
    arms = {a: tuple(np.stack([c[a][i] for c in cells.values()]) for i in range(3)) for a in ARMS}
    rows = []
    for (seg, cell), compared in zip(cells.items(), compare_calibration_segments(
            metric, arms["control"], arms["candidate"], relative=relative)):
        row = {"segment": _segment_name(keys, seg), **dict(zip(keys, seg)), **compared}
        if row["change"] is not None:
            row[DEFERRED] = ("ece", cell["control"], cell["candidate"], relative, confidence)
        rows.append(row)
    return _settled(rows, gate, metric, confidence)


def _settled(rows: list[dict], gate: Gate, metric: RolloutMetric, confidence: float) -> list[dict]:
    """Each row's verdict, drawing what it left under ``DEFERRED`` (an ECE interval, a KS p-value) only where the
    verdict reads it: a change beyond the threshold in a segment with enough data (is it beyond the noise?)."""
    unsettled = [row for row in _with_verdicts(rows, gate, metric, confidence)
                 if row["verdict"] == "inconclusive" and DEFERRED in row]
    for row, drawn in zip(unsettled, _draws([row.pop(DEFERRED) for row in unsettled], confidence)):
        row.update(drawn)
        row["verdict"], row["note"] = verdict(row, gate, confidence=confidence)
    return rows


def _draw(deferred: tuple, confidence: float, interval_of: IntervalOf | None = None) -> dict[str, float | None]:
    """The columns a row left under ``DEFERRED``: an ECE change's interval (``interval_of``: a caller's cache of
    them) or a KS p-value."""
    return _draws([deferred], confidence, interval_of)[0]


def _draws(deferred: Sequence[tuple], confidence: float,
           interval_of: IntervalOf | None = None) -> list[dict[str, float | None]]:
    """``_draw`` of many rows: the ECE intervals of a kind (relative or not) drawn in one call of
    ``ece_change_intervals`` (each the interval it has alone), unless ``interval_of`` draws them one by one."""
    out: list[dict[str, float | None]] = [{} for _ in deferred]
    ece: dict[bool, list[int]] = {}
    for i, what in enumerate(deferred):
        if what[0] == "ks":
            _, statistic, n, m = what
            out[i] = {"p_value": ks_pvalue(statistic, n, m)}
        elif interval_of is not None:
            control, candidate, relative = what[1:4]
            low, high = interval_of(control, candidate, relative, what[4] if len(what) > 4 else confidence)
            out[i] = {"ci_low": low, "ci_high": high}
        else:  # the level the comparison was judged at (a row of a replay carries it)
            ece.setdefault((what[3], what[4] if len(what) > 4 else confidence), []).append(i)
    for (relative, level), rows in ece.items():
        arms = [tuple(np.stack([deferred[i][side][part] for i in rows]) for part in range(3)) for side in (1, 2)]
        for i, (low, high) in zip(rows, ece_change_intervals(*arms, relative=relative, confidence=level)):
            out[i] = {"ci_low": low, "ci_high": high}
    return out


def draw_deferred(evals: pl.DataFrame, deferred: Sequence[tuple[int, tuple]], *, confidence: float,
                  interval_of: IntervalOf | None = None) -> pl.DataFrame:
    """``evals`` with the intervals and p-values of ``deferred`` ((row, deferred) pairs of ``_settled``) drawn in."""
    if not deferred:
        return evals
    drawn: dict[str, tuple[list[int], list[float | None]]] = {}
    for (i, _), columns in zip(deferred, _draws([what for _, what in deferred], confidence, interval_of)):
        for column, value in columns.items():
            at, values = drawn.setdefault(column, ([], []))
            at.append(i)
            values.append(value)
    return evals.with_columns(evals[column].scatter(pl.Series(at, dtype=pl.UInt32), pl.Series(values, dtype=pl.Float64))
                              for column, (at, values) in drawn.items())


def _cell_arrays(ids: pl.DataFrame, keys: Sequence[str]
                 ) -> Callable[[np.ndarray], dict[tuple, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]]:
    """Where each group of a calibration reduction goes (its segment, arm and cell in ``calibration_layout``
    order), as a function of one window's sums (group, (count, score sum, score sum of squares)) that returns, per
    segment with rows in the window, each arm's three arrays; segments in the order of their values as text."""
    segments = ids.select(keys).rows() if keys else [()] * ids.height
    order = sorted(set(segments), key=lambda k: tuple(str(v) for v in k))
    index = {seg: i for i, seg in enumerate(order)}
    seg = np.array([index[s] for s in segments], dtype=np.int64)
    arm = (ids["__arm"] == ARMS[1]).to_numpy().astype(np.int64)
    label = ids["__label"].cast(pl.Int64).fill_null(-1).to_numpy()
    cell = 2 * ids["__bin"].cast(pl.Int64).to_numpy() + label
    labelled = (label == 0) | (label == 1)

    def cells_in(sums: np.ndarray) -> dict[tuple, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
        rows = sums[:, 0] > 0
        present = np.zeros(len(order), dtype=bool)
        present[seg[rows]] = True
        dense = np.zeros((len(order), len(ARMS), 3, 2 * ECE_BINS))
        fill = rows & labelled
        dense[seg[fill], arm[fill], :, cell[fill]] = sums[fill]
        return {order[i]: {a: tuple(dense[i, j]) for j, a in enumerate(ARMS)} for i in np.flatnonzero(present)}
    return cells_in


def _with_verdicts(rows: list[dict], gate: Gate, metric: RolloutMetric, confidence: float) -> list[dict]:
    """Each segment's comparison with its sample's name, verdict and note."""
    for row in rows:
        row["sample"] = metric.sample
        row["level"] = confidence
        row["verdict"], row["note"] = verdict(row, gate, confidence=confidence)
    return rows


def _final(timeline: pl.DataFrame, evals: pl.DataFrame, policy: Policy) -> tuple[str, dt.datetime | None, str]:
    for word in ("rollback", "pause_for_review"):
        hit = timeline.filter(pl.col("decision") == word)
        if hit.height:
            row = hit.row(0, named=True)
            return word, row["ts"], (f"{row['gates']} in breach in {row['segments']} (beyond the threshold and the "
                                     "noise, enough evaluations in a row)")  # its time is decided_at, shown beside it
    judged = timeline.filter(pl.col("decision") != "not_enough_data")
    if judged.height:
        row = judged.row(judged.height - 1, named=True)
        return "continue", row["ts"], "no gate in breach in any segment with enough data"
    last = timeline.row(timeline.height - 1, named=True) if timeline.height else None
    reasons = evals["note"].drop_nulls().unique().to_list()[:3] if evals.height else ["no rows in the rollout span"]
    return "not_enough_data", (last["ts"] if last else None), "nothing could be judged: " + "; ".join(reasons)


# --------------------------------------------------------------------------- what the Rollouts page shows


def canary_pairs(dataset) -> list[tuple[str, str]]:
    """(control, candidate) versions of every model canary in the releases table (partial traffic share), newest
    first; the control is the full release the canary ran beside."""
    from driftdesk.releases import prepare_releases, previous_release

    rel = dataset.get("releases")
    if rel is None:
        return []
    table = prepare_releases(rel.frame)
    out = []
    for row in table.filter(pl.col("traffic_share") < 1).sort("ts", descending=True).iter_rows(named=True):
        before = previous_release(table, row["release_id"])
        if before and before["version"] and row["version"] and (before["version"], row["version"]) not in out:
            out.append((before["version"], row["version"]))
    return out


def rollout_view(dataset, *, control: str, candidate: str, by: Sequence[str] | None = None,
                 table: str = "decisions", policy: Policy | None = None, memo: Memo | None = None,
                 interval_of: IntervalOf | None = None) -> RolloutResult:
    """The Rollouts page's one call: ``candidate`` vs ``control`` in a dataset's table (its mapped segment columns);
    ``memo`` and ``interval_of`` as in ``judge_rollout``."""
    found = dataset.get(table)
    if found is None:
        raise DriftdeskError(f"{dataset.folder}: no {table} table: a rollout is judged on rows scored by both versions")
    policy = rollout_policy(policy) if policy is not None else default_rollout_policy()
    usable, left_out = _judgeable_gates(found.frame, policy, control=control, candidate=candidate)
    if not usable:
        raise DriftdeskError(f"{found.source}: no gate of the rollout policy {policy.name} can be judged on this "
                             f"table: {'; '.join(left_out)}")
    result = judge_rollout(found.frame, control=control, candidate=candidate, policy=replace(policy, gates=usable),
                           by=by or None, segments=found.segments, source=found.source, memo=memo,
                           interval_of=interval_of)
    return replace(result, notes=(*result.notes, *left_out)) if left_out else result


def _judgeable_gates(frame: pl.DataFrame, policy: Policy, *, control: str,
                     candidate: str) -> tuple[tuple[Gate, ...], list[str]]:
    """The policy's gates whose metric this table has the columns for, and a note for each one left out: another
    advertiser's decisions may have no spend or revenue, and the other gates can still judge the rollout."""
    try:
        arm_column(frame, control, candidate, None)
    except DriftdeskError:
        return policy.gates, []  # judge_rollout says what is wrong with the arms
    return judgeable_gates(frame.columns, policy)


def judgeable_gates(columns: Sequence[str], policy: Policy) -> tuple[tuple[Gate, ...], list[str]]:
    """``_judgeable_gates`` on a table's column names only (any engine's table): the gates whose metric the unit
    table (``rollout_units``: ``clicks`` and ``conversions`` derived where missing) has the columns for, and a note
    for each one left out."""
    empty = pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    units = rollout_units(empty, column=columns[0], control="", candidate=" ").columns if columns else []
    usable, left_out = [], []
    for gate in policy.gates:
        try:
            rollout_metric(gate.metric, units, context=f"rollout gate {gate.name!r}")
        except PolicyError as exc:
            left_out.append(f"{str(exc).split('; the table has')[0]}: this gate is left out")
        else:
            usable.append(gate)
    return tuple(usable), left_out


def versions(dataset, table: str = "decisions") -> list[str]:
    """The versions a rollout can compare in a table: the values of its first arm column (model_version, ...)."""
    found = dataset.get(table)
    if found is None:
        return []
    column = next((c for c in ARM_COLUMNS if c in found.frame.columns), None)
    return sorted(found.frame[column].cast(pl.String).unique().drop_nulls().to_list()) if column else []
