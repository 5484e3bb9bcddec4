"""The registry of metrics a gate can watch, each turned into additive hourly components per segment.

A metric is computed once per (table, segment, hour) as a few *additive* components (sums and counts), e.g.
``null_rate:ctr_7d`` keeps (nulls, rows) and ``cpa`` keeps (spend, conversions). Any window's value is then a
ratio of window sums (CPA is a ratio of sums, never a mean of hourly ratios), so a gate can be evaluated over
every window of history with cumulative sums, and thresholds swept with numpy broadcasting. This is also the
scale seam: the components are the aggregate table a warehouse could produce.

Kinds:

- ``level``: a value from one window (null rate, CPA, p99 latency); compare it ``absolute`` or against a baseline.
- ``change``: ``<level>_change`` is the same level, but the gate must compare it with a baseline window.
- ``distance``: a value from two windows (PSI of a column's distribution); a baseline comparison is required.

Metric names: ``null_rate:<column>``, ``psi:<column>``, ``share:<measure>`` (a segment's share of the total,
e.g. ``share:spend`` by geo), ``cpa``, ``cr``, ``roas``, ``ctr``, ``ece``, ``latency_p95_ms``,
``latency_p99_ms``, ``timeout_rate``, ``error_rate`` (service table), the LLM metrics
``validator_failure_rate``, ``refusal_rate``, ``llm_error_rate``, ``output_tokens_mean``, ``cost_per_call``,
``judge_score_mean``, and ``<level>_change`` for any level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from driftdesk.business import RATIOS as BUSINESS_RATIOS
from driftdesk.business import kpi_table
from driftdesk.calibration import bin_aggregates, bin_edges
from driftdesk.drift.stats import PSI_EPSILON, quantile_edges
from driftdesk.errors import PolicyError

Kind = Literal["level", "change", "distance"]
HOUR = dt.timedelta(hours=1)
ECE_BINS = 10
PSI_NUMERIC_BINS = 10
PSI_REFERENCE_HOURS = 7 * 24  # numeric PSI bins: deciles of the first week of history (a training reference)


def _ratio(components: np.ndarray) -> np.ndarray:
    num, den = components[..., 0], components[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _ece(components: np.ndarray) -> np.ndarray:
    """Expected calibration error from per-bin (count, score sum, label sum): sum_b |labels_b - scores_b| / n."""
    k = components.shape[-1] // 3
    count, score, label = components[..., :k], components[..., k:2 * k], components[..., 2 * k:]
    n = count.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, np.abs(label - score).sum(axis=-1) / np.where(n > 0, n, 1.0), np.nan)


def psi_from_counts(current: np.ndarray, baseline: np.ndarray, *, eps: float = PSI_EPSILON) -> np.ndarray:
    """PSI between bin counts along the last axis, for many windows at once: sum (p - q) ln(p / q).

    The same convention as driftdesk.drift.stats.psi_from_counts (shares floored at PSI_EPSILON), vectorised.

    A bin empty in both windows contributes exactly 0, so categories that only appear later never change an
    earlier value (the backtest stays causal).
    """
    cur_n = current.sum(axis=-1, keepdims=True)
    base_n = baseline.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.maximum(current / np.where(cur_n > 0, cur_n, 1.0), eps)
        q = np.maximum(baseline / np.where(base_n > 0, base_n, 1.0), eps)
        psi = ((p - q) * np.log(p / q)).sum(axis=-1)
    return np.where((cur_n[..., 0] > 0) & (base_n[..., 0] > 0), psi, np.nan)


@dataclass(frozen=True)
class MetricSpec:
    """A metric family from the registry, with its argument if it takes one (``null_rate`` + ``ctr_7d``)."""

    family: str
    table: str | None  # None: the first table that has the column
    kind: Kind
    doc: str
    sample_doc: str
    default_by: tuple[str, ...] = ()
    needs_arg: bool = False
    needs_by: bool = False
    arg: str | None = None
    change: bool = False  # spelled <family>_change

    @property
    def canonical(self) -> str:
        name = self.family + ("_change" if self.change else "")
        return f"{name}:{self.arg}" if self.arg is not None else name

    @property
    def level_kind(self) -> Kind:
        return "change" if self.change else self.kind


@dataclass(frozen=True)
class _Ratio:
    table: str
    num: Callable[[], pl.Expr]
    den: Callable[[], pl.Expr]
    doc: str
    sample_doc: str
    needs: tuple[str, ...]
    default_by: tuple[str, ...] = ()


def _col(name: str) -> Callable[[], pl.Expr]:
    return lambda: pl.col(name).cast(pl.Float64)


def _count_true(name: str, negate: bool = False) -> Callable[[], pl.Expr]:
    def expr() -> pl.Expr:
        c = pl.col(name).cast(pl.Boolean)
        return (~c if negate else c).cast(pl.Float64)
    return expr


def _weighted(value: str, weight: str) -> Callable[[], pl.Expr]:
    return lambda: pl.col(value).cast(pl.Float64) * pl.col(weight).cast(pl.Float64)


_KPI_DOCS = {
    "cpa": ("cost per acquisition: spend / conversions", "conversions"),
    "cr": ("conversion rate: conversions / clicks", "clicks"),
    "roas": ("return on ad spend: revenue / spend", "spend"),
    "ctr": ("click-through rate: clicks / impressions", "impressions"),
    "cpc": ("cost per click: spend / clicks", "clicks"),
}


def _kpi_ratio(name: str) -> _Ratio:
    num, den = BUSINESS_RATIOS[name]
    return _Ratio("kpis", _col(num), _col(den), _KPI_DOCS[name][0], _KPI_DOCS[name][1], (num, den))


RATIOS: dict[str, _Ratio] = {
    **{name: _kpi_ratio(name) for name in _KPI_DOCS},
    "timeout_rate": _Ratio("service", _col("timeouts"), _col("requests"), "timeouts / requests", "requests",
                           ("timeouts", "requests"), ("service",)),
    "error_rate": _Ratio("service", _col("errors"), _col("requests"), "errors / requests", "requests",
                         ("errors", "requests"), ("service",)),
    "latency_p95_ms": _Ratio("service", _weighted("latency_p95_ms", "requests"), _col("requests"),
                             "hourly p95 latency, averaged over the window weighted by requests", "requests",
                             ("latency_p95_ms", "requests"), ("service",)),
    "latency_p99_ms": _Ratio("service", _weighted("latency_p99_ms", "requests"), _col("requests"),
                             "hourly p99 latency, averaged over the window weighted by requests", "requests",
                             ("latency_p99_ms", "requests"), ("service",)),
    "validator_failure_rate": _Ratio("llm_calls", _count_true("validator_ok", negate=True), lambda: pl.lit(1.0),
                                     "share of LLM calls whose output failed the validator", "calls",
                                     ("validator_ok",), ("model",)),
    "refusal_rate": _Ratio("llm_calls", _count_true("refusal"), lambda: pl.lit(1.0), "share of LLM calls refused",
                           "calls", ("refusal",), ("feature",)),
    "llm_error_rate": _Ratio("llm_calls", _count_true("error"), lambda: pl.lit(1.0), "share of LLM calls that errored",
                             "calls", ("error",), ("model",)),
    "output_tokens_mean": _Ratio("llm_calls", _col("output_tokens"), lambda: pl.lit(1.0),
                                 "mean output tokens per LLM call", "calls", ("output_tokens",), ("feature",)),
    "cost_per_call": _Ratio("llm_calls", _col("cost"), lambda: pl.lit(1.0), "LLM cost per call", "calls",
                            ("cost",), ("feature",)),
    "judge_score_mean": _Ratio("llm_calls", _col("judge_score"), lambda: pl.lit(1.0), "mean judge score of LLM calls",
                               "calls", ("judge_score",), ("feature",)),
}

# golden-set metrics (release checks): the llm module's per-release summary, per-case medians over repeats
GOLDEN: dict[str, tuple[str, str]] = {
    "golden_pass_rate": ("pass_rate", "share of golden cases that pass (median over repeats)"),
    "golden_recall_at_k": ("recall_at_k_mean", "mean recall@k over golden cases (median over repeats)"),
    "golden_ndcg": ("ndcg_mean", "mean nDCG over golden cases (median over repeats)"),
    "golden_score": ("score_mean", "mean golden-case score (median over repeats)"),
}

_OTHER: dict[str, MetricSpec] = {
    **{name: MetricSpec(name, "golden_runs", "level", doc + "; a release check, not replayed on history",
                        "golden cases") for name, (_, doc) in GOLDEN.items()},
    "null_rate": MetricSpec("null_rate", None, "level", "share of rows where the column is null", "rows",
                            needs_arg=True),
    "psi": MetricSpec("psi", None, "distance",
                      "population stability index of the column, current vs baseline window (categories for text, "
                      "deciles of the first week for numbers, nulls as their own bin)", "rows", needs_arg=True),
    "share": MetricSpec("share", "kpis", "level", "the segment's share of the total of a KPI column (e.g. spend)",
                        "total of the column", needs_arg=True, needs_by=True),
    "seasonality_flag": MetricSpec(
        "seasonality_flag", None, "level",
        "share of hours the seasonality module's causal mode flags <metric> as anomaly or drift (a flag at an hour "
        "uses only data up to it; calendar days are calendar, not drift)", "flagged hours", needs_arg=True),
    "ece": MetricSpec("ece", "decisions", "level",
                      f"expected calibration error of score vs label ({ECE_BINS} equal-width bins, labelled rows)",
                      "labelled rows"),
}


def metric_catalog() -> list[MetricSpec]:
    """Every metric family, for docs, the app's picker and error messages."""
    ratios = [MetricSpec(n, r.table, "level", r.doc, r.sample_doc, r.default_by) for n, r in RATIOS.items()]
    return sorted([*ratios, *_OTHER.values()], key=lambda m: m.family)


def metric_names() -> list[str]:
    """Names as written in a policy (``<family>:<column>`` for those taking a column)."""
    return [m.family + (":<column>" if m.needs_arg else "") for m in metric_catalog()]


def parse_metric(name: str, *, where: str = "gate") -> MetricSpec:
    """A metric name as its registry entry; an unknown name is a PolicyError listing the known ones."""
    text = name.strip()
    family, _, arg = text.partition(":")
    change = family.endswith("_change")
    base = family.removesuffix("_change") if change else family
    spec = next((m for m in metric_catalog() if m.family == base), None)
    if spec is None:
        raise PolicyError(f"{where}: unknown metric {name!r}; known metrics are {', '.join(metric_names())} "
                          "(add _change to a level to compare it with a baseline, e.g. cpa_change)")
    if change and spec.kind == "distance":
        raise PolicyError(f"{where}: {base} already compares two windows; write {base}:<column>, not {family}")
    if spec.needs_arg and not arg:
        raise PolicyError(f"{where}: metric {base} needs a column, e.g. {base}:ctr_7d")
    if not spec.needs_arg and arg:
        raise PolicyError(f"{where}: metric {base} takes no column, got {name!r}")
    if spec.family == "seasonality_flag":
        inner = parse_metric(arg, where=where)
        if inner.kind == "distance" or inner.family == "seasonality_flag":
            raise PolicyError(f"{where}: seasonality_flag needs a level metric such as cpa or null_rate:<column>, "
                              f"got {arg!r}")
        return MetricSpec(spec.family, inner.table, "level", spec.doc, spec.sample_doc, inner.default_by,
                          True, inner.needs_by, inner.canonical, change)
    return MetricSpec(spec.family, spec.table, spec.kind, spec.doc, spec.sample_doc, spec.default_by,
                      spec.needs_arg, spec.needs_by, arg or None, change)


def required_columns(spec: MetricSpec) -> tuple[str, ...]:
    """The columns a metric reads (besides ts and the segment columns)."""
    if spec.family == "seasonality_flag":
        return required_columns(parse_metric(spec.arg))
    if spec.family in RATIOS:
        return RATIOS[spec.family].needs
    if spec.family == "ece":
        return ("score", "label")
    if spec.family in GOLDEN:
        return ("case_id", "passed") if spec.family == "golden_pass_rate" else (
            "case_id", GOLDEN[spec.family][0].removesuffix("_mean"))
    return (spec.arg,) if spec.arg else ()


# --------------------------------------------------------------------------- hourly components


@dataclass(frozen=True)
class MetricSeries:
    """Additive hourly components of one metric per segment, on a regular grid starting at `start`.

    `components[s, t, k]` is component k of segment s in hour [start + t h, start + (t+1) h).
    """

    metric: MetricSpec
    segments: tuple[str, ...]
    keys: pl.DataFrame
    start: dt.datetime
    components: np.ndarray
    level: Callable[[np.ndarray], np.ndarray] | None
    distance: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    sample: Callable[[np.ndarray], np.ndarray]
    valid_from: int = 0  # first hour index whose end may carry an evaluation (PSI reference period)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hours(self) -> int:
        return int(self.components.shape[1])

    @property
    def end(self) -> dt.datetime:
        return self.start + self.hours * HOUR

    def hour_ends(self) -> np.ndarray:
        """The time each hour's data is complete: start + (t + 1) h, as numpy datetime64[us]."""
        base = np.datetime64(self.start, "us")
        return base + (np.arange(1, self.hours + 1) * np.timedelta64(1, "h")).astype("timedelta64[us]")


def _table_for(ds, spec: MetricSpec, where: str):
    """The contract table a metric reads; for column metrics, the first table having the column."""
    if spec.table is not None:
        table = ds.get(spec.table)
        if table is None:
            raise PolicyError(f"{where}: metric {spec.canonical} needs the {spec.table} table, which the data lacks")
        return table
    for name in ("decisions", "kpis", "llm_calls", "service"):
        table = ds.get(name)
        if table is not None and spec.arg in table.frame.columns:
            return table
    raise PolicyError(f"{where}: no table has the column {spec.arg!r} that metric {spec.canonical} reads")


def _frame_for(table, by: tuple[str, ...], filt, where: str) -> pl.LazyFrame:
    cols = table.frame.columns
    for c in (*by, *(c for c, _ in filt)):
        if c not in cols:
            raise PolicyError(f"{where}: column {c!r} is not in the {table.name} table; it has {cols}")
    lf = table.frame.lazy()
    for c, values in filt:
        lf = lf.filter(pl.col(c).cast(pl.String).is_in(list(values)))
    return lf


def _grid(table) -> tuple[dt.datetime, int]:
    if "ts" not in table.frame.columns:
        raise PolicyError(f"{table.source}: the {table.name} table has no timestamps, so its metrics are release "
                          "checks (driftdesk gates check), not replayed on history")
    span = table.frame.select(pl.col("ts").min().alias("a"), pl.col("ts").max().alias("b")).row(0)
    if span[0] is None:
        raise PolicyError(f"{table.source}: the {table.name} table has no timestamps")
    start = span[0].replace(minute=0, second=0, microsecond=0)
    hours = int((span[1] - start) // HOUR) + 1
    return start, hours


def _dense(hourly: pl.DataFrame, by: tuple[str, ...], names: list[str], start: dt.datetime,
           hours: int) -> tuple[pl.DataFrame, tuple[str, ...], np.ndarray]:
    """Scatter (hour, by..., components) rows into a dense (segments, hours, components) array."""
    if by:
        keys = hourly.select(by).unique().sort(by)
        labels = tuple(", ".join(f"{c}={v}" for c, v in zip(by, row)) for row in keys.iter_rows())
        idx = hourly.join(keys.with_row_index("__s"), on=list(by), how="left", nulls_equal=True)["__s"].to_numpy()
    else:
        keys = pl.DataFrame()
        labels = ("all",)
        idx = np.zeros(hourly.height, dtype=np.int64)
    out = np.zeros((len(labels), hours, len(names)), dtype=np.float64)
    if hourly.height:
        t = ((hourly["__hour"].to_numpy().astype("datetime64[us]") - np.datetime64(start, "us"))
             // np.timedelta64(1, "h")).astype(np.int64)
        out[idx, t, :] = np.nan_to_num(hourly.select(names).to_numpy().astype(np.float64))
    return keys, labels, out


def _aggregate(lf: pl.LazyFrame, by: tuple[str, ...], aggs: list[pl.Expr]) -> pl.DataFrame:
    hour = pl.col("ts").dt.truncate("1h").alias("__hour")
    return lf.group_by([hour, *[pl.col(b).cast(pl.String) for b in by]]).agg(aggs).collect()


def metric_series(ds, metric: str | MetricSpec, *, by: tuple[str, ...] | None = None,
                  filter: tuple[tuple[str, tuple[str, ...]], ...] = (), where: str = "gate",
                  reference: pl.DataFrame | None = None) -> MetricSeries:
    """Hourly additive components of a metric per segment of `by` (None: the metric's default segmentation).

    `ds` is a driftdesk Dataset (or anything with ``.get(table_name)`` returning a contract Table).
    `reference` (PSI only): a frame whose whole column sets the numeric bins and adds its categories, so two
    files can be compared on the same bins (the release gate); without it the first week of history does.
    """
    spec = parse_metric(metric, where=where) if isinstance(metric, str) else metric
    by = spec.default_by if by is None else tuple(by)
    if spec.needs_by and not by:
        raise PolicyError(f"{where}: metric {spec.canonical} is a share of a total, so it needs by = [<segment column>]")
    if spec.family == "seasonality_flag":
        return _seasonality_flags(ds, spec, by, filter, where)
    table = _table_for(ds, spec, where)
    if spec.family in GOLDEN:
        return _golden(table, spec, by, filter, where)
    start, hours = _grid(table)
    lf = _frame_for(table, by, filter, where)
    cols = table.frame.columns
    notes: list[str] = []

    if spec.family in RATIOS:
        r = RATIOS[spec.family]
        missing = [c for c in r.needs if c not in cols]
        if missing:
            raise PolicyError(f"{where}: metric {spec.canonical} needs column(s) {missing} in the {table.name} table")
        if r.table == "kpis":  # the business module's ratio-of-sums series, per hour
            num_col, den_col = BUSINESS_RATIOS[spec.family]
            hourly = kpi_table(lf, by=by, every="1h", source=table.source).rename({"ts": "__hour"})
            hourly = hourly.select("__hour", *by, pl.col(f"{num_col}_sum").alias("num"),
                                   pl.col(f"{den_col}_sum").alias("den"))
        else:
            num, den = r.num(), r.den()
            if spec.family.startswith("latency_") and "requests" not in cols:
                num, den = pl.col(r.needs[0]).cast(pl.Float64), pl.lit(1.0)
                notes.append("no requests column: hourly latencies are averaged unweighted")
            # a row whose numerator is missing does not count in the denominator either
            ok = num.is_not_null() & ~num.is_nan()
            hourly = _aggregate(lf, by, [pl.when(ok).then(num).otherwise(0.0).sum().alias("num"),
                                         pl.when(ok).then(den).otherwise(0.0).sum().alias("den")])
        keys, labels, comps = _dense(hourly, by, ["num", "den"], start, hours)
        return MetricSeries(spec, labels, keys, start, comps, _ratio, None, lambda c: c[..., 1], notes=tuple(notes))

    if spec.family == "null_rate":
        column = spec.arg
        if column not in cols:
            raise PolicyError(f"{where}: column {column!r} is not in the {table.name} table")
        c = pl.col(column)
        null = c.is_null() | (c.is_nan() if table.frame.schema[column].is_float() else pl.lit(False))
        aggs = [null.cast(pl.Float64).sum().alias("num"), pl.len().cast(pl.Float64).alias("den")]
        keys, labels, comps = _dense(_aggregate(lf, by, aggs), by, ["num", "den"], start, hours)
        return MetricSeries(spec, labels, keys, start, comps, _ratio, None, lambda c: c[..., 1])

    if spec.family == "share":
        measure = spec.arg
        if measure not in cols:
            raise PolicyError(f"{where}: column {measure!r} is not in the {table.name} table")
        hourly = _aggregate(lf, by, [pl.col(measure).cast(pl.Float64).sum().alias("part")])
        keys, labels, part = _dense(hourly, by, ["part"], start, hours)
        total = part.sum(axis=0, keepdims=True)
        comps = np.concatenate([part, np.broadcast_to(total, part.shape)], axis=-1)
        return MetricSeries(spec, labels, keys, start, comps, _ratio, None, lambda c: c[..., 1])

    if spec.family == "ece":
        if "label" not in cols:
            raise PolicyError(f"{where}: metric ece needs a label column in the decisions table")
        labelled = lf.filter(pl.col("label").is_not_null() & pl.col("score").is_not_null())
        hour = pl.col("ts").dt.truncate("1h").alias("__hour")
        agg = bin_aggregates(labelled, edges=bin_edges(None, bins=ECE_BINS), group=[hour, *by])
        wide = agg.pivot(on="bin", index=["__hour", *by], values=["count", "score_sum", "positives"])
        names = [f"{stat}_{i}" for stat in ("count", "score_sum", "positives") for i in range(ECE_BINS)]
        wide = wide.with_columns(*[pl.lit(0.0).alias(n) for n in names if n not in wide.columns])
        keys, labels, comps = _dense(wide, by, names, start, hours)
        return MetricSeries(spec, labels, keys, start, comps, _ece, None, lambda c: c[..., :ECE_BINS].sum(axis=-1),
                            notes=("labels that have not matured (null) are left out",))

    if spec.family == "psi":
        column = spec.arg
        if column not in cols:
            raise PolicyError(f"{where}: column {column!r} is not in the {table.name} table")
        dtype = table.frame.schema[column]
        valid_from = 0
        if reference is not None and column not in reference.columns:
            raise PolicyError(f"{where}: the baseline has no column {column!r}")
        if dtype.is_numeric():
            x = pl.col(column).cast(pl.Float64)
            if reference is None:
                ref_rows = table.frame.lazy().filter(pl.col("ts") < start + PSI_REFERENCE_HOURS * HOUR)
                valid_from = PSI_REFERENCE_HOURS
                notes.append("numeric bins: deciles of the first week of history; evaluations start after it")
            else:
                ref_rows = reference.lazy()
            ref = ref_rows.filter(x.is_finite()).select(x.sort()).collect()[column].to_numpy()
            if ref.size == 0:
                raise PolicyError(f"{where}: psi:{column} has no finite values in its reference to set the bins")
            edges = quantile_edges(ref, PSI_NUMERIC_BINS)
            rows = lf.filter(x.is_finite())
            bin_expr = pl.sum_horizontal([(x > float(e)).cast(pl.Int64) for e in edges]) if edges.size else pl.lit(0)
            categories: list = list(range(edges.size + 1))
        else:
            rows = lf.filter(pl.col(column).is_not_null())
            bin_expr = pl.col(column).cast(pl.String)
            seen = table.frame[column].drop_nulls().cast(pl.String).unique().to_list()
            if reference is not None:
                seen += reference[column].drop_nulls().cast(pl.String).unique().to_list()
            categories = sorted(set(seen))
        hourly = (rows.with_columns(bin_expr.alias("__bin"))
                  .group_by([pl.col("ts").dt.truncate("1h").alias("__hour"), *[pl.col(c).cast(pl.String) for c in by],
                             "__bin"])
                  .agg(pl.len().cast(pl.Float64).alias("n")).collect())
        names = [f"b{i}" for i in range(len(categories))]
        if hourly.height:
            mapping = pl.DataFrame({"__bin": pl.Series(categories).cast(hourly["__bin"].dtype), "__name": names})
            wide = hourly.join(mapping, on="__bin").pivot(on="__name", index=["__hour", *by], values="n")
            wide = wide.with_columns(*[pl.lit(0.0).alias(n) for n in names if n not in wide.columns]).fill_null(0.0)
        else:
            wide = pl.DataFrame(schema={"__hour": pl.Datetime("us"), **{c: pl.String for c in by},
                                        **{n: pl.Float64 for n in names}})
        keys, labels, comps = _dense(wide, by, names, start, hours)
        return MetricSeries(spec, labels, keys, start, comps, None, psi_from_counts, lambda c: c.sum(axis=-1),
                            valid_from=valid_from, notes=tuple(notes))

    raise PolicyError(f"{where}: metric {spec.canonical} has no implementation")  # registry and code disagree


RELEASE_START = dt.datetime(1970, 1, 1)  # golden runs have no time: one nominal hour holds them all


def _golden(table, spec: MetricSpec, by: tuple[str, ...], filt, where: str) -> MetricSeries:
    """Golden-set metrics from driftdesk.llm.golden_summary, as (value x cases, cases) per segment."""
    from driftdesk.llm import golden_summary

    lf = _frame_for(table, by, filt, where)
    column = GOLDEN[spec.family][0]
    group = list(by) or ["__all"]
    frame = lf.with_columns(pl.lit("all").alias("__all")) if not by else lf
    summary = golden_summary(frame.collect(), by=group)
    if column not in summary.columns:
        raise PolicyError(f"{where}: metric {spec.canonical} needs the column behind {column} in the golden runs")
    summary = summary.with_columns((pl.col(column) * pl.col("cases")).alias("num"),
                                   pl.col("cases").cast(pl.Float64).alias("den"), pl.lit(RELEASE_START).alias("__hour"))
    keys, labels, comps = _dense(summary.select("__hour", *by, "num", "den"), by, ["num", "den"], RELEASE_START, 1)
    return MetricSeries(spec, labels, keys, RELEASE_START, comps, _ratio, None, lambda c: c[..., 1],
                        notes=("golden runs: one value per release (no time)",))


def _seasonality_flags(ds, spec: MetricSpec, by: tuple[str, ...], filt, where: str) -> MetricSeries:
    """Hourly values of the inner metric per segment, flagged by the seasonality module's causal mode."""
    from driftdesk.seasonality import causal_flags

    inner = metric_series(ds, spec.arg, by=by, filter=filt, where=where)
    values = inner.level(inner.components)  # (S, T): the hourly level (a ratio of that hour's sums)
    ts = inner.start + np.arange(inner.hours) * HOUR
    frame = pl.DataFrame({"ts": np.tile(np.array(ts, dtype="datetime64[us]"), len(inner.segments)),
                          "__segment": np.repeat(np.array(inner.segments, dtype=object), inner.hours).astype(str),
                          "value": values.ravel()})
    calendar = ds.get("calendar")
    flags = causal_flags(frame, ts="ts", value="value", by=["__segment"],
                         calendar=calendar.frame if calendar is not None else None)
    flags = flags.with_columns(
        pl.col("flag").is_in(["anomaly", "drift"]).cast(pl.Float64).alias("num"),
        pl.col("flag").is_not_null().cast(pl.Float64).alias("den"),
        pl.col("ts").alias("__hour"),
    )
    comps = np.zeros((len(inner.segments), inner.hours, 2))
    s_idx = {s: i for i, s in enumerate(inner.segments)}
    si = np.array([s_idx[s] for s in flags["__segment"].to_list()], dtype=np.int64)
    ti = ((flags["__hour"].to_numpy().astype("datetime64[us]") - np.datetime64(inner.start, "us"))
          // np.timedelta64(1, "h")).astype(np.int64)
    comps[si, ti, 0] = flags["num"].to_numpy()
    comps[si, ti, 1] = flags["den"].to_numpy()
    return MetricSeries(spec, inner.segments, inner.keys, inner.start, comps, _ratio, None, lambda c: c[..., 1],
                        notes=("flags from driftdesk.seasonality (causal mode)",))


# --------------------------------------------------------------------------- what a dataset offers (for forms)


def available_metrics(ds) -> list[str]:
    """Concrete metric names the dataset can compute, for pickers: ratios whose columns exist, and the
    column metrics for every feature / KPI column."""
    out: list[str] = []
    for spec in metric_catalog():
        if spec.needs_arg:
            if spec.family == "seasonality_flag":
                kpis = ds.get("kpis")
                out += [f"seasonality_flag:{m}" for m in ("cpa", "cr", "roas") if kpis is not None]
            elif spec.family == "share":
                kpis = ds.get("kpis")
                out += [f"share:{c}" for c in ("spend", "conversions", "clicks", "impressions", "revenue")
                        if kpis is not None and c in kpis.frame.columns]
            else:
                for name in ("decisions", "kpis", "llm_calls"):
                    t = ds.get(name)
                    if t is None:
                        continue
                    cols = list(t.features) if name == "decisions" else [
                        c for c in t.frame.columns if c != "ts" and c not in t.segments]
                    if name == "decisions" and spec.family == "psi":
                        cols = [*t.segments, *cols]  # the traffic mix over a segment column, e.g. psi:geo
                    out += [f"{spec.family}:{c}" for c in cols]
            continue
        table = ds.get(spec.table) if spec.table else None
        if table is not None and all(c in table.frame.columns for c in required_columns(spec)):
            out.append(spec.family)
    return list(dict.fromkeys(out))


def segment_columns(ds, metric: str) -> list[str]:
    """Columns a metric can be split by: the text columns of the table it reads (not its own column)."""
    spec = parse_metric(metric)
    try:
        table = _table_for(ds, spec, "metric")
    except PolicyError:
        return []
    schema = table.frame.schema
    return [c for c in table.frame.columns
            if c not in ("ts", spec.arg, "release_id") and schema[c] == pl.String]
