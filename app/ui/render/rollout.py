"""The Rollouts page body: the decision and why, the figure, every segment at the decision, the replayed timeline."""

from __future__ import annotations

import polars as pl
import streamlit as st

from driftdesk.format import MISSING, format_value
from driftdesk.rollout import RolloutResult
from ui.render.text import md, table

DECISION_BOX = {"rollback": st.error, "pause_for_review": st.warning, "continue": st.success,
                "not_enough_data": st.info}
DECISION_WORDS = {"rollback": "Roll back", "pause_for_review": "Pause for review", "continue": "Continue",
                  "not_enough_data": "Not enough data"}
SEGMENT_COLUMNS = ("gate", "segment", "control", "candidate", "change", "interval", "threshold", "verdict", "rows",
                   "why")


def _interval(low: float | None, high: float | None, unit: str) -> str:
    return MISSING if low is None or high is None else f"[{format_value(low, unit)}, {format_value(high, unit)}]"


def rollout_table(result: RolloutResult) -> pl.DataFrame:
    """Each gate and segment at the decision: both arms in the metric's unit, the change with its interval and the
    threshold in the change's unit, the verdict and why (cells are text: units differ from row to row)."""
    rows = []
    for r in result.segments.iter_rows(named=True):
        value_unit, change_unit = result.unit(r["gate"])
        rows.append({"gate": r["gate"], "segment": r["segment"], "control": format_value(r["control"], value_unit),
                     "candidate": format_value(r["candidate"], value_unit),
                     "change": format_value(r["change"], change_unit),
                     "interval": _interval(r["ci_low"], r["ci_high"], change_unit),
                     "threshold": format_value(r["threshold"], change_unit), "verdict": r["verdict"],
                     "rows": f"{format_value(r['n_control'] or 0, 'count')} / "
                             f"{format_value(r['n_candidate'] or 0, 'count')}",
                     "why": r["note"] or ""})
    return pl.DataFrame(rows, schema=dict.fromkeys(SEGMENT_COLUMNS, pl.String))


def _intervals(result: RolloutResult) -> str:
    """How sure each interval is: the rollout's false rollback rate split across its comparisons, or one level."""
    levels = result.segments["level"].drop_nulls() if "level" in result.segments.columns else pl.Series([], dtype=pl.Float64)
    if result.correction == "none" or not levels.len():
        return f"Intervals: {format_value(result.confidence, 'rate')}"
    low, high = levels.min(), levels.max()
    shown = format_value(low, "rate") + ("" if low == high else f" to {format_value(high, 'rate')}")
    how = ("split across its gates and segments and held over each gate's overlapping evaluations"
           if result.correction == "overlap" else "split across its gates, segments and evaluations")
    return (f"Intervals: {shown}, a {format_value(1 - result.confidence, 'rate')} chance of a false rollback (or "
            f"pause) over the whole rollout {how}")


def render_rollout(result: RolloutResult) -> None:
    """The Rollouts page body."""
    when = f" at {result.decided_at:%Y-%m-%d %H:%M} UTC" if result.decided_at else ""
    DECISION_BOX[result.decision](f"**{DECISION_WORDS[result.decision]}**{when}: {md(result.reason)}")
    st.caption(f"{md(result.candidate)} vs {md(result.control)} (column {md(result.arm_column)}) under the rollout "
               f"policy {md(result.policy.name)}, {result.span.start:%Y-%m-%d %H:%M} → {result.span.end:%Y-%m-%d %H:%M} "
               f"UTC. {_intervals(result)}; a breach is beyond the threshold and beyond the noise.")
    for note in result.notes:
        st.warning(md(note))
    st.plotly_chart(result.to_figure(), width="stretch", key="rollout_figure")
    st.markdown("##### Candidate vs control in every segment, at the decision")
    table(rollout_table(result))
    with st.expander("The decision at every evaluation"):
        table(result.timeline)
