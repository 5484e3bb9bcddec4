"""One render function per result type, so pages never format numbers themselves."""

from __future__ import annotations

import math

import polars as pl
import streamlit as st

from driftdesk.overview import Overview

STATUS_BADGE = {
    "ok": ":green-badge[:material/check_circle: ok]",
    "warn": ":orange-badge[:material/warning: warn]",
    "alert": ":red-badge[:material/error: alert]",
    "no_data": ":gray-badge[:material/help: no data]",
    "missing": ":gray-badge[:material/block: no table]",
}
STATUS_DOT = {"ok": ":green[●]", "warn": ":orange[●]", "alert": ":red[●]", "no_data": ":gray[○]", "missing": ":gray[○]"}
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
    order = {"alert": 0, "warn": 1, "ok": 2, "no_data": 3}

    def moved(row: dict) -> float:
        changes = [abs(c) for c in (row["change_day_over_day"], row["change_week_over_week"]) if c is not None]
        return max(changes, default=0.0)

    best: dict[str, tuple[int, dict]] = {}
    for i, row in enumerate(metrics.iter_rows(named=True)):
        key = (order.get(row["status"], 4), -moved(row))
        if row["metric"] not in best or key < (order.get(best[row["metric"]][1]["status"], 4), -moved(best[row["metric"]][1])):
            best[row["metric"]] = (best.get(row["metric"], (i, row))[0], row)
    rows = sorted(best.values(), key=lambda ir: (order.get(ir[1]["status"], 4) > 1, ir[0]))
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
            elif layer["status"] == "missing":
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
            "note": r["note"],
        }
        for r in result.metrics.iter_rows(named=True)
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(
        ["layer", "metric", "subject", "status", "current", "day before", "change d/d", "week before", "change w/w", "note"],
        pl.String))


def render_overview(result: Overview) -> None:
    """The Overview page body: headline, status grid, timeline, all numbers."""
    dod, wow = result.baselines
    st.markdown(
        f"Status of **{result.day.isoformat()}** ({result.day.strftime('%A')}, UTC) against the same hours "
        f"one day earlier ({dod.start.date().isoformat()}) and one week earlier ({wow.start.date().isoformat()})."
    )
    counts = result.layers["status"].value_counts()
    n = {row["status"]: row["count"] for row in counts.iter_rows(named=True)}
    summary = ", ".join(f"{n[s]} {label}" for s, label in (("alert", "alert"), ("warn", "warning"), ("ok", "ok"))
                        if n.get(s))
    if summary:
        st.caption(f"Layers: {summary}.")
    render_status_grid(result)
    st.plotly_chart(result.to_figure(), width="stretch", key="overview_timeline")
    st.markdown("##### All numbers behind the statuses")
    table = metrics_table(result)
    present = [name for name in result.layers["layer"] if table.filter(pl.col("layer") == name).height]
    if present:
        for tab, name in zip(st.tabs([LAYER_TITLES.get(n, n) for n in present]), present):
            with tab:
                st.dataframe(table.filter(pl.col("layer") == name).drop("layer"), hide_index=True, width="stretch")
    events = result.events.filter(pl.col("kind") != "calendar")
    with st.expander(f"Releases and incidents in the timeline ({events.height})"):
        st.dataframe(events.select("kind", "start", "end", "name", "group", "severity", "detail"),
                     hide_index=True, width="stretch")


def render_summary(summary: pl.DataFrame) -> None:
    """Each loaded table: rows, time range, columns."""
    st.dataframe(
        summary.select("table", "rows", "start", "end", "columns", "source"),
        hide_index=True, width="stretch",
        column_config={"rows": st.column_config.NumberColumn(format="localized")},
    )
