"""Golden sets: pass rate per release candidate (overall and per case kind) and the cases that flipped between two.

A golden run is one case x repeat x candidate release (the ``golden_runs`` table). Each case's verdict in a release
is the median of its repeats' pass flags, so a case passes when at least half its repeats pass (a flaky case counts
by its majority; with an even number of repeats a tie passes). The pass rate is the share of cases that pass.

Two releases are compared case by case (a paired comparison: the same cases, so sampling luck shared by both
cancels): a case *flipped* when its verdict differs, ``pass_to_fail`` or ``fail_to_pass``; how many repeats agreed
with each side's verdict says how firm a flip is (3 of 3 failing is firmer than 2 of 3). A case run once has a
verdict that is one draw: the comparison says so in its caveats rather than refusing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from driftdesk.errors import DriftdeskError
from driftdesk.jsonsafe import jsonable
from driftdesk.segments import by_columns

CASE_KIND = "case_kind"
# kinds in the order a reader should look at flips: a regression on a known failure first (it had been fixed)
KIND_ORDER = ("known_failure", "adversarial", "edge", "happy")
FLIPS = ("pass_to_fail", "fail_to_pass")


def _check_columns(runs: pl.DataFrame | pl.LazyFrame, needed: Sequence[str]) -> list[str]:
    columns = runs.collect_schema().names()
    missing = [c for c in needed if c not in columns]
    if missing:
        raise DriftdeskError(f"golden runs: unknown column(s) {missing}; columns are {columns}")
    return columns


def golden_summary(runs: pl.DataFrame | pl.LazyFrame, *, by: str | Sequence[str] = ("release_id",)) -> pl.DataFrame:
    """Golden-set results per release (or any ``by``, e.g. ``["release_id", "case_kind"]``): pass rate (median over
    repeats, mean over cases), recall@k, nDCG, score, tokens and latency."""
    by = list(by_columns(by, runs))
    cols = _check_columns(runs, [*by, "case_id", "passed"])
    lf = runs.lazy()
    per_case_aggs = [pl.col("passed").cast(pl.Float64).median().alias("passed_median")]
    for col in ("score", "recall_at_k", "ndcg", "tokens", "latency_ms"):
        if col in cols:
            per_case_aggs.append(pl.col(col).cast(pl.Float64).median().alias(col))  # float64, as the registry
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


def golden_by_kind(runs: pl.DataFrame | pl.LazyFrame, *, release_column: str = "release_id",
                   kind_column: str = CASE_KIND) -> pl.DataFrame | None:
    """``golden_summary`` per release and case kind; None when the runs have no kind column."""
    if kind_column not in runs.collect_schema().names():
        return None
    return golden_summary(runs, by=[release_column, kind_column])


def case_verdicts(runs: pl.DataFrame | pl.LazyFrame, *, by: Sequence[str] = ("release_id",),
                  kind_column: str | None = CASE_KIND) -> pl.LazyFrame:
    """One row per ``by`` x case: ``passes`` and ``repeats`` (repeats with a pass flag), ``passed`` (the median
    verdict: passes at least half the repeats), ``agreeing`` (repeats that agree with it) and the case's kind."""
    columns = runs.collect_schema().names()
    kind = [pl.col(kind_column).first().alias(CASE_KIND)] if kind_column and kind_column in columns else []
    passed = pl.col("passed").cast(pl.Boolean)
    return (runs.lazy().group_by([*by, "case_id"])
            .agg(passed.cast(pl.Int64).sum().alias("passes"), passed.count().cast(pl.Int64).alias("repeats"), *kind)
            .with_columns((2 * pl.col("passes") >= pl.col("repeats")).alias("passed"))
            .with_columns(pl.when(pl.col("passed")).then(pl.col("passes"))
                          .otherwise(pl.col("repeats") - pl.col("passes")).alias("agreeing"))
            .filter(pl.col("repeats") > 0))


def _kind_rank() -> pl.Expr:
    return pl.col(CASE_KIND).replace_strict(list(KIND_ORDER), list(range(len(KIND_ORDER))), default=len(KIND_ORDER),
                                            return_dtype=pl.Int64)


@dataclass(frozen=True)
class GoldenComparison:
    """A candidate release's golden set against a baseline release's: pass rates overall and per case kind, and the
    cases whose verdict flipped, with how many repeats agreed on each side."""

    baseline: str
    candidate: str
    summary: pl.DataFrame  # golden_summary of the two releases (baseline first)
    by_kind: pl.DataFrame  # case_kind ("all" first), cases, pass_rate_baseline, pass_rate_candidate, flips, change_pp
    flips: pl.DataFrame  # case_id, case_kind, flip, passes/repeats/agreeing per side
    caveats: tuple[str, ...] = ()

    @property
    def flips_to_fail(self) -> int:
        return self.flips.filter(pl.col("flip") == "pass_to_fail").height

    @property
    def flips_to_pass(self) -> int:
        return self.flips.filter(pl.col("flip") == "fail_to_pass").height

    def flipped(self, kind: str, flip: str = "pass_to_fail") -> pl.DataFrame:
        """The cases of one kind that flipped one way (``known_failure`` regressions, say)."""
        return self.flips.filter((pl.col(CASE_KIND) == kind) & (pl.col("flip") == flip))

    def to_frame(self) -> pl.DataFrame:
        return self.flips

    def to_dict(self) -> dict:
        total = self.by_kind.row(0, named=True)
        return jsonable({
            "baseline": self.baseline, "candidate": self.candidate,
            "pass_rate": {"baseline": total["pass_rate_baseline"], "candidate": total["pass_rate_candidate"],
                          "change_pp": total["change_pp"]},
            "flips_to_fail": self.flips_to_fail, "flips_to_pass": self.flips_to_pass,
            "by_kind": self.by_kind, "flips": self.flips, "summary": self.summary, "caveats": list(self.caveats),
        })

    def to_figure(self):
        from driftdesk.viz.llm import golden_kind_figure

        return golden_kind_figure(self)

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{c}</li>" for c in self.caveats)
        return (f"<h4>Golden set: {self.candidate} vs {self.baseline}</h4><p>{self.flips_to_fail} case(s) flipped "
                f"pass → fail, {self.flips_to_pass} fail → pass</p>" + (f"<ul>{notes}</ul>" if notes else "")
                + self.by_kind._repr_html_() + self.flips._repr_html_())


def _pick(runs: pl.LazyFrame, release_column: str, release: str, known: list[str], role: str) -> pl.LazyFrame:
    if release not in known:
        raise DriftdeskError(f"golden runs: the {role} release {release!r} has no runs; releases with runs are "
                             f"{', '.join(known) or 'none'}")
    return runs.filter(pl.col(release_column) == release)


def compare_golden(runs: pl.DataFrame | pl.LazyFrame, *, baseline: str, candidate: str,
                   release_column: str = "release_id", kind_column: str = CASE_KIND) -> GoldenComparison:
    """The candidate release's golden cases against the baseline release's (see the module docstring)."""
    columns = _check_columns(runs, [release_column, "case_id", "passed"])
    lf = runs.lazy()
    known = sorted(lf.select(pl.col(release_column).cast(pl.String).unique().drop_nulls()).collect()
                   .to_series().to_list())
    sides = {role: _pick(lf, release_column, release, known, role)
             for role, release in (("baseline", baseline), ("candidate", candidate))}
    has_kind = kind_column in columns
    verdicts = {role: case_verdicts(side, by=[], kind_column=kind_column if has_kind else None).collect()
                for role, side in sides.items()}
    if not has_kind:
        verdicts = {r: v.with_columns(pl.lit("all").alias(CASE_KIND)) for r, v in verdicts.items()}
    b, c = verdicts["baseline"], verdicts["candidate"]
    paired = b.join(c.drop(CASE_KIND), on="case_id", how="inner", suffix="_candidate").rename(
        {"passes": "passes_baseline", "repeats": "repeats_baseline", "passed": "passed_baseline",
         "agreeing": "agreeing_baseline"})
    flip = (pl.when(pl.col("passed_baseline") & ~pl.col("passed_candidate")).then(pl.lit("pass_to_fail"))
            .when(~pl.col("passed_baseline") & pl.col("passed_candidate")).then(pl.lit("fail_to_pass")))
    paired = paired.with_columns(flip.alias("flip"))
    flips = (paired.filter(pl.col("flip").is_not_null())
             .sort(pl.col("flip").replace_strict(list(FLIPS), [0, 1], return_dtype=pl.Int64), _kind_rank(), "case_id")
             .select("case_id", CASE_KIND, "flip", "passes_baseline", "repeats_baseline", "agreeing_baseline",
                     "passes_candidate", "repeats_candidate", "agreeing_candidate"))
    summary = golden_summary(pl.concat([sides["baseline"], sides["candidate"]]).collect(), by=[release_column])
    summary = summary.sort(pl.col(release_column) != baseline)
    return GoldenComparison(baseline, candidate, summary, _by_kind(paired, has_kind), flips,
                            _caveats(b, c, paired, has_kind, baseline, candidate))


def _by_kind(paired: pl.DataFrame, has_kind: bool) -> pl.DataFrame:
    """Pass rates of the paired cases per kind, and the flips each way; the first row ("all") is every case."""
    aggs = [pl.len().cast(pl.Int64).alias("cases"),
            pl.col("passed_baseline").cast(pl.Float64).mean().alias("pass_rate_baseline"),
            pl.col("passed_candidate").cast(pl.Float64).mean().alias("pass_rate_candidate"),
            (pl.col("flip") == "pass_to_fail").sum().cast(pl.Int64).alias("flips_to_fail"),
            (pl.col("flip") == "fail_to_pass").sum().cast(pl.Int64).alias("flips_to_pass")]
    total = paired.select(pl.lit("all").alias(CASE_KIND), *aggs)
    parts = [total]
    if has_kind:
        parts.append(paired.group_by(CASE_KIND).agg(aggs).sort(_kind_rank(), CASE_KIND)
                     .select(total.columns).cast(total.schema))
    out = pl.concat(parts)
    return out.with_columns((pl.col("pass_rate_candidate") - pl.col("pass_rate_baseline")).alias("change_pp"))


def _caveats(b: pl.DataFrame, c: pl.DataFrame, paired: pl.DataFrame, has_kind: bool, baseline: str,
             candidate: str) -> tuple[str, ...]:
    out = []
    for name, v in ((baseline, b), (candidate, c)):
        if v.height and v["repeats"].max() == 1:
            out.append(f"{name}: every case ran once, so each verdict is one draw and a flaky case can flip by chance; "
                       "run each case at least 3 times for a majority")
        elif v.height and v["repeats"].min() == 1:
            out.append(f"{name}: {int((v['repeats'] == 1).sum())} case(s) ran once: their verdict is one draw")
    only = {name: v.height - paired.height for name, v in ((baseline, b), (candidate, c))}
    for name, n in only.items():
        if n:
            out.append(f"{n} case(s) ran only in {name}: they are left out of the comparison")
    if not paired.height:
        out.append(f"{baseline} and {candidate} share no golden case: nothing can be compared")
    if not has_kind:
        out.append("the golden runs have no case_kind column: pass rates are not split by kind")
    return tuple(out)


__all__ = ["CASE_KIND", "GoldenComparison", "case_verdicts", "compare_golden", "golden_by_kind", "golden_summary"]
