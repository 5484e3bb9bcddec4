"""Calibration: do the scores mean what they say? Reliability curves, ECE, MCE, Brier, and collapsing scores.

A model can keep its ranking (AUC) and still misprice every bid: probabilities drive bids and thresholds.
Everything here is computed from per-bin aggregates (count, positives, sum of scores, sum of squared
scores, sum of score x label), so the reduction from rows can run anywhere and the statistics stay exact.

Public API
----------
``calibration_curve(frame, *, score="score", label="label", bins=10, strategy="uniform") -> CalibrationResult``
    Reliability curve keeping *every* bin (empty ones too, ``observed_rate`` null there; scikit-learn's
    ``calibration_curve`` silently drops them), a Wilson (or Jeffreys) interval per bin, ECE, MCE, Brier
    and its decomposition.
``compare_calibration(frame, *, baseline, current, by=None, ...) -> CalibrationComparison``
    Baseline vs current on the same bins (quantile edges come from the baseline), per segment, score
    quantiles and variance collapse ("scores collapse toward the mean": std(current) / std(baseline)
    below ``collapse_ratio``).
``calibration_by_segment``, ``score_quantiles``, ``calibration_series`` (ECE / Brier per time bucket, for
    the gate backtester), ``mature_labels`` (label delay), ``bin_edges``, ``bin_aggregates``.

The statistics themselves (ECE, MCE, Brier and its decomposition from per-bin sums; Wilson and Jeffreys
intervals) live in ``driftdesk.stats``, shared with the gates.

Labels arrive late. With ``label_delay`` only rows older than ``as_of - label_delay`` count (``as_of``
defaults to the newest timestamp in the frame); a null label never counts. Both exclusions are counted
in the result (``n_immature``, ``n_unlabeled``), never dropped silently.

Brier decomposition (Murphy 1973, "A new vector partition of the probability score"): with forecasts
grouped in bins b of n_b rows, mean score f_b, observed rate o_b and overall rate o,

    reliability = sum_b n_b (f_b - o_b)^2 / N,  resolution = sum_b n_b (o_b - o)^2 / N,  uncertainty = o (1 - o).

``reliability - resolution + uncertainty`` equals the Brier score exactly only when every row of a bin has
the same score. With binned continuous scores it differs by the two within-bin terms of Stephenson,
Coelho, Ferro and Doblas-Reyes (2008, "Two extra components in the Brier score decomposition"):
``brier = reliability - resolution + uncertainty + within_bin_variance - 2 * within_bin_covariance``,
both reported, so the identity is exact and checkable.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import polars as pl

from driftdesk import engine
from driftdesk.bounds import BINS, LABEL_DELAY_DAYS, check_every, parse_duration
from driftdesk.contract import Dataset, Table
from driftdesk.engine.budget import collect, exact_fits
from driftdesk.errors import DriftdeskError
from driftdesk.format import format_value
from driftdesk.io import as_lazy
from driftdesk.jsonsafe import jsonable
from driftdesk.segments import by_columns
from driftdesk.sketch import quantiles as sketch_quantiles
from driftdesk.stats import CALIBRATION_KEYS, IntervalMethod, calibration_errors, proportion_interval
from driftdesk.windows import Window, as_window, baselines_for, comparison_words, overlap_note, rows_in_window

Strategy = Literal["uniform", "quantile"]
Interval = IntervalMethod
Frame = pl.DataFrame | pl.LazyFrame
DEFAULT_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
MAX_EXAMPLES = 3
_AGG_COLS = ("count", "positives", "score_sum", "score_sq", "score_label")


# --------------------------------------------------------------------------- input


def _parse_delay(value: dt.timedelta | str | float | None) -> dt.timedelta | None:
    """A label delay as a timedelta: a timedelta, hours as a number, or text like '3d', '36h', '90m' (at most
    ``bounds.MAX_DAYS``)."""
    if value is None:
        return None
    return parse_duration(value, what="label delay", minimum_hours=0)


def _examples(lf: pl.LazyFrame, mask: pl.Expr, column: str) -> str:
    rows = lf.with_row_index("__row", offset=1).filter(mask).select("__row", column).head(MAX_EXAMPLES).collect()
    return "; ".join(f"row {r}: {v!r}" for r, v in rows.iter_rows())


def _require(frame: Frame, columns: Sequence[str], source: str) -> None:
    schema = engine.schema(frame)
    missing = [c for c in columns if c not in schema]
    if missing:
        raise DriftdeskError(f"{source}: missing column(s) {missing}; columns are {list(schema)}")


def check_scores_labels(frame: Frame, *, score: str = "score", label: str | None = "label",
                        source: str = "input") -> None:
    """Refuse scores that are not probabilities and labels that are not 0/1, naming a few rows.

    A null label is allowed (the outcome has not arrived); a missing score is not (nothing was predicted).
    """
    if engine.is_spark(frame):
        from driftdesk.engine.spark.calibration import check_scores_labels as on_spark

        return on_spark(frame, score=score, label=label, source=source)
    lf = as_lazy(frame)
    schema = lf.collect_schema()
    for col in [score, *([label] if label else [])]:
        if col not in schema:
            raise DriftdeskError(f"{source}: no column {col!r}; columns are {list(schema)}")
    # a column without any value has no type (a CSV reader calls it text): its rows are missing scores
    if not schema[score].is_numeric() and lf.select(pl.col(score).is_not_null().any()).pipe(collect).item():
        raise DriftdeskError(f"{source}: score column {score!r} must be numeric, found {schema[score]}")
    s = pl.col(score).cast(pl.Float64)
    rules = [
        (s.is_null() | s.is_nan(), score, "missing score: every row needs a predicted probability"),
        (s.is_infinite() | (s < 0) | (s > 1), score, "score outside [0, 1]: calibration needs probabilities"),
    ]
    if label:
        dtype = schema[label]
        if dtype in (pl.Boolean, pl.Null) or lf.select(pl.col(label).is_not_null().sum()).pipe(collect).item() == 0:
            pass  # booleans, or no outcome has arrived yet (an all-empty column reads as text)
        elif dtype.is_numeric():
            y = pl.col(label).cast(pl.Float64)
            rules.append((y.is_not_null() & ~y.is_in([0.0, 1.0]), label, "label other than 0/1"))
        else:
            raise DriftdeskError(f"{source}: label column {label!r} must be 0/1 or true/false, found {dtype}")
    counts = lf.select([m.sum().alias(f"r{i}") for i, (m, _, _) in enumerate(rules)]).pipe(collect).row(0)
    for (mask, col, rule), n in zip(rules, counts, strict=True):
        if n:
            raise DriftdeskError(f"{source}: column {col!r}: {rule} — {n} row{'s' if n != 1 else ''}, "
                                 f"e.g. {_examples(lf, mask, col)}")


def mature_labels(frame: Frame, *, ts: str = "ts", label: str = "label",
                  label_delay: dt.timedelta | str | float | None = None,
                  as_of: dt.datetime | None = None) -> tuple[pl.LazyFrame, dict]:
    """Rows whose label counts: non-null and, with a delay, at least ``label_delay`` older than ``as_of``.

    Returns the rows and the counts {n_rows, n_immature, n_unlabeled, n_used, cutoff}.
    """
    lf = engine.lazy(frame)
    delay = _parse_delay(label_delay)
    cutoff = None
    if delay is not None:
        schema = engine.schema(lf)
        if ts not in schema:
            raise DriftdeskError(f"a label delay needs a timestamp column; no column {ts!r}")
        if not isinstance(schema[ts], pl.Datetime | pl.Date):
            raise DriftdeskError(f"column {ts!r} must be a timestamp for a label delay, found {schema[ts]}")
        if as_of is None:
            as_of = _newest(lf, ts)
        cutoff = as_of - delay if as_of is not None else None
    if engine.is_spark(lf):
        from driftdesk.engine.spark.calibration import mature_labels as on_spark

        used, info = on_spark(lf, ts=ts, label=label, cutoff=cutoff)
        return used, {**info, "n_used": info["n_rows"] - info["n_immature"] - info["n_unlabeled"], "cutoff": cutoff}
    old = (pl.col(ts) < cutoff) if cutoff is not None else pl.lit(True)
    counts = lf.select(
        pl.len().alias("n_rows"),
        (~old).sum().alias("n_immature"),
        (old & pl.col(label).is_null()).sum().alias("n_unlabeled"),
    ).pipe(collect).row(0, named=True)
    used = lf.filter(old & pl.col(label).is_not_null())
    info = {k: int(v or 0) for k, v in counts.items()}
    info["n_used"] = info["n_rows"] - info["n_immature"] - info["n_unlabeled"]
    info["cutoff"] = cutoff
    return used, info


def _newest(frame, ts: str) -> dt.datetime | None:
    if engine.is_spark(frame):
        from driftdesk.engine.spark.calibration import newest

        return newest(frame, ts)
    return as_lazy(frame).select(pl.col(ts).max()).pipe(collect).item()


# --------------------------------------------------------------------------- bins


def bin_edges(scores: Frame | pl.Series | np.ndarray | Sequence[float], *, bins: int = 10,
              strategy: Strategy = "uniform", score: str = "score") -> np.ndarray:
    """``bins + 1`` edges on [0, 1]: equal width, or the scores' quantiles (outer edges stretched to 0 and 1).

    A row falls in bin i when edge_i <= score < edge_{i+1}; the last bin includes 1. This is scikit-learn's
    rule (``searchsorted(edges[1:-1], side="right")``), so non-empty bins match its ``calibration_curve``.
    Quantile edges can repeat when scores tie; the bins between them are then empty and kept.
    """
    BINS.check(bins)
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, bins + 1)
    if strategy != "quantile":
        raise DriftdeskError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    if engine.is_spark(scores):  # the sorted scores while they fit the budget, else the sketch's quantiles
        path = "exact" if exact_fits(engine.height(scores)) else "sketch"
        return _sketch_edges(scores, score, bins, path=path)
    if isinstance(scores, pl.DataFrame | pl.LazyFrame):
        lf = as_lazy(scores)
        n = lf.select(pl.col(score).is_not_null().sum()).pipe(collect).item()
        if not exact_fits(n):  # beyond the memory budget: the edges from a histogram sketch (driftdesk.sketch)
            return _sketch_edges(lf, score, bins)
        values = lf.select(pl.col(score).cast(pl.Float64)).pipe(collect).to_series().drop_nulls().to_numpy()
    else:
        values = np.asarray(pl.Series(scores, dtype=pl.Float64).drop_nulls().to_numpy(), dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise DriftdeskError("quantile bins need at least one score")
    edges = np.quantile(values, np.linspace(0.0, 1.0, bins + 1))
    edges[0], edges[-1] = 0.0, 1.0
    return edges


def _sketch_edges(lf, score: str, bins: int, *, path: engine.Path_ = "sketch") -> np.ndarray:
    rows = lf if engine.is_spark(lf) else lf.select(pl.col(score).cast(pl.Float64))
    s = engine.reduce_columns(rows, [(score, "numeric")], path=path)[score]
    if not s.n:
        raise DriftdeskError("quantile bins need at least one score")
    q = np.linspace(0.0, 1.0, bins + 1)
    edges = np.quantile(s.sorted_values, q) if path == "exact" else sketch_quantiles(s, q)
    edges[0], edges[-1] = 0.0, 1.0
    return edges


def _bin_expr(score: str, edges: np.ndarray) -> pl.Expr:
    inner = [float(e) for e in edges[1:-1]]
    s = pl.col(score).cast(pl.Float64)
    if not inner:
        return pl.lit(0, pl.Int32).alias("bin")
    return pl.sum_horizontal([(s >= e).cast(pl.Int32) for e in inner]).cast(pl.Int32).alias("bin")


def bin_aggregates(frame: Frame, *, edges: np.ndarray, score: str = "score", label: str = "label",
                   group: Sequence[str | pl.Expr] = ()) -> pl.DataFrame:
    """Per group and bin: count, positives, score_sum, score_sq, score_label; every bin present (zeros).

    On a Spark table the group is column names (add computed keys as columns first)."""
    s = pl.col(score).cast(pl.Float64)
    y = pl.col(label).cast(pl.Float64)
    computed = [g for g in group if not isinstance(g, str)]
    keys = [g if isinstance(g, str) else g.meta.output_name() for g in group]
    if engine.is_spark(frame):
        from driftdesk.engine.spark.calibration import bin_sums

        agg = bin_sums(frame, edges=edges, score=score, label=label, keys=keys)
    else:  # group by plain columns: polars groups about 3x faster on a materialised key than on an expression
        agg = as_lazy(frame).with_columns(*computed, _bin_expr(score, edges)).group_by([*keys, "bin"]).agg(
            pl.len().cast(pl.Int64).alias("count"),
            y.sum().alias("positives"),
            s.sum().alias("score_sum"),
            (s * s).sum().alias("score_sq"),
            (s * y).sum().alias("score_label"),
        ).pipe(collect)
    names = [c for c in agg.columns if c not in ("bin", *_AGG_COLS)]
    grid = pl.DataFrame({"bin": np.arange(len(edges) - 1, dtype=np.int32)})
    if names:
        grid = agg.select(names).unique().join(grid, how="cross")
    out = grid.join(agg, on=[*names, "bin"], how="left", nulls_equal=True)
    out = out.with_columns(pl.col("count").fill_null(0), *[pl.col(c).fill_null(0.0) for c in _AGG_COLS[1:]])
    return out.sort([*names, "bin"], nulls_last=True)


def _bins_table(agg: pl.DataFrame, edges: np.ndarray, *, confidence: float, interval: Interval) -> pl.DataFrame:
    low, high = proportion_interval(agg["positives"].to_numpy(), agg["count"].to_numpy(),
                                    confidence=confidence, method=interval)
    idx = agg["bin"].to_numpy()
    nonempty = pl.col("count") > 0
    return agg.with_columns(
        pl.Series("lower", edges[:-1][idx]),
        pl.Series("upper", edges[1:][idx]),
        pl.when(nonempty).then(pl.col("score_sum") / pl.col("count")).alias("mean_score"),
        pl.when(nonempty).then(pl.col("positives") / pl.col("count")).alias("observed_rate"),
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
    ).with_columns((pl.col("observed_rate") - pl.col("mean_score")).alias("gap"))


def summarize_bins(bins: pl.DataFrame, group: Sequence[str] = ()) -> pl.DataFrame:
    """ECE, MCE, Brier and its decomposition per group, from a bins table (every bin of every group present)."""
    group = list(group)
    bins = bins.sort([*group, "bin"], nulls_last=True)
    keys = bins.select(group).unique(maintain_order=True) if group else pl.DataFrame()
    if group and keys.height == 0:
        return keys.with_columns(*[pl.lit(None, pl.Int64 if k in ("n", "n_positive") else pl.Float64).alias(k)
                                   for k in CALIBRATION_KEYS])
    shape = (keys.height if group else 1, -1)
    sums = {c: bins[c].to_numpy().astype(np.float64).reshape(shape) for c in _AGG_COLS}
    stats = calibration_errors(sums["count"], sums["score_sum"], sums["positives"], score_sq=sums["score_sq"],
                               score_label=sums["score_label"])
    out = pl.DataFrame({k: pl.Series(k, v, dtype=pl.Int64 if k in ("n", "n_positive") else pl.Float64).fill_nan(None)
                        for k, v in stats.items()})
    return pl.concat([keys, out], how="horizontal") if group else out


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CalibrationResult:
    """One reliability curve. ``bins`` has one row per bin (empty bins kept, observed_rate null there)."""

    bins: pl.DataFrame
    metrics: dict
    edges: tuple[float, ...]
    strategy: str
    interval: str
    confidence: float
    counts: dict

    @property
    def ece(self) -> float | None:
        return self.metrics["ece"]

    @property
    def mce(self) -> float | None:
        return self.metrics["mce"]

    @property
    def brier(self) -> float | None:
        return self.metrics["brier"]

    @property
    def n(self) -> int:
        return self.metrics["n"]

    def to_frame(self) -> pl.DataFrame:
        return self.bins

    def to_dict(self) -> dict:
        m = self.metrics
        bins = self.bins.select("bin", "lower", "upper", "count", "positives", "mean_score", "observed_rate",
                                "ci_low", "ci_high", "gap")
        return jsonable({
            "ece": m["ece"], "mce": m["mce"], "brier": m["brier"],
            "brier_decomposition": {k: m[k] for k in ("reliability", "resolution", "uncertainty",
                                                      "within_bin_variance", "within_bin_covariance")},
            "n": m["n"], "n_positive": m["n_positive"], "mean_score": m["mean_score"],
            "observed_rate": m["observed_rate"],
            "n_rows": self.counts.get("n_rows"), "n_immature": self.counts.get("n_immature"),
            "n_unlabeled": self.counts.get("n_unlabeled"), "label_cutoff": self.counts.get("cutoff"),
            "strategy": self.strategy, "interval": self.interval, "confidence": self.confidence,
            "note": None if m["n"] else "undefined: no labelled rows to calibrate against",
            "bins": bins,
        })

    def to_figure(self):
        from driftdesk.viz.calibration import reliability_diagram

        return reliability_diagram(self)

    def _repr_html_(self) -> str:
        m = self.metrics
        head = (f"<p><b>ECE</b> {format_value(m['ece'], 'score')} · <b>MCE</b> {format_value(m['mce'], 'score')} · "
                f"<b>Brier</b> {format_value(m['brier'], 'score')} "
                f"· n={m['n']:,} ({self.strategy} bins)</p>")
        return head + self.bins.select("lower", "upper", "count", "mean_score", "observed_rate", "ci_low", "ci_high")._repr_html_()


def _result(rows: pl.LazyFrame, counts: dict, *, edges: np.ndarray, score: str, label: str, strategy: str,
            confidence: float, interval: Interval) -> CalibrationResult:
    agg = bin_aggregates(rows, edges=edges, score=score, label=label)
    bins = _bins_table(agg, edges, confidence=confidence, interval=interval)
    metrics = summarize_bins(bins).row(0, named=True)
    return CalibrationResult(bins, metrics, tuple(float(e) for e in edges), strategy, interval, confidence, counts)


def calibration_curve(frame: Frame, *, score: str = "score", label: str = "label", bins: int = 10,
                      strategy: Strategy = "uniform", edges: Sequence[float] | None = None, ts: str = "ts",
                      label_delay: dt.timedelta | str | float | None = None, as_of: dt.datetime | None = None,
                      confidence: float = 0.95, interval: Interval = "wilson", source: str = "input") -> CalibrationResult:
    """Reliability curve, ECE (count-weighted |observed - mean score|), MCE (largest gap), Brier (+ decomposition).

    ``edges`` overrides ``bins``/``strategy`` (to share bins between windows). Rows with a null label, or
    younger than the label delay, are excluded and counted.
    """
    check_scores_labels(frame, score=score, label=label, source=source)
    rows, counts = mature_labels(frame, ts=ts, label=label, label_delay=label_delay, as_of=as_of)
    if edges is None:
        if strategy == "quantile" and counts["n_used"] == 0:
            edges_ = bin_edges([], bins=bins, strategy="uniform")
        else:
            edges_ = bin_edges(rows, bins=bins, strategy=strategy, score=score)
    else:
        edges_ = np.asarray(edges, dtype=float)
        if edges_.ndim != 1 or edges_.size < 2 or np.any(np.diff(edges_) < 0):
            raise DriftdeskError("edges must be an increasing list of at least two numbers")
    return _result(rows, counts, edges=edges_, score=score, label=label, strategy=strategy if edges is None else "given",
                   confidence=confidence, interval=interval)


def calibration_by_segment(frame: Frame, *, by: Sequence[str] | str, score: str = "score", label: str = "label",
                           bins: int = 10, strategy: Strategy = "uniform", edges: Sequence[float] | None = None,
                           ts: str = "ts", label_delay: dt.timedelta | str | float | None = None,
                           as_of: dt.datetime | None = None, source: str = "input") -> pl.DataFrame:
    """ECE, MCE, Brier (and decomposition) per segment, on shared bins (quantile edges from all rows)."""
    by = list(by_columns(by, frame))
    _require(frame, by, source)
    check_scores_labels(frame, score=score, label=label, source=source)
    rows, counts = mature_labels(frame, ts=ts, label=label, label_delay=label_delay, as_of=as_of)
    if edges is None:
        edges_ = bin_edges(rows, bins=bins, strategy=strategy, score=score) if counts["n_used"] else bin_edges([], bins=bins)
    else:
        edges_ = np.asarray(edges, dtype=float)
    agg = bin_aggregates(rows, edges=edges_, score=score, label=label, group=by)
    table = _bins_table(agg, edges_, confidence=0.95, interval="wilson")
    return summarize_bins(table, by)


def score_quantiles(frame: Frame, *, score: str = "score", by: Sequence[str] = (),
                    quantiles: Sequence[float] = DEFAULT_QUANTILES, _plain: bool = False) -> pl.DataFrame:
    """Score distribution per group: n, mean, std and the given quantiles (q01, q05, ...; linear interpolation).

    Without groups, scores that fit the memory budget are sorted once for every quantile (``_plain``: one polars
    quantile each, as with groups; the same numbers to the last bits an order of operations can change, tested)."""
    lf = engine.lazy(frame)
    s = pl.col(score).cast(pl.Float64)
    aggs = [pl.len().alias("n"), s.mean().alias("mean"), s.std().alias("std")]
    aggs += [s.quantile(q, interpolation="linear").alias(f"q{round(100 * q):02d}") for q in quantiles]
    by = list(by_columns(by, lf))
    if engine.is_spark(lf):  # exact quantiles on Spark too; the frame typed as polars types it
        from driftdesk.engine.spark.calibration import score_quantiles as on_spark

        empty = pl.LazyFrame(schema=engine.schema(lf))
        like = dict((empty.group_by(by).agg(aggs) if by else empty.select(aggs)).collect_schema())
        out = on_spark(lf, score=score, by=by, quantiles=quantiles, like=like)
        return out.sort(by) if by else out
    if not by and not _plain:  # the scores sorted once rather than selected once per quantile
        head = lf.select(aggs[:3]).pipe(collect)
        if exact_fits(head["n"][0]):
            values = np.sort(lf.select(s).pipe(collect).to_series().drop_nulls().to_numpy())
            if not np.isnan(values).any():
                return head.with_columns(pl.lit(v, pl.Float64).alias(e.meta.output_name())
                                         for v, e in zip(sorted_quantiles(values, quantiles), aggs[3:]))
    return (lf.group_by(by).agg(aggs).sort(by) if by else lf.select(aggs)).pipe(collect)


def sorted_quantiles(values: np.ndarray, quantiles: Sequence[float]) -> list[float | None]:
    """Quantiles of ascending ``values`` by linear interpolation, as polars' ``quantile(q, "linear")`` (and numpy's
    default): the value at rank floor((n - 1) q) plus that fraction of the step to the next; None when empty."""
    n = values.size
    if not n:
        return [None] * len(quantiles)
    out = []
    for q in quantiles:
        position = (n - 1) * q
        low = math.floor(position)
        high = math.ceil(position)
        lower = float(values[low])
        out.append(lower if high == low else (position - low) * (float(values[high]) - lower) + lower)
    return out


def calibration_series(frame: Frame, *, every: str = "1d", by: Sequence[str] = (), score: str = "score",
                       label: str = "label", ts: str = "ts", bins: int = 10, edges: Sequence[float] | None = None,
                       label_delay: dt.timedelta | str | float | None = None, as_of: dt.datetime | None = None,
                       source: str = "input") -> pl.DataFrame:
    """ECE, MCE, Brier, mean score and observed rate per time bucket (and segment), on fixed uniform bins.

    For monitoring and gate backtests: fixed edges keep buckets comparable over time.
    """
    by = list(by_columns(by, frame))
    _require(frame, [ts, *by], source)
    check_scores_labels(frame, score=score, label=label, source=source)
    rows, _ = mature_labels(frame, ts=ts, label=label, label_delay=label_delay, as_of=as_of)
    edges_ = np.asarray(edges, dtype=float) if edges is not None else bin_edges([], bins=bins)
    every = check_every(every)
    group = [pl.col(ts).dt.truncate(every).alias(ts), *by]
    if engine.is_spark(rows):
        from driftdesk.engine.spark import truncate

        rows, group = rows.with_columns(**{ts: truncate(ts, every)}), [ts, *by]
    agg = bin_aggregates(rows, edges=edges_, score=score, label=label, group=group)
    table = _bins_table(agg, edges_, confidence=0.95, interval="wilson")
    out = summarize_bins(table, [ts, *by]).filter(pl.col("n") > 0)
    return out.select(ts, *by, "n", "n_positive", "ece", "mce", "brier", "mean_score", "observed_rate")


@dataclass(frozen=True)
class CalibrationComparison:
    """Baseline vs current calibration on shared bins, per segment, with score quantiles and variance collapse."""

    baseline: CalibrationResult
    current: CalibrationResult
    baseline_window: Window
    current_window: Window
    by: tuple[str, ...]
    segments: pl.DataFrame
    quantiles: pl.DataFrame
    std_ratio: float | None
    collapse_ratio: float
    collapsed: bool

    @property
    def change(self) -> dict:
        out = {}
        for k in ("ece", "mce", "brier"):
            b, c = self.baseline.metrics[k], self.current.metrics[k]
            out[k] = None if b is None or c is None else c - b
        return out

    def to_frame(self) -> pl.DataFrame:
        return pl.concat([
            self.baseline.bins.with_columns(pl.lit("baseline").alias("window")),
            self.current.bins.with_columns(pl.lit("current").alias("window")),
        ]).select("window", *self.baseline.bins.columns)

    def to_dict(self) -> dict:
        return jsonable({
            "baseline_window": self.baseline_window.to_dict(), "current_window": self.current_window.to_dict(),
            "baseline": self.baseline.to_dict(), "current": self.current.to_dict(), "change": self.change,
            "by": list(self.by), "segments": self.segments, "quantiles": self.quantiles,
            "std_ratio": self.std_ratio, "collapse_ratio": self.collapse_ratio, "collapsed": self.collapsed,
            "summary": self.summary,
        })

    @property
    def largest_rise(self) -> dict | None:
        """The segment whose ECE rose most (a new one against the traffic it replaced), or None when none rose."""
        if self.segments.is_empty() or "ece_change" not in self.segments.columns:
            return None
        worst = self.segments.filter(pl.col("ece_change").is_not_null()).sort("ece_change", descending=True).head(1)
        if not worst.height or worst["ece_change"][0] <= 0:
            return None
        return worst.row(0, named=True)

    @property
    def summary(self) -> str:
        """Plain sentences: the segment whose calibration moved most (a new version included), how calibration
        moved overall, and whether scores collapsed."""
        b, c = self.baseline.metrics, self.current.metrics
        if b["ece"] is None or c["ece"] is None:
            which = "baseline" if b["ece"] is None else "current"
            return f"Calibration cannot be compared: no labelled rows in the {which} window."
        shown = _score(b["ece"]), _score(c["ece"])  # a change too small to show is not called worse or better
        direction = ("unchanged" if shown[0] == shown[1] else "worse" if c["ece"] > b["ece"] else "better")
        over = "over" if c["mean_score"] > c["observed_rate"] else "under"
        text = ""
        worst = self.largest_rise
        if worst is not None:
            name = " ".join(f"{k}={worst[k]}" for k in self.by)
            against = ("the traffic it replaced; new in the current window" if worst["reference"] == REPLACED
                       else "its own baseline")
            text = (f"Largest ECE rise: {name}, ECE {_score(worst['ece_current'])} against {_score(worst['ece_baseline'])}"
                    f" ({against}). ")
        period = comparison_words(self.baseline_window, self.current_window)
        text += (f"Overall ECE {_score(b['ece'])} -> {_score(c['ece'])} {period}: {direction}; Brier "
                 f"{_score(b['brier'])} -> {_score(c['brier'])}; current scores {over}-predict: mean score "
                 f"{format_value(c['mean_score'], 'rate')} vs observed rate {format_value(c['observed_rate'], 'rate')}.")
        if self.collapsed:
            text += (f" Scores collapse toward the mean (std ratio {format_value(self.std_ratio, 'ratio')} < "
                     f"{format_value(self.collapse_ratio, 'ratio')}).")
        note = overlap_note(self.current_window, self.baseline_window)
        return text + (f" {note[0].upper()}{note[1:]}." if note else "")

    def to_figure(self, kind: Literal["reliability", "quantiles", "segments"] = "reliability"):
        from driftdesk.viz import calibration as viz

        return {"reliability": viz.reliability_comparison, "quantiles": viz.quantile_comparison,
                "segments": viz.segment_ece_bars}[kind](self)

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.summary)}</b></p>" + self.segments.head(30)._repr_html_()


def compare_calibration(frame: Frame, *, baseline: Window | str, current: Window | str,
                        by: Sequence[str] | str | None = None, score: str = "score", label: str = "label",
                        ts: str = "ts", bins: int = 10, strategy: Strategy = "uniform",
                        label_delay: dt.timedelta | str | float | None = None, as_of: dt.datetime | None = None,
                        collapse_ratio: float = 0.7, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                        confidence: float = 0.95, interval: Interval = "wilson",
                        source: str = "decisions") -> CalibrationComparison:
    """Calibration of the current window against the baseline on the same bins, overall and per segment.

    Quantile edges come from the baseline's labelled scores. Score quantiles and the std ratio use every
    scored row (labels are not needed to see scores collapse). ``as_of`` (for the label delay) defaults to
    the newest timestamp in the whole frame.
    """
    baseline = as_window(baseline, "baseline")
    current = as_window(current, "current")
    if strategy not in ("uniform", "quantile"):
        raise DriftdeskError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    by = list(by_columns(by, frame))
    lf = engine.lazy(frame)
    schema = engine.schema(lf)
    missing = [c for c in [ts, *by] if c not in schema]
    if missing:
        raise DriftdeskError(f"{source}: missing column(s) {missing}; columns are {list(schema)}")
    if not isinstance(schema[ts], pl.Datetime | pl.Date):
        raise DriftdeskError(f"{source}: column {ts!r} must be a timestamp, found {schema[ts]}")
    check_scores_labels(lf, score=score, label=label, source=source)
    if as_of is None and label_delay is not None:
        as_of = _newest(lf, ts)
    wins = {"baseline": rows_in_window(lf, baseline, ts=ts, name="baseline", source=source),
            "current": rows_in_window(lf, current, ts=ts, name="current", source=source)}
    rows_b, counts_b = mature_labels(wins["baseline"], ts=ts, label=label, label_delay=label_delay, as_of=as_of)
    if strategy == "quantile" and counts_b["n_used"]:
        edges = bin_edges(rows_b, bins=bins, strategy="quantile", score=score)
    else:
        edges = bin_edges([], bins=bins, strategy="uniform")
    res = {}
    for name, sub in wins.items():
        rows, counts = mature_labels(sub, ts=ts, label=label, label_delay=label_delay, as_of=as_of)
        res[name] = _result(rows, counts, edges=edges, score=score, label=label, strategy=strategy,
                            confidence=confidence, interval=interval)
    qs = []
    for name, sub in wins.items():
        qs.append(score_quantiles(sub, score=score, quantiles=quantiles).with_columns(pl.lit(name).alias("window")))
    qframe = pl.concat(qs).select("window", pl.exclude("window"))
    std_b, std_c = qframe["std"][0], qframe["std"][1]
    std_ratio = (std_c / std_b) if (std_b is not None and std_c is not None and std_b > 0) else None
    collapsed = bool(std_ratio is not None and std_ratio < collapse_ratio)
    overall = CalibrationComparison(res["baseline"], res["current"], baseline, current, (), pl.DataFrame(), qframe,
                                    std_ratio, collapse_ratio, collapsed)
    return calibration_segments(lf, overall, by, score=score, label=label, ts=ts, label_delay=label_delay,
                                as_of=as_of, source=source) if by else overall


def calibration_segments(frame: Frame, comparison: CalibrationComparison, by: Sequence[str] | str, *,
                         score: str = "score", label: str = "label", ts: str = "ts",
                         label_delay: dt.timedelta | str | float | None = None, as_of: dt.datetime | None = None,
                         source: str = "decisions") -> CalibrationComparison:
    """``comparison`` (``compare_calibration`` without ``by``) with its table per segment of ``by``: both windows on
    the comparison's own bins, the same rows counted. The comparison of all rows does not depend on ``by``, so a
    caller can keep it while the segment column changes."""
    by = list(by_columns(by, frame))
    lf = engine.lazy(frame)
    missing = [c for c in by if c not in engine.schema(lf)]
    if missing:
        raise DriftdeskError(f"{source}: missing column(s) {missing}; columns are {list(engine.schema(lf))}")
    if as_of is None and label_delay is not None:
        as_of = _newest(lf, ts)
    edges = np.asarray(comparison.baseline.edges, dtype=float)
    confidence, interval = comparison.baseline.confidence, comparison.baseline.interval
    tables = []
    for name, window in (("baseline", comparison.baseline_window), ("current", comparison.current_window)):
        rows, _ = mature_labels(rows_in_window(lf, window, ts=ts, name=name, source=source), ts=ts, label=label,
                                label_delay=label_delay, as_of=as_of)
        agg = bin_aggregates(rows, edges=edges, score=score, label=label, group=by)
        table = _bins_table(agg, edges, confidence=confidence, interval=interval)
        summary = summarize_bins(table, by).select(*by, *SEGMENT_STATS)
        tables.append(summary.rename({k: f"{k}_{name}" for k in SEGMENT_STATS}))
    return replace(comparison, by=tuple(by), segments=_segment_comparison(tables, by, comparison.baseline.metrics))


def _score(value: float | None) -> str:
    return format_value(value, "score")


SEGMENT_STATS = ("n", "ece", "mce", "brier", "mean_score", "observed_rate")
SAME_SEGMENT = "same segment"
REPLACED = "all baseline traffic, which it replaced"


def _segment_comparison(tables: list[pl.DataFrame], by: list[str], baseline: dict) -> pl.DataFrame:
    """Both windows' statistics per segment, side by side, with the change. A segment new in the current window
    (a new model version, a new campaign) has no baseline of its own: it is compared with the whole baseline
    window, the traffic it replaced (``reference`` says which), so the version that moved calibration is seen."""
    joined = tables[0].join(tables[1], on=by, how="full", coalesce=True, nulls_equal=True).with_columns(
        pl.col("n_baseline").fill_null(0), pl.col("n_current").fill_null(0))
    new = (pl.col("n_baseline") == 0) & (pl.col("n_current") > 0) & pl.lit(bool(baseline["n"]))
    return joined.with_columns(
        *[pl.when(new).then(pl.lit(baseline[k])).otherwise(pl.col(f"{k}_baseline")).cast(joined.schema[f"{k}_baseline"])
          .alias(f"{k}_baseline") for k in SEGMENT_STATS],
        pl.when(new).then(pl.lit(REPLACED)).otherwise(pl.lit(SAME_SEGMENT)).alias("reference"),
    ).with_columns(
        (pl.col("ece_current") - pl.col("ece_baseline")).alias("ece_change"),
        (pl.col("brier_current") - pl.col("brier_baseline")).alias("brier_change"),
    ).with_columns(
        pl.when(pl.col("n_baseline") == 0).then(pl.lit("undefined: no labelled rows in the baseline window"))
        .when(pl.col("n_current") == 0).then(pl.lit("undefined: no labelled rows in the current window"))
        .otherwise(None).alias("note")
    ).sort(pl.col("ece_change"), descending=True, nulls_last=True)


# --------------------------------------------------------------------------- the Calibration page's view

SEGMENT_EXTRAS = ("model_version", "release_id")  # decisions columns worth comparing calibration by, besides segments


def calibration_segment_columns(decisions: Table) -> list[str]:
    """The columns calibration can be compared by: the table's segments, then model_version and release_id."""
    return [*decisions.segments, *[c for c in SEGMENT_EXTRAS if decisions.has(c) and c not in decisions.segments]]


def default_calibration_by(columns: Sequence[str]) -> str | None:
    """Per model version when there is one: a new model is the usual reason calibration moves."""
    return "model_version" if "model_version" in columns else None


@dataclass(frozen=True)
class CalibrationView:
    """Everything the Calibration page shows: the comparison of the current window with its baseline (of kind
    ``vs``), overall and per value of ``by``; ECE per day; and one segment's comparison (``segment``, by default the
    one whose ECE rose most), or why it has none (``segment_note``)."""

    comparison: CalibrationComparison
    series: pl.DataFrame  # ts, by..., ece, brier, n: daily, on ten equal-width bins
    vs: str
    by: str | None
    segment: str | None
    segment_comparison: CalibrationComparison | None
    segment_note: str | None
    label_delay_days: int

    @property
    def missing_labels(self) -> str | None:
        """Which window has no labelled rows yet, in a sentence (None when both have some)."""
        b, c = self.comparison.baseline.metrics, self.comparison.current.metrics
        if c["n"] and b["n"]:
            return None
        which = "current" if c["n"] == 0 else "baseline"
        return (f"No labelled rows in the {which} window yet (labels arrive late): pick an earlier window or a "
                "shorter label delay.")

    @property
    def counts(self) -> str:
        """The rows counted and those left out, in a sentence."""
        b, c = self.comparison.baseline, self.comparison.current
        unlabeled = b.counts["n_unlabeled"] + c.counts["n_unlabeled"]
        immature = b.counts["n_immature"] + c.counts["n_immature"]
        return (f"Labelled rows counted: baseline {format_value(b.n, 'count')}, current {format_value(c.n, 'count')}. "
                f"Excluded: {format_value(unlabeled, 'count')} without a label, {format_value(immature, 'count')} "
                "younger than the label delay. Bands: 95% Wilson intervals. Empty bins are kept (zero rows).")

    @property
    def segment_summary(self) -> str | None:
        """The chosen segment's comparison in a sentence, or why there is none."""
        if self.segment is None or self.by is None:
            return None
        if self.segment_comparison is None:
            return f"{self.by}={self.segment}: {self.segment_note}"
        row = self.comparison.segments.filter(pl.col(self.by).cast(pl.String) == self.segment)
        against = (" (new in the current window: against all baseline traffic, which it replaced)"
                   if row.height and row["reference"][0] == REPLACED else "")
        return f"{self.by}={self.segment}{against}: {self.segment_comparison.summary}"

    def to_frame(self) -> pl.DataFrame:
        return self.comparison.to_frame()

    def to_dict(self) -> dict:
        return jsonable({
            "vs": self.vs, "by": self.by, "label_delay_days": self.label_delay_days,
            "comparison": self.comparison.to_dict(), "series": self.series, "segment": self.segment,
            "segment_comparison": self.segment_comparison.to_dict() if self.segment_comparison else None,
            "segment_note": self.segment_note,
        })

    def to_figure(self, kind: Literal["reliability", "quantiles", "segments"] = "reliability"):
        return self.comparison.to_figure(kind)

    def _repr_html_(self) -> str:
        return self.comparison._repr_html_()


def _largest_rise(segments: pl.DataFrame, by: str) -> str | None:
    """The segment whose ECE rose most; segments that could not be compared last, ties by name."""
    if segments.is_empty():
        return None
    ranked = segments.with_columns(pl.col(by).cast(pl.String)).sort(["ece_change", by], descending=[True, False],
                                                                     nulls_last=True)
    return ranked[by][0]


def calibration_overall(dataset: Dataset, *, end: dt.date, days: int, vs: str = "week_over_week", bins: int = 10,
                        strategy: Strategy = "uniform", label_delay_days: int = 0,
                        pinned: str | Window | None = None) -> CalibrationComparison:
    """The Calibration page's comparison of all rows: the ``days`` days ending ``end`` against the baseline of
    kind ``vs``, before any segment column is chosen."""
    decisions = dataset["decisions"].frame
    current = Window.ending(end, days=days)
    LABEL_DELAY_DAYS.check(label_delay_days, where="calibration")
    releases = dataset.get("releases")
    baseline = baselines_for(current, kinds=(vs,), pinned=pinned if vs == "pinned" else None,
                             releases=releases.frame if releases is not None else None)[0]
    delay = dt.timedelta(days=label_delay_days) if label_delay_days else None
    return compare_calibration(decisions, baseline=baseline, current=current, bins=bins, strategy=strategy,
                               label_delay=delay)


def calibration_view_series(dataset: Dataset, *, by: str | None, label_delay_days: int = 0) -> pl.DataFrame:
    """The Calibration page's daily ECE over the whole history, per value of ``by`` (ten fixed equal-width bins)."""
    LABEL_DELAY_DAYS.check(label_delay_days, where="calibration")
    delay = dt.timedelta(days=label_delay_days) if label_delay_days else None
    return calibration_series(dataset["decisions"].frame, every="1d", by=[by] if by else [], bins=10,
                              label_delay=delay)


def calibration_view(dataset: Dataset, *, end: dt.date, days: int, vs: str = "week_over_week",
                     by: str | None = None, segment: str | None = None, bins: int = 10,
                     strategy: Strategy = "uniform", label_delay_days: int = 0,
                     pinned: str | Window | None = None, overall: CalibrationComparison | None = None,
                     series: pl.DataFrame | None = None) -> CalibrationView:
    """The decisions' calibration over the ``days`` days ending ``end`` against the baseline of kind ``vs``
    (``pinned``: the window of a ``pinned`` baseline; ``last_release`` is placed from the releases table),
    per ``by`` value, with the daily ECE series and one value of ``by`` (``segment``) on its own.

    ``overall`` (``calibration_overall`` of the same arguments) and ``series`` (``calibration_view_series`` of
    ``by``) may come from a caller's cache: neither depends on the other choices."""
    decisions = dataset["decisions"].frame
    LABEL_DELAY_DAYS.check(label_delay_days, where="calibration")
    delay = dt.timedelta(days=label_delay_days) if label_delay_days else None
    if overall is None:
        overall = calibration_overall(dataset, end=end, days=days, vs=vs, bins=bins, strategy=strategy,
                                      label_delay_days=label_delay_days, pinned=pinned)
    comparison = calibration_segments(decisions, overall, by, label_delay=delay) if by else overall
    baseline, current = overall.baseline_window, overall.current_window
    if series is None:
        series = calibration_view_series(dataset, by=by, label_delay_days=label_delay_days)
    one, note = None, None
    if by is not None and segment is None:
        segment = _largest_rise(comparison.segments, by)
    if by is not None and segment is not None:
        chosen = pl.col(by).cast(pl.String) == segment
        replaced = comparison.segments.filter(chosen & (pl.col("reference") == REPLACED)).height > 0
        # a segment new in the current window is drawn against the baseline window's traffic, which it replaced
        rows = decisions.filter(chosen | baseline.contains("ts")) if replaced else decisions.filter(chosen)
        try:
            one = compare_calibration(rows, baseline=baseline, current=current, bins=bins, strategy=strategy,
                                      label_delay=delay, source=f"decisions where {by}={segment}",
                                      as_of=decisions["ts"].max() if delay else None)
        except DriftdeskError as exc:
            note = str(exc)
    return CalibrationView(comparison, series, vs, by, segment if by else None, one, note, label_delay_days)
