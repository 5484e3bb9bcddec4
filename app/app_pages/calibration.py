"""Calibration: do the scores still mean what they say? Baseline vs current reliability, ECE, Brier, segments.

URL parameters (all optional, bad values fall back to defaults): end (last day of the current window,
YYYY-MM-DD), days (current window length), vs (previous week | previous period | previous day), by (segment
column), segment (the value of that column whose reliability diagram is shown), bins, strategy (uniform |
quantile), delay (label delay in days).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from driftdesk.calibration import CalibrationComparison, calibration_series, compare_calibration
from driftdesk.errors import DriftdeskError
from driftdesk.viz.calibration import calibration_over_time
from ui import params
from ui.data import current_source, folder_mtime, load_source, require_table, source_folder
from ui.pickers import window_controls

BIN_CHOICES = (5, 10, 15, 20)
DELAY_CHOICES = (0, 1, 2, 3, 7)
NO_SEGMENT = "(none)"


@st.cache_data(max_entries=32, show_spinner="Comparing calibration…")
def _compare(source: str, stamp: float, baseline: str, current: str, by: str | None, bins: int, strategy: str,
             delay_days: int) -> CalibrationComparison:
    decisions = load_source(source)["decisions"].frame
    return compare_calibration(decisions, baseline=baseline, current=current, by=by, bins=bins, strategy=strategy,
                               label_delay=dt.timedelta(days=delay_days) if delay_days else None)


@st.cache_data(max_entries=32, show_spinner="Comparing calibration in one segment…")
def _compare_one(source: str, stamp: float, baseline: str, current: str, by: str, value: str, bins: int,
                 strategy: str, delay_days: int) -> CalibrationComparison:
    decisions = load_source(source)["decisions"].frame
    return compare_calibration(decisions.filter(pl.col(by).cast(pl.String) == value), baseline=baseline, current=current,
                               bins=bins, strategy=strategy, label_delay=dt.timedelta(days=delay_days) if delay_days else None,
                               source=f"decisions where {by}={value}")


@st.cache_data(max_entries=16, show_spinner="Computing calibration per day…")
def _series(source: str, stamp: float, by: str | None, delay_days: int) -> pl.DataFrame:
    decisions = load_source(source)["decisions"].frame
    return calibration_series(decisions, every="1d", by=[by] if by else [], bins=10,
                              label_delay=dt.timedelta(days=delay_days) if delay_days else None)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "undefined" if value is None else f"{value:.{digits}f}"


def _delta(new: float | None, old: float | None, digits: int = 3) -> str | None:
    return None if new is None or old is None else f"{new - old:+.{digits}f}"


st.title("Calibration")
st.caption("A model can keep its ranking and still misprice every bid. Do predicted probabilities match what "
           "happened? Only labels that have arrived count.")
_, table = require_table("decisions", "No decisions table loaded: calibration needs scored rows with a score and a label. "
            "Add a decisions file on the Data page.")
if not table.has("label"):
    st.info("The decisions table has no label column: calibration needs outcomes (0/1). Map one on the Data page.")
    st.stop()
frame = table.frame
first, last = frame["ts"].min().date(), frame["ts"].max().date()
segment_choices = [NO_SEGMENT, *table.segments, *[c for c in ("model_version", "release_id") if table.has(c)]]

windows = window_controls(first, last, st.columns(3))
c4, c5, c6, c7 = st.columns(4)
by: str = c4.selectbox("Per segment", segment_choices, index=segment_choices.index("model_version")
                       if "model_version" in segment_choices else 0, key=params.BY, bind="query-params")
bins: int = c5.selectbox("Bins", BIN_CHOICES, index=BIN_CHOICES.index(10), key=params.BINS, bind="query-params")
strategy: str = c6.selectbox("Bin edges", ("uniform", "quantile"), key=params.STRATEGY, bind="query-params",
                             help="quantile: equal-count bins from the baseline's scores, shared by both windows")
delay: int = c7.selectbox("Label delay (days)", DELAY_CHOICES, key=params.DELAY, bind="query-params",
                          help="Count only labels at least this old (before the newest row): late outcomes are not yet in.")

current, baseline = windows.current, windows.baseline
st.markdown(windows.describe())
try:
    source = current_source()
    result = _compare(source, folder_mtime(source_folder(source)), baseline.iso(), current.iso(),
                      None if by == NO_SEGMENT else by, bins, strategy, delay)
except DriftdeskError as exc:
    st.error(str(exc))
    st.stop()

b, c = result.baseline.metrics, result.current.metrics
if c["n"] == 0 or b["n"] == 0:
    st.warning("No labelled rows in the " + ("current" if c["n"] == 0 else "baseline")
               + " window yet (labels arrive late): pick an earlier window or a shorter label delay.")
st.markdown(f"**{result.summary}**")
m = st.columns(5)
m[0].metric("ECE (current)", _fmt(c["ece"]), _delta(c["ece"], b["ece"]), delta_color="inverse",
            help="Expected calibration error: count-weighted |observed rate − mean score| over bins.")
m[1].metric("Brier (current)", _fmt(c["brier"], 4), _delta(c["brier"], b["brier"], 4), delta_color="inverse")
m[2].metric("MCE (current)", _fmt(c["mce"]), _delta(c["mce"], b["mce"]), delta_color="inverse",
            help="Largest gap of any non-empty bin.")
m[3].metric("Mean score vs observed", f"{_fmt(c['mean_score'])} / {_fmt(c['observed_rate'])}")
m[4].metric("Score std ratio", _fmt(result.std_ratio, 2),
            "collapsed" if result.collapsed else None, delta_color="inverse" if result.collapsed else "off",
            help=f"std(current scores) / std(baseline scores); below {result.collapse_ratio} means scores collapse toward the mean.")
cb, cc = result.baseline.counts, result.current.counts
st.caption(f"Labelled rows counted: baseline {b['n']:,}, current {c['n']:,}. Excluded: "
           f"{cb['n_unlabeled'] + cc['n_unlabeled']:,} without a label, {cb['n_immature'] + cc['n_immature']:,} "
           f"younger than the label delay. Bands: 95% Wilson intervals. Empty bins are kept (zero rows).")
st.plotly_chart(result.to_figure("reliability"), width="stretch", key="reliability")

seg_tab, time_tab, q_tab, bins_tab = st.tabs(["Per segment", "ECE over time", "Score quantiles", "Bins"])
with time_tab:
    segment = None if by == NO_SEGMENT else by
    series = _series(source, folder_mtime(source_folder(source)), segment, delay)
    st.plotly_chart(calibration_over_time(series, by=segment, windows={"baseline": baseline, "current": current}),
                    width="stretch", key="over_time")
    st.caption("Daily ECE on ten fixed equal-width bins (the series the gate backtester reads: "
               "`driftdesk.calibration.calibration_series`). Days without labels are left out.")
with seg_tab:
    if result.segments.is_empty():
        st.info("Choose a segment column above to compare calibration per segment.")
    else:
        st.plotly_chart(result.to_figure("segments"), width="stretch", key="segments")
        st.dataframe(result.segments.select(*result.by, "n_baseline", "n_current", "ece_baseline", "ece_current",
                                            "ece_change", "brier_baseline", "brier_current", "brier_change", "note"),
                     hide_index=True, width="stretch",
                     column_config={k: st.column_config.NumberColumn(format="%.4f") for k in
                                    ("ece_baseline", "ece_current", "ece_change", "brier_baseline", "brier_current",
                                     "brier_change")})
        values = [str(v) for v in result.segments[by].to_list()]
        pick = st.selectbox(f"Reliability diagram of one {by}", values, key=params.SEGMENT, bind="query-params")
        try:
            one = _compare_one(source, folder_mtime(source_folder(source)), baseline.iso(), current.iso(), by, pick,
                               bins, strategy, delay)
        except DriftdeskError as exc:
            st.info(f"{by}={pick}: {exc}")
        else:
            st.markdown(f"**{by}={pick}:** {one.summary}")
            st.plotly_chart(one.to_figure("reliability"), width="stretch", key="segment_reliability")
with q_tab:
    st.plotly_chart(result.to_figure("quantiles"), width="stretch", key="quantiles")
    st.dataframe(result.quantiles, hide_index=True, width="stretch")
with bins_tab:
    st.dataframe(result.to_frame().select("window", "lower", "upper", "count", "mean_score", "observed_rate",
                                          "ci_low", "ci_high").with_columns(pl.col(pl.Float64).round(4)),
                 hide_index=True, width="stretch")
