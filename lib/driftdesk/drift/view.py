"""The Drift page's view: one day against its baselines, the last two weeks per column, and data quality.

``drift_view(dataset, table=..., day=...)`` is the one call behind the page (and a notebook cell): it compares
the day with each baseline (``compare_baselines``), stacks the last ``history_days`` days against the same weekday
a week earlier (``drift_history``) and runs the quality checks against week over week (``quality_report``). Which
columns a table's drift compares is decided here (``drift_columns``), not by the app.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from driftdesk.contract import OUTCOME_ROLES, Dataset
from driftdesk.drift.compare import compare_baselines, default_columns, drift_history
from driftdesk.drift.result import BaselineComparison, DriftHistory
from driftdesk.drift.thresholds import QUIET_CODES
from driftdesk.errors import DriftdeskError
from driftdesk.format import format_value
from driftdesk.jsonsafe import jsonable
from driftdesk.quality import QualityResult, quality_report
from driftdesk.status import FLAGGED, OK, STATUS, rank
from driftdesk.windows import Window, baselines_for

DRIFT_TABLES = ("decisions", "kpis", "llm_calls")  # the tables whose columns drift compares
DEFAULT_VS = ("day_over_day", "week_over_week")
HISTORY_DAYS = 14
QUALITY_VS = "week_over_week"  # the baseline the quality checks compare with (the first baseline without it)
STATISTICS = ("psi", "ks", "ks_pvalue", "js", "chi2_pvalue", "null_rate_baseline", "null_rate_current")
TRAFFIC_WEIGHTS = ("impressions", "clicks", "spend")  # what a row of an aggregated table counts for, in that order
ROWS = "rows"  # the weight choice that counts every row once
SEGMENT_COLUMNS = ("status", "reasons", "share_baseline", "share_current", "effect", "psi", "js",
                   "null_rate_baseline", "null_rate_current", "n_baseline", "n_current")


def drift_columns(dataset: Dataset, table: str) -> list[str]:
    """What to compare in a table: its segment and feature columns first, then the score, then the rest.

    Outcome columns (label, revenue) are left out: they mature late, so their recent null rate always jumps.
    """
    t = dataset[table]
    frame = t.frame
    first = [c for c in (*t.segments, *t.features, "score") if c in frame.columns]
    rest = [c for c in default_columns(frame, frame, exclude=["ts", *OUTCOME_ROLES]) if c not in first]
    return first + rest


def drift_segments(dataset: Dataset, table: str) -> list[str]:
    """The segment columns a table's drift can be split by."""
    t = dataset[table]
    return [s for s in t.segments if s in t.frame.columns]


def drift_weights(dataset: Dataset, table: str) -> list[str]:
    """What a table's rows can be weighted by: its traffic columns (kpis rows are hour x segment aggregates, so a
    row stands for its impressions, clicks or spend), then ``rows`` (each row once; the only choice elsewhere)."""
    t = dataset[table]
    traffic = [c for c in TRAFFIC_WEIGHTS if c in t.frame.columns] if table == "kpis" else []
    return [*traffic, ROWS]


def default_weight(dataset: Dataset, table: str) -> str:
    """Impressions on a kpis table (else clicks, else spend), rows elsewhere."""
    return drift_weights(dataset, table)[0]


@dataclass(frozen=True)
class DriftView:
    """Everything the Drift page shows for one table and day: the comparison with each baseline (``vs``), the
    recent history of every column, and the quality checks."""

    table: str
    day: dt.date
    comparison: BaselineComparison
    history: DriftHistory
    quality: QualityResult
    columns: tuple[str, ...]

    @property
    def weighting(self):
        """How rows counted (``driftdesk.drift.result.Weighting``): once each, or by a traffic column."""
        return next(iter(self.comparison.results.values())).weighting

    @property
    def vs(self) -> tuple[str, ...]:
        """The baseline kinds compared, in order (the first is the one the statistics columns are against)."""
        return tuple(self.comparison.results)

    @property
    def status(self) -> str:
        return self.comparison.status

    @property
    def sentence(self) -> str:
        """The consensus across baselines in one sentence."""
        return self.comparison.sentence

    @property
    def quality_vs(self) -> str:
        """The baseline kind the quality checks compared with."""
        return QUALITY_VS if QUALITY_VS in self.comparison.results else self.vs[0]

    def severity_table(self) -> pl.DataFrame:
        """One row per column, most severe first (by status, then by effect against the threshold, largest first):
        its status overall and per baseline, the consensus strength, the
        effect per day over the last days (``history``, oldest first; null on a day that or its baseline had no rows:
        a gap, not an effect of 0), the first
        baseline's statistics, and ``why``: the findings per baseline (quiet reasons left out, by reason code)."""
        cmp = self.comparison
        spark = (self.history.daily.sort("day").group_by("column", maintain_order=True)
                 .agg(pl.col("effect").alias("history")))
        first = next(iter(cmp.results.values()))
        stats = first.columns.select("column", "kind", "effect", *STATISTICS)
        findings = ~pl.col("reason_codes").list.eval(pl.element().is_in(QUIET_CODES)).list.all()
        reasons = pl.concat([r.columns.filter(findings).select("column", pl.format("{}: {}", pl.lit(k), "reasons")
                                                                .alias("why"))
                             for k, r in cmp.results.items()])
        why = reasons.group_by("column", maintain_order=True).agg(pl.col("why").str.join(" · "))
        out = (cmp.consensus.join(spark, on="column", how="left").join(stats, on="column", how="left")
               .join(why, on="column", how="left"))
        order = pl.col("status").replace_strict({s: rank(s) for s in STATUS}, default=-1, return_dtype=pl.Int8)
        return out.sort(order, pl.col("effect").cast(pl.Float64).fill_nan(None), "column", descending=[True, True, False],
                        nulls_last=True, maintain_order=True).select(
            "column", "status", "strength", *[f"status_{k}" for k in cmp.results], "history", "effect", "kind",
            *STATISTICS, "why")

    @property
    def columns_by_severity(self) -> list[str]:
        """Every column compared, most severe first (a status, then the effect against its threshold): what the
        page draws first is the column most worth a look, not the table's first column."""
        return self.severity_table()["column"].to_list()

    def history_gaps(self) -> pl.DataFrame:
        """Per column (every column of the history), the days of the history without an effect (the day or its
        baseline had no rows) as runs of days in words ("30 May – 2 Jun, 9 Jun"); empty when every day has one."""
        daily = self.history.daily.select("column", "day", "effect").sort("column", "day", maintain_order=True)
        gaps = daily.filter(pl.col("effect").is_null()).with_columns(
            run=((pl.col("day") - pl.col("day").shift(1)).over("column") != pl.duration(days=1)).fill_null(True)
            .cum_sum().over("column"))
        runs = gaps.group_by("column", "run").agg(first=pl.col("day").min(), last=pl.col("day").max()).sort(
            "column", "first")

        def words(day: pl.Expr) -> pl.Expr:
            return pl.format("{} {}", day.dt.day(), day.dt.strftime("%b"))

        text = pl.when(pl.col("first") == pl.col("last")).then(words(pl.col("first"))).otherwise(
            pl.format("{} – {}", words(pl.col("first")), words(pl.col("last"))))
        found = runs.group_by("column", maintain_order=True).agg(text.str.join(", ").alias("no_data"))
        every = daily.select("column").unique(maintain_order=True)
        return every.join(found, on="column", how="left").with_columns(pl.col("no_data").fill_null(""))

    def largest_mover(self, column: str, vs: str) -> str | None:
        """The category of a text column whose share moved most against baseline ``vs``, in a sentence."""
        cat = self.comparison.results[vs].categories.filter(pl.col("column") == column)
        if cat.is_empty():
            return None
        top = cat.row(0, named=True)
        return (f"Largest mover in {column}: {top['category']}, {format_value(top['baseline_share'], 'rate')} → "
                f"{format_value(top['current_share'], 'rate')} of rows.")

    def segment_table(self, column: str, vs: str) -> pl.DataFrame | None:
        """One column's drift per segment against baseline ``vs``, most severe first (None without ``by``)."""
        result = self.comparison.results[vs]
        if result.segments is None or result.by is None:
            return None
        return (result.segments.filter(pl.col("column") == column).sort("severity", descending=True)
                .select(result.by, *SEGMENT_COLUMNS))

    def carriers(self, column: str, vs: str) -> str | None:
        """Which segments carry a column's shift against baseline ``vs``, in a sentence (None without ``by``)."""
        by = self.comparison.results[vs].by
        seg = self.segment_table(column, vs)
        if seg is None or by is None:
            return None
        flagged = seg.filter(pl.col("status").is_in(FLAGGED))[by].to_list()
        if flagged:
            return f"{column} shifts within {by} = {', '.join(map(str, flagged))}."
        return f"No single {by} segment of {column} shifts beyond the thresholds on its own."

    def quality_issues(self) -> pl.DataFrame:
        """The quality checks that are not ok."""
        return self.quality.to_frame().filter(pl.col("status") != OK)

    def to_frame(self) -> pl.DataFrame:
        return self.severity_table()

    def to_dict(self) -> dict:
        return jsonable({
            "table": self.table,
            "day": self.day.isoformat(),
            "status": self.status,
            "sentence": self.sentence,
            "vs": list(self.vs),
            "weight": self.weighting.to_dict(),
            "columns": self.severity_table(),
            "comparison": self.comparison.to_dict(),
            "history": self.history.to_dict(),
            "quality_vs": self.quality_vs,
            "quality": self.quality.to_dict(),
        })

    def to_figure(self, column: str | None = None, vs: str | None = None):
        """One column's baseline vs current distribution (the most severe column against the first baseline)."""
        return self.comparison.to_figure(column, vs)

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.table)}, {self.day.isoformat()}</b></p>" + self.comparison._repr_html_()


def recent_days(day: dt.date, days: int = HISTORY_DAYS) -> list[dt.date]:
    """The days of the history a day's view shows: the day and the ``days - 1`` before it."""
    return [day - dt.timedelta(days=k) for k in range(days)]


def drift_history_of(dataset: Dataset, *, table: str, days: Sequence[dt.date], weight: str | None = None) -> DriftHistory:
    """The drift history of ``table`` on ``days``, each day week over week, rows weighted as in ``drift_view`` (every
    day is computed on its own, so a caller may compute days one at a time and ``combine_history`` them)."""
    return drift_history(dataset[table].frame, days=list(days), columns=drift_columns(dataset, table),
                         weight=_row_weight(dataset, table, weight))


def _row_weight(dataset: Dataset, table: str, weight: str | None) -> str | None:
    """The column a row of ``table`` counts by (None: every row once), checked against the table."""
    weight = weight or default_weight(dataset, table)
    frame = dataset[table].frame
    if weight != ROWS and weight not in frame.columns:
        raise DriftdeskError(f"drift: the {table} table has no column {weight!r} to weight rows by; choose one of "
                             f"{drift_weights(dataset, table)}")
    return None if weight == ROWS else weight


def combine_history(parts: Sequence[DriftHistory]) -> DriftHistory:
    """Days' histories computed separately, as one (days in order)."""
    daily = pl.concat([p.daily for p in parts], how="vertical_relaxed").sort("day", maintain_order=True)
    return DriftHistory(daily, parts[0].vs)


def drift_view(dataset: Dataset, *, table: str, day: dt.date, vs: str | Sequence[str] = DEFAULT_VS,
               custom: str | Window | None = None, by: str | None = None, pinned: str | Window | None = None,
               history_days: int = HISTORY_DAYS, weight: str | None = None,
               history: DriftHistory | None = None, segment_columns: Sequence[str] | None = None) -> DriftView:
    """``table`` on ``day`` (UTC) against each baseline kind in ``vs`` (``custom`` needs the ``custom`` range,
    ``pinned`` the pinned reference window; ``last_release`` is placed from the releases table), optionally per
    segment column ``by``; with the last ``history_days`` days week over week and the quality checks of the day
    against week over week (or the first baseline).

    ``weight``: what a row counts for (``drift_weights``; by default impressions on a kpis table, so a segment
    whose share of traffic triples is seen; ``rows`` counts every row once). ``history``: those days' history already
    computed (``drift_history_of`` with the same weight), which depends on neither the baselines nor ``by``.
    ``segment_columns``: the columns compared per segment of ``by`` (default: every column; a page showing one
    column's segments asks for that one)."""
    kinds = (vs,) if isinstance(vs, str) else tuple(vs)
    if not kinds:
        raise DriftdeskError("drift: choose at least one baseline kind (vs)")
    if table not in DRIFT_TABLES:
        raise DriftdeskError(f"drift compares the {', '.join(DRIFT_TABLES)} tables, not {table!r}")
    frame = dataset[table].frame
    cols = drift_columns(dataset, table)
    w = _row_weight(dataset, table, weight)
    current = Window.day(day)
    releases = dataset.get("releases")
    baselines = baselines_for(current, kinds=kinds, custom_range=custom if "custom" in kinds else None,
                              pinned=pinned if "pinned" in kinds else None,
                              releases=releases.frame if releases is not None else None)
    comparison = compare_baselines(frame, current=current, baselines=baselines, columns=cols, by=by, weight=w,
                                   segment_columns=segment_columns)
    if history is None:
        history = drift_history(frame, days=recent_days(day, history_days), columns=cols, weight=w)
    against = next((w for w in baselines if w.label == QUALITY_VS), baselines[0])
    quality = quality_report(frame.filter(against.contains("ts")), frame.filter(current.contains("ts")), by=by, ts="ts")
    return DriftView(table, day, comparison, history, quality, tuple(cols))
