"""One render function per result type, so pages never format numbers themselves."""

from __future__ import annotations

import math

import polars as pl
import streamlit as st

from driftdesk.overview import Overview
from driftdesk.status import ALERT, MISSING, NOT_ENOUGH_DATA, OK, WARN, rank
from ui import params

STATUS_BADGE = {
    OK: ":green-badge[:material/check_circle: ok]",
    WARN: ":orange-badge[:material/warning: warn]",
    ALERT: ":red-badge[:material/error: alert]",
    NOT_ENOUGH_DATA: ":gray-badge[:material/help: not enough data]",
    MISSING: ":gray-badge[:material/block: no table]",
}
STATUS_DOT = {OK: ":green[●]", WARN: ":orange[●]", ALERT: ":red[●]", NOT_ENOUGH_DATA: ":gray[○]", MISSING: ":gray[○]"}
LAYER_TITLES = {"service": "Service", "data": "Data", "model": "Model", "business": "Business", "llm": "LLM"}


def fmt_value(value: float | None, unit: str) -> str:
    """A number the way a marketer reads it: 1.23%, $12.34, 250 ms, 12,345."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "rate":
        return f"{value:.2%}" if abs(value) < 0.1 else f"{value:.1%}"
    if unit == "usd":
        return f"${value:,.0f}" if abs(value) >= 1000 else f"${value:,.2f}" if abs(value) >= 0.1 else f"${value:.4f}"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "tokens":
        return f"{value:,.1f}"
    return f"{value:.3f}"


def fmt_change(change: float | None) -> str:
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return "–"
    if math.isinf(change):
        return "new"
    return f"{change:+.1%}" if abs(change) < 0.1 else f"{change:+.0%}"


CARD_LINES = 4


def _metric_line(row: dict) -> str:
    subject = "" if row["subject"] in (None, "all") else f" · {row['subject']}"
    return (f"{STATUS_DOT.get(row['status'], '')} **{row['label']}**{subject}: {fmt_value(row['current'], row['unit'])}"
            f"  \n<small style='color:gray'>d/d {fmt_change(row['change_day_over_day'])} · "
            f"w/w {fmt_change(row['change_week_over_week'])}</small>")


def card_rows(metrics: pl.DataFrame, limit: int = CARD_LINES) -> list[dict]:
    """The lines a layer card shows: per metric its most-moved subject (feature, service), flagged metrics first."""
    def order(status: str) -> int:  # most severe first: alert 0, warn 1, ok 2, not enough data 3
        return rank(ALERT) - rank(status)

    def moved(row: dict) -> float:
        changes = [abs(c) for c in (row["change_day_over_day"], row["change_week_over_week"]) if c is not None]
        return max(changes, default=0.0)

    best: dict[str, tuple[int, dict]] = {}
    for i, row in enumerate(metrics.iter_rows(named=True)):
        key = (order(row["status"]), -moved(row))
        if row["metric"] not in best or key < (order(best[row["metric"]][1]["status"]), -moved(best[row["metric"]][1])):
            best[row["metric"]] = (best.get(row["metric"], (i, row))[0], row)
    rows = sorted(best.values(), key=lambda ir: (order(ir[1]["status"]) > 1, ir[0]))
    return [r for _, r in rows[:limit]]


def render_status_grid(result: Overview) -> None:
    """One bordered card per layer: its status, why, and the numbers behind it (all of them in the tabs below)."""
    cols = st.columns(len(result.layers))
    for col, layer in zip(cols, result.layers.iter_rows(named=True)):
        with col, st.container(border=True, height="stretch"):
            st.markdown(f"#### {LAYER_TITLES.get(layer['layer'], layer['layer'])} {STATUS_BADGE[layer['status']]}")
            if layer["note"]:
                st.markdown(f"<small>{layer['note']}</small>", unsafe_allow_html=True)
            metrics = result.layer(layer["layer"])
            rows = card_rows(metrics)
            if rows:
                st.markdown("  \n".join(_metric_line(r) for r in rows), unsafe_allow_html=True)
                more = metrics.height - len(rows)
                st.caption(f"table: {layer['table']}" + (f" · {more} more below" if more > 0 else ""))
            elif layer["status"] == MISSING:
                st.caption("Load this table on the Data page to see this layer.")


def metrics_table(result: Overview) -> pl.DataFrame:
    """The Overview's numbers, formatted for reading."""
    rows = [
        {
            "layer": r["layer"],
            "metric": r["label"],
            "subject": r["subject"],
            "status": r["status"],
            "current": fmt_value(r["current"], r["unit"]),
            "day before": fmt_value(r["day_over_day"], r["unit"]),
            "change d/d": fmt_change(r["change_day_over_day"]),
            "week before": fmt_value(r["week_over_week"], r["unit"]),
            "change w/w": fmt_change(r["change_week_over_week"]),
            "known good": fmt_value(r["known_good"], r["unit"]),
            "change k/g": fmt_change(r["change_known_good"]),
            "note": r["note"],
        }
        for r in result.metrics.iter_rows(named=True)
    ]
    columns = ["layer", "metric", "subject", "status", "current", "day before", "change d/d", "week before",
               "change w/w", "known good", "change k/g", "note"]
    if len(result.baselines) < 3:  # no known-good baseline asked for
        columns = [c for c in columns if c not in ("known good", "change k/g")]
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String))


def render_overview(result: Overview) -> None:
    """The Overview page body: headline, status grid, timeline, all numbers."""
    dod, wow = result.baselines[:2]
    good = result.baselines[2:]
    st.markdown(
        f"Status of **{result.day.isoformat()}** ({result.day.strftime('%A')}, UTC) against the same hours "
        f"one day earlier ({dod.start.date().isoformat()}) and one week earlier ({wow.start.date().isoformat()})"
        + (f", and the known-good baseline {good[0].start:%Y-%m-%d %H:%M} → {good[0].end:%Y-%m-%d %H:%M}." if good
           else ".")
    )
    counts = result.layers["status"].value_counts()
    n = {row["status"]: row["count"] for row in counts.iter_rows(named=True)}
    summary = ", ".join(f"{n[s]} {label}" for s, label in ((ALERT, "alert"), (WARN, "warning"), (OK, "ok"))
                        if n.get(s))
    if summary:
        st.caption(f"Layers: {summary}.")
    render_status_grid(result)
    st.plotly_chart(result.to_figure(), width="stretch", key="overview_timeline")
    st.markdown("##### All numbers behind the statuses")
    table = metrics_table(result)
    present = [name for name in result.layers["layer"] if table.filter(pl.col("layer") == name).height]
    if present:
        tabs = st.tabs([LAYER_TITLES.get(n, n) for n in present], key=params.NUMBERS, bind="query-params")
        for tab, name in zip(tabs, present):
            with tab:
                st.dataframe(table.filter(pl.col("layer") == name).drop("layer"), hide_index=True, width="stretch")
    events = result.events.filter(pl.col("kind") != "calendar")
    with st.expander("Releases and incidents in the timeline, as a table", key=params.EVENTS, bind="query-params"):
        st.caption(f"{events.height} in the last {result.span.duration.days} days up to {result.day.isoformat()}")
        st.dataframe(events.select("kind", "start", "end", "name", "group", "severity", "detail"),
                     hide_index=True, width="stretch")


def render_summary(summary: pl.DataFrame) -> None:
    """Each loaded table: rows, time range, columns."""
    st.dataframe(
        summary.select("table", "rows", "start", "end", "columns",
                       pl.col("source").str.replace(r"^.*[/\\]", "").alias("file")),
        hide_index=True, width="stretch",
        column_config={"rows": st.column_config.NumberColumn(format="localized")},
    )


LLM_TABLE_METRICS = ("calls", "validator_failure_rate", "refusal_rate", "latency_p95_ms", "tokens_out_mean",
                     "cost_per_call", "judge_score_mean")


def llm_table(view) -> pl.DataFrame:
    """Current value and change vs baseline per group, formatted, worst regression first."""
    from driftdesk.metrics import get_metric

    cmp = view.result.comparison
    by = list(view.result.by)
    current = view.result.groups.filter(pl.col("window") == "current")
    rows = []
    for group in current.iter_rows(named=True):
        key = {c: group[c] for c in by}
        part = cmp.filter(pl.all_horizontal([pl.col(c) == v for c, v in key.items()])) if by else cmp
        row = {"group": ", ".join(str(v) for v in key.values()) or "all calls"}
        for m in LLM_TABLE_METRICS:
            label, unit = get_metric(m, "llm_calls").label, get_metric(m, "llm_calls").unit
            r = part.filter(pl.col("metric") == m)
            cur = r["current"][0] if r.height else None
            change = r["relative_change"][0] if r.height else None
            row[label] = fmt_value(cur, unit) + (f"  ({fmt_change(change)})" if change is not None else "")
        row["compared with"] = part["reference"][0] if part.height else ""
        rows.append(row)
    return pl.DataFrame(rows)


def render_llm(view, *, metric: str, budget_per_day: float | None) -> None:
    """The LLM page body: regressions in words, the per-version table, trend and comparison charts, golden set."""
    from driftdesk.viz.llm import comparison_figure, golden_figure, trend_figure

    cur, base = view.current, view.baseline
    st.markdown(f"**Current** {cur.start:%Y-%m-%d} → {cur.end:%Y-%m-%d} vs **baseline** "
                f"{base.start:%Y-%m-%d} → {base.end:%Y-%m-%d} (end excluded, UTC)")
    sentences = view.result.summary()
    if sentences:
        st.warning("**Regressions** (up more than 20%, and for rates unlikely to be noise: p < 0.01)\n\n"
                   + "\n".join(f"- {s}" for s in sentences))
    else:
        st.success("No regression: no cost, latency or failure metric rose by more than 20% (significantly, for rates).")
    table = llm_table(view)
    if table.height:
        st.dataframe(table, hide_index=True, width="stretch")
        st.caption("Each cell: the current window's value (change vs baseline). A version new in the current window "
                   "is compared with all baseline calls.")
    else:
        st.info("No LLM calls in the current window.")
    group = view.result.by[0] if view.result.by else None
    left, right = st.columns(2)
    left.plotly_chart(trend_figure(view.series, metric, group=group, releases=view.releases,
                                   shade=(cur.start, cur.end)), width="stretch")
    right.plotly_chart(comparison_figure(view.result, metric), width="stretch")
    if budget_per_day and "budget_burn" in view.series.columns:
        daily = view.series.group_by("ts").agg(pl.col("cost_total").sum()).sort("ts")
        over = daily.filter(pl.col("cost_total") > budget_per_day)
        st.markdown(f"**Budget**: {over.height} of {daily.height} days above ${budget_per_day:,.0f}.")
        st.bar_chart(daily, x="ts", y="cost_total")
    if view.golden is not None and view.golden.height:
        st.subheader("Golden set")
        g1, g2 = st.columns([3, 2])
        g1.dataframe(view.golden, hide_index=True, width="stretch")
        g2.plotly_chart(golden_figure(view.golden), width="stretch")


DECISION_BOX = {"rollback": st.error, "pause_for_review": st.warning, "continue": st.success,
                "not_enough_data": st.info}
DECISION_WORDS = {"rollback": "Roll back", "pause_for_review": "Pause for review", "continue": "Continue",
                  "not_enough_data": "Not enough data"}


def _interval(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"[{low:+.3f}, {high:+.3f}]"


def rollout_table(result) -> pl.DataFrame:
    """Each gate and segment at the decision: both arms, the change with its interval, the verdict."""
    from driftdesk.format import format_value

    rows = []
    for r in result.segments.iter_rows(named=True):
        rows.append({"gate": r["gate"], "segment": r["segment"], "control": format_value(r["control"], "score"),
                     "candidate": format_value(r["candidate"], "score"), "change": format_value(r["change"], "score"),
                     "interval": _interval(r["ci_low"], r["ci_high"]), "threshold": f"{r['threshold']:g}",
                     "verdict": r["verdict"], "rows": f"{r['n_control'] or 0:,.0f} / {r['n_candidate'] or 0:,.0f}",
                     "why": r["note"] or ""})
    return pl.DataFrame(rows, schema=dict.fromkeys(["gate", "segment", "control", "candidate", "change", "interval",
                                                    "threshold", "verdict", "rows", "why"], pl.String))


def render_rollout(result) -> None:
    """The Rollouts page body: the decision and why, the figure, every segment, the replayed timeline."""
    when = f" at {result.decided_at:%Y-%m-%d %H:%M} UTC" if result.decided_at else ""
    DECISION_BOX[result.decision](f"**{DECISION_WORDS[result.decision]}**{when}: {result.reason}")
    st.caption(f"{result.candidate} vs {result.control} (column {result.arm_column}) under the rollout policy "
               f"{result.policy.name}, {result.span.start:%Y-%m-%d %H:%M} → {result.span.end:%Y-%m-%d %H:%M} UTC. "
               f"Intervals: {result.confidence:.0%}; a breach is beyond the threshold and beyond the noise.")
    for note in result.notes:
        st.warning(note)
    st.plotly_chart(result.to_figure(), width="stretch", key="rollout_figure")
    st.markdown("##### Candidate vs control in every segment, at the decision")
    st.dataframe(rollout_table(result), hide_index=True, width="stretch")
    with st.expander("The decision at every evaluation"):
        st.dataframe(result.timeline, hide_index=True, width="stretch")


def render_incident(view) -> None:
    """The Incidents page body: headline, timeline, what was live and changed, severity, checklist, gates, export."""
    from driftdesk.incidents import postmortem_archive

    inc = view.incident
    st.subheader(f"{inc['incident_id']} · {inc.get('layer') or 'layer unknown'} · {inc.get('segment') or 'all traffic'}")
    st.text(inc.get("cause") or "")
    m = st.columns(4)
    m[0].metric("Severity logged", view.severity_logged or "–")
    m[1].metric("Severity suggested", view.severity_suggested,
                help="From the evidence, by the first rule that holds: P0 wrong predictions to more than half the "
                     "traffic, P1 a KPI down more than 20%, P2 drift with 5-20% degradation, P3 drift without impact.")
    m[2].metric("First alert", f"{view.asked_at:%m-%d %H:%M}" if view.caught else "none")
    delay = view.gates.filter(pl.col("caught"))["delay_hours"].min() if view.caught else None
    m[3].metric("Caught after", "not caught" if delay is None else f"{delay:.0f} h")
    st.caption(f"Alerts from {view.policy_source}.")
    st.plotly_chart(view.to_figure(), width="stretch", key="incident_timeline")
    left, right = st.columns(2)
    with left:
        st.markdown("##### What was live when it started")
        st.dataframe(view.live.components.select("component", "role", "release_id", "version", "since",
                                                 "traffic_share"), hide_index=True, width="stretch")
    with right:
        st.markdown(f"##### What changed (48 h before the start, up to {view.asked_at:%Y-%m-%d %H:%M})")
        st.dataframe(view.changes, hide_index=True, width="stretch")
    st.markdown("##### The first 30 minutes")
    with st.container(border=True):
        for step, answer in view.checklist.iter_rows():
            st.markdown(f"**{step}**  \n{answer}")
    sev_tab, gates_tab, canary_tab = st.tabs(["Severity evidence", "Gates", "Canary"])
    with sev_tab:
        st.dataframe(view.evidence, hide_index=True, width="stretch")
    with gates_tab:
        st.dataframe(view.gates, hide_index=True, width="stretch")
    with canary_tab:
        if view.rollout:
            r = view.rollout
            st.markdown(f"The rollout policy judged the canary {r['release_id']} ({r['candidate']} vs {r['control']}): "
                        f"**{r['decision']}**" + (f" at {r['decided_at']:%Y-%m-%d %H:%M} UTC, "
                                                  f"{r['hours_after_canary_start']:.0f} h into the canary"
                                                  if r["decided_at"] else "")
                        + (f"; segments: {', '.join(r['segments'])}" if r["segments"] else "") + ".")
        else:
            st.caption("No model canary took traffic around this incident.")
    for note in view.notes:
        st.caption(note)
    st.download_button("Export the postmortem (Markdown, PNG figures, JSON)", data=lambda: postmortem_archive(view),
                       file_name=f"{inc['incident_id']}-postmortem.zip", mime="application/zip",
                       icon=":material/download:", on_click="ignore")
