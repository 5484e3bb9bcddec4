"""The Segments & impact page body: the sentence a leader reads, the windows compared, the totals, the waterfall and
heat map, every segment, the spend shift and the decisions by score band. Every effect is written by the library's
one formatter, in the metric's own unit, so the sentence, the waterfall and the table show the same figures."""

from __future__ import annotations

import streamlit as st

from driftdesk.business import ImpactView, format_effect, metric_label
from driftdesk.format import difference_unit, format_value, unit_words
from ui.render.text import describe_windows, md, table

DECISION_UNITS = {"band_lower": "score", "band_upper": "score", "n_baseline": "count", "n_current": "count",
                  "positive_share_baseline": "rate", "positive_share_current": "rate", "change": "pp"}
SEGMENT_COLUMNS = ("baseline", "current", "change", "mix_effect", "rate_effect", "conversions_baseline",
                   "conversions_current", "current_ci_low", "current_ci_high", "note")


def render_impact(view: ImpactView) -> None:
    """The whole page body."""
    result = view.impact
    t, unit = result.total, view.unit
    st.subheader(md(result.summary), anchor="summary")
    st.caption(describe_windows(result.current, result.baseline, view.vs))
    if t["note"]:
        st.warning(md(t["note"]))
    label = metric_label(result.metric)
    m = st.columns(4)
    m[0].metric(f"{label}, baseline", format_value(t["baseline"], unit))
    m[1].metric(f"{label}, current", format_value(t["current"], unit),
                None if t["change_pct"] is None else format_value(t["change_pct"] / 100, "change"),
                delta_color="inverse" if result.metric == "cpa" else "normal")
    for col, effect, what in ((m[2], "mix_effect", "Traffic moved between segments"),
                              (m[3], "rate_effect", "Segments themselves got better or worse")):
        share = view.share_of_baseline(effect)
        col.metric(effect.replace("_", " ").capitalize(), format_effect(t[effect], result.metric),
                   None if share is None else f"{format_value(share, 'change')} of the baseline", delta_color="off",
                   help=f"{what}, in the metric's own unit ({unit_words(difference_unit(unit))}); "
                        "below, the same part relative to the baseline value. Mix and rate add up to the change.")
    if t["change"] is not None:
        left, right = st.columns([3, 2])
        left.plotly_chart(result.to_figure("waterfall"), width="stretch", key="waterfall")
        right.plotly_chart(result.to_figure("heatmap"), width="stretch", key="heatmap")
    st.markdown("##### Every segment")
    st.caption("Change and effects are in the metric's own unit"
               + (" (percentage points, pp, for a rate)" if unit == "rate" else "")
               + " and add up to the total change. A segment present in only one window, or with no conversions in "
               "one, has no rate: its whole contribution is mix (see note). Intervals: 95% delta method over hourly "
               "rows.")
    effect_unit = difference_unit(unit)
    table(result.segments.select(*result.by, *SEGMENT_COLUMNS),
          units={"baseline": unit, "current": unit, "current_ci_low": unit, "current_ci_high": unit,
                 "change": effect_unit, "mix_effect": effect_unit, "rate_effect": effect_unit,
                 "conversions_baseline": "count", "conversions_current": "count"},
          column_config={"mix_effect": "mix effect", "rate_effect": "rate effect",
                         "conversions_baseline": "conversions (baseline)", "conversions_current": "conversions (current)",
                         "current_ci_low": "current, 95% low", "current_ci_high": "current, 95% high",
                         "note": {"label": "note", "width": "large"}},
          missing={"rate_effect": "the segment has no rate in one window (no rows or no conversions there): its whole "
                                  "contribution is mix"})
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
