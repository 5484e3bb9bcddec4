"""Every cached library call of the app, in one place.

Each page's view is one library function (driftdesk.overview.overview, drift.view.drift_view, ...); this module
caches it keyed by the data source, the source's version stamp (the newest file time in its folder, so an edited
file is recomputed) and the page's controls, never by widgets read inside. Loading the data is cached as a
resource (shared, never mutated). A page that cannot load its data gets a message and stops, never a traceback.

numpy's BLAS runs on one thread in the app: its products here are small (a few series by a few weeks), sessions are
served side by side, and on a busy machine BLAS threads that wait for a core make a decomposition ten times slower.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from threadpoolctl import threadpool_limits

from driftdesk.business import ImpactView, impact_view
from driftdesk.calendars import Calendar, effective_calendar
from driftdesk.calibration import (
    CalibrationComparison,
    CalibrationView,
    calibration_overall,
    calibration_view,
    calibration_view_series,
)
from driftdesk.contract import Dataset, Table, load_dataset, read_mappings
from driftdesk.drift.result import DriftHistory
from driftdesk.drift.view import DriftView, combine_history, drift_history_of, drift_view, recent_days
from driftdesk.errors import DriftdeskError
from driftdesk.folder import FolderReport, inspect_folder
from driftdesk.format import DEFAULT_CURRENCY
from driftdesk.gates.backtest import BacktestResult, ValuesOf, values_key
from driftdesk.gates.engine import GateValues, gate_values
from driftdesk.gates.metrics import MetricComponents, metric_components
from driftdesk.gates.policy import Gate, Policy, decode_policy, encode_policy, parse_gate
from driftdesk.gates.view import GatesView, OpeningPolicy, gates_view, opening_policy
from driftdesk.incidents import IncidentView, incident_alerts, incident_canaries, incident_view
from driftdesk.llm import LlmView, llm_view
from driftdesk.overview import Overview, dataset_summary, overview
from driftdesk.proposal import FileProposal, propose_file
from driftdesk.rollout import RolloutResult, rollout_view
from driftdesk.rollout.judge import Memo
from driftdesk.seasonality.detect import SharedScans
from driftdesk.seasonality.result import SeasonalityResult
from driftdesk.seasonality.series import parse_segment
from driftdesk.seasonality.view import (
    SeasonalityView,
    SegmentVerdicts,
    batched_metrics,
    every_metric_scans,
    every_series_decomposition,
    seasonality_segments,
    seasonality_view,
    segment_verdicts,
    series_of,
    split_series,
)
from driftdesk.tracking import dataset_key, latest_adopted
from driftdesk.windows import Window, pinned_reference
from ui.data import folder_mtime, source_folder, source_label
from ui.params import DATA
from ui.render.text import show_error

if TYPE_CHECKING:
    import polars as pl

threadpool_limits(limits=1, user_api="blas")


def stamp(source: str) -> float:
    """The version of a data source: the newest modification time in its folder."""
    return folder_mtime(source_folder(source))


# --------------------------------------------------------------------------- the data


@st.cache_resource(max_entries=8, show_spinner="Loading and validating the data…")
def _load(folder: str, mtime: float) -> Dataset:
    return load_dataset(folder)


def load_source(source: str) -> Dataset:
    """The validated dataset of a data source (raises DriftdeskError when it cannot load)."""
    return _load(str(source_folder(source)), stamp(source))


def try_load(source: str) -> tuple[Dataset | None, str | None]:
    """(dataset, None) or (None, the reason it cannot load): for places that must not show an error box."""
    try:
        return load_source(source), None
    except DriftdeskError as exc:
        return None, str(exc)


def currency_of(source: str) -> str:
    """The ISO 4217 code of the source's money (``currency`` in its driftdesk.toml); USD while the data cannot load
    (the page and the Data page say why)."""
    dataset, _ = try_load(source)
    return dataset.currency if dataset is not None else DEFAULT_CURRENCY


def current_dataset(source: str) -> Dataset | None:
    """The dataset of a source; when it cannot load, a message on the page (and a link to the Data page) and None."""
    try:
        return load_source(source)
    except DriftdeskError as exc:
        show_error(f"Cannot load the data {source_label(source)}. Open the Data page to see what to fix.", exc)
        st.page_link("app_pages/data.py", label="Open the Data page", icon=":material/table_chart:",
                     query_params={DATA: source})
        return None


def require_table(source: str, name: str, missing_message: str) -> tuple[Dataset, Table]:
    """The dataset and its ``name`` table; otherwise a message on the page and the script stops."""
    dataset = current_dataset(source)
    if dataset is None:
        st.stop()
    if name not in dataset:
        st.info(missing_message)
        st.stop()
    return dataset, dataset[name]


@st.cache_data(max_entries=16, show_spinner=False)
def _summary(source: str, version: float):
    return dataset_summary(load_source(source))


def summary_of(source: str):
    """Rows, time range and columns of each loaded table (raises DriftdeskError when the data cannot load)."""
    return _summary(source, stamp(source))


@st.cache_data(max_entries=16, show_spinner="Checking the files against the data contract…")
def _folder(folder: str, version: float, validate: bool) -> FolderReport:
    return inspect_folder(folder, validate=validate)


def folder_report_of(source: str, *, validate: bool) -> FolderReport:
    """The source folder's table files, proposed mappings and (with ``validate``) contract violations."""
    return _folder(str(source_folder(source)), stamp(source), validate)


@st.cache_data(max_entries=32, show_spinner=False)
def _file_proposal(folder: str, version: float, file: str, table: str) -> FileProposal:
    return propose_file(Path(folder) / file, table=table, remembered=read_mappings(folder))


def file_proposal_of(source: str, *, file: str, table: str) -> FileProposal:
    """One file of the source folder read as ``table``: its proposed roles (a remembered mapping kept)."""
    return _file_proposal(str(source_folder(source)), stamp(source), Path(file).name, table)


@st.cache_data(max_entries=16, show_spinner=False)
def _calendar(source: str, version: float) -> Calendar:
    return effective_calendar(load_source(source))


def calendar_of(source: str) -> Calendar:
    """The calendar days the source's data is read with, and where each came from."""
    return _calendar(source, stamp(source))


# --------------------------------------------------------------------------- one view per page


@st.cache_data(max_entries=32, show_spinner="Comparing the day with its baselines…")
def _overview(source: str, version: float, day: dt.date | None, span_days: int, known_good: str | None,
              pinned: str | None) -> Overview:
    good = pinned_reference(pinned or "") if known_good == "pinned" else known_good
    return overview(load_source(source), day=day, span_days=span_days, known_good=good)


def overview_of(source: str, *, day: dt.date | None, span_days: int, known_good: str | None = None,
                pinned: str | None = None) -> Overview:
    """The Overview of a data source's day; ``known_good`` (last_release | pinned, with the ``pinned`` window)
    adds a third baseline."""
    return _overview(source, stamp(source), day, span_days, known_good, pinned)


DRIFT_REACH = 28  # days of drift history the first view of a table computes: its own two weeks and two before


class DriftDays:
    """The days of one table's drift history (week over week) computed so far, by day, for one data version and
    weight: shared by every view whose history covers a day. The days a view lacks are computed together
    (``drift_history_of`` reads their rows once and reduces all the days at once, each as a current day and as a
    baseline). Holds at most ``max_days`` days (the least recently asked go first); never mutated but by
    ``history``."""

    def __init__(self, max_days: int = 400) -> None:
        self.max_days = max_days
        self._days: OrderedDict[dt.date, DriftHistory] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, days: Sequence[dt.date], compute: Callable[[list[dt.date]], DriftHistory], *,
                first: Sequence[dt.date] = ()) -> DriftHistory:
        """The history of ``days``, computing the days not kept (``compute(missing)``) in one call; while none is
        kept (the first view), with the days ``first`` too (the days before, that a day picked next needs)."""
        with self._lock:
            missing = sorted(d for d in {*days, *(first if not self._days else ())} if d not in self._days)
            if missing:
                computed = compute(missing)
                by_day = computed.daily.partition_by("day", as_dict=True, maintain_order=True)
                for d in missing:
                    self._days[d] = DriftHistory(by_day.get((d,), computed.daily.clear()), computed.vs)
            for d in reversed(missing):  # the days computed ahead are the least recent, the oldest first
                if d not in days:
                    self._days.move_to_end(d, last=False)
            for d in days:
                self._days.move_to_end(d)
            parts = [self._days[d] for d in days]
            while len(self._days) > self.max_days:
                self._days.popitem(last=False)
        return combine_history(parts)


@st.cache_resource(max_entries=8, show_spinner=False)
def _drift_days(source: str, version: float, table: str, weight: str | None) -> DriftDays:
    """A table's drift history days kept per data version and weight (bounded: ``DriftDays.max_days``)."""
    return DriftDays()


@st.cache_data(max_entries=32, show_spinner="Comparing the day with its baselines…")
def _drift(source: str, version: float, table: str, day: dt.date, vs: tuple[str, ...], custom: str | None,
           by: str | None, pinned: str | None, weight: str | None, segment_column: str | None) -> DriftView:
    history = _drift_days(source, version, table, weight).history(
        recent_days(day), lambda days: drift_history_of(load_source(source), table=table, days=days, weight=weight),
        first=recent_days(day, DRIFT_REACH))
    return drift_view(load_source(source), table=table, day=day, vs=vs, custom=custom, by=by, pinned=pinned,
                      weight=weight, history=history, segment_columns=None if by is None else [segment_column])


def drift_view_of(source: str, *, table: str, day: dt.date, vs: Sequence[str], custom: str | None,
                  by: str | None, pinned: str | None = None, weight: str | None = None,
                  column: str | None = None) -> DriftView:
    """The Drift page's view of one table and day (rows weighted by ``weight``; None: the table's default); with
    ``by``, the segments of ``column`` only (the one the page shows), so a segment column costs one column's
    segments, not every column's."""
    return _drift(source, stamp(source), table, day, tuple(vs), custom, by, pinned, weight,
                  column if by is not None else None)


@st.cache_data(max_entries=16, show_spinner=False)
def _seasonality_segments(source: str, version: float, table: str) -> list[str]:
    return seasonality_segments(load_source(source), table)


def seasonality_segments_of(source: str, table: str) -> list[str]:
    """The segments the Seasonality page offers for a table ('All traffic' and every 'column=value'), read once
    per data version."""
    return _seasonality_segments(source, stamp(source), table)


@st.cache_resource(max_entries=8, show_spinner=False)
def _split_series(source: str, version: float, table: str) -> dict[str, pl.DataFrame]:
    """Every metric's series of a table, all traffic and every segment column (one group-by per column for all the
    metrics, so another metric reads its series; never mutated)."""
    return split_series(load_source(source), table=table)


@st.cache_resource(max_entries=4, show_spinner="Scanning every metric, all traffic and every segment…")
def _every_metric_scans(source: str, version: float, table: str) -> SharedScans | None:
    """The causal scans of every metric of a table, all traffic and every segment, run in one pass when the data
    version is first seen (``batched_metrics``: a table of at most a few hundred series), so another metric, or
    the other mode, scans nothing; each metric's decomposition is the same as without them. None when the
    table has more series, or one of them cannot be scanned: each metric is then scanned when asked for. Never
    mutated."""
    series = _split_series(source, version, table)
    metrics = batched_metrics(series)
    if not metrics:
        return None
    try:
        return every_metric_scans(load_source(source), table=table, calendar=_calendar(source, version),
                                  series={m: series[m] for m in metrics})
    except DriftdeskError:
        return None


@st.cache_resource(max_entries=32, show_spinner="Decomposing all traffic and every segment…")
def _every_series(source: str, version: float, table: str, metric: str, mode: str) -> SeasonalityResult | None:
    """All traffic and every segment of a metric decomposed at once (the expensive part, threshold- and day-free,
    shared by the segment view and the every-segment table; never mutated). None when one of them cannot be
    decomposed: each is then done on its own, and the one that fails is named."""
    try:
        return every_series_decomposition(load_source(source), table=table, metric=metric, mode=mode,
                                          calendar=_calendar(source, version),
                                          series=_split_series(source, version, table),
                                          scans=_every_metric_scans(source, version, table))
    except DriftdeskError:
        return None


@st.cache_data(max_entries=64, show_spinner=False)
def _seasonality(source: str, version: float, table: str, metric: str, segment: str, mode: str,
                 day: dt.date | None) -> SeasonalityView:
    dataset = load_source(source)
    where = parse_segment(segment)
    _every_metric_scans(source, version, table)  # first, under its own spinner
    every = _every_series(source, version, table, metric, mode) if len(where) <= 1 else None
    calendar = _calendar(source, version)
    decomposed = series_of(dataset, every, next(iter(where), None), calendar) if every is not None else None
    return seasonality_view(dataset, table=table, metric=metric, segment=segment, mode=mode, day=day,
                            decomposed=decomposed)


def seasonality_view_of(source: str, *, table: str, metric: str, segment: str, mode: str,
                        day: dt.date | None) -> SeasonalityView:
    """One metric of one segment decomposed, and one day against the day and the week before (the decomposition is
    cached without the day and the segment, so choosing another day or segment only compares days)."""
    return _seasonality(source, stamp(source), table, metric, segment, mode, day)


@st.cache_data(max_entries=64, show_spinner="Decomposing every segment…")
def _segment_verdicts(source: str, version: float, table: str, metric: str, mode: str,
                      columns: tuple[str, ...]) -> SegmentVerdicts:
    dataset = load_source(source)
    _every_metric_scans(source, version, table)  # first, under its own spinner
    every = _every_series(source, version, table, metric, mode)
    calendar = _calendar(source, version)
    decomposed = (lambda column: series_of(dataset, every, column, calendar)) if every is not None else None
    return segment_verdicts(dataset, table=table, metric=metric, mode=mode, columns=columns, decomposed=decomposed)


def segment_verdicts_of(source: str, *, table: str, metric: str, mode: str,
                        columns: Sequence[str]) -> SegmentVerdicts:
    """Every segment's verdict, read off the decomposition of every series (or one column at a time)."""
    return _segment_verdicts(source, stamp(source), table, metric, mode, tuple(columns))


@st.cache_data(max_entries=32, show_spinner=False)
def _calibration_overall(source: str, version: float, end: dt.date, days: int, vs: str, bins: int, strategy: str,
                         delay: int, pinned: str | None) -> CalibrationComparison:
    """The comparison of all rows (keyed without the segment column: another one reuses it)."""
    return calibration_overall(load_source(source), end=end, days=days, vs=vs, bins=bins, strategy=strategy,
                               label_delay_days=delay, pinned=pinned)


@st.cache_data(max_entries=32, show_spinner=False)
def _calibration_series(source: str, version: float, by: str | None, delay: int) -> pl.DataFrame:
    """The daily ECE per segment (keyed without the windows and bins: another window reuses it)."""
    return calibration_view_series(load_source(source), by=by, label_delay_days=delay)


@st.cache_data(max_entries=32, show_spinner="Comparing calibration…")
def _calibration(source: str, version: float, end: dt.date, days: int, vs: str, by: str | None, segment: str | None,
                 bins: int, strategy: str, delay: int, pinned: str | None) -> CalibrationView:
    return calibration_view(load_source(source), end=end, days=days, vs=vs, by=by, segment=segment, bins=bins,
                            strategy=strategy, label_delay_days=delay, pinned=pinned,
                            overall=_calibration_overall(source, version, end, days, vs, bins, strategy, delay, pinned),
                            series=_calibration_series(source, version, by, delay))


def calibration_view_of(source: str, *, end: dt.date, days: int, vs: str, by: str | None, segment: str | None,
                        bins: int, strategy: str, delay: int, pinned: str | None = None) -> CalibrationView:
    """The Calibration page's view: the current window against its baseline, per segment and per day."""
    return _calibration(source, stamp(source), end, days, vs, by, segment, bins, strategy, delay, pinned)


@st.cache_data(max_entries=32, show_spinner="Splitting the change into mix and rate…")
def _impact(source: str, version: float, end: dt.date, days: int, vs: str, by: tuple[str, ...], metric: str,
            min_conversions: int, pinned: str | None) -> ImpactView:
    return impact_view(load_source(source), end=end, days=days, vs=vs, by=list(by), metric=metric,
                       min_conversions=min_conversions, pinned=pinned)


def impact_view_of(source: str, *, end: dt.date, days: int, vs: str, by: Sequence[str], metric: str,
                   min_conversions: int, pinned: str | None = None) -> ImpactView:
    """The Segments & impact page's view: the metric's change split into mix and rate per segment."""
    return _impact(source, stamp(source), end, days, vs, tuple(by), metric, min_conversions, pinned)


@st.cache_data(max_entries=32, show_spinner="Comparing LLM versions…")
def _llm(source: str, version: float, by: str | None, end: dt.date, days: int, budget_per_day: float | None,
         golden: tuple[str | None, str | None], budget_as_of: int | None) -> LlmView:
    return llm_view(load_source(source), by=by, end_day=end, days=days, budget_per_day=budget_per_day,
                    golden_baseline=golden[0], golden_candidate=golden[1], budget_as_of=budget_as_of)


def llm_view_of(source: str, *, by: str | None, end: dt.date, days: int, budget_per_day: float | None,
                golden_baseline: str | None = None, golden_candidate: str | None = None,
                budget_as_of: int | None = None) -> LlmView:
    """The LLM page's comparison, series, output drift, budget burn and golden-set results."""
    return _llm(source, stamp(source), by, end, days, budget_per_day, (golden_baseline, golden_candidate),
                budget_as_of)


@st.cache_resource(max_entries=128, show_spinner=False)
def _components(source: str, version: float, key: str, _context: str) -> MetricComponents:
    """A gate metric's hourly components over all of history (the expensive part), per (metric, segments, filter)."""
    metric, by, filt = json.loads(key)
    return metric_components(load_source(source), metric, by=None if by is None else tuple(by),
                             filter=tuple((c, tuple(v)) for c, v in filt), context=_context)


@st.cache_resource(max_entries=256, show_spinner=False)
def _gate_values(source: str, version: float, key: str, _context: str) -> GateValues:
    """A gate's values at every evaluation of history, keyed by what they depend on (``values_key``: no threshold,
    direction, breaches in a row or action), so changing those recomputes nothing. Never mutated."""
    gate = parse_gate(json.loads(key), source="a cached gate")
    series = _components(source, version, json.dumps([gate.metric, gate.by, gate.filter]), _context)
    return gate_values(series, gate)


def values_of(source: str) -> ValuesOf:
    """How the library gets a gate's values on this source: from the caches above."""
    version = stamp(source)

    def get(key: Gate, *, context: str = "gate") -> GateValues:
        return _gate_values(source, version, json.dumps(key.to_dict(), sort_keys=True), context)

    return get


def _prefetch(source: str, policies: Sequence[Policy]) -> None:
    """Compute every replayable gate's values before the view, with a progress bar the first time in a session."""
    keys = list(dict.fromkeys(values_key(g) for p in policies for g in p.gates if not g.release_only))
    seen = st.session_state.setdefault("_gate_values_seen", set())
    todo = [k for k in keys if (source, stamp(source), k) not in seen]
    bar = st.progress(0.0, text="Replaying the policy on history…") if len(todo) > 1 else None
    get = values_of(source)
    for i, key in enumerate(todo):
        if bar is not None:
            bar.progress(i / len(todo), text=f"Computing {key.metric} over all of history ({i + 1} of {len(todo)})…")
        with contextlib.suppress(DriftdeskError):  # the view reports it, with the gate named
            get(key)
        seen.add((source, stamp(source), key))
    if bar is not None:
        bar.empty()


@st.cache_data(max_entries=16, show_spinner="Choosing the policy this data opens on…")
def _opening(source: str, version: float, adopted: str | None, adopted_label: str) -> OpeningPolicy:
    return opening_policy(load_source(source), source_folder(source),
                          adopted=decode_policy(adopted) if adopted else None, adopted_label=adopted_label,
                          values_of=values_of(source))


def opening_of(source: str, *, adopted: Policy | None, adopted_label: str = "") -> OpeningPolicy:
    """The policy the Gates page opens on for this source (its adopted version, its policy.toml or a starter)."""
    return _opening(source, stamp(source), encode_policy(adopted) if adopted else None, adopted_label)


@st.cache_data(max_entries=32, show_spinner="Replaying the policy on history (no look-ahead)…")
def _gates(source: str, version: float, code: str, gate: str, compare: tuple[tuple[str, str], ...]) -> GatesView:
    return gates_view(load_source(source), decode_policy(code), gate=gate,
                      compare=[(label, decode_policy(c)) for label, c in compare], values_of=values_of(source))


def gates_view_of(source: str, *, policy: Policy, gate: str, compare: Sequence[tuple[str, Policy]] = ()) -> GatesView:
    """The Gates page's view: the policy's backtest beside the ``compare`` policies' and the sweep of ``gate``
    (keyed by the policies' own text; the gates' values come from the caches above)."""
    _prefetch(source, [policy, *(p for _, p in compare)])
    return _gates(source, stamp(source), encode_policy(policy), gate,
                  tuple((label, encode_policy(p)) for label, p in compare))


@st.cache_data(max_entries=512, show_spinner=False)
def _rollout_gate(source: str, version: float, control: str, candidate: str, gate: str, keys: tuple[str, ...],
                  start: dt.datetime, end: dt.datetime, every: int, level: tuple,
                  _compute: Callable[[], list[dict]]) -> list[dict]:
    """One rollout gate's evaluations in one segmentation over one span (keyed by the gate's own text): another
    choice of segment columns replays only the segmentations not seen before."""
    return _compute()


def rollout_memo(source: str, *, control: str, candidate: str) -> Memo:
    """How the library keeps a rollout gate's evaluations on this source (``judge_rollout``'s ``memo``): in the
    cache above, keyed by the data's version, the arms and everything the evaluations depend on."""
    version = stamp(source)

    def memo(gate: Gate, keys: tuple[str, ...], span: Window, every: int, level: tuple,
             compute: Callable[[], list[dict]]) -> list[dict]:
        return _rollout_gate(source, version, control, candidate, repr(gate), keys, span.start, span.end, every,
                             level, compute)

    return memo


@st.cache_data(max_entries=16, show_spinner="Judging the rollout in every segment…")
def _rollout(source: str, version: float, control: str, candidate: str, by: tuple[str, ...]) -> RolloutResult:
    return rollout_view(load_source(source), control=control, candidate=candidate, by=list(by) or None,
                        memo=rollout_memo(source, control=control, candidate=candidate))


def rollout_of(source: str, *, control: str, candidate: str, by: Sequence[str]) -> RolloutResult:
    """The Rollouts page's judgement of ``candidate`` against ``control`` (``by``: segment columns for every gate)."""
    return _rollout(source, stamp(source), control, candidate, tuple(by))


@st.cache_resource(max_entries=8, show_spinner="Replaying the gate policy on history…")
def _incident_alerts(source: str, version: float, adopted: str) -> tuple[Policy, str, BacktestResult | None]:
    """The alerts' policy and its backtest (the same for every incident of the log; the gates' values come from
    the caches above, shared with the Gates page). Never mutated."""
    return incident_alerts(load_source(source), values_of=values_of(source))


@st.cache_resource(max_entries=8, show_spinner="Judging the model canaries of the incident log…")
def _incident_canaries(source: str, version: float) -> dict[str, dict | str]:
    """Every model canary an incident of the log reads, judged once per data version (the same for every incident;
    it depends on neither the incident nor the adopted policy). Never mutated."""
    return incident_canaries(load_source(source))


@st.cache_data(max_entries=16, show_spinner="Gathering what changed…")
def _incident(source: str, version: float, incident_id: str, adopted: str) -> IncidentView:
    policy, policy_source, backtest = _incident_alerts(source, version, adopted)
    return incident_view(load_source(source), incident_id, policy=policy, policy_source=policy_source,
                         backtest=backtest, canaries=_incident_canaries(source, version))


def _adopted_stamp(source: str) -> str:
    """The version last adopted for this source: adopting one changes which alerts the incidents are read against."""
    adopted = latest_adopted(dataset_key(source_folder(source)))
    return f"{adopted.label} {adopted.adopted_at}" if adopted is not None else ""


def incident_of(source: str, incident_id: str) -> IncidentView:
    """The Incidents page's view of one incident (cached per source version, incident and adopted policy)."""
    return _incident(source, stamp(source), incident_id, _adopted_stamp(source))
