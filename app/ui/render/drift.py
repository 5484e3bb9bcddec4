"""The Drift page body: the consensus sentence, columns by severity, one column's distribution and history, the
segments that carry its shift, and the quality checks."""

from __future__ import annotations

import polars as pl
import streamlit as st

from driftdesk.drift.view import HISTORY_DAYS, DriftView
from driftdesk.status import ALERT, WARN
from driftdesk.viz.drift import segment_figure
from driftdesk.windows import baseline_label
from ui.render.text import STATUS_WORD, md, table

STATISTIC_UNITS = {"effect": "ratio", "psi": "score", "ks": "score", "ks_pvalue": "p_value", "js": "score",
                   "chi2_pvalue": "p_value", "null_rate_baseline": "rate", "null_rate_current": "rate",
                   "share_baseline": "rate", "share_current": "rate", "n_baseline": "count", "n_current": "count",
                   "value": "score", "threshold": "score"}
EFFECT_HELP = ("The effect size (PSI, JS or the null-rate change, whichever the column's kind uses) as a multiple of its "
               "alert threshold: 1.00 is at the threshold, 0.50 halfway to it.")
STATISTICS = ("kind", "psi", "ks", "ks_pvalue", "js", "chi2_pvalue", "null_rate_baseline", "null_rate_current")
LABELS = {
    "effect": st.column_config.NumberColumn("effect vs threshold", help=EFFECT_HELP),
    "psi": st.column_config.NumberColumn("PSI"),
    "ks": st.column_config.NumberColumn("KS"),
    "ks_pvalue": st.column_config.NumberColumn("KS p"),
    "js": st.column_config.NumberColumn("JS"),
    "chi2_pvalue": st.column_config.NumberColumn("χ² p"),
    "null_rate_baseline": st.column_config.NumberColumn("nulls (baseline)"),
    "null_rate_current": st.column_config.NumberColumn("nulls (current)"),
    "share_baseline": st.column_config.NumberColumn("share (baseline)"),
    "share_current": st.column_config.NumberColumn("share (current)"),
}


def render_drift(view: DriftView, *, column: str, vs: str, statistic: str) -> None:
    """The whole page body; ``column``, ``vs`` and ``statistic`` choose what the lower half draws."""
    {ALERT: st.error, WARN: st.warning}.get(view.status, st.success)(f"**{view.day.isoformat()}** — {md(view.sentence)}")
    if view.weighting.column is not None:
        st.caption(md(view.weighting.description.capitalize() + "."))
    st.subheader("Columns by severity")
    render_severity(view)
    st.subheader(f"{md(column)}: baseline vs current")
    left, right = st.columns(2)
    left.plotly_chart(view.to_figure(column, vs), width="stretch", key="drift_distribution")
    right.plotly_chart(view.history.to_figure(statistic, [column]), width="stretch", key="drift_history")
    st.subheader("Which segments carry the shift")
    render_segments(view, column, vs)
    with st.expander(f"Data quality (null-rate jumps, freshness, schema, ranges) vs {baseline_label(view.quality_vs)}"):
        issues = view.quality_issues()
        if issues.is_empty():
            st.markdown(f"No quality issue against the {baseline_label(view.quality_vs)} baseline.")
        else:
            table(issues, units={"value": "score", "threshold": "score"})


def render_severity(view: DriftView) -> None:
    # a day without rows has no effect (null): the sparkline cell cannot draw a gap, so it draws such a day at 0 and
    # the "no data" column names those days
    severity = view.severity_table().join(view.history_gaps(), on="column", how="left").with_columns(
        pl.col("status").replace_strict(STATUS_WORD, default=pl.col("status")).alias("status"),
        pl.col("history").list.eval(pl.element().fill_null(0.0)),
        pl.col("no_data").fill_null("")).rename({"status": "verdict"})
    peak = max([1.0, *[max(h) for h in severity["history"].drop_nulls().to_list() if h]])
    gaps = [c for c in ("no_data",) if severity["no_data"].str.len_chars().max()]
    first = baseline_label(view.vs[0])
    statuses = [f"status_{k}" for k in view.vs]
    # the verdict and why on the page; the statistics behind it below, so each table fits the page's width
    table(severity.select("column", "verdict", "strength", *statuses, "history", *gaps, "effect", "why"),
          units=STATISTIC_UNITS,
          height=min(36 * (severity.height + 1) + 4, 640), column_config={
              **LABELS,
              "effect": st.column_config.NumberColumn("effect vs threshold",
                                                      help=f"Against {first}. {EFFECT_HELP}"),
              "history": st.column_config.LineChartColumn(
                  f"last {HISTORY_DAYS} days", y_min=0.0, y_max=peak,
                  help="Effect size per day vs the same weekday a week earlier, as a multiple of its alert threshold "
                       "(one scale for every row: a bump that reaches the top crossed the threshold); a day "
                       "without rows, or whose baseline day had none, is drawn at 0 and named under no data"),
              "no_data": st.column_config.TextColumn(
                  "no data", help=f"Days of the last {HISTORY_DAYS} without rows, or whose baseline day had none: "
                                  "no effect was measured on them"),
              **{s: st.column_config.TextColumn(baseline_label(s.removeprefix("status_"))) for s in statuses},
              "why": st.column_config.TextColumn("why", width="large"),
          })
    with st.expander(f"The statistics behind the verdicts, against {first}"):
        table(severity.select("column", *STATISTICS), units=STATISTIC_UNITS, column_config=LABELS,
              missing={c: "the statistic does not apply to this kind of column (KS to numbers, χ² to categories)"
                       for c in ("ks", "ks_pvalue", "chi2_pvalue")})
    st.caption("The verdict rests on effect sizes (PSI, JS, null-rate change); p-values are shown beside them and must "
               "also be small.")


def render_segments(view: DriftView, column: str, vs: str) -> None:
    mover = view.largest_mover(column, vs)
    if mover:
        st.markdown(md(mover))
    segments = view.segment_table(column, vs)
    if segments is None:
        st.info("Choose a segment column to see which segments carry the shift.")
        return
    st.markdown(md(view.carriers(column, vs)))
    left, right = st.columns([3, 2])
    with left:
        table(segments, units=STATISTIC_UNITS, column_config=LABELS)
    right.plotly_chart(segment_figure(view.comparison.results[vs], column, "effect"), width="stretch",
                       key="drift_segments")
