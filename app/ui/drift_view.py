"""The Drift page's cached library calls and its renderers (the page itself only reads controls)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import streamlit as st

from driftdesk.contract import OUTCOME_ROLES
from driftdesk.drift import BaselineComparison, DriftHistory, compare_baselines, drift_history
from driftdesk.drift.compare import default_columns
from driftdesk.drift.thresholds import QUIET_CODES
from driftdesk.quality import QualityResult, quality_report
from driftdesk.status import ALERT, FLAGGED, NOT_ENOUGH_DATA, OK, WARN
from driftdesk.viz.drift import segment_figure
from driftdesk.windows import Window, baseline_label, baselines_for
from ui.data import folder_mtime, load_source, source_folder

TABLES = ("decisions", "kpis", "llm_calls")
HISTORY_DAYS = 14
STATUS_ICON = {ALERT: "ALERT", WARN: "warn", OK: "ok", NOT_ENOUGH_DATA: "not enough data"}


@dataclass(frozen=True)
class DriftView:
    comparison: BaselineComparison
    history: DriftHistory
    quality: QualityResult | None
    columns: tuple[str, ...]


def drift_columns(dataset, table: str) -> list[str]:
    """What to compare in a table: its segment and feature columns first, then the score, then the rest.

    Outcome columns (label, revenue) are left out: they mature late, so their recent null rate always jumps.
    """
    t = dataset[table]
    frame = t.frame
    first = [c for c in (*t.segments, *t.features, "score") if c in frame.columns]
    rest = [c for c in default_columns(frame, frame, exclude=["ts", *OUTCOME_ROLES]) if c not in first]
    return first + rest


@st.cache_data(max_entries=32, show_spinner=False)
def _view(source: str, stamp: float, table: str, day: dt.date, kinds: tuple[str, ...], custom: str | None,
          by: str | None, pinned: str | None = None) -> DriftView:
    dataset = load_source(source)
    frame = dataset[table].frame
    cols = drift_columns(dataset, table)
    start = dt.datetime.combine(day, dt.time())
    current = Window(start, start + dt.timedelta(days=1), "current")
    releases = dataset.get("releases")
    bases = baselines_for(current, kinds=tuple(k for k in kinds if k not in ("custom", "pinned")),
                          custom_range=custom if "custom" in kinds else None, pinned=pinned if "pinned" in kinds else None,
                          releases=releases.frame if releases is not None and "last_release" in kinds else None)
    comparison = compare_baselines(frame, current=current, baselines=bases, columns=cols, by=by)
    history = drift_history(frame, days=[day - dt.timedelta(days=k) for k in range(HISTORY_DAYS)], columns=cols)
    quality = None
    wow = next((w for w in bases if w.label == "week_over_week"), bases[0] if bases else None)
    if wow is not None:
        quality = quality_report(frame.filter(wow.contains("ts")), frame.filter(current.contains("ts")),
                                 by=by, ts="ts")
    return DriftView(comparison, history, quality, tuple(cols))


def drift_view_of(source: str, *, table: str, day: dt.date, kinds: tuple[str, ...], custom: str | None,
                  by: str | None, pinned: str | None = None) -> DriftView:
    """The page's computation, cached per data version and controls."""
    return _view(source, folder_mtime(source_folder(source)), table, day, kinds, custom, by, pinned)


# --------------------------------------------------------------------------- render


def severity_table(view: DriftView) -> pl.DataFrame:
    """One row per column, most severe first, with each baseline's status and the effect's recent history."""
    cmp = view.comparison
    spark = (view.history.daily.sort("day").group_by("column", maintain_order=True)
             .agg(pl.col("effect").fill_null(0.0).alias("history")))
    out = cmp.consensus.join(spark, on="column", how="left")
    first = next(iter(cmp.results.values()))
    stats = first.columns.select("column", "kind", "psi", "ks", "ks_pvalue", "js", "chi2_pvalue",
                                 "null_rate_baseline", "null_rate_current", "effect")
    out = out.join(stats, on="column", how="left")
    findings = ~pl.col("reason_codes").list.eval(pl.element().is_in(QUIET_CODES)).list.all()
    reasons = pl.concat([r.columns.filter(findings)
                         .select("column", pl.format("{}: {}", pl.lit(k), "reasons").alias("why"))
                         for k, r in cmp.results.items()])
    why = reasons.group_by("column").agg(pl.col("why").str.join(" · "))
    out = out.join(why, on="column", how="left")
    out = out.with_columns(pl.col("status").replace_strict(STATUS_ICON, default=pl.col("status")).alias("verdict"))
    per = [f"status_{k}" for k in cmp.results]
    return out.select("column", "verdict", "strength", *per, "history", "effect", "kind", "psi", "ks", "ks_pvalue",
                      "js", "chi2_pvalue", "null_rate_baseline", "null_rate_current", "why")


def render_consensus(view: DriftView) -> None:
    cmp = view.comparison
    text = cmp.sentence
    {ALERT: st.error, WARN: st.warning}.get(cmp.status, st.success)(f"**{cmp.current.start.date()}** — {text}")


def render_table(view: DriftView) -> None:
    baselines = list(view.comparison.results)
    table = severity_table(view)
    peak = max([1.0, *[max(h) for h in table["history"].drop_nulls().to_list() if h]])
    st.dataframe(
        table, hide_index=True, width="stretch", height=min(36 * (table.height + 1) + 4, 640),
        column_config={
            "history": st.column_config.LineChartColumn(
                f"last {HISTORY_DAYS} days", y_min=0.0, y_max=peak,
                help="Effect size per day vs the same weekday a week earlier, as a multiple of its alert threshold "
                     "(one scale for every row: a bump that reaches the top crossed the threshold)"),
            "effect": st.column_config.NumberColumn("effect × threshold", format="%.2f",
                                                    help=f"vs {baseline_label(baselines[0])}; 1.00 = at the alert threshold"),
            "psi": st.column_config.NumberColumn("PSI", format="%.3f"),
            "ks": st.column_config.NumberColumn("KS", format="%.3f"),
            "ks_pvalue": st.column_config.NumberColumn("KS p", format="%.1e"),
            "js": st.column_config.NumberColumn("JS", format="%.3f"),
            "chi2_pvalue": st.column_config.NumberColumn("χ² p", format="%.1e"),
            "null_rate_baseline": st.column_config.NumberColumn("nulls (baseline)", format="percent"),
            "null_rate_current": st.column_config.NumberColumn("nulls (current)", format="percent"),
            **{f"status_{k}": st.column_config.TextColumn(baseline_label(k)) for k in baselines},
        },
    )
    st.caption(f"Statistics columns are against **{baseline_label(baselines[0])}**. The verdict rests on effect "
               "sizes (PSI, JS, null-rate change); p-values are shown beside it and must also be small.")


def render_column(view: DriftView, column: str, baseline: str, statistic: str) -> None:
    result = view.comparison.results[baseline]
    left, right = st.columns(2)
    left.plotly_chart(result.to_figure(column), width="stretch", key="drift_distribution")
    right.plotly_chart(view.history.to_figure(statistic, [column]), width="stretch", key="drift_history")


def render_segments(view: DriftView, column: str, baseline: str) -> None:
    result = view.comparison.results[baseline]
    cat = result.categories.filter(pl.col("column") == column)
    if not cat.is_empty():
        top = cat.row(0, named=True)
        st.markdown(f"Largest mover in **{column}**: **{top['category']}** "
                    f"{top['baseline_share']:.1%} → {top['current_share']:.1%} of rows.")
    if result.segments is None or result.by is None:
        st.info("Choose a segment column to see which segments carry the shift.")
        return
    seg = (result.segments.filter(pl.col("column") == column)
           .sort("severity", descending=True)
           .select(result.by, "status", "reasons", "share_baseline", "share_current", "effect", "psi", "js",
                   "null_rate_baseline", "null_rate_current", "n_baseline", "n_current"))
    carriers = seg.filter(pl.col("status").is_in(FLAGGED))[result.by].to_list()
    if carriers:
        st.markdown(f"**{column}** shifts within **{result.by} = {', '.join(map(str, carriers))}**.")
    else:
        st.markdown(f"No single {result.by} segment of **{column}** shifts beyond the thresholds on its own.")
    left, right = st.columns([3, 2])
    left.dataframe(seg, hide_index=True, width="stretch", column_config={
        "share_baseline": st.column_config.NumberColumn("share (baseline)", format="percent"),
        "share_current": st.column_config.NumberColumn("share (current)", format="percent"),
        "null_rate_baseline": st.column_config.NumberColumn("nulls (baseline)", format="percent"),
        "null_rate_current": st.column_config.NumberColumn("nulls (current)", format="percent"),
        "effect": st.column_config.NumberColumn("effect × threshold", format="%.2f"),
    })
    right.plotly_chart(segment_figure(result, column, "effect"), width="stretch", key="drift_segments")


def render_quality(view: DriftView) -> None:
    if view.quality is None:
        return
    issues = view.quality.issues()
    if issues.is_empty():
        st.markdown("No quality issue against the week-over-week baseline.")
    else:
        st.dataframe(view.quality.to_frame().filter(pl.col("status") != OK), hide_index=True, width="stretch")
