"""The Overview page body and the Data page's table summary."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from driftdesk.business import IMPACT_METRICS
from driftdesk.format import format_value
from driftdesk.llm import TREND_METRICS
from driftdesk.overview import Overview
from driftdesk.status import MISSING
from ui import params
from ui.render.text import STATUS_BADGE, STATUS_DOT, md, table

LAYER_TITLES = {"service": "Service", "data": "Data", "model": "Model", "business": "Business", "llm": "LLM"}
LINK_HELP = {"service": "the Seasonality page of this service's lead metric",
             "data": "the Drift page of the decisions' inputs", "model": "the Calibration page",
             "business": "Segments & impact: which segments moved the lead metric, by mix or by rate",
             "llm": "the LLM page: every version"}
SEASONALITY_SERVICE_METRICS = ("latency_p99_ms", "latency_p95_ms", "requests", "errors", "timeouts")
NUMBER_COLUMNS = ("current", "day_over_day", "week_over_week", "known_good")
CHANGES = {"change_day_over_day": "d/d", "change_week_over_week": "w/w", "change_known_good": "k/g"}


def _metric_line(row: dict, *, known_good: bool) -> str:
    subject = "" if row["subject"] in (None, "all") else f" · {md(row['subject'])}"
    changes = [f"{short} {md(format_value(row[c], 'change'))}" for c, short in CHANGES.items()
               if known_good or c != "change_known_good"]
    return (f"{STATUS_DOT.get(row['status'], '')} **{md(row['label'])}**{subject}: "
            f"{md(format_value(row['current'], row['unit']))}  \n:gray[:small[{' · '.join(changes)}]]")


def layer_link(layer: str, rows: list[dict], day: dt.date, source: str) -> tuple[str, str, dict] | None:
    """The page that explains a layer, opened on the same day and data (page script, label, query parameters);
    the card's lead metric chooses what the page shows first."""
    top = rows[0] if rows else {}
    metric, subject = top.get("metric"), top.get("subject")
    query: dict[str, str] = {params.DATA: source}
    if layer == "service":
        query |= {params.TABLE: "service", params.DAY: day.isoformat()}
        if metric in SEASONALITY_SERVICE_METRICS:
            query[params.METRIC] = metric
        if subject not in (None, "all"):
            query[params.SEGMENT] = f"service={subject}"
        return "app_pages/seasonality.py", "Seasonality", query
    if layer == "data":
        query |= {params.TABLE: "decisions", params.DAY: day.isoformat()}
        if metric == "null_rate" and subject not in (None, "all"):
            query[params.COLUMN] = subject
        return "app_pages/drift.py", "Drift", query
    if layer == "model":
        query |= {params.END: day.isoformat(), params.DAYS: "1", params.VS: "week_over_week"}
        return "app_pages/calibration.py", "Calibration", query
    if layer == "business":
        query |= {params.END: day.isoformat(), params.DAYS: "1", params.VS: "week_over_week",
                  params.METRIC: metric if metric in IMPACT_METRICS else "cpa"}
        return "app_pages/impact.py", "Segments", query
    if layer == "llm":
        query |= {params.END: day.isoformat(), params.DAYS: "1"}
        if metric in TREND_METRICS:
            query[params.METRIC] = metric
        return "app_pages/llm.py", "LLM", query
    return None


def render_status_grid(result: Overview, source: str) -> None:
    """One bordered card per layer: its status, why, the numbers behind it (all of them in the tabs below), and a
    link to the page that explains it on the same day and data."""
    cols = st.columns(len(result.layers))
    for col, layer in zip(cols, result.layers.iter_rows(named=True)):
        with col, st.container(border=True, height="stretch"):
            st.subheader(f"{LAYER_TITLES.get(layer['layer'], md(layer['layer']))} {STATUS_BADGE[layer['status']]}",
                         anchor=f"layer-{layer['layer']}")  # an anchor of words, not of the badge's icon
            if layer["note"]:
                st.caption(md(layer["note"]))
            rows = result.headlines(layer["layer"])
            if rows:
                st.markdown("  \n".join(_metric_line(r, known_good=result.known_good is not None) for r in rows))
                more = result.layer(layer["layer"]).height - len(rows)
                st.caption(f"table: {md(layer['table'])}" + (f" · {format_value(more, 'count')} more below" if more > 0 else ""))
            elif layer["status"] == MISSING:
                st.caption("Load this table on the Data page to see this layer.")
            link = layer_link(layer["layer"], rows, result.day, source) if layer["status"] != MISSING else None
            if link is not None:
                page, label, query = link
                st.page_link(page, label=label, icon=":material/arrow_forward:", query_params=query,
                             help=f"Open {LINK_HELP[layer['layer']]}, on {result.day.isoformat()} with the same data.")


def metrics_table(result: Overview) -> pl.DataFrame:
    """The Overview's numbers, each formatted in its own unit (a column mixes units, so the cells are text); the
    known-good columns only when a known-good baseline was asked for."""
    m = result.metrics
    cells = [pl.Series(c, [format_value(v, u) for v, u in zip(m[c].to_list(), m["unit"].to_list())], dtype=pl.String)
             for c in NUMBER_COLUMNS]
    changes = [pl.Series(c, [format_value(v, "change") for v in m[c].to_list()], dtype=pl.String) for c in CHANGES]
    known_good = [cells[3].alias("known good"), changes[2].alias("change k/g")] if result.known_good is not None else []
    return pl.DataFrame([m["layer"], m["label"].alias("metric"), m["subject"], m["status"], cells[0],
                         cells[1].alias("day before"), changes[0].alias("change d/d"), cells[2].alias("week before"),
                         changes[1].alias("change w/w"), *known_good, m["note"]])


def render_overview(result: Overview, source: str) -> None:
    """The Overview page body: the day's answer, what it is compared with, status grid, timeline, all numbers."""
    st.subheader(md(result.answer), anchor="answer")
    st.caption(md(result.headline) + (f" {md(result.status_counts)}" if result.status_counts else ""))
    render_status_grid(result, source)
    st.plotly_chart(result.to_figure(), width="stretch", key="overview_timeline")
    st.markdown("##### All numbers behind the statuses")
    numbers = metrics_table(result)
    present = [name for name in result.layers["layer"] if numbers.filter(pl.col("layer") == name).height]
    if present:
        tabs = st.tabs([LAYER_TITLES.get(n, n) for n in present], key=params.NUMBERS, bind="query-params")
        for tab, name in zip(tabs, present):
            with tab:
                table(numbers.filter(pl.col("layer") == name).drop("layer"))
    events = result.events.filter(pl.col("kind") != "calendar")
    with st.expander("Releases and incidents in the timeline, as a table", key=params.EVENTS, bind="query-params"):
        st.caption(f"{format_value(events.height, 'count')} in the last {format_value(result.span.duration.days, 'count')} "
                   f"days up to {result.day.isoformat()}")
        table(events.select("kind", "start", "end", "name", "group", "severity", "detail"))


def render_summary(summary: pl.DataFrame) -> None:
    """Each loaded table: rows, time range, columns, file."""
    table(summary.select("table", "rows", "start", "end", "columns",
                         pl.col("source").str.replace(r"^.*[/\\]", "").alias("file")), units={"rows": "count"})
