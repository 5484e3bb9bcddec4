"""The Segments & impact page body: the sentence a leader reads, the totals, the waterfall and heat map, every
segment, the spend shift and the decisions by score band."""

from __future__ import annotations

import streamlit as st

from driftdesk.business import ImpactView, metric_label
from driftdesk.format import format_value
from ui.render.text import describe_windows, md, table

DECISION_UNITS = {"band_lower": "score", "band_upper": "score", "n_baseline": "count", "n_current": "count",
                  "positive_share_baseline": "rate", "positive_share_current": "rate", "change": "pp"}


def render_impact(view: ImpactView) -> None:
    """The whole page body."""
    result = view.impact
    t, unit = result.total, view.unit
    st.markdown(describe_windows(result.current, result.baseline, view.vs))
    st.subheader(md(result.summary))
    if t["note"]:
        st.warning(md(t["note"]))
    label = metric_label(result.metric)
    m = st.columns(4)
    m[0].metric(f"{label} baseline", format_value(t["baseline"], unit))
    m[1].metric(f"{label} current", format_value(t["current"], unit),
                None if t["change_pct"] is None else format_value(t["change_pct"] / 100, "change"),
                delta_color="inverse" if result.metric == "cpa" else "normal")
    for col, effect, what in ((m[2], "mix_effect", "Traffic moved between segments"),
                              (m[3], "rate_effect", "Segments themselves got better or worse")):
        share = view.share_of_baseline(effect)
        col.metric(effect.replace("_", " ").capitalize(), format_value(t[effect], unit),
                   None if share is None else format_value(share, "pp"), delta_color="off",
                   help=f"{what} (in the metric's unit; below: points of the baseline value).")
    if t["change"] is not None:
        left, right = st.columns([3, 2])
        left.plotly_chart(result.to_figure("waterfall"), width="stretch", key="waterfall")
        right.plotly_chart(result.to_figure("heatmap"), width="stretch", key="heatmap")
    st.markdown("##### Every segment")
    st.caption("Effects are in the metric's own unit and add up to the total change. A segment present in only one "
               "window, or with no conversions in one, has no rate: its whole contribution is mix (see note). "
               "Intervals: 95% delta method over hourly rows.")
    in_unit = ("baseline", "current", "change", "mix_effect", "rate_effect", "current_ci_low", "current_ci_high")
    table(result.segments.select(*result.by, "baseline", "current", "change", "mix_effect", "rate_effect",
                                 "conversions_baseline", "conversions_current", "current_ci_low", "current_ci_high",
                                 "note"),
          units={**dict.fromkeys(in_unit, unit), "conversions_baseline": "count", "conversions_current": "count"})
    spend_tab, decisions_tab = st.tabs(["Spend shift", "Decisions by score band"])
    with spend_tab:
        st.plotly_chart(result.to_figure("spend"), width="stretch", key="spend")
    with decisions_tab:
        if view.decisions is None:
            st.info(md(view.decisions_note))
        else:
            st.caption("Share of positive decisions (bids) per score band: a change inside a band means the decision "
                       "rule moved; a change in band counts means the scores moved.")
            table(view.decisions.select(*view.decisions_by, *DECISION_UNITS), units=DECISION_UNITS)
