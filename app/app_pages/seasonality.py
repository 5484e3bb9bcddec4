"""Seasonality: is it drift, or is it just Monday? One metric of one segment split into trend, seasonal and
residual, with flagged points, drift events shaded, the day-over-day / week-over-week view and a verdict.

URL parameters (all optional, bad values fall back to defaults): sz_table (kpis | service), sz_metric (cpa, cr,
conversions, latency_p99_ms, ...), sz_segment ("All traffic" or COLUMN=VALUE, e.g. geo=DE), sz_mode (batch |
causal), sz_day (the day compared with the day before and the week before, YYYY-MM-DD).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.metrics import metrics_for
from driftdesk.seasonality import SeasonalityResult, detect, metric_series
from driftdesk.seasonality.compare import DayComparison, compare_day
from driftdesk.seasonality.series import parse_segment, segment_options, series_metric
from ui.data import current_dataset, current_source, folder_mtime, load_source, source_folder

TABLE, METRIC, SEGMENT, MODE, DAY = "sz_table", "sz_metric", "sz_segment", "sz_mode", "sz_day"
MODES = ("batch", "causal")
SERVICE_METRICS = ("latency_p99_ms", "latency_p95_ms", "latency_p50_ms", "requests", "errors", "timeouts", "queue_depth")
STATUS_ICON = {"seasonal": ":material/check_circle:", "anomaly": ":material/bolt:", "drift": ":material/trending_up:",
               "data_break": ":material/link_off:", "too_short": ":material/hourglass_empty:",
               "constant": ":material/horizontal_rule:", "empty": ":material/block:"}
STATUS_ORDER = {"drift": 0, "data_break": 1, "anomaly": 2, "seasonal": 3, "constant": 4, "too_short": 5, "empty": 6}


def _segment_columns(dataset, table: str) -> list[str]:
    if table == "service":
        return ["service"]
    return list(dataset[table].segments)


def _metrics_for(frame: pl.DataFrame, table: str) -> list[str]:
    if table == "service":
        return [m for m in SERVICE_METRICS if m in frame.columns]
    return [m.name for m in metrics_for(table) if all(c in frame.columns for c in m.columns)]


def _calendar(source: str):
    ds = load_source(source)
    return ds["calendar"].frame if "calendar" in ds else None


@st.cache_data(max_entries=64, show_spinner="Decomposing the series…")
def _one(source: str, stamp: float, table: str, metric: str, segment: str, causal: bool) -> tuple[pl.DataFrame, SeasonalityResult]:
    frame = load_source(source)[table].frame
    where = parse_segment(segment)
    series = metric_series(frame, metric, where=where)
    return series, detect(series, causal=causal, calendar=_calendar(source), scope=where)


@st.cache_data(max_entries=64, show_spinner=False)
def _by_column(source: str, stamp: float, table: str, metric: str, column: str, causal: bool) -> SeasonalityResult:
    frame = load_source(source)[table].frame
    series = metric_series(frame, metric, by=column)
    return detect(series, by=column, causal=causal, calendar=_calendar(source))


@st.cache_data(max_entries=64, show_spinner=False)
def _compare(series: pl.DataFrame, day: dt.date, how: str) -> DayComparison:
    return compare_day(series, day, how=how)


def fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.2f}{unit}"
    return f"{v:.4g}"


def _pct(x: float | None) -> str | None:
    return None if x is None else f"{x * 100:+.1f}%"


st.title("Seasonality")
st.caption("Is it drift, or is it just Monday? Each series is split into a trend, a repeating daily and weekly "
           "pattern and a residual. One-off spikes are **anomalies**; a level shift or a trend change the calendar "
           "does not explain is **drift**. Days in the calendar table (holidays, promotions) are calendar, not drift.")
dataset = current_dataset()
if dataset is None:
    st.stop()
tables = [t for t in ("kpis", "service") if t in dataset]
if not tables:
    st.info("No kpis or service table loaded: this page needs an hourly table. Add one on the Data page.")
    st.stop()

c1, c2, c3, c4 = st.columns([1, 2, 2, 1])
table: str = c1.selectbox("Table", tables, key=TABLE, bind="query-params")
frame = dataset[table].frame
metrics = _metrics_for(frame, table)
if not metrics:
    st.info(f"The {table} table has none of the columns a metric needs.")
    st.stop()
metric: str = c2.selectbox("Metric", metrics, key=METRIC, bind="query-params",
                           help="cr = conversions / clicks, cpa = spend / conversions, ctr = clicks / impressions, "
                           "roas = revenue / spend: ratios of sums per hour, never means of ratios.")
seg_cols = _segment_columns(dataset, table)
options = segment_options(frame, seg_cols)
if table == "service":
    options = [o for o in options if o != "All traffic"]
segment: str = c3.selectbox("Segment", options, key=SEGMENT, bind="query-params",
                            help="All traffic, or one value of one segment column.")
mode: str = c4.selectbox("Mode", MODES, key=MODE, bind="query-params",
                         help="batch: the whole history at once, for exploring. causal: every flag uses only earlier "
                         "data, the way a gate would have seen it.")

source = current_source()
stamp = folder_mtime(source_folder(source))
try:
    series, result = _one(source, stamp, table, metric, segment, mode == "causal")
except DriftdeskError as exc:
    st.error(str(exc))
    st.stop()
if series.height == 0:
    st.info(f"No rows for {segment}.")
    st.stop()

row = result.verdicts.row(0, named=True)
label = series_metric(frame, metric).label
st.subheader(f"{STATUS_ICON.get(row['status'], '')} {label[:1].upper() + label[1:]}, {segment}: {row['verdict']}")
st.caption(f"Periods {row['periods'] or 'none'} (steps of one hour: 24 = daily, 168 = weekly) · "
           f"{row['n_points']:,} points · {mode} mode · anomaly |score| ≥ {result.config['anomaly_z']:g}. "
           "Shaded orange: drift events; shaded blue: calendar days.")

left, right = st.columns([3, 2])
with left:
    if row["status"] in ("too_short", "empty", "constant"):
        st.info(row["verdict"])
    else:
        st.plotly_chart(result.to_figure(), width="stretch", key="decomposition")
with right:
    last_full = (series["ts"].max() - dt.timedelta(hours=23)).date()
    first_day = series["ts"].min().date()
    day: dt.date = st.date_input("Day to compare (UTC)", value=last_full, min_value=first_day, max_value=last_full,
                                 key=DAY, bind="query-params", format="YYYY-MM-DD")
    how = "sum" if series_metric(frame, metric).aggregation in ("sum", "count") else "mean"
    comparison = _compare(series, day, how)
    t = comparison.totals
    m1, m2, m3 = st.columns(3)
    word = "total" if how == "sum" else "mean"
    m1.metric(f"{day:%a %d %b} ({word})", fmt(t["current"]))
    m2.metric("vs day before", fmt(t["day_over_day"]), _pct(t["change_vs_day_over_day"]), delta_color="off")
    m3.metric("vs week before", fmt(t["week_over_week"]), _pct(t["change_vs_week_over_week"]), delta_color="off")
    st.plotly_chart(comparison.to_figure(), width="stretch", key="comparison")
    st.caption("Day over day compares with yesterday's same hours; week over week with the same weekday, which "
               "already carries the weekly pattern, so a gap only there is rarely 'just Monday'.")

st.markdown("##### Events")
if result.events.height:
    st.dataframe(result.events.select("start", "end", "kind", "direction", "magnitude", "detected_at", "score"),
                 hide_index=True, width="stretch",
                 column_config={"magnitude": st.column_config.NumberColumn(format="percent"),
                                "score": st.column_config.NumberColumn(format="%.1f")})
else:
    st.caption("No anomaly, drift or data break in this series.")

st.markdown("##### Every segment")
st.caption(f"The same metric for every value of {', '.join(seg_cols)}: which segments drift, which only repeat "
           "their calendar.")
progress = st.progress(0.0, text="Decomposing every segment…")
parts = []
for i, col in enumerate(seg_cols):
    try:
        res = _by_column(source, stamp, table, metric, col, mode == "causal")
    except DriftdeskError as exc:
        st.warning(f"{col}: {exc}")
        continue
    parts.append(res.verdicts.select(pl.concat_str([pl.lit(f"{col}="), pl.col(col).cast(pl.String)]).alias("segment"),
                                     "status", "verdict"))
    progress.progress((i + 1) / len(seg_cols), text=f"{col}: {res.verdicts.height} series decomposed")
progress.empty()
if parts:
    overview = pl.concat(parts).with_columns(pl.col("status").replace_strict(STATUS_ORDER, default=9).alias("_o"))
    st.dataframe(overview.sort("_o", "segment").drop("_o"), hide_index=True, width="stretch")
