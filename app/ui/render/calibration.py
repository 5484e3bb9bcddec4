"""The Calibration page body: the comparison's sentence and figures, the reliability diagram, and tabs per segment,
over time, score quantiles and bins."""

from __future__ import annotations

import streamlit as st

from driftdesk.calibration import CalibrationView
from driftdesk.format import format_value
from driftdesk.viz.calibration import calibration_over_time
from ui.render.text import describe_windows, md, table

SEGMENT_UNITS = {"n_baseline": "count", "n_current": "count", **{f"{m}_{w}": "score" for m in ("ece", "brier")
                                                                 for w in ("baseline", "current", "change")}}
BIN_UNITS = {"lower": "score", "upper": "score", "count": "count", "mean_score": "score", "observed_rate": "score",
             "ci_low": "score", "ci_high": "score"}


def _delta(new: float | None, old: float | None) -> str | None:
    return None if new is None or old is None else format_value(new - old, "score")


def render_calibration(view: CalibrationView) -> None:
    """The whole page body."""
    result = view.comparison
    st.markdown(f"**{md(result.summary)}**")
    st.caption(describe_windows(result.current_window, result.baseline_window, view.vs))
    if view.missing_labels:
        st.warning(view.missing_labels)
    b, c = result.baseline.metrics, result.current.metrics
    m = st.columns(5)
    m[0].metric("ECE (current)", format_value(c["ece"], "score"), _delta(c["ece"], b["ece"]), delta_color="inverse",
                help="Expected calibration error: count-weighted |observed rate − mean score| over bins.")
    m[1].metric("Brier (current)", format_value(c["brier"], "score"), _delta(c["brier"], b["brier"]),
                delta_color="inverse")
    m[2].metric("MCE (current)", format_value(c["mce"], "score"), _delta(c["mce"], b["mce"]), delta_color="inverse",
                help="Largest gap of any non-empty bin.")
    m[3].metric("Mean score (current)", format_value(c["mean_score"], "rate"),
                f"observed {format_value(c['observed_rate'], 'rate')}", delta_color="off", delta_arrow="off",
                help="The current window's mean predicted probability, and below it the share of positive labels: "
                     "a mean score above the observed rate means the scores over-predict.")
    m[4].metric("Score std ratio", format_value(result.std_ratio, "ratio"),
                "collapsed" if result.collapsed else None, delta_color="inverse" if result.collapsed else "off",
                help=f"std(current scores) / std(baseline scores); below {format_value(result.collapse_ratio, 'ratio')}"
                     " means scores collapse toward the mean.")
    st.caption(view.counts)
    st.plotly_chart(result.to_figure("reliability"), width="stretch", key="reliability")

    seg_tab, time_tab, q_tab, bins_tab = st.tabs(["Per segment", "ECE over time", "Score quantiles", "Bins"])
    with seg_tab:
        render_segments(view)
    with time_tab:
        windows = {"baseline": result.baseline_window, "current": result.current_window}
        st.plotly_chart(calibration_over_time(view.series, by=view.by, windows=windows), width="stretch",
                        key="over_time")
        st.caption("Daily ECE on ten fixed equal-width bins (the series the gate backtester reads: "
                   "`driftdesk.calibration.calibration_series`). Days without labels are left out.")
    with q_tab:
        st.plotly_chart(result.to_figure("quantiles"), width="stretch", key="quantiles")
        table(result.quantiles, units={c: "score" for c in result.quantiles.columns if c != "window"})
    with bins_tab:
        table(result.to_frame().select("window", *BIN_UNITS), units=BIN_UNITS)


def render_segments(view: CalibrationView) -> None:
    result = view.comparison
    if result.segments.is_empty():
        st.info("Choose a segment column above to compare calibration per segment.")
        return
    st.plotly_chart(result.to_figure("segments"), width="stretch", key="segments")
    table(result.segments.select(*result.by, *SEGMENT_UNITS, "reference", "note"), units=SEGMENT_UNITS,
          column_config={"reference": {"label": "compared with", "help": "A segment new in the current window (a new "
                                       "model version) has no baseline of its own: it is compared with all baseline "
                                       "traffic, the traffic it replaced."}, "note": {"width": "medium"}},
          missing={"ece_baseline": "no labelled rows in the baseline window", "ece_current": "no labelled rows in the "
                   "current window yet (labels arrive late)"})
    if view.segment_comparison is None:
        if view.segment_summary:
            st.info(md(view.segment_summary))
        return
    st.markdown(md(view.segment_summary))
    st.plotly_chart(view.segment_comparison.to_figure("reliability"), width="stretch", key="segment_reliability")
