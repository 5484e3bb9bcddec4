"""Segments & impact: which segment moved CPA / ROAS / CR, by traffic mix or by its own rate, and where spend went.

URL parameters (all optional, bad values fall back to defaults): end (last day of the current window,
YYYY-MM-DD), days (current window length), vs (previous week | previous period | previous day), metric
(CPA | ROAS | CR), by (one or more segment columns), min_conv (conversions below which a segment is flagged).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from driftdesk.business import ImpactResult, decision_drift, metric_label, segment_impact
from driftdesk.errors import DriftdeskError
from ui import params
from ui.data import current_source, folder_mtime, load_source, require_table, source_folder
from ui.pickers import window_controls

MIN_CONV_CHOICES = (0, 10, 30, 100)


@st.cache_data(max_entries=32, show_spinner="Splitting the change into mix and rate…")
def _impact(source: str, stamp: float, baseline: str, current: str, by: tuple[str, ...], metric: str,
            min_conversions: int) -> ImpactResult:
    kpis = load_source(source)["kpis"].frame
    return segment_impact(kpis, baseline=baseline, current=current, by=list(by), metric=metric,
                          min_conversions=min_conversions)


@st.cache_data(max_entries=16, show_spinner="Comparing decisions by score band…")
def _decisions(source: str, stamp: float, baseline: str, current: str, by: tuple[str, ...]) -> pl.DataFrame:
    decisions = load_source(source)["decisions"].frame
    return decision_drift(decisions, baseline=baseline, current=current, by=list(by))


def _num(value: float | None, metric: str) -> str:
    if value is None:
        return "undefined"
    return f"{value:.2%}" if metric == "cr" else f"{value:,.2f}"


def _points(effect: float | None, baseline: float | None) -> str | None:
    return None if effect is None or not baseline else f"{100 * effect / baseline:+.1f} points"


st.title("Segments & impact")
st.caption("Did the global number move because traffic shifted between segments (mix) or because segments "
           "themselves got better or worse (rate)? The parts add up exactly to the change.")
dataset, table = require_table("kpis", "No kpis table loaded: this page needs spend and conversions per hour and segment. "
            "Add a kpis file on the Data page.")
if not table.segments:
    st.info("The kpis table has no segment columns (geo, device, …): there is nothing to split the change by.")
    st.stop()
frame = table.frame
first, last = frame["ts"].min().date(), frame["ts"].max().date()
metrics = [m for m, needs in (("cpa", None), ("roas", "revenue"), ("cr", "clicks")) if needs is None or table.has(needs)]

c1, c2, c3, c4 = st.columns(4)
windows = window_controls(first, last, (c1, c2, c3))
metric: str = c4.selectbox("Metric", [m.upper() for m in metrics], key=params.METRIC, bind="query-params",
                           help="CPA = spend / conversions, ROAS = revenue / spend, CR = conversions / clicks").lower()
c5, c6 = st.columns([3, 1])
by: list[str] = c5.multiselect("Segment by", list(table.segments), default=[table.segments[0]], key=params.BY,
                               bind="query-params", help="One or two columns read best; the heat map uses the first two.")
min_conv: int = c6.selectbox("Flag segments under (conversions)", MIN_CONV_CHOICES, index=MIN_CONV_CHOICES.index(30),
                             key=params.MIN_CONV, bind="query-params")
if not by:
    st.info("Choose at least one segment column.")
    st.stop()

current, baseline = windows.current, windows.baseline
st.markdown(windows.describe())
source = current_source()
stamp = folder_mtime(source_folder(source))
try:
    result = _impact(source, stamp, baseline.iso(), current.iso(), tuple(by), metric, min_conv)
except DriftdeskError as exc:
    st.error(str(exc))
    st.stop()

t = result.total
st.subheader(result.summary)
if t["note"]:
    st.warning(t["note"])
m = st.columns(4)
label = metric_label(metric)
m[0].metric(f"{label} baseline", _num(t["baseline"], metric))
m[1].metric(f"{label} current", _num(t["current"], metric),
            None if t["change_pct"] is None else f"{t['change_pct']:+.1f}%",
            delta_color="inverse" if metric == "cpa" else "normal")
m[2].metric("Mix effect", _num(t["mix_effect"], metric), _points(t["mix_effect"], t["baseline"]), delta_color="off",
            help="Traffic moved between segments (in the metric's unit; below: points of the baseline value).")
m[3].metric("Rate effect", _num(t["rate_effect"], metric), _points(t["rate_effect"], t["baseline"]), delta_color="off",
            help="Segments themselves got better or worse (in the metric's unit; below: points of the baseline value).")

if t["change"] is not None:
    left, right = st.columns([3, 2])
    left.plotly_chart(result.to_figure("waterfall"), width="stretch", key="waterfall")
    right.plotly_chart(result.to_figure("heatmap"), width="stretch", key="heatmap")
st.markdown("##### Every segment")
st.caption("Effects are in the metric's own unit and add up to the total change. A segment present in only one "
           "window, or with no conversions in one, has no rate: its whole contribution is mix (see note). "
           "Intervals: 95% delta method over hourly rows.")
st.dataframe(
    result.segments.select(*result.by, "baseline", "current", "change", "mix_effect", "rate_effect",
                           "conversions_baseline", "conversions_current", "current_ci_low", "current_ci_high", "note"),
    hide_index=True, width="stretch",
    column_config={k: st.column_config.NumberColumn(format="%.4f") for k in
                   ("baseline", "current", "change", "mix_effect", "rate_effect", "current_ci_low", "current_ci_high")},
)
spend_tab, decisions_tab = st.tabs(["Spend shift", "Decisions by score band"])
with spend_tab:
    st.plotly_chart(result.to_figure("spend"), width="stretch", key="spend")
with decisions_tab:
    if "decisions" not in dataset or not dataset["decisions"].has("decision"):
        st.info("No decisions table with a decision column loaded.")
    else:
        seg_cols = tuple(c for c in by if c in dataset["decisions"].frame.columns)
        try:
            drift = _decisions(source, stamp, baseline.iso(), current.iso(), seg_cols)
        except DriftdeskError as exc:
            st.error(str(exc))
        else:
            st.caption("Share of positive decisions (bids) per score band: a change inside a band means the decision "
                       "rule moved; a change in band counts means the scores moved.")
            st.dataframe(drift.select(*seg_cols, "band_lower", "band_upper", "n_baseline", "n_current",
                                      "positive_share_baseline", "positive_share_current", "change"),
                         hide_index=True, width="stretch")
