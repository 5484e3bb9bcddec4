"""LLM quality, cost and latency per prompt / model / retriever version, and golden-set results.

Rates are ratios of counts (failures / calls); latency percentiles use linear interpolation (numpy's
default), so a p95 here equals ``numpy.percentile(x, 95)``. Golden-set pass rate takes, per case, the
median over repeats (a flaky case counts by its majority), then the mean over cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from driftdesk.errors import DriftdeskError
from driftdesk.jsonsafe import jsonable
from driftdesk.windows import Window

GROUP_METRICS = (
    "calls",
    "validator_failure_rate",
    "refusal_rate",
    "error_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "ttft_p50_ms",
    "ttft_p95_ms",
    "tokens_in_mean",
    "tokens_out_mean",
    "cost_total",
    "cost_per_call",
    "judge_score_mean",
)
# metrics where a rise is bad, for comparisons
HIGHER_IS_WORSE = frozenset(GROUP_METRICS) - {"calls", "judge_score_mean"}


def _rate(col: str) -> pl.Expr:
    """Share of calls where a boolean column is true; null when the column is all null."""
    return pl.col(col).cast(pl.Float64).mean()


def _aggregations(columns: Sequence[str]) -> list[pl.Expr]:
    present = set(columns)

    def maybe(col: str, expr: pl.Expr, name: str) -> pl.Expr:
        return (expr if col in present else pl.lit(None, dtype=pl.Float64)).alias(name)

    return [
        pl.len().alias("calls"),
        maybe("validator_ok", 1.0 - _rate("validator_ok"), "validator_failure_rate"),
        maybe("refusal", _rate("refusal"), "refusal_rate"),
        maybe("error", _rate("error"), "error_rate"),
        maybe("latency_ms", pl.col("latency_ms").quantile(0.50, "linear"), "latency_p50_ms"),
        maybe("latency_ms", pl.col("latency_ms").quantile(0.95, "linear"), "latency_p95_ms"),
        maybe("latency_ms", pl.col("latency_ms").quantile(0.99, "linear"), "latency_p99_ms"),
        maybe("ttft_ms", pl.col("ttft_ms").quantile(0.50, "linear"), "ttft_p50_ms"),
        maybe("ttft_ms", pl.col("ttft_ms").quantile(0.95, "linear"), "ttft_p95_ms"),
        maybe("input_tokens", pl.col("input_tokens").mean(), "tokens_in_mean"),
        maybe("output_tokens", pl.col("output_tokens").mean(), "tokens_out_mean"),
        maybe("cost", pl.col("cost").sum(), "cost_total"),
        maybe("cost", pl.col("cost").sum() / pl.len(), "cost_per_call"),
        maybe("judge_score", pl.col("judge_score").mean(), "judge_score_mean"),
    ]


def _check_by(calls: pl.DataFrame | pl.LazyFrame, by: Sequence[str]) -> list[str]:
    columns = calls.collect_schema().names()
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
    out = (lf.group_by(by, maintain_order=False).agg(aggs) if by else lf.select(aggs)).collect()
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
    comparison: pl.DataFrame | None = None  # group columns, metric, baseline, current, change, relative_change
    baseline: Window | None = None
    current: Window | None = None

    def to_frame(self) -> pl.DataFrame:
        return self.groups

    def to_dict(self) -> dict:
        doc: dict = {"by": list(self.by), "groups": jsonable(self.groups)}
        if self.comparison is not None:
            doc["comparison"] = jsonable(self.comparison)
            doc["baseline"] = self.baseline.to_dict() if self.baseline else None
            doc["current"] = self.current.to_dict() if self.current else None
        return doc

    def regressions(self, *, relative: float = 0.2) -> pl.DataFrame:
        """Comparison rows where a higher-is-worse metric rose by more than `relative`."""
        if self.comparison is None:
            return pl.DataFrame()
        return self.comparison.filter(
            pl.col("metric").is_in(list(HIGHER_IS_WORSE)) & (pl.col("relative_change") > relative)
        )

    def _repr_html_(self) -> str:
        return self.groups._repr_html_()


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
    comparison = wide.with_columns(
        (pl.col("current") - pl.col("baseline")).alias("change"),
        pl.when(pl.col("baseline") != 0).then(pl.col("current") / pl.col("baseline") - 1.0).alias("relative_change"),
    ).select(*by, "metric", "baseline", "current", "change", "relative_change")
    return LlmResult(groups, by, comparison, baseline, current)


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
    return per_case.group_by(by).agg(out_aggs).sort(by).collect()


def daily_cost(calls: pl.DataFrame | pl.LazyFrame, *, budget_per_day: float | None = None, by: Sequence[str] = ()) -> pl.DataFrame:
    """Cost per UTC day (and group), with the share of a daily budget burned when one is given."""
    by = _check_by(calls, by)
    out = (
        calls.lazy()
        .group_by(pl.col("ts").dt.truncate("1d").alias("day"), *by)
        .agg(pl.col("cost").sum().alias("cost_total"), pl.len().alias("calls"))
        .sort("day", *by)
        .collect()
    )
    if budget_per_day is not None:
        if budget_per_day <= 0:
            raise DriftdeskError(f"llm: the daily budget must be positive, got {budget_per_day}")
        out = out.with_columns((pl.col("cost_total") / budget_per_day).alias("budget_burn"))
    return out
