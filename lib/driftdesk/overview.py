"""The Overview: per layer (service, data, model, business, LLM), how one day compares with its baselines.

The day is compared with the same hours one day earlier (day over day) and one week earlier (week over
week, same weekday), so a partial day is compared with the same partial hours. Each layer is a list of
`Check`s; a check turns a table into one number per window (a ratio of sums, a rate, a percentile), and
says which direction is bad and how large a change warns or alerts. A check on a registered metric
(``driftdesk.metrics``) is ``metric_check(layer, name, warn=..., alert=...)``: what the metric is comes from the
registry, the thresholds stay here. Later analyses extend the Overview by adding checks
(`overview(ds, checks=DEFAULT_CHECKS + (...))`), not by editing this function.

Volumes (spend, rows, calls) follow the calendar: they are flagged only when both baselines agree, and not
at all on a calendar day of the whole business (``driftdesk.calendars``: the calendar table, retail events such
as Black Friday, and the public holidays of a country that brings most of the traffic).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from driftdesk import engine
from driftdesk.answer import day_answer
from driftdesk.bounds import SPAN_DAYS, check_day
from driftdesk.calendars import effective_calendar
from driftdesk.contract import LAYERS, Dataset, Table
from driftdesk.errors import DriftdeskError, WindowError
from driftdesk.format import format_value
from driftdesk.jsonsafe import iso_utc, jsonable
from driftdesk.metrics import Unit, bad_direction, get_metric, is_missing, metric_expr, sample_expr
from driftdesk.stats import mean_difference_z, two_proportion_z
from driftdesk.status import ALERT, MISSING, NOT_ENOUGH_DATA, OK, WARN, rank
from driftdesk.windows import Window, baseline_label, day_over_day, last_release, latest_day, span, week_over_week

Status = Literal["not_enough_data", "ok", "warn", "alert", "missing"]  # driftdesk.status; missing: no table
Direction = Literal["up", "down", "both"]

JUDGED = (OK, WARN, ALERT)  # the statuses a comparison gives; not_enough_data and missing judge nothing
MIN_Z = 3.0
ACTIVITY_TABLES = ("kpis", "decisions", "llm_calls", "service")
LAYER_TABLES: dict[str, str] = {
    "service": "service",
    "data": "decisions",
    "model": "decisions",
    "business": "kpis",
    "llm": "llm_calls",
}


@dataclass(frozen=True)
class Check:
    """One metric of a layer, computed per window from one table.

    ``exprs`` returns ``(subject, expression)`` pairs for a table (an empty list when the table lacks the
    columns): the subject names what the number is about (a feature, "all"), the expression reduces the
    rows of one window to one number. ``by`` splits the table by a column (for example one row per
    service). A change counts when it exceeds both the relative threshold and the absolute ``floor``;
    for a rate with a sample size ``n`` (rows, requests, clicks), it must also be at least ``MIN_Z``
    standard errors of a two-proportion test, and for a mean with ``n`` and ``sd`` of a two-sample z-test,
    so a handful of events on a quiet day does not alert.
    """

    layer: str
    table: str
    metric: str
    label: str
    exprs: Callable[[Table], list[tuple[str, pl.Expr]]]
    unit: Unit
    bad: Direction
    warn: float
    alert: float
    floor: float = 0.0
    volume: bool = False
    by: str | None = None
    n: Callable[[], pl.Expr] | None = None
    sd: Callable[[], pl.Expr] | None = None  # spread of the values behind a mean; None for a rate (binomial)
    # the same reductions as Spark aggregations, for a table on Spark: ((subject, value) pairs as ``exprs`` gives
    # them, the sample size or None, the spread or None); a check without it reads tables in polars only
    spark: Callable[[Table], tuple[list[tuple[str, object]], object, object]] | None = None


def _need(*cols: str) -> Callable[[Callable[[], pl.Expr]], Callable[[Table], list[tuple[str, pl.Expr]]]]:
    """Build a single-expression check that applies only when the table has these columns."""

    def wrap(make: Callable[[], pl.Expr]) -> Callable[[Table], list[tuple[str, pl.Expr]]]:
        def exprs(table: Table) -> list[tuple[str, pl.Expr]]:
            return [("all", make())] if all(c in engine.schema(table.frame) for c in cols) else []

        return exprs

    return wrap


def metric_check(layer: str, name: str, *, warn: float, alert: float, floor: float = 0.0, volume: bool = False,
                 by: str | None = None, table: str | None = None) -> Check:
    """A check on a registered metric (``driftdesk.metrics``): its table, label, unit, bad direction, value and
    sample size come from the registry; the thresholds are the Overview's. A rate is tested with the
    two-proportion z-test, a mean with Welch's z; a volume is bad in both directions."""
    m = get_metric(name, table or LAYER_TABLES[layer])
    test = "proportion" if m.unit == "rate" else "mean" if m.aggregation == "mean" else None
    return Check(layer, m.table, m.name, m.label, _need(*m.columns)(lambda: metric_expr(m)), m.unit,
                 "both" if volume else bad_direction(m), warn, alert, floor, volume, by,
                 n=(lambda: sample_expr(m)) if test else None,
                 sd=(lambda: pl.col(m.columns[0]).cast(pl.Float64).std()) if test == "mean" else None,
                 spark=lambda table: _metric_on_spark(m, table, test))


def _metric_on_spark(m, table: Table, test: str | None) -> tuple[list[tuple[str, object]], object, object]:
    """A registered metric's check as Spark aggregations (``engine.spark.aggregate``: the registry's metrics)."""
    from driftdesk.engine.spark import aggregate

    schema = engine.schema(table.frame)
    if not all(c in schema for c in m.columns):
        return [], None, None
    return ([("all", aggregate.metric(m, schema))], aggregate.sample(m) if test else None,
            aggregate.spread(m.columns[0]) if test == "mean" else None)


def _feature_null_rates(table: Table) -> list[tuple[str, pl.Expr]]:
    return [(f, is_missing(f).mean()) for f in table.features]


def _feature_null_rates_on_spark(table: Table) -> tuple[list[tuple[str, object]], object, object]:
    from driftdesk.engine.spark import aggregate
    from driftdesk.engine.spark.series import null_parts

    schema = engine.schema(table.frame)
    F = aggregate.functions()
    return [(f, F.avg(null_parts(f, schema[f].is_float())["num"])) for f in table.features], F.count(F.lit(1)), None


def _predicted_to_observed(table: Table) -> list[tuple[str, pl.Expr]]:
    """The mean score of the labelled rows over their outcome rate."""
    if not {"score", "label"} <= set(engine.schema(table.frame)):
        return []
    label = pl.col("label").mean()
    return [("all", pl.when(label != 0).then(pl.col("score").cast(pl.Float64).filter(pl.col("label").is_not_null())
                                            .mean() / label))]


def _predicted_to_observed_on_spark(table: Table) -> tuple[list[tuple[str, object]], object, object]:
    from driftdesk.engine.spark import functions

    if not {"score", "label"} <= set(engine.schema(table.frame)):
        return [], None, None
    F = functions()
    label = F.avg(F.col("label").cast("double"))
    score = F.avg(F.when(F.col("label").isNotNull(), F.col("score").cast("double")))
    return [("all", F.when(label != 0, score / label))], None, None


DEFAULT_CHECKS: tuple[Check, ...] = (
    # service: one row per service. p99 latency is the registry's request-weighted mean of the hourly p99s, a ratio
    # of window sums that moves a few percent a day, as the business ratios do: their 10% / 20%. A fifth of the
    # day's requests served in hours at double the usual p99 (a four-hour spike at busy hours) alerts
    metric_check("service", "latency_p99_ms", warn=0.10, alert=0.20, by="service"),
    metric_check("service", "timeout_rate", warn=1.0, alert=3.0, floor=0.001, by="service"),
    metric_check("service", "error_rate", warn=0.5, alert=1.0, floor=0.002, by="service"),
    metric_check("service", "requests", warn=0.3, alert=0.6, volume=True, by="service"),
    # data: the decisions' inputs
    Check("data", "decisions", "null_rate", "null rate", _feature_null_rates, "rate", "up", 0.5, 1.0, floor=0.02, n=pl.len,
          spark=_feature_null_rates_on_spark),
    metric_check("data", "rows", warn=0.3, alert=0.6, volume=True),
    # model: the decisions' outputs
    metric_check("model", "score_mean", warn=0.08, alert=0.15),
    metric_check("model", "decision_rate", warn=0.10, alert=0.25, floor=0.01),
    Check("model", "decisions", "predicted_to_observed", "mean score / outcome rate (labelled rows)",
          _predicted_to_observed, "ratio", "both", 0.10, 0.20, spark=_predicted_to_observed_on_spark),
    # business: ratios of sums over the kpis
    metric_check("business", "cpa", warn=0.10, alert=0.20),
    metric_check("business", "cr", warn=0.10, alert=0.20),
    metric_check("business", "roas", warn=0.10, alert=0.20),
    metric_check("business", "spend", warn=0.25, alert=0.5, volume=True),
    metric_check("business", "conversions", warn=0.25, alert=0.5, volume=True),
    # llm: quality, cost and latency of the calls
    metric_check("llm", "validator_failure_rate", warn=0.5, alert=1.0, floor=0.005),
    metric_check("llm", "refusal_rate", warn=0.5, alert=1.0, floor=0.005),
    metric_check("llm", "llm_error_rate", warn=0.5, alert=1.0, floor=0.005),
    metric_check("llm", "cost_per_call", warn=0.10, alert=0.25),
    metric_check("llm", "tokens_out_mean", warn=0.10, alert=0.25),
    metric_check("llm", "latency_p95_ms", warn=0.25, alert=0.5),
    metric_check("llm", "judge_score_mean", warn=0.03, alert=0.06),
    metric_check("llm", "calls", warn=0.3, alert=0.6, volume=True),
)

METRIC_SCHEMA = {
    "layer": pl.String, "table": pl.String, "metric": pl.String, "label": pl.String, "subject": pl.String,
    "unit": pl.String, "bad": pl.String, "current": pl.Float64, "day_over_day": pl.Float64,
    "week_over_week": pl.Float64, "change_day_over_day": pl.Float64, "change_week_over_week": pl.Float64,
    "status_day_over_day": pl.String, "status_week_over_week": pl.String, "status": pl.String, "note": pl.String,
    "known_good": pl.Float64, "change_known_good": pl.Float64, "status_known_good": pl.String,
}
EVENT_SCHEMA = {
    "kind": pl.String, "start": pl.Datetime("us"), "end": pl.Datetime("us"), "name": pl.String,
    "group": pl.String, "severity": pl.String, "detail": pl.String,
}
BASELINES = ("day_over_day", "week_over_week")
KNOWN_GOOD = "known_good"  # a third baseline on request: the last release before this one, or a pinned window
CARD_LINES = 4  # metrics a layer's card leads with; every metric is in ``Overview.metrics``


@dataclass(frozen=True, repr=False)
class Overview:
    """The status of each layer on one day against its baselines, plus the releases and incidents around it."""

    day: dt.date
    current: Window
    baselines: tuple[Window, ...]
    layers: pl.DataFrame  # layer, table, status, alerts, warnings, note
    metrics: pl.DataFrame  # one row per layer x metric x subject (METRIC_SCHEMA)
    events: pl.DataFrame  # releases, incidents and calendar days in the timeline span (EVENT_SCHEMA)
    span: Window  # the timeline's range: span_days up to the end of the day
    answer: str = ""  # the day in one sentence: what moved most and why (driftdesk.answer)

    def layer(self, name: str) -> pl.DataFrame:
        """The metrics of one layer."""
        return self.metrics.filter(pl.col("layer") == name)

    def status(self, layer: str) -> str:
        row = self.layers.filter(pl.col("layer") == layer)
        return row["status"].item() if row.height else MISSING

    def headlines(self, layer: str, *, limit: int = CARD_LINES) -> list[dict]:
        """The metric rows a layer's card leads with: per metric its most-moved subject (feature, service), flagged
        metrics first, then in the layer's own order; at most ``limit``."""
        def severity(row: dict) -> int:  # alert 0, warn 1, ok 2, not enough data 3
            return rank(ALERT) - rank(row["status"])

        def moved(row: dict) -> float:
            changes = [abs(c) for c in (row["change_day_over_day"], row["change_week_over_week"],
                                        row.get(f"change_{KNOWN_GOOD}")) if c is not None]
            return max(changes, default=0.0)

        best: dict[str, tuple[int, dict]] = {}
        for i, row in enumerate(self.layer(layer).iter_rows(named=True)):
            first, held = best.get(row["metric"], (i, None))
            if held is None or (severity(row), -moved(row)) < (severity(held), -moved(held)):
                best[row["metric"]] = (first, row)
        rows = sorted(best.values(), key=lambda ir: (severity(ir[1]) > 1, ir[0]))
        return [r for _, r in rows[:limit]]

    @property
    def known_good(self) -> Window | None:
        """The known-good baseline when one was asked for (the third baseline), else None."""
        return self.baselines[2] if len(self.baselines) > 2 else None

    @property
    def headline(self) -> str:
        """The day and its baselines, in a sentence."""
        dod, wow = self.baselines[:2]
        good = self.known_good
        return (f"Status of {self.day.isoformat()} ({self.day.strftime('%A')}, UTC) against the same hours one day "
                f"earlier ({dod.start.date().isoformat()}) and one week earlier ({wow.start.date().isoformat()})"
                + (f", and the known-good baseline {good.start:%Y-%m-%d %H:%M} → {good.end:%Y-%m-%d %H:%M}."
                   if good is not None else "."))

    @property
    def status_counts(self) -> str | None:
        """How many layers are at each status, worst first ("Layers: 1 alert, 3 ok."); None when none is judged."""
        counts = {s: self.layers.filter(pl.col("status") == s).height for s in (ALERT, WARN, OK)}
        words = {ALERT: "alert", WARN: "warning", OK: "ok"}
        parts = [f"{n} {words[s]}" for s, n in counts.items() if n]
        return f"Layers: {', '.join(parts)}." if parts else None

    def to_frame(self) -> pl.DataFrame:
        return self.metrics

    def __repr__(self) -> str:
        statuses = ", ".join(f"{layer} {status}" for layer, status in self.layers.select("layer", "status").iter_rows())
        return f"Overview({self.day.isoformat()}: {statuses})"

    def to_dict(self) -> dict:
        return jsonable({
            "day": self.day.isoformat(),
            "current": self.current.to_dict(),
            "baselines": [w.to_dict() for w in self.baselines],
            "span": self.span.to_dict(),
            "layers": self.layers,
            "metrics": self.metrics,
            "events": self.events,
            "answer": self.answer,
        })

    def to_figure(self):
        """Releases, incidents and calendar days on one timeline, the chosen day highlighted."""
        from driftdesk.viz.timeline import timeline_figure

        return timeline_figure(self)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(r['layer'])}</td><td><b>{html.escape(r['status'])}</b></td>"
            f"<td>{html.escape(r['note'] or '')}</td></tr>"
            for r in self.layers.iter_rows(named=True)
        )
        head = f"<p><b>Overview of {self.day.isoformat()}</b> against the same hours a day and a week earlier</p>"
        table = f"<table><tr><th>layer</th><th>status</th><th>why</th></tr>{rows}</table>"
        return head + table + self.metrics._repr_html_()


# --------------------------------------------------------------------------- days


def activity_range(dataset: Dataset) -> tuple[dt.datetime, dt.datetime] | None:
    """First and last timestamp over the tables that record activity (kpis, decisions, llm_calls, service)."""
    bounds = [span(dataset.tables[name].frame) for name in ACTIVITY_TABLES if name in dataset.tables]
    bounds = [b for b in bounds if b[0] is not None]  # a table without rows has no span
    if not bounds:
        return None
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


def default_day(dataset: Dataset) -> dt.date | None:
    """The latest whole day of data (the day a daily report is about)."""
    rng = activity_range(dataset)
    if rng is None:
        return None
    window = latest_day(rng[1])
    return max(window.start.date(), rng[0].date())


def _day_windows(table: Table, day: dt.date) -> tuple[Window, Window, Window] | None:
    """(current, day_over_day, week_over_week) for a table, the current window cut where its data ends."""
    start, end = Window.day(day).start, Window.day(day).end
    last = span(table.frame)[1]
    if last is None:
        return None
    data_end = last.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    end = min(end, data_end)
    if end <= start:
        return None
    current = Window(start, end, "current")
    return current, day_over_day(current), week_over_week(current)


# --------------------------------------------------------------------------- checks


def _classify(change: float | None, diff: float | None, check: Check) -> str | None:
    if change is None or diff is None:
        return None
    signed = {"up": change, "down": -change, "both": abs(change)}[check.bad]
    if abs(diff) < check.floor:
        return "ok"
    if signed >= check.alert:
        return "alert"
    if signed >= check.warn:
        return "warn"
    return "ok"


def _significant(m1: float, n1: float | None, m0: float, n0: float | None, *, sd1: float | None = None,
                 sd0: float | None = None, rate: bool = True, min_z: float = MIN_Z) -> bool:
    """Whether a change stands out from sampling noise (at least ``min_z`` standard errors): the pooled
    two-proportion z for rates, Welch's z for means."""
    n1, n0 = n1 or 0.0, n0 or 0.0
    if rate:
        z = two_proportion_z(m0 * n0, n0, m1 * n1, n1)
    else:
        z = mean_difference_z(m0, math.nan if sd0 is None else sd0, n0, m1, math.nan if sd1 is None else sd1, n1)
    return z is not None and abs(z) >= min_z


def _relative(current: float | None, base: float | None) -> tuple[float | None, float | None]:
    if current is None or base is None:
        return None, None
    diff = current - base
    if base == 0:
        return (0.0 if diff == 0 else float("inf") if diff > 0 else float("-inf")), diff
    return diff / abs(base), diff


def _calendar_days(dataset: Dataset) -> dict[dt.date, str]:
    """The days that count for the whole business (driftdesk.calendars: your calendar table, retail events, and the
    public holidays of a country that is most of the traffic)."""
    return effective_calendar(dataset).whole_business()


def _evaluate(table: Table, checks: Sequence[Check], windows: tuple[Window, ...],
              calendar: dict[dt.date, str]) -> list[dict]:
    """One record per check x subject (x group): the value in each window, the changes and the status.

    ``windows`` is (current, day over day, week over week), and a known-good baseline fourth when asked for.
    """
    bases = BASELINES + ((KNOWN_GOOD,) if len(windows) > 3 else ())
    labels = ("current",) + bases
    current_day = windows[0].start.date()
    records: list[dict] = []
    for by in dict.fromkeys(c.by for c in checks):
        group = [c for c in checks if c.by == by and (by is None or by in engine.schema(table.frame))]
        aggs: dict[str, object] = {}  # alias -> a polars expression, or a Spark aggregation on Spark
        meta: dict[str, tuple[Check, str]] = {}
        sizes: dict[str, tuple[str, str | None]] = {}  # metric alias -> its sample-size and spread aliases
        for i, check in enumerate(group):
            pairs, n, sd = _reductions(check, table)
            if pairs and n is not None:
                aggs[f"__n{i}"] = n
                if sd is not None:
                    aggs[f"__sd{i}"] = sd
            for subject, expr in pairs:
                alias = f"__m{len(meta)}"
                aggs[alias] = expr
                meta[alias] = (check, subject)
                if n is not None:
                    sizes[alias] = (f"__n{i}", f"__sd{i}" if sd is not None else None)
        if not aggs:
            continue
        values = _per_window(table, windows, labels, by, aggs)
        groups = sorted(values[by].unique().drop_nulls().to_list()) if by else [None]
        for g in groups:
            part = values.filter(pl.col(by) == g) if by else values
            per_window = {row["__window"]: row for row in part.iter_rows(named=True)}
            for alias, (check, subject) in meta.items():
                vals = {name: _finite(per_window.get(name, {}).get(alias)) for name in labels}
                ns = sds = None
                if alias in sizes:
                    n_alias, sd_alias = sizes[alias]
                    ns = {name: _finite(per_window.get(name, {}).get(n_alias)) for name in labels}
                    sds = {name: _finite(per_window.get(name, {}).get(sd_alias)) for name in labels} if sd_alias else None
                rec = {
                    "layer": check.layer, "table": check.table, "metric": check.metric, "label": check.label,
                    "subject": g if by else subject, "unit": check.unit, "bad": check.bad,
                    "current": vals["current"], **{b: vals[b] for b in bases},
                }
                statuses: dict[str, str | None] = {}
                for base_name, window in zip(bases, windows[1:]):
                    change, diff = _relative(vals["current"], vals[base_name])
                    rec[f"change_{base_name}"] = change
                    # a volume is comparable only over a window of the same length (a pinned week is not a day)
                    comparable = not check.volume or window.duration == windows[0].duration
                    statuses[base_name] = _classify(change, diff, check) if comparable else None
                    if ns is not None and statuses[base_name] not in (None, "ok") and not _significant(
                            vals["current"], ns["current"], vals[base_name], ns[base_name],
                            sd1=sds["current"] if sds else None, sd0=sds[base_name] if sds else None,
                            rate=sds is None):
                        statuses[base_name] = "ok"
                    rec[f"status_{base_name}"] = statuses[base_name]
                rec["status"], rec["note"] = _combine(check, statuses, vals, current_day, windows, calendar)
                records.append(rec)
    return records


def _reductions(check: Check, table: Table) -> tuple[list[tuple[str, object]], object, object]:
    """A check's (subject, value) pairs, sample size and spread, for the engine that holds the table's rows."""
    if not engine.is_spark(table.frame):
        pairs = check.exprs(table)
        return pairs, check.n() if check.n else None, check.sd() if check.n and check.sd else None
    if check.spark is None:
        raise DriftdeskError(f"overview: the check {check.layer}/{check.metric} has no Spark form (Check.spark); run "
                             "it with --engine polars")
    pairs, n, sd = check.spark(table)
    return pairs, n, sd if n is not None else None


def _per_window(table: Table, windows: tuple[Window, ...], labels: tuple[str, ...], by: str | None,
                aggs: dict[str, object]) -> pl.DataFrame:
    """(__window, by, alias...) with each aggregation over the rows of each window (a row counted in every window
    that holds it: a known-good window may coincide with another baseline), on the rows' engine."""
    keys = ["__window"] + ([by] if by else [])
    if engine.is_spark(table.frame):
        from driftdesk.engine.spark.aggregate import per_window

        like = {"__window": pl.String, **({by: engine.schema(table.frame)[by]} if by else {}),
                **dict.fromkeys(aggs, pl.Float64)}
        return per_window(table.frame, [(w.start, w.end, name) for w, name in zip(windows, labels)], by, aggs,
                          like=like)
    frame = engine.lazy(table.frame)
    within = pl.concat([frame.filter(w.contains("ts")).with_columns(pl.lit(name).alias("__window"))
                        for w, name in zip(windows, labels)])
    return within.group_by(keys).agg([e.cast(pl.Float64).alias(a) for a, e in aggs.items()]).pipe(engine.collect)


def _has_rows(frame, window: Window) -> bool:
    if engine.is_spark(frame):
        from driftdesk.engine.spark import where_between

        return bool(where_between(frame, "ts", window.start, window.end).df.take(1))
    return engine.lazy(frame).filter(window.contains("ts")).select(pl.len()).pipe(engine.collect).item() > 0


def _finite(value: float | None) -> float | None:
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)


def _combine(check: Check, statuses: dict[str, str | None], vals: dict, day: dt.date,
             windows: tuple[Window, ...], calendar: dict[dt.date, str]) -> tuple[str, str]:
    """The metric's status over both baselines: the worse one for rates, the milder one for volumes."""
    if vals["current"] is None:
        return NOT_ENOUGH_DATA, "no value on this day" + (" (labels not matured yet?)" if check.metric == "predicted_to_observed" else "")
    known = {b: s for b, s in statuses.items() if s is not None}
    if not known:
        return NOT_ENOUGH_DATA, "no baseline data"
    if check.volume:
        if day in calendar:
            return "ok", f"calendar day ({calendar[day]}): volume changes expected"
        starts = {b: w.start.date() for b, w in zip((*BASELINES, KNOWN_GOOD), windows[1:])}
        usable = {b: s for b, s in known.items() if starts[b] not in calendar} or known
        status = min(usable.values(), key=rank)
        if status == "ok":
            return "ok", ""
        return status, ("both baselines agree" if len(usable) > 1 else f"vs {baseline_label(next(iter(usable)))}")
    status = max(known.values(), key=rank)
    worst = [baseline_label(b) for b, s in known.items() if s == status and status != "ok"]
    return status, (f"vs {' and '.join(worst)}" if worst else "")


Probe = Callable[[Dataset, dt.date], list[dict]]
"""A deeper status source (drift, seasonality, ...): given the data and the day, metric records with the keys of
METRIC_SCHEMA (missing keys are null) and a ``status`` it decided itself. Records join their layer's card."""


def overview(dataset: Dataset, *, day: dt.date | str | None = None, checks: Sequence[Check] = DEFAULT_CHECKS,
             probes: Sequence[Probe] = (), span_days: int = 28, known_good: str | Window | None = None) -> Overview:
    """Status per layer of ``day`` (default: the latest whole day) against day-over-day and week-over-week.

    ``known_good`` adds a third baseline that a lasting break cannot become: ``"last_release"`` (the same hours,
    whole weeks back, before the release live on the day; from the releases table) or a pinned ``Window``. Its
    values are the ``known_good`` columns, and its status counts in each metric's status.

    ``checks`` compare one number per window; ``probes`` add records computed any other way (e.g. a drift test),
    so later analyses extend the Overview without changing it. The timeline lists releases, incidents and
    calendar days from ``span_days`` before the day to its end.
    """
    if day is not None:
        day = check_day(day, what="day", error=WindowError)
    wrong = [c for c in checks if not isinstance(c, Check)]
    if wrong:
        raise DriftdeskError(f"overview: checks are Check objects (driftdesk.overview.metric_check), got {wrong[0]!r}")
    if day is None:
        day = default_day(dataset)
        if day is None:
            raise WindowError(f"{dataset.folder}: no activity table (kpis, decisions, llm_calls, service) has rows")
    SPAN_DAYS.check(span_days, where="overview", error=WindowError)
    calendar = _calendar_days(dataset)
    whole = Window.day(day)
    records: list[dict] = []
    layer_rows: list[dict] = []
    probed: list[dict] = []
    for probe in probes:
        for rec in probe(dataset, day):
            unknown = set(rec) - set(METRIC_SCHEMA)
            if unknown or rec.get("layer") not in LAYERS or rec.get("status") not in (*JUDGED, NOT_ENOUGH_DATA):
                raise ValueError(f"probe {getattr(probe, '__name__', probe)!r} returned a bad record {rec!r}: it needs a "
                                 f"layer in {LAYERS}, a status in ok/warn/alert/not_enough_data and only the keys "
                                 f"{list(METRIC_SCHEMA)}")
            probed.append({**dict.fromkeys(METRIC_SCHEMA), "subject": "all", "note": "", **rec})
    for layer in LAYERS:
        table_name = LAYER_TABLES[layer]
        layer_checks = [c for c in checks if c.layer == layer]
        table = dataset.get(table_name)
        if table is None:
            layer_rows.append(_layer_row(layer, table_name, MISSING, f"no {table_name} table loaded", []))
            continue
        windows = _day_windows(table, day)
        has_rows = windows is not None and _has_rows(table.frame, windows[0])
        if not has_rows:
            layer_rows.append(_layer_row(layer, table_name, NOT_ENOUGH_DATA, f"no {table_name} rows on {day.isoformat()}", []))
            continue
        known = _known_good(dataset, windows[0], known_good)
        by_table: dict[str, list[Check]] = {}
        for c in layer_checks:
            by_table.setdefault(c.table, []).append(c)
        recs: list[dict] = []
        for tname, cs in by_table.items():
            t = dataset.get(tname)
            w = _day_windows(t, day) if t is not None else None
            if t is not None and w is not None:
                recs += _evaluate(t, cs, w + ((_known_good(dataset, w[0], known_good),) if known else ()), calendar)
        recs += [r for r in probed if r["layer"] == layer]
        records += recs
        layer_rows.append(_layer_row(layer, table_name, None, "", recs))
    metrics = pl.DataFrame(records, schema=METRIC_SCHEMA) if records else pl.DataFrame(schema=METRIC_SCHEMA)
    span = Window(whole.end - dt.timedelta(days=span_days), whole.end, "timeline")
    layers = pl.DataFrame(layer_rows, schema={"layer": pl.String, "table": pl.String, "status": pl.String,
                                              "alerts": pl.Int64, "warnings": pl.Int64, "note": pl.String})
    return Overview(
        day=day,
        current=whole,
        baselines=(day_over_day(whole), week_over_week(whole))
        + ((_known_good(dataset, whole, known_good),) if known_good is not None else ()),
        layers=layers,
        metrics=metrics,
        events=timeline_events(dataset, span),
        span=span,
        answer=day_answer(dataset, day, metrics, layers, _kpis_windows(dataset, day, known_good)),
    )


def _kpis_windows(dataset: Dataset, day: dt.date, known_good: str | Window | None) -> dict[str, tuple[Window, Window]]:
    """Baseline kind -> (current, baseline) windows of the kpis table on ``day``, as its checks compared them."""
    kpis = dataset.get("kpis")
    windows = _day_windows(kpis, day) if kpis is not None else None
    if windows is None:
        return {}
    out = {"day_over_day": (windows[0], windows[1]), "week_over_week": (windows[0], windows[2])}
    if known_good is not None:
        out[KNOWN_GOOD] = (windows[0], _known_good(dataset, windows[0], known_good))
    return out


def _known_good(dataset: Dataset, current: Window, known_good: str | Window | None) -> Window | None:
    """The known-good baseline of a current window: placed before the last release, or the pinned window."""
    if known_good is None:
        return None
    if isinstance(known_good, Window):
        return Window(known_good.start, known_good.end, KNOWN_GOOD)
    if known_good != "last_release":
        raise WindowError(f"known_good must be 'last_release' or a pinned Window, got {known_good!r}")
    releases = dataset.get("releases")
    w = last_release(current, releases.frame if releases is not None else None)
    return Window(w.start, w.end, KNOWN_GOOD)


def _layer_row(layer: str, table: str, status: str | None, note: str, recs: list[dict]) -> dict:
    alerts = [r for r in recs if r["status"] == ALERT]
    warns = [r for r in recs if r["status"] == WARN]
    if status is None:
        judged = [r for r in recs if r["status"] in JUDGED]
        if not judged:
            status, note = NOT_ENOUGH_DATA, "no baseline to compare with"
        else:
            status = max((r["status"] for r in judged), key=rank)
            flagged = alerts or warns
            note = ", ".join(_describe(r) for r in flagged[:3]) + (" …" if len(flagged) > 3 else "")
    return {"layer": layer, "table": table, "status": status, "alerts": len(alerts), "warnings": len(warns), "note": note}


def _describe(rec: dict) -> str:
    subject = "" if rec["subject"] in ("all", None) else f" ({rec['subject']})"
    changes = [rec[f"change_{b}"] for b in (*BASELINES, KNOWN_GOOD) if rec.get(f"status_{b}") == rec["status"]]
    change = next((c for c in changes if c is not None), None)
    pct = "" if change is None else (" new" if change in (float("inf"), float("-inf")) else
                                     f" {format_value(change, 'change')}")
    return f"{rec['label']}{subject}{pct}"


# --------------------------------------------------------------------------- timeline events


def timeline_events(dataset: Dataset, span: Window) -> pl.DataFrame:
    """Releases, incidents and calendar days that touch the span, as one tidy frame."""
    parts: list[pl.DataFrame] = []
    rel = dataset.get("releases")
    if rel is not None:
        f = rel.frame.filter(span.contains("ts"))
        parts.append(f.select(
            pl.lit("release").alias("kind"), pl.col("ts").alias("start"), pl.lit(None, pl.Datetime("us")).alias("end"),
            pl.col("release_id").alias("name"),
            (pl.col("component") if "component" in f.columns else pl.lit(None, pl.String)).alias("group"),
            pl.lit(None, pl.String).alias("severity"),
            _detail(f, ["version", "traffic_share", "note"]).alias("detail"),
        ))
    inc = dataset.get("incidents")
    if inc is not None:
        f = inc.frame
        end = pl.col("end") if "end" in f.columns else pl.lit(None, pl.Datetime("us"))
        f = f.filter((pl.col("start") < span.end) & (end.is_null() | (end > span.start)))
        parts.append(f.select(
            pl.lit("incident").alias("kind"), pl.col("start"), end.alias("end"),
            (pl.col("incident_id") if "incident_id" in f.columns else pl.lit("incident")).alias("name"),
            (pl.col("layer") if "layer" in f.columns else pl.lit(None, pl.String)).alias("group"),
            (pl.col("severity") if "severity" in f.columns else pl.lit(None, pl.String)).alias("severity"),
            _detail(f, ["segment", "cause"]).alias("detail"),
        ))
    days = effective_calendar(dataset).days.filter(pl.col("everywhere") & span.contains("date"))
    if days.height:
        parts.append(days.select(
            pl.lit("calendar").alias("kind"), pl.col("date").alias("start"),
            (pl.col("date") + pl.duration(days=1)).alias("end"), pl.col("name"), pl.col("kind").alias("group"),
            pl.lit(None, pl.String).alias("severity"),
            pl.concat_str([pl.col("source"), pl.col("segment")], separator="; ", ignore_nulls=True).alias("detail"),
        ))
    if not parts:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    return pl.concat([p.cast(EVENT_SCHEMA) for p in parts]).sort("start", "kind")


def _detail(frame: pl.DataFrame, cols: list[str]) -> pl.Expr:
    present = [c for c in cols if c in frame.columns]
    if not present:
        return pl.lit(None, pl.String)
    return pl.concat_str(
        [pl.when(pl.col(c).is_not_null()).then(pl.lit(f"{c}: ") + pl.col(c).cast(pl.String)) for c in present],
        separator="; ", ignore_nulls=True,
    )


# --------------------------------------------------------------------------- dataset summary


def dataset_summary(dataset: Dataset) -> pl.DataFrame:
    """One row per loaded table: rows, time range and columns (what the sidebar and the Data page show)."""
    rows = []
    for name, table in dataset.tables.items():
        time_col = next((c for c in ("ts", "start", "date") if c in table.frame.columns), None)
        lo = hi = None
        if time_col is not None and table.frame.height:
            lo, hi = table.frame.select(pl.col(time_col).min().alias("lo"), pl.col(time_col).max().alias("hi")).row(0)
        rows.append({"table": name, "source": table.source, "rows": table.frame.height, "start": lo, "end": hi,
                     "columns": ", ".join(table.frame.columns)})
    return pl.DataFrame(rows, schema={"table": pl.String, "source": pl.String, "rows": pl.Int64,
                                      "start": pl.Datetime("us"), "end": pl.Datetime("us"), "columns": pl.String})


def describe_range(summary: pl.DataFrame) -> str:
    """'2026-08-03 → 2026-11-01' over the activity tables (else every table), or '' when none has a time."""
    activity = summary.filter(pl.col("table").is_in(ACTIVITY_TABLES))
    summary = activity if activity.height else summary
    lo, hi = summary["start"].min(), summary["end"].max()
    if lo is None or hi is None:
        return ""
    return f"{iso_utc(lo.date())} → {iso_utc(hi.date())}"
