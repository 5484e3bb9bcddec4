"""LLM quality, cost and latency per prompt / model / retriever version, and golden-set results.

Rates are ratios of counts (failures / calls); latency percentiles use linear interpolation (numpy's
default), so a p95 here equals ``numpy.percentile(x, 95)``. Golden-set pass rate takes, per case, the
median over repeats (a flaky case counts by its majority), then the mean over cases. The metrics, their
names, labels, units and directions are the llm_calls entries of the registry (``driftdesk.metrics``); the
LLM error share is ``llm_error_rate`` (JSON also keeps it under its old key ``error_rate``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk import engine
from driftdesk.bounds import AMOUNT, WINDOW_DAYS, Bound, check_every
from driftdesk.budget import BudgetBurn, budget_burn
from driftdesk.engine.budget import collect
from driftdesk.errors import DriftdeskError, WindowError
from driftdesk.format import format_value
from driftdesk.golden import GoldenComparison, compare_golden, golden_summary
from driftdesk.jsonsafe import jsonable
from driftdesk.metrics import get_metric, known_sum, metric_expr, metrics_for
from driftdesk.outputs import OutputDrift, output_drift
from driftdesk.segments import by_columns
from driftdesk.stats import two_proportion_pvalue
from driftdesk.windows import Window, previous_period, span

LLM_METRICS = tuple(metrics_for("llm_calls"))
GROUP_METRICS = tuple(m.name for m in LLM_METRICS)
# metrics where a rise is bad, for comparisons
HIGHER_IS_WORSE = frozenset(m.name for m in LLM_METRICS if m.direction == "higher_is_worse")
RATE_METRICS = tuple(m.name for m in LLM_METRICS if m.aggregation == "rate")
DEPRECATED_KEYS = {"error_rate": "llm_error_rate"}  # old JSON key -> metric, kept beside it in to_dict


def _aggregations(columns: Sequence[str]) -> list[pl.Expr]:
    """GROUP_METRICS from the registry; a metric whose column is absent is null (undefined, not zero).

    cost_per_call is cost_total / calls here, so the table's three columns agree exactly.
    """
    present = set(columns)
    out = []
    for m in LLM_METRICS:
        expr = known_sum(pl.col("cost").cast(pl.Float64)) / pl.len() if m.name == "cost_per_call" else metric_expr(m)
        out.append((expr if present.issuperset(m.columns) else pl.lit(None, dtype=pl.Float64)).alias(m.name))
    return out


def _check_by(calls: pl.DataFrame | pl.LazyFrame, by: str | Sequence[str]) -> list[str]:
    columns = list(engine.schema(calls))
    by = by_columns(by, columns)
    missing = [c for c in by if c not in columns]
    if missing:
        raise DriftdeskError(f"llm: unknown group column(s) {missing}; columns are {columns}")
    return list(by)


def summarize_calls(calls: pl.DataFrame | pl.LazyFrame, *, by: Sequence[str] = (), window: Window | None = None) -> pl.DataFrame:
    """One row per group: calls, failure and refusal rates, latency percentiles, tokens and cost."""
    by = _check_by(calls, by)
    if engine.is_spark(calls):
        out = _summarize_on_spark(calls, by, window)
    else:
        lf = calls.lazy()
        if window is not None:
            lf = lf.filter(window.contains("ts"))
        aggs = _aggregations(lf.collect_schema().names())
        out = _reduce(lf, by, aggs) if isinstance(calls, pl.DataFrame) else _summarize_scan(lf, by, aggs)
    if by:
        out = out.sort(by)
    if not by and out["calls"][0] == 0:
        return out.clear()
    return out


def _reduce(lf: pl.LazyFrame, by: list[str], aggs: list[pl.Expr]) -> pl.DataFrame:
    return (lf.group_by(by, maintain_order=False).agg(aggs) if by else lf.select(aggs)).pipe(collect)


def _summarize_scan(lf: pl.LazyFrame, by: list[str], aggs: list[pl.Expr]) -> pl.DataFrame:
    """summarize_calls on a lazy scan within the memory budget: exact percentiles hold their column's values, about
    GROUPED_BYTES_PER_VALUE a row in a group-by, so past the budget each group's percentiles of each column are
    taken in a pass of their own (EXACT_BYTES_PER_VALUE a row of the group); a group too large even so is refused
    with its size and the budget, never a swap storm. Every other metric is one streaming pass."""
    names = lf.collect_schema().names()
    percentiles = {m.name: m.columns[0] for m in LLM_METRICS if m.aggregation == "percentile" and m.columns[0] in names}
    rest = _reduce(lf, by, [a for a in aggs if a.meta.output_name() not in percentiles])
    if not percentiles:
        return rest.select(*by, *[a.meta.output_name() for a in aggs])
    exprs = {a.meta.output_name(): a for a in aggs}
    calls = int(rest["calls"].sum() or 0)
    if calls * engine.GROUPED_BYTES_PER_VALUE <= engine.memory_budget():
        found = _reduce(lf, by, [exprs[name] for name in percentiles])  # only what ``rest`` does not hold
    else:
        found = _percentiles_per_group(lf, by, rest, exprs, percentiles)
    out = rest.join(found, on=by, nulls_equal=True) if by else pl.concat([rest, found], how="horizontal")
    like = _reduce(lf.clear(), by, aggs).schema  # the types and order of the one-pass reduction
    return out.select([pl.col(c).cast(t) for c, t in like.items()])


def _percentiles_per_group(lf: pl.LazyFrame, by: list[str], rest: pl.DataFrame, exprs: dict[str, pl.Expr],
                           percentiles: dict[str, str]) -> pl.DataFrame:
    """Each group's percentiles of each column in a pass of their own (``rest``: the groups and their calls)."""
    rows = []
    for group in rest.select(*by, "calls").iter_rows(named=True):
        engine.require_fits(group["calls"] * engine.EXACT_BYTES_PER_VALUE,
                            what=f"llm: exact percentiles of {group['calls']:,} calls"
                                 + (f" ({', '.join(f'{k}={group[k]}' for k in by)})" if by else ""),
                            hint="raise DRIFTDESK_MEMORY_BUDGET, split the calls by more columns, or use --engine spark")
        rows_of = lf.filter(*[pl.col(k).is_null() if group[k] is None else pl.col(k) == group[k] for k in by])
        values = {k: group[k] for k in by}
        for column in dict.fromkeys(percentiles.values()):
            part = rows_of.select([exprs[name] for name, c in percentiles.items() if c == column]).pipe(collect)
            values.update(part.row(0, named=True))
        rows.append(values)
    return pl.DataFrame(rows, schema={**{k: rest.schema[k] for k in by}, **dict.fromkeys(percentiles, pl.Float64)})


def _summarize_on_spark(calls, by: list[str], window: Window | None) -> pl.DataFrame:
    """summarize_calls' one pass over the rows, on Spark: the registry's metrics in the types polars gives them."""
    from driftdesk.engine import spark
    from driftdesk.engine.spark import aggregate

    schema = engine.schema(calls)
    rows = spark.where_between(calls, "ts", window.start, window.end) if window is not None else calls
    present = set(schema)
    F = spark.functions()
    aggs = {m.name: (F.try_divide(aggregate.known_sum(F.col("cost").cast("double")), F.count(F.lit(1)))
                     if m.name == "cost_per_call" else aggregate.metric(m, schema))
            for m in LLM_METRICS if present.issuperset(m.columns)}
    like = aggregate.like(schema, _aggregations(list(schema)), by)
    out = aggregate.reduce(rows, aggs, by=by, like={k: t for k, t in like.items() if k in aggs or k in by})
    return out.with_columns(pl.lit(None, t).alias(k) for k, t in like.items() if k not in out.columns).select(list(like))


@dataclass(frozen=True)
class LlmResult:
    """Per-group LLM metrics, for one window or a baseline and a current window with their changes."""

    groups: pl.DataFrame  # group columns, optional `window`, then GROUP_METRICS
    by: tuple[str, ...]
    # group columns, metric, baseline, current, change, relative_change, reference ("same group" or, for a group
    # new in the current window, "all baseline calls")
    comparison: pl.DataFrame | None = None
    baseline: Window | None = None
    current: Window | None = None

    def to_frame(self) -> pl.DataFrame:
        return self.groups

    def to_dict(self) -> dict:
        groups = self.groups.with_columns(pl.col(new).alias(old) for old, new in DEPRECATED_KEYS.items()
                                          if new in self.groups.columns)
        doc: dict = {"by": list(self.by), "groups": jsonable(groups)}
        if self.comparison is not None:
            doc["comparison"] = jsonable(self.comparison)
            doc["baseline"] = self.baseline.to_dict() if self.baseline else None
            doc["current"] = self.current.to_dict() if self.current else None
        return doc

    def regressions(self, *, relative: float = 0.2, alpha: float = 0.01) -> pl.DataFrame:
        """Rows where a higher-is-worse metric rose by more than ``relative`` (the effect size), and, for rates,
        the rise is also unlikely to be noise (two-proportion z-test p < ``alpha``)."""
        if self.comparison is None:
            return pl.DataFrame()
        return self.comparison.filter(
            pl.col("metric").is_in(list(HIGHER_IS_WORSE))
            & (pl.col("relative_change") > relative)
            & (pl.col("p_value").is_null() | (pl.col("p_value") < alpha))
        )

    def summary(self, *, relative: float = 0.2) -> list[str]:
        """Plain sentences for the regressions (higher-is-worse metrics up by more than ``relative``)."""
        return regression_sentences(self, relative=relative)

    def to_figure(self, metric: str = "validator_failure_rate"):
        from driftdesk.viz.llm import comparison_figure

        return comparison_figure(self, metric)

    def _repr_html_(self) -> str:
        lines = "".join(f"<li>{s}</li>" for s in self.summary())
        return (f"<ul>{lines}</ul>" if lines else "") + self.groups._repr_html_()


def compare_calls(calls: pl.DataFrame | pl.LazyFrame, *, by: Sequence[str] = (), baseline: Window | None = None,
                  current: Window | None = None) -> LlmResult:
    """LLM metrics per group; with two windows, both windows' rows (column `window`) and a long comparison."""
    by = tuple(_check_by(calls, by))
    if (baseline is None) != (current is None):
        raise DriftdeskError("llm: give both --baseline and --current, or neither")
    if baseline is None:
        return LlmResult(summarize_calls(calls, by=by), by)
    parts = []
    for name, w in (("baseline", baseline), ("current", current)):
        part = summarize_calls(calls, by=by, window=w)
        parts.append(part.with_columns(pl.lit(name).alias("window")).select(*by, "window", *GROUP_METRICS))
    groups = pl.concat(parts)
    if groups.filter(pl.col("calls") > 0).height == 0:
        lo, hi = span(calls, "ts")
        spanned = f"{lo.isoformat()} to {hi.isoformat()}" if lo is not None else "no calls at all"
        raise WindowError(f"llm: neither the baseline window {baseline.iso()} nor the current window {current.iso()} "
                          f"has calls; the data spans {spanned}")
    long = groups.unpivot(index=[*by, "window"], on=list(GROUP_METRICS), variable_name="metric")
    long = long.with_columns(pl.col("value").cast(pl.Float64))
    wide = long.pivot(on="window", index=[*by, "metric"], values="value")
    for col in ("baseline", "current"):
        if col not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(col))
    # A group new in the current window (a new prompt or model version) is compared with all baseline calls.
    overall = summarize_calls(calls, window=baseline)
    baseline_calls = groups.filter(pl.col("window") == "baseline").select(*by).with_columns(pl.lit(True).alias("_seen"))
    overall_long = (
        overall.select(pl.col(m).cast(pl.Float64) for m in GROUP_METRICS)
        .unpivot(on=list(GROUP_METRICS), variable_name="metric", value_name="_overall")
        if overall.height else pl.DataFrame(schema={"metric": pl.String, "_overall": pl.Float64})
    )
    wide = (
        wide.join(baseline_calls, on=list(by), how="left", nulls_equal=True) if by else wide.with_columns(_seen=pl.lit(True))
    ).join(overall_long, on="metric", how="left")
    wide = wide.with_columns(
        pl.when(pl.col("_seen")).then(pl.lit("same group")).otherwise(pl.lit("all baseline calls")).alias("reference"),
        pl.when(pl.col("_seen")).then(pl.col("baseline")).otherwise(pl.col("_overall")).alias("baseline"),
    )
    counts = wide.filter(pl.col("metric") == "calls").select(
        *by, pl.col("baseline").alias("_n0"), pl.col("current").alias("_n1"))
    wide = wide.join(counts, on=list(by), how="left", nulls_equal=True) if by else wide.with_columns(
        _n0=pl.lit(counts["_n0"][0]), _n1=pl.lit(counts["_n1"][0]))
    comparison = wide.with_columns(
        (pl.col("current") - pl.col("baseline")).alias("change"),
        pl.when(pl.col("baseline") != 0).then(pl.col("current") / pl.col("baseline") - 1.0).alias("relative_change"),
        _rate_pvalues(wide),
    ).select(*by, "metric", "baseline", "current", "change", "relative_change", "p_value", "reference")
    return LlmResult(groups, by, comparison, baseline, current)


def _rate_pvalues(wide: pl.DataFrame) -> pl.Series:
    """Two-proportion z-test p-values of the rate metrics' baseline vs current (null for other metrics)."""
    n0, n1 = (wide[c].cast(pl.Float64).to_numpy() for c in ("_n0", "_n1"))
    p0, p1 = (wide[c].cast(pl.Float64).to_numpy() for c in ("baseline", "current"))
    p = two_proportion_pvalue(p0 * n0, n0, p1 * n1, n1)
    rate = wide["metric"].is_in(list(RATE_METRICS)).to_numpy()
    return pl.Series("p_value", np.where(rate, p, np.nan)).fill_nan(None)


def flagged_regressions(result: LlmResult, *, relative: float = 0.2, min_calls: int = 30) -> pl.DataFrame:
    """The regressions worth a sentence, worst first: ``LlmResult.regressions`` of groups with at least
    ``min_calls`` calls in the current window."""
    if result.comparison is None:
        return pl.DataFrame()
    calls = result.groups.filter(pl.col("window") == "current").select(*result.by, "calls")
    reg = result.regressions(relative=relative)
    if result.by:
        reg = reg.join(calls, on=list(result.by), how="left").filter(pl.col("calls") >= min_calls).drop("calls")
    return reg.sort("relative_change", descending=True)


def regression_sentences(result: LlmResult, *, relative: float = 0.2, min_calls: int = 30) -> list[str]:
    """E.g. "validator failure rate rose from 0.52% to 3.1% (+496%) for model=provider-m-2026-09"."""
    sentences = []
    for row in flagged_regressions(result, relative=relative, min_calls=min_calls).iter_rows(named=True):
        who = ", ".join(f"{c}={row[c]}" for c in result.by) or "all calls"
        m = get_metric(row["metric"], "llm_calls")
        versus = "" if row["reference"] == "same group" else " (new; against all baseline calls)"
        sentences.append(f"{m.label} rose from {m.format(row['baseline'])} to {m.format(row['current'])} "
                         f"({format_value(row['relative_change'], 'change')}) for {who}{versus}")
    return sentences


def metrics_over_time(calls: pl.DataFrame | pl.LazyFrame, *, by: Sequence[str] = (), every: str = "1d",
                      budget_per_day: float | None = None) -> pl.DataFrame:
    """GROUP_METRICS per time bucket (``every``: a polars duration such as "1h" or "1d") and group.

    With a daily budget, ``budget_burn`` is the bucket's cost as a share of that day's budget, pro rata for
    buckets shorter than a day.
    """
    by = _check_by(calls, by)
    lf = calls.lazy()
    aggs = _aggregations(lf.collect_schema().names())
    out = (
        lf.group_by(pl.col("ts").dt.truncate(check_every(every)).alias("ts"), *by)
        .agg(aggs)
        .sort("ts", *by)
        .pipe(collect)
    )
    if budget_per_day is not None:
        AMOUNT.check(budget_per_day, where="llm: the daily budget")
        if not budget_per_day > 0:
            raise DriftdeskError(f"llm: the daily budget must be positive, got {budget_per_day}")
        try:
            bucket_days = pl.duration(**_duration_kwargs(every)).dt.total_seconds() / 86_400
        except ValueError as exc:
            raise DriftdeskError(f"llm: cannot use a budget with buckets of {every!r}: {exc}") from exc
        out = out.with_columns((pl.col("cost_total") / (budget_per_day * bucket_days)).alias("budget_burn"))
    return out


def _duration_kwargs(every: str) -> dict:
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    number, unit = every[:-1], every[-1]
    if unit not in units or not number.isdigit():
        raise ValueError("use minutes, hours, days or weeks, e.g. 1h or 1d")
    return {units[unit]: int(number)}


LLM_COMPONENTS = ("prompt", "llm_model", "index", "embedding", "retriever")
# a version column of the calls -> the release component that ships it
VERSION_COMPONENTS = {"model": "llm_model", "prompt_version": "prompt", "index_version": "index"}
RELEASE_COLUMNS = {"release_id": pl.String, "release_ts": pl.Datetime("us"), "component": pl.String,
                   "release_note": pl.String, "found_by": pl.String}


def regression_releases(result: LlmResult, calls: pl.DataFrame | pl.LazyFrame, releases: pl.DataFrame | None,
                        *, relative: float = 0.2, min_calls: int = 30) -> pl.DataFrame:
    """Each flagged regression (``flagged_regressions``) with the release that introduced it.

    A version group (model, prompt_version, index_version) is matched to the last release that shipped that
    version before the current window ended (``found_by`` "version"); any other group to the earliest release id
    its current calls carry that its baseline calls do not (``found_by`` "new in the window"); else none.
    """
    reg = flagged_regressions(result, relative=relative, min_calls=min_calls)
    by = list(result.by)
    empty = pl.DataFrame(schema={**{c: pl.String for c in by}, "metric": pl.String, "label": pl.String,
                                 "baseline": pl.Float64, "current": pl.Float64, "relative_change": pl.Float64,
                                 **RELEASE_COLUMNS})
    if not reg.height:
        return empty
    rows = [{**{c: row[c] for c in by}, "metric": row["metric"], "label": get_metric(row["metric"], "llm_calls").label,
             "baseline": row["baseline"], "current": row["current"], "relative_change": row["relative_change"],
             **_introduced_by(row, by, result, calls, releases)} for row in reg.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=empty.schema)


def _introduced_by(row: dict, by: list[str], result: LlmResult, calls, releases: pl.DataFrame | None) -> dict:
    none = dict.fromkeys(RELEASE_COLUMNS)
    rel = releases if releases is not None and {"release_id", "ts"} <= set(releases.columns) else None
    column = by[0] if len(by) == 1 else None
    if rel is not None and column in VERSION_COMPONENTS and {"component", "version"} <= set(rel.columns):
        hit = rel.filter((pl.col("component") == VERSION_COMPONENTS[column])
                         & (pl.col("version").cast(pl.String) == str(row[column])) & (pl.col("ts") < result.current.end))
        if hit.height:
            last = hit.sort("ts").row(-1, named=True)
            return {"release_id": last["release_id"], "release_ts": last["ts"], "component": last["component"],
                    "release_note": last.get("note"), "found_by": "version"}
    if "release_id" not in calls.collect_schema().names():
        return none
    lf = calls.lazy().filter(pl.all_horizontal([pl.col(c).cast(pl.String) == str(row[c]) for c in by] or [pl.lit(True)]))
    seen = set(lf.filter(result.baseline.contains("ts")).select(pl.col("release_id").unique()).collect().to_series())
    new = (lf.filter(result.current.contains("ts") & ~pl.col("release_id").is_in(list(seen)))
           .group_by("release_id").agg(pl.col("ts").min()).sort("ts").collect())
    if not new.height:
        return none
    first = new.row(0, named=True)
    match = rel.filter(pl.col("release_id") == first["release_id"]) if rel is not None else None
    info = match.row(0, named=True) if match is not None and match.height else {}
    return {"release_id": first["release_id"], "release_ts": info.get("ts", first["ts"]),
            "component": info.get("component"), "release_note": info.get("note"), "found_by": "new in the window"}


def golden_releases(dataset) -> list[str]:
    """The releases that have golden runs, in the order they shipped (the releases table's times where it has
    them, the others after, by name)."""
    if "golden_runs" not in dataset:
        return []
    names = sorted(dataset["golden_runs"].frame["release_id"].cast(pl.String).unique().drop_nulls().to_list())
    shipped = _release_times(dataset)
    return sorted(names, key=lambda r: (shipped.get(r) is None, shipped.get(r) or dt.datetime.min, r))


def _release_times(dataset) -> dict[str, dt.datetime]:
    if "releases" not in dataset:
        return {}
    rel = dataset["releases"].frame
    return dict(rel.group_by("release_id").agg(pl.col("ts").min()).iter_rows())


def golden_pair(dataset, end_day: dt.date) -> tuple[str, str] | None:
    """Default golden comparison for a window ending on ``end_day``: the first golden release as the baseline, and
    the last one live by the end of that day as the candidate (the last one when none has a time)."""
    releases = golden_releases(dataset)
    if len(releases) < 2:
        return None
    shipped = _release_times(dataset)
    end = dt.datetime.combine(end_day, dt.time()) + dt.timedelta(days=1)
    live = [r for r in releases[1:] if shipped.get(r) is not None and shipped[r] < end]
    return releases[0], (live[-1] if live else releases[-1])
# the metrics of the page's per-version table, in its column order
TABLE_METRICS = ("calls", "validator_failure_rate", "refusal_rate", "latency_p95_ms", "tokens_out_mean",
                 "cost_per_call", "judge_score_mean")
TREND_METRICS = ("validator_failure_rate", "refusal_rate", "latency_p95_ms", "tokens_out_mean", "cost_total",
                 "cost_per_call", "judge_score_mean")
GROUPINGS = ("model", "prompt_version", "index_version", "feature")  # what a version is, in the order offered


def llm_groupings(calls: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The columns the LLM calls can be compared by (model, prompt_version, index_version, feature) they have."""
    columns = calls.collect_schema().names()
    return [g for g in GROUPINGS if g in columns]


@dataclass(frozen=True)
class LlmView:
    """Everything the LLM page shows: the comparison, the regressions with the releases that introduced them,
    daily series, output drift, golden-set results (and a baseline release against a candidate, case by case),
    LLM releases, and against a daily budget the daily cost and the end day's burn with its projection."""

    result: LlmResult
    series: pl.DataFrame
    golden: pl.DataFrame | None
    releases: pl.DataFrame | None
    baseline: Window
    current: Window
    budget_per_day: float | None = None
    daily_cost: pl.DataFrame | None = None  # ts, cost_total over every group, one row per day
    regressions: pl.DataFrame | None = None  # regression_releases
    output: OutputDrift | None = None
    golden_comparison: GoldenComparison | None = None
    golden_releases: tuple[str, ...] = ()
    burn: BudgetBurn | None = None

    def versions(self) -> pl.DataFrame:
        """One row per group of the current window: ``group`` (its name), and per metric of ``TABLE_METRICS`` the
        current value and its relative change against the baseline (``<metric>_change``), and what the group is
        compared with (``reference``: the same group, or all baseline calls for a new one)."""
        cmp = self.result.comparison
        by = list(self.result.by)
        current = self.result.groups.filter(pl.col("window") == "current")
        rows = []
        for group in current.iter_rows(named=True):
            key = {c: group[c] for c in by}
            part = cmp.filter(pl.all_horizontal([pl.col(c) == v for c, v in key.items()])) if by else cmp
            row: dict = {"group": ", ".join(str(v) for v in key.values()) or "all calls"}
            for m in TABLE_METRICS:
                r = part.filter(pl.col("metric") == m)
                row[m] = r["current"][0] if r.height else None
                row[f"{m}_change"] = r["relative_change"][0] if r.height else None
            row["reference"] = part["reference"][0] if part.height else None
            rows.append(row)
        schema = {"group": pl.String, **{c: pl.Float64 for m in TABLE_METRICS for c in (m, f"{m}_change")},
                  "reference": pl.String}
        return pl.DataFrame(rows, schema=schema)

    @property
    def days_over_budget(self) -> int | None:
        """How many days cost more than the daily budget (None without one)."""
        if self.daily_cost is None or self.budget_per_day is None:
            return None
        return self.daily_cost.filter(pl.col("cost_total") > self.budget_per_day).height

    @property
    def budget_sentence(self) -> str | None:
        if self.days_over_budget is None:
            return None
        return (f"Budget: {self.days_over_budget} of {self.daily_cost.height} days above "
                f"{format_value(self.budget_per_day, 'usd')}.")

    def to_dict(self) -> dict:
        return {
            **self.result.to_dict(),
            "summary": self.result.summary(),
            "golden": jsonable(self.golden) if self.golden is not None else None,
            "versions": jsonable(self.versions()),
            "budget_per_day": self.budget_per_day,
            "daily_cost": jsonable(self.daily_cost) if self.daily_cost is not None else None,
            "regressions": jsonable(self.regressions) if self.regressions is not None else None,
            "output_drift": self.output.to_dict() if self.output is not None else None,
            "golden_comparison": self.golden_comparison.to_dict() if self.golden_comparison is not None else None,
            "budget_burn": self.burn.to_dict() if self.burn is not None else None,
        }


def llm_view(dataset, *, by: str | None, end_day: dt.date, days: int = 7, budget_per_day: float | None = None,
             golden_baseline: str | None = None, golden_candidate: str | None = None,
             budget_as_of: int | None = None) -> LlmView:
    """The current window (``days`` days ending on ``end_day``, inclusive) against the same length before it.

    ``golden_baseline`` / ``golden_candidate`` pick the golden releases compared case by case (default:
    ``golden_pair``); ``budget_as_of`` is the hour (1-24) of ``end_day`` the budget burn is read at (default: the
    end of the day, or of the data).
    """
    WINDOW_DAYS.check(days, where="llm")
    if budget_per_day is not None:
        AMOUNT.check(budget_per_day, where="llm: the daily budget")
    if budget_as_of is not None:
        Bound("budget_as_of", 1, 24, "hours").check(budget_as_of, where="llm")
    calls = dataset["llm_calls"].frame
    current = Window.ending(end_day, days=days)
    baseline = previous_period(current)
    end = current.end
    group = [by] if by else []
    result = compare_calls(calls, by=group, baseline=baseline, current=current)
    span_start = baseline.start - dt.timedelta(days=max(14, 2 * days))
    series = metrics_over_time(calls.filter(Window(span_start, end).contains("ts")), by=group,
                               budget_per_day=budget_per_day)
    golden = golden_summary(dataset["golden_runs"].frame) if "golden_runs" in dataset else None
    releases = all_releases = None
    if "releases" in dataset:
        all_releases = dataset["releases"].frame
        rel = all_releases
        if "component" in rel.columns:
            rel = rel.filter(pl.col("component").is_in(list(LLM_COMPONENTS)))
        releases = rel.filter(Window(span_start, end).contains("ts")).sort("ts")
    daily = burn = None
    if budget_per_day:
        daily = series.group_by("ts").agg(pl.col("cost_total").sum()).sort("ts")
        as_of = dt.datetime.combine(end_day, dt.time()) + dt.timedelta(hours=budget_as_of) if budget_as_of else None
        burn = budget_burn(calls, budget=budget_per_day, day=end_day, as_of=as_of)
    output = None
    if "output_tokens" in calls.columns:
        text = "output_text" if "output_text" in calls.columns else None
        output = output_drift(calls.filter(baseline.contains("ts")), calls.filter(current.contains("ts")), by=by,
                              text=text)
    pair = golden_pair(dataset, end_day)
    comparison = None
    if pair is not None:
        base, cand = golden_baseline or pair[0], golden_candidate or pair[1]
        comparison = compare_golden(dataset["golden_runs"].frame, baseline=base, candidate=cand)
    return LlmView(result, series, golden, releases, baseline, current, budget_per_day or None, daily,
                   regression_releases(result, calls, all_releases), output, comparison,
                   tuple(golden_releases(dataset)), burn)
