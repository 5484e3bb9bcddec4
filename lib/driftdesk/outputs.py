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

import polars as pl

from driftdesk.drift.compare import compare_frames
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


def _refusal_row(baseline: pl.DataFrame, current: pl.DataFrame, alpha: float, min_rows: int) -> dict:
    """Refusal rates of both sides, the two-proportion p-value and a status."""
    if REFUSAL not in baseline.columns or REFUSAL not in current.columns:
        return {"refusal_rate_baseline": None, "refusal_rate_current": None, "refusal_pvalue": None,
                "refusal_status": None}
    (kb, nb), (kc, nc) = ((float(f[REFUSAL].cast(pl.Float64).sum()), f[REFUSAL].count()) for f in (baseline, current))
    p = two_proportion_pvalue(kb, nb, kc, nc) if nb and nc else None
    rb, rc = (kb / nb if nb else None), (kc / nc if nc else None)
    if nb < min_rows or nc < min_rows or p is None:
        status = NOT_ENOUGH_DATA
    elif p < alpha and rc > rb:
        status = ALERT if rc >= 2 * rb else WARN
    else:
        status = OK
    return {"refusal_rate_baseline": rb, "refusal_rate_current": rc, "refusal_pvalue": p, "refusal_status": status}


def _compare(baseline: pl.DataFrame, current: pl.DataFrame, t: Thresholds, alpha: float, text: str | None,
             n: int) -> dict:
    drift = compare_frames(baseline, current, columns=[TOKENS], thresholds=t, workers=1).row(0, named=True)
    row = {"calls_baseline": baseline.height, "calls_current": current.height,
           "tokens_mean_baseline": drift["mean_baseline"], "tokens_mean_current": drift["mean_current"],
           "psi": drift["psi"], "ks": drift["ks"], "ks_pvalue": drift["ks_pvalue"], "wasserstein": drift["wasserstein"],
           "tokens_status": drift["status"], "tokens_reasons": drift["reasons"],
           **_refusal_row(baseline, current, alpha, t.min_rows)}
    for side, frame in (("baseline", baseline), ("current", current)):
        row[f"repetition_{side}"] = (repetitiveness(frame, text=text, n=n)["repetition"][0]
                                     if text is not None and frame.height else None)
    row["status"] = worst([s for s in (row["tokens_status"], row["refusal_status"]) if s is not None])
    return row


SCHEMA = {"calls_baseline": pl.Int64, "calls_current": pl.Int64, "tokens_mean_baseline": pl.Float64,
          "tokens_mean_current": pl.Float64, "psi": pl.Float64, "ks": pl.Float64, "ks_pvalue": pl.Float64,
          "wasserstein": pl.Float64, "tokens_status": pl.String, "tokens_reasons": pl.String,
          "refusal_rate_baseline": pl.Float64, "refusal_rate_current": pl.Float64, "refusal_pvalue": pl.Float64,
          "refusal_status": pl.String, "repetition_baseline": pl.Float64, "repetition_current": pl.Float64,
          "status": pl.String, "reference": pl.String}


def output_drift(baseline: Frame, current: Frame, *, by: str | None = None, text: str | None = None,
                 thresholds: Thresholds | None = None, alpha: float = 0.01, n: int = 3,
                 labels: tuple[str, str] = ("baseline", "current")) -> OutputDrift:
    """Output length (drift statistics), refusal rate (two-proportion test) and, with ``text``, repetitiveness of
    ``current`` calls against ``baseline`` calls, overall or per value of one ``by`` column. A group that has no
    baseline calls (a new version) is compared with all baseline calls (``reference``)."""
    t = thresholds or Thresholds()
    group = by_columns(by, baseline)
    if len(group) > 1:
        raise DriftdeskError("output drift compares the groups of one column at a time (e.g. by='feature')")
    frames = {}
    for side, frame in (("baseline", baseline), ("current", current)):
        columns = frame.collect_schema().names()
        missing = [c for c in (TOKENS, *group, *([text] if text else [])) if c not in columns]
        if missing:
            raise DriftdeskError(f"output drift: the {side} calls have no column(s) {missing}; columns are {columns}")
        keep = [c for c in ("ts", TOKENS, REFUSAL, *group, *([text] if text else [])) if c in columns]
        frames[side] = frame.lazy().select(keep).collect()
    base, cur = frames["baseline"], frames["current"]
    notes = []
    if REFUSAL not in base.columns or REFUSAL not in cur.columns:
        notes.append("no refusal column in both sets of calls: refusal rates are not compared")
    if text is None:
        notes.append("no output text given: repetitiveness is not measured")
    if not group:
        rows = [{**_compare(base, cur, t, alpha, text, n), "reference": "same group"}]
        return OutputDrift(pl.DataFrame(rows, schema=SCHEMA), None, *labels, tuple(notes))
    col = group[0]
    parts_b = {k[0]: v for k, v in base.with_columns(pl.col(col).cast(pl.String)).partition_by(col, as_dict=True).items()}
    parts_c = {k[0]: v for k, v in cur.with_columns(pl.col(col).cast(pl.String)).partition_by(col, as_dict=True).items()}
    rows = []
    for value in sorted(set(parts_b) | set(parts_c), key=lambda v: (v is None, str(v))):
        own = parts_b.get(value)
        reference = "same group" if own is not None else "all baseline calls"
        row = _compare(own if own is not None else base, parts_c.get(value, cur.clear()), t, alpha, text, n)
        rows.append({col: value, **row, "reference": reference})
    return OutputDrift(pl.DataFrame(rows, schema={col: pl.String, **SCHEMA}), col, *labels, tuple(notes))


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
