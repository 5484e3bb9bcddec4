"""LLM output drift between two versions (or windows): output length, refusals and repetitiveness.

- **Output length** (``output_tokens``) is compared with the same drift statistics and verdict as any input column
  (``driftdesk.drift``: PSI on the baseline's deciles confirmed by KS, Wasserstein distance, out-of-range share).
- **Refusal rate** with the pooled two-proportion z-test (``driftdesk.stats.two_proportion_pvalue``): a rise with
  p < ``alpha`` is ``warn``, and ``alert`` once the rate at least doubled.
- **Repetitiveness** (where the output text is given): how much each output repeats the one before it in its group
  (ordered by ``ts``), as the Jaccard overlap of their word n-gram sets, ``|A ∩ B| / |A ∪ B|`` (words: lower-cased
  runs of letters, digits and underscore; n = 3 by default). 0 shares no phrase, 1 is the same set of phrases.
  An output with fewer than n words has no n-grams; a pair where neither has any is undefined (null) and left
  out of the mean. A version whose outputs start to repeat each other (templated, looping) shows as a rise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftdesk.drift.compare import compare_frames, segment_table
from driftdesk.drift.thresholds import Thresholds
from driftdesk.errors import DriftdeskError
from driftdesk.jsonsafe import jsonable
from driftdesk.segments import by_columns
from driftdesk.stats import two_proportion_pvalue
from driftdesk.status import ALERT, NOT_ENOUGH_DATA, OK, WARN, worst

Frame = pl.DataFrame | pl.LazyFrame
TOKENS, REFUSAL = "output_tokens", "refusal"
WORD = r"\w+"


def consecutive_overlap(calls: Frame, *, text: str, by: str | Sequence[str] = (), n: int = 3) -> pl.DataFrame:
    """Per call (sorted by ``by`` then ``ts``): ``overlap``, the n-gram Jaccard overlap with the previous call's output
    in its group (null for a group's first call, and where neither output has n words)."""
    if n < 1:
        raise DriftdeskError(f"repetitiveness: n must be at least 1 word, got {n}")
    by = list(by_columns(by, calls))
    columns = calls.collect_schema().names()
    missing = [c for c in ("ts", text, *by) if c not in columns]
    if missing:
        raise DriftdeskError(f"repetitiveness: unknown column(s) {missing}; columns are {columns}")
    rows = (calls.lazy().select(*by, "ts", pl.col(text).cast(pl.String)).sort([*by, "ts"]).with_row_index("__i")
            .with_columns(pl.col("__i").shift(1).over(by or pl.lit(0)).alias("__p")))
    words = (rows.select("__i", pl.col(text).str.to_lowercase().str.extract_all(WORD).alias("__w"))
             .explode("__w").drop_nulls("__w"))
    gram = pl.concat_str([pl.col("__w").shift(-k).over("__i") for k in range(n)], separator=" ")
    grams = words.select("__i", gram.alias("__g")).drop_nulls("__g").unique()
    sizes = grams.group_by("__i").agg(pl.len().alias("__n"))
    shared = (rows.select("__i", "__p").drop_nulls("__p").join(grams, on="__i")
              .join(grams.rename({"__i": "__p"}), on=["__p", "__g"]).group_by("__i").agg(pl.len().alias("__s")))
    a = pl.col("__n").fill_null(0)
    b = pl.col("__n_prev").fill_null(0)
    union = a + b - pl.col("__s").fill_null(0)
    return (rows.join(sizes, on="__i", how="left")
            .join(sizes.rename({"__i": "__p", "__n": "__n_prev"}), on="__p", how="left")
            .join(shared, on="__i", how="left")
            .with_columns(pl.when(pl.col("__p").is_not_null() & (union > 0))
                          .then(pl.col("__s").fill_null(0) / union).alias("overlap"))
            .sort("__i").select(*by, "ts", text, "overlap").collect())


def repetitiveness(calls: Frame, *, text: str, by: str | Sequence[str] = (), n: int = 3) -> pl.DataFrame:
    """Mean ``consecutive_overlap`` per group (``pairs``: how many consecutive pairs were defined)."""
    by = list(by_columns(by, calls))
    overlap = consecutive_overlap(calls, text=text, by=by, n=n)
    aggs = [pl.col("overlap").mean().alias("repetition"), pl.col("overlap").count().alias("pairs")]
    return overlap.group_by(by).agg(aggs).sort(by) if by else overlap.select(aggs)


@dataclass(frozen=True)
class OutputDrift:
    """Output length, refusal rate and repetitiveness of a current set of calls against a baseline, per group."""

    table: pl.DataFrame  # group column (if any), the statistics per group, status
    by: str | None
    baseline_label: str
    current_label: str
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return worst(self.table["status"].to_list()) if self.table.height else NOT_ENOUGH_DATA

    def to_frame(self) -> pl.DataFrame:
        return self.table

    def to_dict(self) -> dict:
        return jsonable({"baseline": self.baseline_label, "current": self.current_label, "by": self.by,
                         "status": self.status, "groups": self.table, "notes": list(self.notes)})

    def to_figure(self):
        from driftdesk.viz.llm import output_drift_figure

        return output_drift_figure(self)

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{n}</li>" for n in self.notes)
        return (f"<h4>Output drift: {self.current_label} vs {self.baseline_label} ({self.status})</h4>"
                + (f"<ul>{notes}</ul>" if notes else "") + self.table._repr_html_())


ALL = "__all"  # the one group when there is no `by`


def _refusals(frame: Frame, keys: list[str], side: str) -> pl.DataFrame:
    lf = frame.lazy().with_columns(pl.lit("all").alias(ALL)) if keys == [ALL] else frame.lazy()
    return (lf.group_by(pl.col(keys[0]).cast(pl.String))
            .agg(pl.col(REFUSAL).cast(pl.Float64).sum().alias(f"k_{side}"),
                 pl.col(REFUSAL).count().cast(pl.Float64).alias(f"n_{side}")).collect())


def _refusal_status(row: dict, alpha: float, min_rows: int) -> str:
    a, b, p = row["refusal_rate_baseline"], row["refusal_rate_current"], row["refusal_pvalue"]
    if not ((row["n_baseline"] or 0) >= min_rows and (row["n_current"] or 0) >= min_rows) or p is None:
        return NOT_ENOUGH_DATA
    if p < alpha and b > a:
        return ALERT if b >= 2 * a else WARN
    return OK


def _refusal_table(baseline: Frame, current: Frame, keys: list[str], alpha: float, min_rows: int) -> pl.DataFrame:
    """Per group: refusal rates, the two-proportion p-value and a status."""
    both = _refusals(baseline, keys, "baseline").join(_refusals(current, keys, "current"), on=keys, how="full",
                                                      coalesce=True)
    p = np.asarray(two_proportion_pvalue(*(both[c].fill_null(0.0).to_numpy() for c in
                                           ("k_baseline", "n_baseline", "k_current", "n_current"))),
                   dtype=np.float64).reshape(-1)
    both = both.with_columns((pl.col("k_baseline") / pl.col("n_baseline")).alias("refusal_rate_baseline"),
                             (pl.col("k_current") / pl.col("n_current")).alias("refusal_rate_current"),
                             pl.Series("refusal_pvalue", p).fill_nan(None))
    status = [_refusal_status(r, alpha, min_rows) for r in both.iter_rows(named=True)]
    return both.with_columns(pl.Series("refusal_status", status, dtype=pl.String)).select(
        *keys, "refusal_rate_baseline", "refusal_rate_current", "refusal_pvalue", "refusal_status")


def output_drift(baseline: Frame, current: Frame, *, by: str | None = None, text: str | None = None,
                 thresholds: Thresholds | None = None, alpha: float = 0.01, n: int = 3,
                 labels: tuple[str, str] = ("baseline", "current")) -> OutputDrift:
    """Output length (drift statistics), refusal rate (two-proportion test) and, with ``text``, repetitiveness of
    ``current`` calls against ``baseline`` calls, overall or per value of one ``by`` column."""
    t = thresholds or Thresholds()
    group = by_columns(by, baseline)
    if len(group) > 1:
        raise DriftdeskError("output drift compares the groups of one column at a time (e.g. by='feature')")
    group_col = group[0] if group else None
    for side, frame in (("baseline", baseline), ("current", current)):
        columns = frame.collect_schema().names()
        missing = [c for c in (TOKENS, *group, *([text] if text else [])) if c not in columns]
        if missing:
            raise DriftdeskError(f"output drift: the {side} calls have no column(s) {missing}; columns are {columns}")
    if group_col:
        drift, keys = segment_table(baseline, current, by=group_col, columns=[TOKENS], thresholds=t), [group_col]
    else:
        drift, keys = compare_frames(baseline, current, columns=[TOKENS], thresholds=t).with_columns(
            pl.lit("all").alias(ALL)), [ALL]
    table = drift.select(*keys, pl.col("n_baseline").alias("calls_baseline"), pl.col("n_current").alias("calls_current"),
                         pl.col("mean_baseline").alias("tokens_mean_baseline"),
                         pl.col("mean_current").alias("tokens_mean_current"), "psi", "ks", "ks_pvalue", "wasserstein",
                         pl.col("status").alias("tokens_status"), pl.col("reasons").alias("tokens_reasons"))
    notes: list[str] = []
    if all(REFUSAL in f.collect_schema().names() for f in (baseline, current)):
        table = table.join(_refusal_table(baseline, current, keys, alpha, t.min_rows), on=keys, how="left")
    else:
        notes.append("no refusal column in both sets of calls: refusal rates are not compared")
        table = table.with_columns(*[pl.lit(None, pl.Float64).alias(c) for c in (
            "refusal_rate_baseline", "refusal_rate_current", "refusal_pvalue")], pl.lit(None, pl.String).alias(
            "refusal_status"))
    table = _with_repetition(table, baseline, current, keys, text, n, notes)
    status = [worst([s for s in (a, b) if s is not None]) for a, b in
              zip(table["tokens_status"].to_list(), table["refusal_status"].to_list())]
    table = table.with_columns(pl.Series("status", status, dtype=pl.String))
    return OutputDrift(table.drop(ALL, strict=False), group_col, *labels, tuple(notes))


def _with_repetition(table: pl.DataFrame, baseline: Frame, current: Frame, keys: list[str], text: str | None, n: int,
                     notes: list[str]) -> pl.DataFrame:
    if text is None:
        notes.append("no output text given: repetitiveness is not measured")
        return table.with_columns(pl.lit(None, pl.Float64).alias("repetition_baseline"),
                                  pl.lit(None, pl.Float64).alias("repetition_current"))
    for side, frame in (("baseline", baseline), ("current", current)):
        lf = frame.lazy().with_columns(pl.lit("all").alias(ALL)) if keys == [ALL] else frame.lazy()
        rep = repetitiveness(lf, text=text, by=keys, n=n)
        table = table.join(rep.select(pl.col(keys[0]).cast(pl.String), pl.col("repetition").alias(f"repetition_{side}")),
                           on=keys, how="left")
    return table


def version_calls(calls: Frame, *, column: str, baseline: str, candidate: str) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The calls of a baseline and a candidate version (values of ``column``, e.g. prompt_version); an unknown
    version is an error naming the versions the calls have."""
    columns = calls.collect_schema().names()
    if column not in columns:
        raise DriftdeskError(f"output drift: no column {column!r}; columns are {columns}")
    lf = calls.lazy()
    known = sorted(lf.select(pl.col(column).cast(pl.String).unique().drop_nulls()).collect().to_series().to_list())
    for role, version in (("baseline", baseline), ("candidate", candidate)):
        if version not in known:
            raise DriftdeskError(f"output drift: the {role} version {version!r} is not a value of {column}; the calls "
                                 f"have {', '.join(known[:30]) or 'no values'}")
    return (lf.filter(pl.col(column).cast(pl.String) == baseline),
            lf.filter(pl.col(column).cast(pl.String) == candidate))


__all__ = ["OutputDrift", "consecutive_overlap", "output_drift", "repetitiveness", "version_calls"]
