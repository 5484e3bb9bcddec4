"""Incidents: one timeline of alerts, releases and incidents; for any incident, what was live, what changed before
it, a suggested severity beside the logged one, the first-30-minutes checklist filled from data, the gates that
caught it (or would have) and how late, and a postmortem to export.

**Alerts** come from the backtest of the adopted gate policy (the version most recently adopted for this data
folder, ``driftdesk.tracking``); without one, from the data folder's ``policy.toml``, else (when the data is given)
from a starter policy generated from it, or driftdesk's default policy, and ``policy_source`` says which.

**The moment asked about** is the incident's first matching alert (when someone first asks "what changed?"), or
its start when no gate caught it. **What changed** covers 48 hours before the start up to that moment: releases,
drift of the decisions and LLM calls (the day before the moment against the same day a week earlier), data-quality
issues and calendar days.

**Severity** is suggested from the evidence by the seeds' definitions, the first that holds:

* P0: wrong predictions to more than half of the traffic (the model's calibration in the incident's segment moved
  by more than 20%, and the segment, times the share of traffic of the release behind it, is above 50%);
* P1: a KPI (CPA, CR, ROAS of the segment) more than 20% worse than in the window of the same length before;
* P2: drift with a 5-20% degradation;
* P3: drift without impact yet (or no evidence at all, said so).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from driftdesk.contract import Dataset
from driftdesk.engine import height, is_spark, schema, where_between, where_equal, window_sums
from driftdesk.errors import DriftdeskError, NothingToGateError
from driftdesk.format import currency_in_effect, format_value
from driftdesk.gates.policy import Policy, load_policy
from driftdesk.jsonsafe import iso_utc, jsonable
from driftdesk.paths import as_file_name
from driftdesk.releases import LiveState, changes_between, live_at, prepare_releases, previous_release
from driftdesk.windows import Window

if TYPE_CHECKING:
    from driftdesk.gates.backtest import BacktestResult, ValuesOf

HOURS_BEFORE = 48
SEVERITIES = ("P0", "P1", "P2", "P3")
# which components can cause an incident of each layer (what a rollback would revert)
LAYER_COMPONENTS: dict[str, tuple[str, ...]] = {
    "model": ("model", "threshold", "feature_view", "config"),
    "data": ("feature_view", "config"),
    "llm": ("prompt", "llm_model", "index", "retriever", "embedding"),
    "service": ("config", "model"),
    "business": ("model", "threshold", "config", "feature_view"),
}
CHANGE_SCHEMA = {"kind": pl.String, "ts": pl.Datetime("us"), "what": pl.String, "detail": pl.String}


# --------------------------------------------------------------------------- which policy raised the alerts


def incident_policy(folder: str | Path | None, *, policies: str | Path | None = None,
                    dataset: Dataset | None = None, values_of: ValuesOf | None = None) -> tuple[Policy, str]:
    """The policy whose backtest gives the alerts, and where it came from in words (see the module text). With the
    loaded ``dataset``, a version or policy.toml that does not fit the data is passed over for a starter policy
    (``driftdesk.gates.view.opening_policy``, as the Gates page opens; ``values_of`` as there)."""
    from importlib.resources import files

    from driftdesk.gates.policy import parse_policy
    from driftdesk.tracking import dataset_key, latest_adopted

    adopted = latest_adopted(dataset_key(folder), folder=policies) if folder is not None else None
    adopted_label = (f"adopted policy {adopted.label} (adopted {adopted.adopted_at:%Y-%m-%dT%H:%M:%S})"
                     if adopted is not None else "")
    if dataset is not None and folder is not None:
        from driftdesk.gates.view import opening_policy

        try:
            opening = opening_policy(dataset, folder, adopted=adopted.load() if adopted else None,
                                     adopted_label=adopted_label, values_of=values_of)
        except NothingToGateError as exc:  # the incident is still read: what changed, scope, severity
            return NO_GATES, f"no gate policy: {exc}"
        return opening.policy, {
            "adopted": adopted_label, "folder": "the data folder's policy.toml (no policy has been adopted)",
            "starter": "a starter policy generated from the data (no policy adopted, no policy.toml that fits it)",
        }[opening.origin]
    if adopted is not None:
        return adopted.load(), adopted_label
    own = Path(folder) / "policy.toml" if folder is not None else None
    if own is not None and own.is_file():
        return load_policy(own), "the data folder's policy.toml (no policy has been adopted)"
    text = files("driftdesk.gates").joinpath("default_policy.toml").read_text(encoding="utf-8")
    return (parse_policy(text, source="driftdesk default gate policy"),
            "driftdesk's default policy (no policy adopted, none in the data folder)")


NO_GATES = Policy(gates=(), name="no gates")  # the data has nothing a gate can watch: the view has no alerts


def incident_alerts(ds: Dataset, *,
                    values_of: ValuesOf | None = None) -> tuple[Policy, str, BacktestResult | None]:
    """The policy the alerts come from (``incident_policy`` of the dataset's folder), where it came from, and its
    backtest on ``ds`` against the incident log: the part of ``incident_view`` every incident of the log shares, for
    a caller that keeps it (``values_of`` as in ``driftdesk.gates.backtest.policy_values``); no backtest when no
    gate can be made for the data (``NO_GATES``)."""
    from driftdesk.gates.backtest import backtest_policy, incidents_of, policy_values, prepare_incidents

    policy, source = incident_policy(ds.folder, dataset=ds, values_of=values_of)
    if policy is NO_GATES:
        return policy, source, None
    log = prepare_incidents(incidents_of(ds)).frame
    return policy, source, backtest_policy(ds, policy, incidents=log,
                                           values=policy_values(ds, policy, values_of=values_of))


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class IncidentView:
    """Everything known about one incident, from its first alert to its postmortem."""

    incident: dict
    asked_at: dt.datetime
    span: Window
    policy_source: str
    policy_name: str
    alerts: pl.DataFrame  # the policy's alerts in the span (ts, gate, metric, segment, value, threshold, action, matched)
    releases: pl.DataFrame  # releases in the span
    live: LiveState  # what was live when the incident started
    changes: pl.DataFrame  # kind (release, drift, quality, calendar), ts, what, detail
    gates: pl.DataFrame  # gate, metric, action, caught, first_alert, delay_hours
    evidence: pl.DataFrame  # severity, holds, detail (one row per rule, P0 first)
    severity_suggested: str
    checklist: pl.DataFrame  # step, answer
    rollout: dict | None  # the canary judgement of a partial release in the window, if there is one
    notes: tuple[str, ...] = ()

    @property
    def severity_logged(self) -> str | None:
        return self.incident.get("severity")

    @property
    def caught(self) -> bool:
        return bool(self.gates["caught"].any()) if self.gates.height else False

    @property
    def delay_hours(self) -> float | None:
        """Hours from the incident's start to the first gate that caught it (None when none did)."""
        return self.gates.filter(pl.col("caught"))["delay_hours"].min() if self.caught else None

    def to_frame(self) -> pl.DataFrame:
        return self.changes

    def to_dict(self) -> dict:
        return jsonable({
            "incident": self.incident, "asked_at": self.asked_at, "span": self.span.to_dict(),
            "policy": self.policy_name, "policy_source": self.policy_source,
            "live_release": self.live.to_dict(), "changes": self.changes,
            "severity_suggested": self.severity_suggested, "severity_logged": self.severity_logged,
            "evidence": self.evidence, "checklist": self.checklist, "gates": self.gates, "rollout": self.rollout,
            "alerts": self.alerts, "releases": self.releases, "notes": list(self.notes),
        })

    def to_figure(self):
        from driftdesk.viz.rollout import incident_figure

        return incident_figure(self)

    def to_markdown(self, figures: dict[str, str] | None = None) -> str:
        return postmortem_markdown(self, figures or {})

    def _repr_html_(self) -> str:
        inc = self.incident
        return (f"<h4>{html.escape(str(inc['incident_id']))}: {html.escape(str(inc.get('cause') or ''))}</h4>"
                f"<p>severity logged {html.escape(str(self.severity_logged))}, suggested "
                f"{html.escape(self.severity_suggested)}; asked about at {iso_utc(self.asked_at)}</p>"
                + self.checklist._repr_html_() + self.changes._repr_html_())


def find_incident(incidents: pl.DataFrame, incident_id: str) -> dict:
    """One row of the incident log (prepared by ``driftdesk.gates.backtest.prepare_incidents``)."""
    rows = incidents.filter(pl.col("incident_id") == incident_id)
    if rows.height == 0:
        known = ", ".join(incidents["incident_id"].to_list()) or "none (the log is empty)"
        raise DriftdeskError(f"unknown incident id {incident_id!r}; the incident log has {known}")
    return rows.row(0, named=True)


def incident_view(ds: Dataset, incident_id: str, *, incidents: pl.DataFrame | None = None,
                  policy: Policy | None = None, policy_source: str = "", backtest: BacktestResult | None = None,
                  hours_before: int = HOURS_BEFORE, judge_canary: bool = True,
                  canaries: Mapping[str, dict | str] | None = None) -> IncidentView:
    """The incident's view; ``policy`` (default: ``incident_policy(ds.folder)``) is backtested on ``ds`` unless a
    ``backtest`` of it is given (``incident_alerts`` gives both). ``canaries``: the log's canaries judged on
    ``ds`` (``incident_canaries``), kept by a caller; a canary not among them is judged here.

    The row tables may be on any engine (``driftdesk.engine``): what the view reads of them is aggregates (the
    drift and data-quality checks' per column, the KPI, calibration and traffic sums of a few windows), reduced
    where the rows are, so a dataset on Spark gives the view an in-memory one gives."""
    from driftdesk.gates.backtest import backtest_policy, incidents_of, prepare_incidents

    if not isinstance(incident_id, str):
        raise DriftdeskError(f"an incident id is text (incident_id of the log), got {incident_id!r}")
    if policy is None:
        policy, policy_source = incident_policy(ds.folder, dataset=ds)
    log = prepare_incidents(incidents if incidents is not None else incidents_of(ds)).frame
    inc = find_incident(log, incident_id)
    if backtest is None and policy is not NO_GATES:
        backtest = backtest_policy(ds, policy, incidents=log)
    alerts = backtest.alerts if backtest is not None else pl.DataFrame(schema=_NO_ALERTS)
    matched = alerts.filter(pl.col("incident_ids").str.contains(incident_id, literal=True))
    start, end = inc["start"], inc["end"] or inc["start"]
    asked = matched["ts"].min() if matched.height else start
    span = Window(start - dt.timedelta(hours=hours_before), max(end, asked) + dt.timedelta(hours=24), "incident")
    releases = prepare_releases(ds["releases"].frame if "releases" in ds else None)
    notes: list[str] = []
    if not releases.height:
        notes.append("no releases table: what was live and which release to roll back are unknown")
    changed = _changes(ds, releases, start - dt.timedelta(hours=hours_before), asked)
    gates = _gate_table(backtest, matched, start) if backtest is not None else pl.DataFrame(schema=_NO_GATE_ROWS)
    if backtest is None:
        notes.append(policy_source)
    rollout = (_canary(ds, releases, start - dt.timedelta(hours=hours_before), end, notes, canaries)
               if judge_canary else None)
    evidence, suggested = _severity(ds, inc, releases, changed, matched)
    view = IncidentView(
        incident=inc, asked_at=asked, span=span, policy_source=policy_source, policy_name=policy.name,
        alerts=alerts.filter(span.contains("ts")), releases=releases.filter(span.contains("ts")),
        live=live_at(releases, start), changes=changed, gates=gates, evidence=evidence,
        severity_suggested=suggested, checklist=pl.DataFrame(schema={"step": pl.String, "answer": pl.String}),
        rollout=rollout, notes=tuple(notes))
    return _with_checklist(view, releases)


_NO_ALERTS = {"ts": pl.Datetime("us"), "gate": pl.String, "metric": pl.String, "segment": pl.String,
              "value": pl.Float64, "threshold": pl.Float64, "action": pl.String, "matched": pl.Boolean,
              "incident_ids": pl.String}
_NO_GATE_ROWS = {"gate": pl.String, "metric": pl.String, "action": pl.String, "caught": pl.Boolean,
                 "first_alert": pl.Datetime("us"), "delay_hours": pl.Float64, "segment": pl.String}


def _drift_windows(asked: dt.datetime) -> tuple[Window, Window]:
    """The day before ``asked`` and the same day a week earlier."""
    current = Window(asked - dt.timedelta(hours=24), asked, "current")
    return current, current.shift(-dt.timedelta(days=7), "week_over_week")


def _affected_window(inc: dict) -> Window:
    """The incident to an hour past its end (its start when it has none)."""
    return Window(inc["start"], (inc["end"] or inc["start"]) + dt.timedelta(hours=1))


def _during(inc: dict) -> Window:
    """The incident (24 hours when it has no end, an hour when it ends as it starts)."""
    start, end = inc["start"], inc["end"] or inc["start"] + dt.timedelta(hours=24)
    return Window(start, end if end > start else start + dt.timedelta(hours=1))


# --------------------------------------------------------------------------- what changed


def _changes(ds: Dataset, releases: pl.DataFrame, lo: dt.datetime, hi: dt.datetime) -> pl.DataFrame:
    rows: list[dict] = []
    if releases.height:
        for r in changes_between(releases, lo, hi).iter_rows(named=True):
            share = "" if r["traffic_share"] >= 1 else f", {r['traffic_share']:.0%} of traffic"
            rows.append({"kind": "release", "ts": r["ts"], "what": r["release_id"],
                         "detail": f"{r['component']} {r['version'] or ''}{share}"
                                   + (f" (replaces {r['replaces']})" if r["replaces"] else "")})
    current, baseline = _drift_windows(hi)
    rows += _drift_changes(ds, current, baseline)
    cal = ds.get("calendar")
    if cal is not None:
        for d, name in cal.frame.filter((pl.col("date") >= lo.replace(hour=0)) & (pl.col("date") <= hi)).select(
                "date", "name").iter_rows():
            rows.append({"kind": "calendar", "ts": d, "what": name, "detail": "a calendar day: volumes expected to move"})
    return pl.DataFrame(rows, schema=CHANGE_SCHEMA).sort("ts", "kind") if rows else pl.DataFrame(schema=CHANGE_SCHEMA)


def _drift_changes(ds: Dataset, current: Window, baseline: Window) -> list[dict]:
    """Columns of the decisions and LLM calls that drifted (warn or alert), and data-quality issues: each window's
    columns reduced by the table's engine (``compare_windows``, ``quality_report``)."""
    from driftdesk.contract import OUTCOME_ROLES
    from driftdesk.drift import compare_windows
    from driftdesk.drift.compare import default_columns
    from driftdesk.quality import quality_report
    from driftdesk.status import FLAGGED

    rows: list[dict] = []
    for name in ("decisions", "llm_calls"):
        table = ds.get(name)
        if table is None:
            continue
        b, c = (where_between(table.frame, "ts", w.start, w.end) for w in (baseline, current))
        if not height(b) or not height(c):
            continue
        cols = [x for x in default_columns(b, c, exclude=["ts", *OUTCOME_ROLES, "release_id", "model_version"])]
        drift = compare_windows(b, c, columns=cols).columns.filter(pl.col("status").is_in(FLAGGED))
        for r in drift.iter_rows(named=True):
            rows.append({"kind": "drift", "ts": current.start, "what": f"{name}.{r['column']}",
                         "detail": f"{r['status']}: {r['reasons']} (the day before vs a week earlier)"})
        issues = quality_report(b, c, ts=None).issues()
        for r in issues.iter_rows(named=True):
            rows.append({"kind": "quality", "ts": current.start, "what": f"{name}.{r.get('column') or ''}",
                         "detail": f"{r['status']}: {r.get('message') or r.get('check')}"})
    return rows


# --------------------------------------------------------------------------- gates and the canary


def _gate_table(backtest, matched: pl.DataFrame, start: dt.datetime) -> pl.DataFrame:
    first = matched.group_by("gate").agg(pl.col("ts").min().alias("first_alert"), pl.col("segment").first())
    out = backtest.per_gate.select("gate", "metric", "action").join(first, on="gate", how="left").with_columns(
        pl.col("first_alert").is_not_null().alias("caught"),
        ((pl.col("first_alert") - pl.lit(start)).dt.total_minutes() / 60.0).alias("delay_hours"))
    return out.select("gate", "metric", "action", "caught", "first_alert", "delay_hours", "segment").sort(
        "caught", "delay_hours", descending=[True, False], nulls_last=True)


def _canary(ds: Dataset, releases: pl.DataFrame, lo: dt.datetime, hi: dt.datetime, notes: list[str],
            judged: Mapping[str, dict | str] | None = None) -> dict | None:
    """The rollout judgement of a model canary that took traffic around the incident: would it have rolled back?
    ``judged``: canaries judged before (``incident_canaries``), by release id."""
    if not _judges_canaries(ds, releases):
        return None
    found = _canary_release(releases, lo, hi)
    if found is None:
        return None
    row, before = found
    out = judged[row["release_id"]] if judged is not None and row["release_id"] in judged else (
        _judge_canary(ds, row, before))
    if isinstance(out, str):
        notes.append(out)
        return None
    return out


def _judges_canaries(ds: Dataset, releases: pl.DataFrame) -> bool:
    """A canary is judged on decisions with a model version, placed by the releases."""
    return bool(releases.height) and "decisions" in ds and "model_version" in schema(ds["decisions"].frame)


def _model_canaries(releases: pl.DataFrame) -> pl.DataFrame:
    return releases.filter((pl.col("component") == "model") & (pl.col("traffic_share") < 1))


def _canary_release(releases: pl.DataFrame, lo: dt.datetime, hi: dt.datetime) -> tuple[dict, dict] | None:
    """The first model canary started between ``lo`` and ``hi`` and the release before it, when both have a
    version."""
    canaries = _model_canaries(releases).filter((pl.col("ts") >= lo) & (pl.col("ts") <= hi))
    if not canaries.height:
        return None
    row = canaries.row(0, named=True)
    before = previous_release(releases, row["release_id"])
    if before is None or not before["version"] or not row["version"]:
        return None
    return row, before


def _judge_canary(ds: Dataset, row: dict, before: dict) -> dict | str:
    """The judgement of the canary ``row`` against the release ``before`` it, or why it could not be judged."""
    from driftdesk.rollout import judge_rollout

    table = ds["decisions"]
    judge = judge_rollout
    if is_spark(table.frame):  # judged from Spark's aggregates of the arms
        from driftdesk.engine.spark.rollout import judge_on_spark as judge
    try:
        result = judge(table.frame, control=before["version"], candidate=row["version"],
                       segments=table.segments, start=row["ts"], source=table.source, decision_only=True)
    except DriftdeskError as exc:
        return f"the canary {row['release_id']} could not be judged: {exc}"
    return {"release_id": row["release_id"], "control": before["version"], "candidate": row["version"],
            "decision": result.decision, "decided_at": result.decided_at, "reason": result.reason,
            "segments": result.broken_segments, "policy": result.policy.name,
            "hours_after_canary_start": (result.decided_at - row["ts"]) / dt.timedelta(hours=1)
            if result.decided_at else None}


def incident_canaries(ds: Dataset, *, incidents: pl.DataFrame | None = None,
                      hours_before: int = HOURS_BEFORE) -> dict[str, dict | str]:
    """Every model canary an incident of the log is judged with (``incident_view``'s ``rollout``), judged once: by
    release id, the judgement or why it could not be judged. The same for every incident of the log, for a caller
    that keeps it (``incident_view(..., canaries=...)``)."""
    from driftdesk.gates.backtest import incidents_of, prepare_incidents

    releases = prepare_releases(ds["releases"].frame if "releases" in ds else None)
    if not _judges_canaries(ds, releases):
        return {}
    log = prepare_incidents(incidents if incidents is not None else incidents_of(ds)).frame
    canaries = _model_canaries(releases).with_row_index("__order")
    spans = log.select((pl.col("start") - dt.timedelta(hours=hours_before)).alias("__lo"),
                       pl.coalesce("end", "start").alias("__hi")).with_row_index("__incident")
    first = (spans.join_where(canaries, pl.col("ts") >= pl.col("__lo"), pl.col("ts") <= pl.col("__hi"))
             .select(pl.col("__order").min().over("__incident")).unique())  # each incident's first, as _canary's
    out: dict[str, dict | str] = {}
    for row in canaries.join(first, on="__order").sort("__order").drop("__order").iter_rows(named=True):
        before = previous_release(releases, row["release_id"])  # each canary once
        if before is not None and before["version"] and row["version"]:
            out[row["release_id"]] = _judge_canary(ds, row, before)
    return out


# --------------------------------------------------------------------------- severity


def _span(window: Window) -> tuple[dt.datetime, dt.datetime]:
    return window.start, window.end


def _segment_rows(segment: str | None, frame):
    """The rows of 'col=value' (the column read as text) when the table has the column, else all rows, by the
    table's engine; and the segment in words."""
    if segment and "=" in segment:
        col, value = (p.strip() for p in segment.split("=", 1))
        if col in schema(frame):
            return where_equal(frame, col, value), f"{col}={value}"
    return frame, "all traffic"


def _kpi_degradation(ds: Dataset, inc: dict) -> tuple[float | None, str]:
    """The worst relative KPI change (CPA up, CR or ROAS down) of the segment during the incident vs before it."""
    kpis = ds.get("kpis")
    if kpis is None:
        return None, "no kpis table"
    during = _during(inc)
    before = during.shift(-during.duration)
    frame, name = _segment_rows(inc.get("segment"), kpis.frame)
    summed = [c for c in ("spend", "conversions", "clicks", "revenue") if c in schema(kpis.frame)]
    b, c = (dict(zip(summed, sums)) for sums in window_sums(frame, [_span(before), _span(during)], summed))
    worst, parts = None, []
    for kpi, num, den, bad_up in (("CPA", "spend", "conversions", True), ("CR", "conversions", "clicks", False),
                                  ("ROAS", "revenue", "spend", False)):
        if num not in b or den not in b or not b[den] or not c[den] or not b[num]:
            continue
        change = (c[num] / c[den]) / (b[num] / b[den]) - 1.0
        parts.append(f"{kpi} {format_value(change, 'change')}")
        degradation = change if bad_up else -change
        worst = degradation if worst is None else max(worst, degradation)
    return worst, f"{name}, incident vs the {during.duration.total_seconds() / 3600:g} h before: " + ", ".join(parts)


def _affected_share(ds: Dataset, inc: dict, releases: pl.DataFrame) -> tuple[float, str]:
    """The incident segment's share of traffic (spend, rows or calls) times the traffic share of the release behind
    it (the latest release of a component of its layer started before it ended)."""
    share, what = 1.0, "all traffic"
    for name, weight in (("kpis", "spend"), ("decisions", None), ("llm_calls", None), ("service", "requests")):
        table = ds.get(name)
        if table is None:
            continue
        rows, seg = _segment_rows(inc.get("segment"), table.frame)
        if seg == "all traffic":
            continue
        window = [_span(_affected_window(inc))]
        w = [weight if weight and weight in schema(table.frame) else None]
        (total,), (part,) = window_sums(table.frame, window, w)[0], window_sums(rows, window, w)[0]
        share, what = (part / total if total else 0.0), f"{seg} ({name}: {format_value(part / total if total else 0, 'rate')})"
        break
    comps = LAYER_COMPONENTS.get(inc.get("layer") or "", ())
    rel = releases.filter(pl.col("component").is_in(comps) & (pl.col("ts") <= (inc["end"] or inc["start"])))
    exposure = float(rel.sort("ts")["traffic_share"][-1]) if rel.height else 1.0
    return share * exposure, f"{what} x {format_value(exposure, 'rate')} of traffic on the latest {'/'.join(comps) or 'any'} release"


def _calibration_moved(ds: Dataset, inc: dict) -> tuple[float | None, str]:
    """Relative change of outcomes / scores (calibration in the large) in the segment, incident vs before."""
    dec = ds.get("decisions")
    if dec is None or not dec.has("label"):
        return None, "no decisions with labels"
    during = _during(inc)
    before = during.shift(-during.duration)
    rows, name = _segment_rows(inc.get("segment"), dec.frame)
    b, c = window_sums(rows, [_span(before), _span(during)], ["label", "score"], known="label")
    if not b[1] or not c[1] or not b[0]:
        return None, f"{name}: no labelled rows in one of the windows"
    change = (c[0] / c[1]) / (b[0] / b[1]) - 1.0
    return change, f"{name}: outcomes / scores {format_value(change, 'change')} vs the window before"


def _severity(ds: Dataset, inc: dict, releases: pl.DataFrame, changed: pl.DataFrame,
              matched: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    degradation, kpi_text = _kpi_degradation(ds, inc)
    affected, affected_text = _affected_share(ds, inc, releases)
    calibration, cal_text = _calibration_moved(ds, inc)
    drift = changed.filter(pl.col("kind").is_in(["drift", "quality"])).height + matched.height
    wrong = calibration is not None and abs(calibration) > 0.2
    rules = [
        ("P0", wrong and affected > 0.5, f"wrong predictions: {cal_text}; affected: {affected_text}"),
        ("P1", degradation is not None and degradation > 0.2, f"a KPI down more than 20%: {kpi_text}"),
        ("P2", degradation is not None and degradation >= 0.05 and drift > 0,
         f"drift ({drift} finding(s) and alerts) with a 5-20% degradation: {kpi_text}"),
        ("P3", drift > 0, f"drift without impact yet ({drift} finding(s) and alerts)"),
    ]
    suggested = next((sev for sev, holds, _ in rules if holds), "P3")
    evidence = pl.DataFrame([{"severity": sev, "holds": bool(holds), "detail": text} for sev, holds, text in rules],
                            schema={"severity": pl.String, "holds": pl.Boolean, "detail": pl.String})
    if not drift and not any(h for _, h, _ in rules):
        evidence = evidence.with_columns(pl.when(pl.col("severity") == "P3").then(
            pl.lit("no drift, alert or KPI change found in the data: the lowest severity")).otherwise(
            pl.col("detail")).alias("detail"))
    return evidence, suggested


# --------------------------------------------------------------------------- the first 30 minutes


def _with_checklist(view: IncidentView, releases: pl.DataFrame) -> IncidentView:
    inc = view.incident
    ev = {r["severity"]: r["detail"] for r in view.evidence.iter_rows(named=True)}
    layers = sorted(set(view.alerts.filter(pl.col("matched") & pl.col("incident_ids").str.contains(
        inc["incident_id"], literal=True))["gate"].to_list())) if view.alerts.height else []
    scope = (f"{inc.get('segment') or 'all traffic'} ({inc.get('layer') or 'layer unknown'} layer); "
             f"{ev['P0'].split('affected: ')[-1]}; {ev['P1'].split(': ', 1)[-1]}"
             + (f"; alerting gates: {', '.join(layers)}" if layers else "; no gate alerted"))
    rel = view.changes.filter(pl.col("kind") == "release")
    other = view.changes.filter(pl.col("kind") != "release")
    changed = ("; ".join(f"{r['what']} at {iso_utc(r['ts'])} ({r['detail']})" for r in rel.iter_rows(named=True))
               or "no release in the 48 hours before")
    if other.height:
        kinds = other.group_by("kind").agg(pl.col("what").head(4).str.join(", ")).sort("kind")
        changed += "; " + "; ".join(f"{k}: {w}" for k, w in kinds.iter_rows())
    step3 = _rollback_advice(view, releases)
    checklist = pl.DataFrame({"step": ["1. Scope: who is affected, and how much?", "2. What changed?",
                                       "3. Roll back or not?"], "answer": [scope, changed, step3]})
    return replace(view, checklist=checklist)


def _rollback_advice(view: IncidentView, releases: pl.DataFrame) -> str:
    comps = LAYER_COMPONENTS.get(view.incident.get("layer") or "", ())
    suspects = [r for r in view.changes.filter(pl.col("kind") == "release").iter_rows(named=True)
                if releases.filter(pl.col("release_id") == r["what"])["component"][0] in comps]
    if not suspects:
        return ("No release of a " + "/".join(comps or ("related",)) + " component in the 48 hours before: nothing to "
                "roll back; look at traffic mix, data and the calendar.")
    suspect = suspects[-1]["what"]
    comp = releases.filter(pl.col("release_id") == suspect)["component"][0]
    live_now = live_at(releases, view.asked_at).components.filter(pl.col("component") == comp)["release_id"].to_list()
    before = previous_release(releases, suspect)
    target = before["release_id"] if before else "the version before it"
    if suspect not in live_now and any(r != suspect for r in live_now):
        return f"{suspect} was already replaced by {', '.join(live_now)} when asked about; confirm the recovery."
    canary = view.rollout
    extra = (f" The rollout policy judged its canary {canary['decision']} at {iso_utc(canary['decided_at'])}"
             f" ({', '.join(canary['segments']) or 'no segment named'})." if canary and canary["decided_at"] else "")
    return f"Roll back {suspect} to {target}, the last known-good {comp} release.{extra}"


# --------------------------------------------------------------------------- postmortem


def _table(frame: pl.DataFrame, columns: list[str]) -> str:
    if not frame.height:
        return "_none_\n"

    def cell(v) -> str:
        text = iso_utc(v) if isinstance(v, dt.datetime) else format_value(v, "count") if isinstance(v, float) \
            and math.isfinite(v) and v.is_integer() else f"{v:.1f}" if isinstance(v, float) else "" if v is None else str(v)
        return text.replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(cell(r[c]) for c in columns) + " |\n" for r in frame.iter_rows(named=True))


def postmortem_markdown(view: IncidentView, figures: dict[str, str]) -> str:
    """The postmortem as Markdown; ``figures`` maps a figure's title to the file it was saved as."""
    inc = view.incident
    out = [f"# Postmortem: {inc['incident_id']}", "",
           f"**Cause (as logged):** {inc.get('cause') or 'not given'}  ",
           f"**Layer:** {inc.get('layer') or '-'} · **segment:** {inc.get('segment') or 'all'} · "
           f"**from** {iso_utc(inc['start'])} **to** {iso_utc(inc['end']) if inc['end'] else 'open'}  ",
           f"**Severity:** logged {view.severity_logged or '-'}, suggested from the evidence {view.severity_suggested}  ",
           f"**Alerts from:** {view.policy_source}", ""]
    for title, path in figures.items():
        out += [f"![{title}]({path})" if path.endswith(".png") else f"[{title}]({path})", ""]
    out += ["## Timeline", "", _table(pl.concat([
        view.releases.select("ts", pl.lit("release").alias("event"), pl.col("release_id").alias("what")),
        view.alerts.select("ts", pl.lit("alert").alias("event"), pl.format("{} ({})", "gate", "segment").alias("what")),
        pl.DataFrame({"ts": [inc["start"]], "event": ["incident starts"], "what": [inc["incident_id"]]},
                     schema={"ts": pl.Datetime("us"), "event": pl.String, "what": pl.String}),
    ]).sort("ts"), ["ts", "event", "what"]), "## What was live when it started", "",
        _table(view.live.components, ["component", "role", "release_id", "version", "since", "traffic_share"]),
        "## What changed in the 48 hours before", "", _table(view.changes, ["ts", "kind", "what", "detail"]),
        "## Severity", "", _table(view.evidence, ["severity", "holds", "detail"]),
        "## The first 30 minutes", "", _table(view.checklist, ["step", "answer"]),
        "## Gates: which caught it, and how late", "",
        _table(view.gates, ["gate", "action", "caught", "first_alert", "delay_hours", "segment"])]
    if view.rollout:
        r = view.rollout
        out += ["## The canary", "", f"The rollout policy ({r['policy']}) judged {r['candidate']} against "
                f"{r['control']}: **{r['decision']}**" + (f" at {iso_utc(r['decided_at'])}, "
                f"{r['hours_after_canary_start']:.0f} h after the canary started" if r["decided_at"] else "")
                + (f", segments {', '.join(r['segments'])}" if r["segments"] else "") + ".", ""]
    if view.notes:
        out += ["## Notes", "", *[f"- {n}" for n in view.notes], ""]
    return "\n".join(out)


def export_postmortem(view: IncidentView, folder: str | Path) -> dict:
    """Write ``<id>-postmortem.md``, its figures (PNG; standalone HTML where PNG export cannot run) and ``<id>.json``
    into ``folder``. All files are written to a temporary folder first and moved in only when every one is done,
    so a failure leaves nothing half-written. Returns the paths and notes."""
    target = Path(folder)
    stem = as_file_name(view.incident["incident_id"], default="incident")  # the files are named after it
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DriftdeskError(f"cannot create the export folder {target}: {exc}") from exc
    notes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix=".postmortem-", dir=target))
    try:
        figures = {"Timeline of alerts, releases and the incident": _save_figure(view.to_figure(), tmp,
                                                                                   f"{stem}-timeline", notes)}
        md = postmortem_markdown(view, figures)
        if notes:
            md += "\n## Export notes\n\n" + "".join(f"- {n}\n" for n in notes)
        (tmp / f"{stem}-postmortem.md").write_text(md, encoding="utf-8")
        (tmp / f"{stem}.json").write_text(json.dumps({**view.to_dict(), "currency": currency_in_effect(), "export_notes": notes}, indent=2,
                                                     allow_nan=False), encoding="utf-8")
        written = []
        for path in sorted(tmp.iterdir()):
            os.replace(path, target / path.name)
            written.append(str(target / path.name))
    except OSError as exc:
        raise DriftdeskError(f"cannot write the postmortem into {target}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"folder": str(target), "files": written, "notes": notes}


def postmortem_archive(view: IncidentView) -> bytes:
    """The exported postmortem (Markdown, figures, JSON) as one zip, for a download button."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        out = export_postmortem(view, tmp)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in out["files"]:
                zf.write(path, arcname=Path(path).name)
    return buffer.getvalue()


def incident_ids(dataset: Dataset) -> list[str]:
    """The incident log's ids, newest first (what the Incidents page offers)."""
    from driftdesk.gates.backtest import incidents_of, prepare_incidents

    log = prepare_incidents(incidents_of(dataset)).frame
    return log.sort("start", descending=True)["incident_id"].to_list()


def _save_figure(fig, folder: Path, stem: str, notes: list[str]) -> str:
    """PNG through kaleido (which drives a local Chromium); standalone HTML when that cannot run here."""
    try:
        fig.write_image(str(folder / f"{stem}.png"), width=1200, height=420, scale=1)
        return f"{stem}.png"
    except Exception as exc:  # noqa: BLE001 - kaleido missing, no browser, or a browser that fails to start
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        notes.append(f"{stem}: PNG export is not available here ({reason[:160]}); saved as standalone HTML instead")
        fig.write_html(str(folder / f"{stem}.html"), include_plotlyjs=True, full_html=True)
        return f"{stem}.html"
