"""The Seasonality page's views: one metric of one segment decomposed, and the verdict of every segment.

``seasonality_view`` is one series: its decomposition, flags, events and verdict, and one day beside the day
before and the week before. ``segment_verdicts`` is the same metric for every value of every segment column,
drifting segments first. Which tables, metrics and segments the page offers is decided here too.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from driftdesk.bounds import check_day
from driftdesk.calendars import Calendar, effective_calendar
from driftdesk.contract import Dataset
from driftdesk.errors import DriftdeskError
from driftdesk.format import format_value
from driftdesk.jsonsafe import jsonable
from driftdesk.metrics import metrics_for
from driftdesk.seasonality.calendar import calendar_days
from driftdesk.seasonality.compare import DayComparison, compare_day
from driftdesk.seasonality.detect import SharedScans, detect, shared_scans
from driftdesk.seasonality.result import RESULT_COLUMNS, SeasonalityResult
from driftdesk.seasonality.series import (
    LowVolume,
    low_volume,
    metric_series,
    metric_series_of,
    parse_segment,
    segment_options,
    series_metric,
)
from driftdesk.seasonality.verdicts import VERDICT_KINDS, shown_status

SEASONALITY_TABLES = ("kpis", "service")  # hourly tables with a metric per hour
SERVICE_METRICS = ("latency_p99_ms", "latency_p95_ms", "latency_p50_ms", "requests", "errors", "timeouts", "queue_depth")
MODES = ("batch", "causal")
ALL_TRAFFIC = "All traffic"
# verdict kinds, most in need of a look first: the order the every-segment table is sorted by
VERDICT_ORDER = VERDICT_KINDS

Mode = Literal["batch", "causal"]


def seasonality_tables(dataset: Dataset) -> list[str]:
    """The loaded tables the page can decompose."""
    return [t for t in SEASONALITY_TABLES if t in dataset]


def seasonality_metrics(dataset: Dataset, table: str) -> list[str]:
    """The metrics a table offers: the registry's metrics whose columns it has (the service's own columns)."""
    columns = dataset[table].frame.columns
    if table == "service":
        return [m for m in SERVICE_METRICS if m in columns]
    return [m.name for m in metrics_for(table) if all(c in columns for c in m.columns)]


def segment_columns(dataset: Dataset, table: str) -> list[str]:
    """The columns a table's series are split by (the service table: per service); not a column named like one of
    the result's own (``unsplittable_columns``)."""
    return ["service"] if table == "service" else [c for c in dataset[table].segments if c not in RESULT_COLUMNS]


def unsplittable_columns(dataset: Dataset, table: str) -> list[str]:
    """Segment columns the series cannot be split by: named like a column of the result (a segment ``kind``
    beside the events' ``kind``)."""
    return [] if table == "service" else [c for c in dataset[table].segments if c in RESULT_COLUMNS]


def seasonality_segments(dataset: Dataset, table: str) -> list[str]:
    """The segments one series can be: 'All traffic' (not for the service table) and every 'column=value'."""
    options = segment_options(dataset[table].frame, segment_columns(dataset, table))
    return [o for o in options if o != ALL_TRAFFIC] if table == "service" else options


def seasonality_days(dataset: Dataset, table: str) -> tuple[dt.date, dt.date] | None:
    """The first day of a table and its last whole day (the latest day that can be compared hour by hour)."""
    ts = dataset[table].frame["ts"]
    if ts.is_empty() or ts.max() is None:
        return None
    first, last = ts.min(), ts.max()
    return first.date(), max(first.date(), (last - dt.timedelta(hours=23)).date())


def _calendar(dataset: Dataset, columns: Sequence[str] = (), calendar: Calendar | None = None) -> pl.DataFrame:
    """The dataset's calendar days for series split or filtered by ``columns`` (driftdesk.calendars);
    ``calendar``: ``effective_calendar(dataset)`` when the caller has it."""
    return (effective_calendar(dataset) if calendar is None else calendar).for_series(columns)


@dataclass(frozen=True)
class SeasonalityView:
    """One metric of one segment: the series, its decomposition, flags, events and verdict, and one ``day`` against
    the day before and the week before (each day the metric over its rows: a total for volumes, ``how``)."""

    table: str
    metric: str
    label: str
    segment: str
    mode: Mode
    series: pl.DataFrame  # ts, value
    result: SeasonalityResult
    day: dt.date | None
    comparison: DayComparison | None
    how: Literal["sum", "mean"]
    unit: str
    low_volume: LowVolume | None = None  # points below the metric's minimum count, left out (driftdesk.metrics)

    @property
    def verdict(self) -> dict:
        """The series' verdict row: status (the kind of finding), verdict (a sentence), periods, n_points."""
        return self.result.verdicts.row(0, named=True)

    @property
    def headline(self) -> str:
        label = f"{self.label[:1].upper() + self.label[1:]}, {self.segment}"
        if self.low_volume is not None and (self.low_volume.mostly or self.verdict["status"] == "empty"):
            return f"{label}: not enough data. {self.low_volume.sentence}"
        return f"{label}: {self.verdict['verdict']}"

    @property
    def details(self) -> str:
        """How the series was read: periods, points, mode and the anomaly threshold."""
        v = self.verdict
        periods = (f"Periods {v['periods']} (steps of one hour: 24 = daily, 168 = weekly)" if v["periods"]
                   else "No daily or weekly period fitted")
        said = self.low_volume is not None and self.headline.endswith(self.low_volume.sentence)  # not twice
        return (f"{periods} · {format_value(v['n_points'], 'count')} points · {self.mode} mode · anomaly |score| ≥ "
                f"{format_value(self.result.config['anomaly_z'], 'count')}."
                + (f" {self.low_volume.sentence}" if self.low_volume and not said else ""))

    @property
    def undrawn(self) -> str:
        """Why there is no decomposition to draw, in words: the verdict's, except a series whose every point was
        left out for too little volume (the verdict would call its points null, which the data's rows are not)."""
        if self.low_volume is not None and self.low_volume.thin == self.low_volume.total:
            return (f"Nothing to draw: every point has fewer than {format_value(self.low_volume.least, 'count')} "
                    f"{self.low_volume.column} behind it. Choose a volume metric or a larger segment.")
        return self.verdict["verdict"]

    @property
    def hours_drawable(self) -> bool:
        """Whether the hour-by-hour comparison of the day has any value to draw."""
        frame = self.comparison.frame if self.comparison is not None else None
        return frame is not None and any(frame[c].drop_nulls().len() for c in ("current", "day_over_day",
                                                                                "week_over_week"))

    @property
    def decomposed(self) -> bool:
        """Whether there is a decomposition to draw (not too short, empty or constant)."""
        return self.verdict["status"] not in ("too_short", "empty", "constant")

    def day_totals(self) -> list[tuple[str, str, str | None]]:
        """(label, value, change) for the day and its two baselines, formatted in the metric's unit."""
        if self.comparison is None or self.day is None:
            return []
        t = self.comparison.totals
        word = "total" if self.how == "sum" else "whole day"
        return [
            (f"{self.day:%a %d %b} ({word})", format_value(t["current"], self.unit), None),
            ("vs day before", format_value(t["day_over_day"], self.unit),
             _change(t["change_vs_day_over_day"])),
            ("vs week before", format_value(t["week_over_week"], self.unit),
             _change(t["change_vs_week_over_week"])),
        ]

    @property
    def day_note(self) -> str | None:
        """Why a card of ``day_totals`` reads "–": the data has no row that day (a gap), or too few events behind
        the metric to read it; None when every card has a value."""
        if self.comparison is None or self.day is None:
            return None
        days = {"current": (self.day, f"{self.day:%a %d %b}"), "day_over_day": (self.day - dt.timedelta(days=1),
                "the day before"), "week_over_week": (self.day - dt.timedelta(days=7), "the week before")}
        seen = set(self.series["ts"].dt.date().unique().to_list())
        gaps = [name for key, (day, name) in days.items() if self.comparison.totals[key] is None and day not in seen]
        thin = [name for key, (day, name) in days.items() if self.comparison.totals[key] is None and day in seen]
        parts = ([f"no data on {' or '.join(gaps)} (a gap in the data)"] if gaps else []) + (
            [f"too little data on {' or '.join(thin)} to read {self.label}"] if thin else [])
        return "–: " + "; ".join(parts) + "." if parts else None

    def to_frame(self) -> pl.DataFrame:
        return self.result.points

    def to_dict(self) -> dict:
        return jsonable({
            "table": self.table, "metric": self.metric, "label": self.label, "segment": self.segment,
            "mode": self.mode, "headline": self.headline, "low_volume": self.low_volume.sentence if self.low_volume else None,
            "seasonality": self.result.to_dict(),
            "day": self.day.isoformat() if self.day else None,
            "comparison": self.comparison.to_dict() if self.comparison else None,
        })

    def to_figure(self):
        return self.result.to_figure()

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.headline)}</b></p>" + self.result._repr_html_()


def _change(value: float | None) -> str | None:
    return None if value is None else format_value(value, "change")


def column_decomposition(dataset: Dataset, *, table: str, metric: str, column: str,
                         mode: Mode = "batch") -> SeasonalityResult:
    """The metric of every value of one segment column decomposed at once (``by`` the column): what the
    every-segment verdicts read, and what one segment's view is taken from (``seasonality_view(decomposed=...)``).
    Each series is fitted as if alone: its points, flags and verdict are those of its own decomposition."""
    if mode not in MODES:
        raise DriftdeskError(f"seasonality: mode must be one of {', '.join(MODES)}, got {mode!r}")
    series = metric_series(dataset[table].frame, metric, by=column)
    return detect(series, by=column, causal=mode == "causal", calendar=_calendar(dataset, [column]))


def _resolves(frame: pl.DataFrame | pl.LazyFrame, metric: str) -> bool:
    try:
        series_metric(frame, metric)
    except DriftdeskError:
        return False
    return True


SPLIT = "__split"  # in ``every_series_decomposition``: the column a series is split by ('' for all traffic)


def every_series_decomposition(dataset: Dataset, *, table: str, metric: str, mode: Mode = "batch",
                               calendar: Calendar | None = None,
                               series: Mapping[str, pl.DataFrame] | None = None,
                               scans: SharedScans | None = None) -> SeasonalityResult:
    """All traffic and every value of every segment column decomposed in one pass: series on one grid share one
    scan, whose cost is per time step rather than per series, so the whole table costs about what one series does.
    ``by`` is ``SPLIT`` and the segment columns (null where a series is not split by one); ``series_of`` takes all
    traffic's or one column's part, the same as decomposing it alone. ``calendar`` (``effective_calendar(dataset)``)
    and ``series`` (``split_series`` of several metrics, this one among them): when the caller has them (they are
    the same for every metric); ``scans`` (``every_metric_scans``, this metric among them): its series' causal
    scans, run already (the same result)."""
    if mode not in MODES:
        raise DriftdeskError(f"seasonality: mode must be one of {', '.join(MODES)}, got {mode!r}")
    cols = segment_columns(dataset, table)
    points = series[metric] if series is not None and metric in series else \
        split_series(dataset, table=table, metrics=[metric])[metric]
    return detect(points, by=[SPLIT, *cols], causal=mode == "causal", calendar=_split_calendar(dataset, cols, calendar),
                  scans=None if scans is None else scans.restricted(**{METRIC: metric}))


METRIC = "__metric"  # in ``every_metric_scans``: the metric a series is of
# ``every_metric_scans`` is worth its first pass (one scan of every metric's series instead of one per
# metric) up to this many series and points (hourly: series x hours); a table with more is decomposed one metric
# at a time, as it is asked for, so its first view does not wait for every metric
BATCH_SERIES = 200
BATCH_POINTS = 400_000


def batched_metrics(series: Mapping[str, pl.DataFrame]) -> list[str]:
    """The metrics of ``split_series`` that ``every_metric_scans`` takes in one pass: all of them when they share
    one shape (the same columns and types) and hold at most ``BATCH_SERIES`` series and ``BATCH_POINTS`` points
    in all, none otherwise."""
    frames = list(series.values())
    if not frames or any(f.schema != frames[0].schema for f in frames):
        return []
    keys = [c for c in frames[0].columns if c not in ("ts", "value")]
    n_series = sum(f.select(keys).n_unique() for f in frames)
    n_points = sum(f.height for f in frames)
    return list(series) if n_series <= BATCH_SERIES and n_points <= BATCH_POINTS else []


def every_metric_scans(dataset: Dataset, *, table: str, series: Mapping[str, pl.DataFrame],
                       calendar: Calendar | None = None) -> SharedScans:
    """The causal scan of all traffic and every segment of every metric of ``series`` (``split_series``'s, of one
    shape) in one pass: the series on one grid share one scan, whose cost is per time step rather than per series.
    The same in both modes; ``every_series_decomposition(scans=...)`` of a metric reads its series' scans from
    here and gives the same result, bit for bit, as without them."""
    frames, cols = list(series.values()), segment_columns(dataset, table)
    if not frames:
        return SharedScans((METRIC, SPLIT, *cols), {})
    if any(f.schema != frames[0].schema for f in frames):
        raise DriftdeskError("seasonality: the metrics' series to scan at once differ in columns or types")
    stacked = pl.concat([points.with_columns(pl.lit(metric).alias(METRIC)) for metric, points in series.items()])
    return shared_scans(stacked, by=[METRIC, SPLIT, *cols], calendar=_split_calendar(dataset, cols, calendar))


def split_series(dataset: Dataset, *, table: str, metrics: Sequence[str] | None = None) -> dict[str, pl.DataFrame]:
    """Per metric, what ``every_series_decomposition`` decomposes: all traffic's series and every segment column's,
    stacked (``SPLIT`` names the column a series is split by). Several metrics share each column's group-by
    (``series.metric_series_of``). ``metrics``: by default every metric the table offers whose columns it has (one
    that it has not is left out: decomposed alone, it says what is missing) when the table is in memory, none when
    it is read from files or on Spark (there each metric costs a pass over the table: it is read when asked for)."""
    frame = dataset[table].frame
    if metrics is None:
        metrics = ([m for m in seasonality_metrics(dataset, table) if _resolves(frame, m)]
                   if isinstance(frame, pl.DataFrame) else [])
    cols = segment_columns(dataset, table)
    whole = metric_series_of(frame, metrics)
    split = {c: metric_series_of(frame, metrics, by=c) for c in cols}
    return {m: pl.concat([whole[m].with_columns(pl.lit("").alias(SPLIT)),
                          *[split[c][m].with_columns(pl.lit(c).alias(SPLIT)) for c in cols]], how="diagonal_relaxed")
            for m in metrics}


def _split_calendar(dataset: Dataset, columns: Sequence[str], calendar: Calendar | None = None) -> pl.DataFrame:
    """The calendar of ``every_series_decomposition``, each day reaching the series it reaches when they are
    decomposed alone (``_calendar(dataset, [column])``): a day of one segment value ('geo=US') reaches that value's
    series, and, when it counts for the whole business, every series not split by its column (named by ``SPLIT``)."""
    days = (effective_calendar(dataset) if calendar is None else calendar).days
    column = pl.col("segment").str.extract(r"^\s*([^=]+?)\s*=", 1)
    own = days.filter(column.is_in(list(columns)))
    splits = pl.DataFrame({"__reach": ["", *columns]})
    reach = (own.filter(pl.col("everywhere")).join(splits, how="cross").filter(pl.col("__reach") != column)
             .with_columns(pl.format(f"{SPLIT}={{}}", "__reach").alias("segment")))
    rest = days.filter(pl.col("everywhere") & ~column.is_in(list(columns)).fill_null(False))
    return pl.concat([own, reach.drop("__reach"), rest]).select("date", "name", "kind", "segment")


def series_of(dataset: Dataset, every: SeasonalityResult, column: str | None,
              calendar: Calendar | None = None) -> SeasonalityResult:
    """All traffic's series (``column`` None) or one column's series (``by`` the column) out of
    ``every_series_decomposition``, shaped and configured as if decomposed on their own (``calendar``:
    ``effective_calendar(dataset)`` when the caller has it)."""
    keep = pl.col(SPLIT) == (column or "")
    drop = [c for c in every.by if c != column]
    by = () if column is None else (column,)
    config = {**every.config, "calendar_days": [str(d.date) for d in calendar_days(_calendar(dataset, by, calendar))]}
    notes = tuple(n for n in every.notes if f"{SPLIT}={column or ''}," in n)
    return SeasonalityResult(every.points.filter(keep).drop(drop), every.events.filter(keep).drop(drop),
                             every.verdicts.filter(keep).drop(drop), by, every.causal, config, notes)


def _one_series(result: SeasonalityResult, where: dict) -> SeasonalityResult:
    """One series of a by-column result, shaped as if it had been decomposed alone (no ``by`` column)."""
    part = result.series(**where)
    cols = list(where)
    return SeasonalityResult(part.points.drop(cols), part.events.drop(cols), part.verdicts.drop(cols), (),
                             part.causal, part.config, part.notes)


def seasonality_view(dataset: Dataset, *, table: str, metric: str, segment: str = ALL_TRAFFIC, mode: Mode = "batch",
                     day: dt.date | None = None, decomposed: SeasonalityResult | None = None) -> SeasonalityView:
    """One metric of one segment ('All traffic' or 'column=value') decomposed in ``mode``, and ``day`` (by default
    the last whole day) hour by hour against the day before and the week before.

    ``decomposed``: the decomposition already done (the segment's column from ``column_decomposition``, or this
    very series), so another day, or another value of the same column, costs no new fit."""
    if mode not in MODES:
        raise DriftdeskError(f"seasonality: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if day is not None:
        day = check_day(day, what="seasonality: day")
    frame = dataset[table].frame
    where = parse_segment(segment)
    series = metric_series(frame, metric, where=where)
    if decomposed is not None and decomposed.by and tuple(where) == decomposed.by:
        result = _one_series(decomposed, where)
    elif decomposed is not None and not decomposed.by:
        result = decomposed
    else:
        result = detect(series, causal=mode == "causal", calendar=_calendar(dataset, list(where)), scope=where)
    described = series_metric(frame, metric)
    how = "sum" if described.aggregation in ("sum", "count") else "mean"
    comparison = None
    if series.height:
        last = (series["ts"].max() - dt.timedelta(hours=23)).date()
        day = min(max(day or last, series["ts"].min().date()), last)
        comparison = compare_day(series, day, how=how,
                                 daily=metric_series(frame, metric, where=where, every="1d"))
    return SeasonalityView(table, metric, described.label, segment or ALL_TRAFFIC, mode, series, result,
                           day if comparison is not None else None, comparison, how, described.unit,
                           low_volume(frame, metric, where=where))


@dataclass(frozen=True)
class SegmentVerdicts:
    """One metric's verdict for every value of every segment column (``segment`` is 'column=value'), the series in
    most need of a look first, and the columns that could not be decomposed with the reason."""

    table: str
    metric: str
    mode: Mode
    columns: tuple[str, ...]
    verdicts: pl.DataFrame  # segment, status, verdict, periods, seasonal_strength
    errors: tuple[tuple[str, str], ...] = ()

    @classmethod
    def combine(cls, parts: Sequence[SegmentVerdicts]) -> SegmentVerdicts:
        """Several columns' verdicts (computed one column at a time) as one."""
        if not parts:
            raise DriftdeskError("seasonality: no segment verdicts to combine")
        first = parts[0]
        return cls(first.table, first.metric, first.mode, tuple(c for p in parts for c in p.columns),
                   _ordered(pl.concat([p.verdicts for p in parts])), tuple(e for p in parts for e in p.errors))

    def to_frame(self) -> pl.DataFrame:
        return self.verdicts

    def shown(self) -> pl.DataFrame:
        """The table people read: segment, status as it reads beside the sentence (``verdicts.shown_status``),
        verdict."""
        return self.verdicts.select("segment", shown_status(), "verdict")

    def to_dict(self) -> dict:
        return jsonable({"table": self.table, "metric": self.metric, "mode": self.mode, "columns": list(self.columns),
                         "verdicts": self.verdicts, "errors": dict(self.errors)})

    def _repr_html_(self) -> str:
        return self.shown()._repr_html_()


VERDICT_SCHEMA = {"segment": pl.String, "status": pl.String, "verdict": pl.String, "periods": pl.String,
                  "seasonal_strength": pl.Float64}


def _ordered(verdicts: pl.DataFrame) -> pl.DataFrame:
    rank = {kind: i for i, kind in enumerate(VERDICT_ORDER)}
    return verdicts.sort(pl.col("status").replace_strict(rank, default=len(rank)), "segment")


def segment_verdicts(dataset: Dataset, *, table: str, metric: str, mode: Mode = "batch",
                     columns: Sequence[str] | None = None,
                     progress: Callable[[float, str], None] | None = None,
                     decomposed: Callable[[str], SeasonalityResult] | None = None) -> SegmentVerdicts:
    """The verdict of ``metric`` for every value of each segment column (all of the table's by default); a column
    that cannot be decomposed is listed in ``errors`` instead of stopping the others. ``progress(share, text)`` is
    called after each column; ``decomposed(column)`` gives a column's ``column_decomposition`` when it is at hand."""
    cols = list(columns) if columns is not None else segment_columns(dataset, table)
    parts, errors = [], []
    for i, col in enumerate(cols):
        try:
            res = (decomposed(col) if decomposed is not None
                   else column_decomposition(dataset, table=table, metric=metric, column=col, mode=mode))
        except DriftdeskError as exc:
            errors.append((col, str(exc)))
            continue
        parts.append(res.verdicts.select(pl.format("{}={}", pl.lit(col), pl.col(col).cast(pl.String)).alias("segment"),
                                         "status", "verdict", "periods", "seasonal_strength"))
        if progress is not None:
            progress((i + 1) / len(cols), f"{col}: {res.verdicts.height} series decomposed")
    verdicts = pl.concat(parts) if parts else pl.DataFrame(schema=VERDICT_SCHEMA)
    least = series_metric(dataset[table].frame, metric).min_count
    if least is not None:  # a series emptied by the low-volume rule: its rows are not null, its points too thin
        verdicts = verdicts.with_columns(pl.when(pl.col("status") == "empty").then(pl.lit(
            f"no point to read: each has fewer than {format_value(least[1], 'count')} {least[0]} behind it, or no "
            "value")).otherwise(pl.col("verdict")).alias("verdict"))
    return SegmentVerdicts(table, metric, mode, tuple(cols), _ordered(verdicts), tuple(errors))
