"""Drift result objects: tidy frames plus verdicts, one shape for the app, the notebooks and the CLI."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

import polars as pl

from driftdesk.drift.consensus import consensus_sentence
from driftdesk.drift.thresholds import DEPRECATED_THRESHOLDS, Thresholds
from driftdesk.jsonsafe import jsonable
from driftdesk.metrics import METRICS
from driftdesk.stats import SampleSize
from driftdesk.status import FLAGGED, NOT_ENOUGH_DATA, worst
from driftdesk.windows import Window, baseline_label

CONTRACT_KEYS = ("column", "kind", "psi", "ks", "ks_pvalue", "wasserstein", "js", "chi2_pvalue",
                 "null_rate_baseline", "null_rate_current", "status")
# JSON keys earlier versions wrote -> today's key; each old key is still written beside its new one (deprecated)
DEPRECATED_KEYS: dict[str, str] = {
    "null_rate_reference": "null_rate_baseline",
    "n_reference": "n_baseline",
    "n_valid_reference": "n_valid_baseline",
    "mean_reference": "mean_baseline",
    "share_reference": "share_baseline",
    **DEPRECATED_THRESHOLDS,
}


def _days_of(window: Window) -> str:
    """A window in words for a sentence: "on 11 Jun" (one whole day), "from 4 Jun to 10 Jun" (whole days), else its
    ISO range."""
    def day(d: dt.date) -> str:
        return f"{d.day} {d:%b}" + ("" if d.year == window.end.year else f" {d.year}")

    midnight = dt.time(0)
    if window.start.timetz().replace(tzinfo=None) == midnight and window.end.timetz().replace(tzinfo=None) == midnight:
        last = (window.end - dt.timedelta(days=1)).date()
        if last == window.start.date():
            return f"on {day(last)}"
        if last > window.start.date():
            return f"from {day(window.start.date())} to {day(last)}"
    return f"in {window.iso()}"


def _count_measures() -> frozenset[str]:
    return frozenset(m.columns[0] for m in METRICS if m.aggregation == "sum" and m.unit == "count")


@dataclass(frozen=True)
class Weighting:
    """How rows count in a drift comparison: once each (``column`` None), or by a traffic column's value.

    ``sample_size`` says what the tests count (``driftdesk.stats.sample_size``): ``weight_sum`` when the weight is
    a count of units (impressions, clicks, conversions: the default for those names), ``kish`` otherwise (spend:
    rows, discounted for unequal weights).
    """

    column: str | None = None
    sample_size: SampleSize = "weight_sum"

    @classmethod
    def of(cls, column: str | None, sample_size: SampleSize | None = None) -> Weighting:
        if not column:
            return cls()
        default: SampleSize = "weight_sum" if column in _count_measures() else "kish"
        return cls(column, sample_size or default)

    @property
    def description(self) -> str:
        if self.column is None:
            return "every row counts once"
        units = (f"{self.column} (each one a unit)" if self.sample_size == "weight_sum"
                 else "rows, discounted for unequal weights (Kish's effective sample size)")
        return f"rows weighted by {self.column}; tests count {units}"

    def to_dict(self) -> dict:
        return {"column": self.column, "sample_size": self.sample_size if self.column else None,
                "description": self.description}


def with_deprecated_keys(row: dict) -> dict:
    """A JSON row with each deprecated key beside the key that replaced it (same value)."""
    out = dict(row)
    for old, new in DEPRECATED_KEYS.items():
        if new in row:
            out[old] = row[new]
    return out


def by_severity(table: pl.DataFrame) -> pl.DataFrame:
    """Most severe first (alert, warn, ok, not enough data), then by column name."""
    return table.sort(["severity", "column"], descending=[True, False])


def _html_table(frame: pl.DataFrame, cols: list[str], limit: int = 30) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for r in frame.head(limit).iter_rows(named=True):
        cells = []
        for c in cols:
            v = r.get(c)
            text = f"{v:.4g}" if isinstance(v, float) else ("" if v is None else str(v))
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


@dataclass(frozen=True)
class DriftResult:
    """One baseline vs one current window: a row per column (``columns``), per segment and column
    (``segments``, when compared ``by`` a column), per category (``categories``) and per plot bin
    (``distributions``)."""

    columns: pl.DataFrame
    distributions: pl.DataFrame
    categories: pl.DataFrame
    thresholds: Thresholds = field(default_factory=Thresholds)
    segments: pl.DataFrame | None = None
    by: str | None = None
    baseline: Window | None = None
    current: Window | None = None
    weighting: Weighting = field(default_factory=Weighting)

    @property
    def status(self) -> str:
        """The worst column status ('not_enough_data' only if every column lacks data)."""
        return worst(self.columns["status"].to_list())

    def column(self, name: str) -> dict:
        rows = self.columns.filter(pl.col("column") == name)
        if rows.is_empty():
            raise KeyError(name)
        return rows.row(0, named=True)

    def to_frame(self) -> pl.DataFrame:
        """The drift table, most severe column first."""
        return by_severity(self.columns)

    def to_dict(self) -> dict:
        """The CLI's JSON: ``columns`` (contract keys first, then extras), ``segments`` when compared by a column.

        Renamed keys are written under their old name too while deprecated; ``deprecated_keys`` lists them.
        """
        cols = []
        for r in self.to_frame().iter_rows(named=True):
            row = {**{k: r[k] for k in CONTRACT_KEYS}, **{k: v for k, v in r.items() if k not in CONTRACT_KEYS}}
            cols.append(with_deprecated_keys(row))
        doc = {
            "status": self.status,
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "current": self.current.to_dict() if self.current else None,
            "thresholds": with_deprecated_keys(self.thresholds.to_dict()),
            "weight": self.weighting.to_dict(),
            "columns": cols,
            "deprecated_keys": DEPRECATED_KEYS,
        }
        if self.segments is not None:
            doc["by"] = self.by
            doc["segments"] = [with_deprecated_keys(r) for r in by_severity(self.segments).iter_rows(named=True)]
        return jsonable(doc)

    def to_figure(self, column: str | None = None):
        """Baseline vs current distribution of one column (the most severe by default)."""
        from driftdesk.viz.drift import distribution_figure

        return distribution_figure(self, column or self.to_frame()["column"][0])

    def _repr_html_(self) -> str:
        cols = ["column", "kind", "status", "psi", "ks", "ks_pvalue", "wasserstein_norm", "js", "chi2_pvalue",
                "null_rate_baseline", "null_rate_current", "reasons"]
        span = ""
        if self.baseline and self.current:
            span = f" — baseline {self.baseline.iso()} vs current {self.current.iso()}"
        return f"<h4>Drift: {html.escape(self.status)}{html.escape(span)}</h4>" + _html_table(self.to_frame(), cols)


@dataclass(frozen=True)
class BaselineComparison:
    """One current window against several baselines at once, with the consensus across them."""

    current: Window
    results: dict[str, DriftResult]
    consensus: pl.DataFrame

    @property
    def status(self) -> str:
        """The worst consensus status ('not_enough_data' when no column could be judged)."""
        return worst(self.consensus["status"].to_list()) if not self.consensus.is_empty() else worst(())

    @property
    def sentence(self) -> str:
        reasons: dict[str, str] = {}
        for res in self.results.values():
            for r in res.columns.iter_rows(named=True):
                if r["status"] in FLAGGED and r["column"] not in reasons:
                    reasons[r["column"]] = r["reasons"]
        return consensus_sentence(self.consensus, reasons, tuple(self.results), self.unjudged())

    def unjudged(self) -> dict[str, str]:
        """The baselines against which no column could be judged (every column ``not_enough_data``), each with why:
        no rows in the baseline or the current window (named by its days), or too few rows."""
        out: dict[str, str] = {}
        for label, res in self.results.items():
            cols = res.columns
            if cols.is_empty() or not (cols["status"] == NOT_ENOUGH_DATA).all():
                continue
            if not cols["n_current"].max() and res.current is not None:
                out[label] = f"no data {_days_of(res.current)}, the current window"
            elif not cols["n_baseline"].max() and res.baseline is not None:
                out[label] = f"no data {_days_of(res.baseline)}"
            else:
                out[label] = str(cols["reasons"][0])
        return out

    def to_frame(self) -> pl.DataFrame:
        """Consensus per column joined with every baseline's main statistics (suffix = baseline label)."""
        out = self.consensus
        for label, res in self.results.items():
            part = res.columns.select("column", "psi", "ks", "js", "null_rate_change", "reasons").rename(
                {c: f"{c}_{label}" for c in ("psi", "ks", "js", "null_rate_change", "reasons")})
            out = out.join(part, on="column", how="left")
        return out

    def to_dict(self) -> dict:
        return jsonable({"current": self.current.to_dict(), "status": self.status, "sentence": self.sentence,
                         "consensus": self.consensus.to_dicts(),
                         "baselines": {k: v.to_dict() for k, v in self.results.items()}})

    def to_figure(self, column: str | None = None, vs: str | None = None):
        """One column's distributions against the baseline labelled ``vs`` (the first baseline by default)."""
        res = self.results[vs or next(iter(self.results))]
        return res.to_figure(column or (self.consensus["column"][0] if not self.consensus.is_empty() else None))

    def _repr_html_(self) -> str:
        cols = ["column", "status", "strength", "flagged_by", "agree_direction", "data_layer_shift",
                *[f"status_{k}" for k in self.results]]
        return (f"<h4>{html.escape(self.current.iso())}: {html.escape(self.status)}</h4>"
                f"<p>{html.escape(self.sentence)}</p>" + _html_table(self.consensus, cols))


@dataclass(frozen=True)
class DriftHistory:
    """Each day's drift table against its baseline of kind ``vs`` (e.g. week_over_week), stacked: the
    statistics' recent history per column."""

    daily: pl.DataFrame
    vs: str

    def to_frame(self) -> pl.DataFrame:
        return self.daily

    def to_dict(self) -> dict:
        """``vs`` and the daily rows; ``baseline`` (the kind's old key) and the rows' old keys stay while deprecated."""
        daily = [with_deprecated_keys(r) for r in self.daily.iter_rows(named=True)]
        return jsonable({"vs": self.vs, "baseline": self.vs, "daily": daily,
                         "deprecated_keys": {"baseline": "vs", **DEPRECATED_KEYS}})

    def to_figure(self, statistic: str = "severity", columns: list[str] | None = None):
        from driftdesk.viz.drift import history_figure

        return history_figure(self, statistic, columns)

    def _repr_html_(self) -> str:
        cols = ["day", "column", "status", "psi", "ks", "js", "null_rate_change"]
        return f"<h4>Drift history vs {html.escape(baseline_label(self.vs))}</h4>" + _html_table(self.daily, cols, 60)
