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

from driftdesk.engine.budget import collect
from driftdesk.errors import DriftdeskError
from driftdesk.format import format_value
from driftdesk.jsonsafe import jsonable
from driftdesk.metrics import get_metric, metric_expr, metrics_for
from driftdesk.segments import by_columns
from driftdesk.stats import two_proportion_pvalue
from driftdesk.windows import Window, previous_period

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
        expr = pl.col("cost").sum() / pl.len() if m.name == "cost_per_call" else metric_expr(m, float64=False)
        out.append((expr if present.issuperset(m.columns) else pl.lit(None, dtype=pl.Float64)).alias(m.name))
    return out


def _check_by(calls: pl.DataFrame | pl.LazyFrame, by: str | Sequence[str]) -> list[str]:
    columns = calls.collect_schema().names()
    by = by_columns(by, columns)
    missing = [c for c in by if c not in columns]
    if missing:
        raise DriftdeskError(f"llm: unknown group column(s) {missing}; columns are {columns}")
    return list(by)


def summarize_calls(calls: pl.DataFrame | pl.LazyFrame, *, by: Sequence[str] = (), window: Window | None = None) -> pl.DataFrame:
    """One row per group: calls, failure and refusal rates, latency percentiles, tokens and cost."""
    by = _check_by(calls, by)
    lf = calls.lazy()
    if window is not None:
        lf = lf.filter(window.contains("ts"))
    aggs = _aggregations(lf.collect_schema().names())
    out = (lf.group_by(by, maintain_order=False).agg(aggs) if by else lf.select(aggs)).pipe(collect)
    if by:
        out = out.sort(by)
    if not by and out["calls"][0] == 0:
        return out.clear()
    return out


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


def regression_sentences(result: LlmResult, *, relative: float = 0.2, min_calls: int = 30) -> list[str]:
    """E.g. "validator failure rate rose from 0.52% to 3.1% (+496%) for model=provider-m-2026-09"."""
    if result.comparison is None:
        return []
    calls = result.groups.filter(pl.col("window") == "current").select(*result.by, "calls")
    reg = result.regressions(relative=relative)
    if result.by:
        reg = reg.join(calls, on=list(result.by), how="left").filter(pl.col("calls") >= min_calls)
    sentences = []
    for row in reg.sort("relative_change", descending=True).iter_rows(named=True):
        who = ", ".join(f"{c}={row[c]}" for c in result.by) or "all calls"
        m = get_metric(row["metric"], "llm_calls")
        versus = "" if row["reference"] == "same group" else " (new; against all baseline calls)"
        sentences.append(f"{m.label} rose from {m.format(row['baseline'])} to {m.format(row['current'])} "
                         f"({format_value(row['relative_change'], 'change')}) for {who}{versus}")
    return sentences


def golden_summary(runs: pl.DataFrame | pl.LazyFrame, *, by: Sequence[str] = ("release_id",)) -> pl.DataFrame:
    """Golden-set results per release: pass rate (median over repeats, mean over cases), recall@k, nDCG."""
    by = _check_by(runs, by)
    lf = runs.lazy()
    cols = lf.collect_schema().names()
    per_case_aggs = [pl.col("passed").cast(pl.Float64).median().alias("passed_median")]
    for col in ("score", "recall_at_k", "ndcg", "tokens", "latency_ms"):
        if col in cols:
            per_case_aggs.append(pl.col(col).median().alias(col))
    per_case = lf.group_by([*by, "case_id"]).agg(*per_case_aggs, pl.len().alias("repeats"))
    out_aggs = [
        pl.len().alias("cases"),
        (pl.col("passed_median") >= 0.5).cast(pl.Float64).mean().alias("pass_rate"),
        pl.col("repeats").min().alias("repeats_min"),
    ]
    for col, name in (("score", "score_mean"), ("recall_at_k", "recall_at_k_mean"), ("ndcg", "ndcg_mean"),
                      ("tokens", "tokens_mean"), ("latency_ms", "latency_ms_median")):
        if col in cols:
            out_aggs.append((pl.col(col).median() if name.endswith("median") else pl.col(col).mean()).alias(name))
    return per_case.group_by(by).agg(out_aggs).sort(by).pipe(collect)


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
        lf.group_by(pl.col("ts").dt.truncate(every).alias("ts"), *by)
        .agg(aggs)
        .sort("ts", *by)
        .pipe(collect)
    )
    if budget_per_day is not None:
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
    """Everything the LLM page shows: the comparison, daily series, golden-set results and LLM releases, and the
    daily cost against a budget (``daily_cost``, when one is given)."""

    result: LlmResult
    series: pl.DataFrame
    golden: pl.DataFrame | None
    releases: pl.DataFrame | None
    baseline: Window
    current: Window
    budget_per_day: float | None = None
    daily_cost: pl.DataFrame | None = None  # ts, cost_total over every group, one row per day

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
        }


def llm_view(dataset, *, by: str | None, end_day: dt.date, days: int = 7, budget_per_day: float | None = None) -> LlmView:
    """The current window (``days`` days ending on ``end_day``, inclusive) against the same length before it."""
    if days < 1:
        raise DriftdeskError(f"llm: the window must be at least one day, got {days}")
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
    releases = None
    if "releases" in dataset:
        rel = dataset["releases"].frame
        if "component" in rel.columns:
            rel = rel.filter(pl.col("component").is_in(list(LLM_COMPONENTS)))
        releases = rel.filter(Window(span_start, end).contains("ts")).sort("ts")
    daily = None
    if budget_per_day:
        daily = series.group_by("ts").agg(pl.col("cost_total").sum()).sort("ts")
    return LlmView(result, series, golden, releases, baseline, current, budget_per_day or None, daily)
