"""Candidate against control, per segment: each rollout metric's value in both arms, its change and an interval.

Rows are sampling units (a scored request, an LLM call). A replay reduces them once: per arm, segment and interval
between evaluation-window edges, the sums each metric needs (``sum_exprs``, ``calibration_cells``); any evaluation
window is then a sum over its intervals.

Intervals of the change (two-sided, ``confidence`` 0.95 by default):

* a **rate** (successes out of trials, e.g. conversions per bought lead, validator failures per call): the
  difference by Newcombe's hybrid score interval (from the two Wilson intervals), the relative change by the
  log (Katz) interval of the rate ratio; as statsmodels' ``confint_proportions_2indep(method="newcomb")`` and
  ``(compare="ratio", method="log")``;
* a **ratio of sums** (CPA, ROAS) and a **mean** (a ratio with 1 per row): each arm's standard error by the
  delta method (``driftdesk.stats.ratio_of_sums``); the difference ``d +- z sqrt(se_c^2 + se_b^2)`` (Welch's z
  interval for means), the relative change on the log scale, ``exp(log(c / b) +- z sqrt((se_c/c)^2 +
  (se_b/b)^2)) - 1`` (defined when both values are positive);
* **calibration** (ECE, 10 equal-width bins): a bootstrap from per-bin aggregates. The bootstrap resamples rows
  by their (bin, label) cell, each row drawn Poisson(1) times (the Poisson bootstrap: a cell's count is
  Poisson(its rows), drawn by the inverse CDF from a uniform), and draws each cell's score sum from its mean and
  spread (normal, which a row bootstrap approaches within a cell), ``BOOTSTRAP_DRAWS`` times, and takes the
  percentiles of the change. Every interval reads the same uniforms and normals (``bootstrap_draws``, from a
  fixed seed), so an interval depends on its cells only, and many segments are drawn at once as arrays. ECE is
  biased upwards in small samples (noise alone gives about ``sqrt(2 / (pi n))`` per bin), so its gate needs a
  minimum sample;
* a **distribution** (``psi:<column>``): the change is the PSI of the candidate's values against the control's
  deciles, with no interval; its significance is the KS test's p-value (``driftdesk.stats``).

A change counts as significant when its interval excludes no change (for PSI: KS p-value below
``1 - confidence``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from driftdesk.errors import PolicyError
from driftdesk.gates.policy import Gate
from driftdesk.metrics import is_missing, resolve_metric
from driftdesk.sketch import HistogramSketch, ks_bounds, psi_estimate
from driftdesk.stats import (
    DEFAULT_PSI_BINS,
    ks_pvalue,
    ks_statistic,
    proportion_interval,
    psi_from_counts,
    psi_numeric,
    psi_terms,
    ratio_of_sums,
    two_sided_z,
    weighted_bin_sums,
    weighted_ks,
    weighted_mean,
    weighted_quantile_edges,
)

Kind = Literal["ratio", "rate", "mean", "calibration", "distribution"]
ECE_BINS = 10
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 20_261_005  # fixed: the same data gives the same interval every time
BOOTSTRAP_CHUNK = 4  # segments drawn together
ARMS = ("control", "candidate")


@dataclass(frozen=True)
class RolloutMetric:
    """A metric as a rollout judges it: how it reduces per arm, the unit columns it reads, what its sample counts."""

    name: str
    label: str
    kind: Kind
    columns: tuple[str, ...]
    unit: str
    sample: str
    negate: bool = False

    @property
    def key(self) -> str:
        return self.name.replace(":", "__")


def rollout_metric(name: str, columns: Collection[str], *, context: str = "rollout gate") -> RolloutMetric:
    """Resolve a policy's metric name on the unit table's ``columns`` (names from the registry, ``ece``,
    ``psi:<column>``, ``mean:<column>``, ``rate:NUM/DEN``)."""
    if name.startswith("psi:"):
        col = name.split(":", 1)[1]
        if col not in columns:
            raise PolicyError(f"{context}: {name} needs the column {col!r}; the table has {', '.join(columns)}")
        return RolloutMetric(name, f"PSI of {col}", "distribution", (col,), "score", "rows")
    metric = resolve_metric(name, columns=list(columns), context=context, error=PolicyError)
    agg = metric.aggregation
    if agg == "binned":
        return RolloutMetric(metric.name, metric.label, "calibration", metric.columns, metric.unit, "labelled rows")
    if agg == "ratio":
        kind: Kind = "rate" if metric.unit == "rate" else "ratio"
        return RolloutMetric(metric.name, metric.label, kind, metric.columns, metric.unit, metric.columns[1])
    if agg == "rate":
        return RolloutMetric(metric.name, metric.label, "rate", metric.columns, metric.unit, "rows", metric.negate)
    if agg == "mean":
        return RolloutMetric(metric.name, metric.label, "mean", metric.columns, metric.unit, "rows")
    raise PolicyError(f"{context}: a rollout is judged on ratios, rates, means, ece and psi:<column>; {name} is a "
                      f"{agg} (for latency percentiles judge mean:<latency column> instead)")


def change_unit(metric: RolloutMetric, *, relative: bool) -> str:
    """The ``driftdesk.format`` unit a change of ``metric`` (and its threshold) is written in: a relative change as
    +14%, a difference of two shares in pp, a PSI as a score, any other difference in the metric's own unit."""
    if metric.kind == "distribution":
        return "score"
    if relative:
        return "change"
    return "pp" if metric.unit == "rate" else metric.unit


# --------------------------------------------------------------------------- reduction


def known(metric: RolloutMetric) -> pl.Expr:
    """Rows where no column the metric reads is missing (``metrics.is_missing``: null, or NaN in a float column; a
    label not yet matured leaves its row out)."""
    return ~pl.any_horizontal([is_missing(c) for c in metric.columns])


def sum_exprs(metric: RolloutMetric) -> list[pl.Expr]:
    """Additive per-hour sums of one metric (prefixed by its key), computed over the rows it can read (a value of
    another row is null, which a sum skips: a plain grouped sum, where filtering each group costs twice as much)."""
    k, ok = metric.key, known(metric)
    f = [pl.col(c).cast(pl.Float64) for c in metric.columns]

    def where_known(value: pl.Expr) -> pl.Expr:
        return pl.when(ok).then(value)
    if metric.kind in ("ratio", "rate") and len(f) == 2:
        y, x = f
        return [ok.cast(pl.Float64).sum().alias(f"{k}__n"), where_known(y).sum().alias(f"{k}__y"),
                where_known(x).sum().alias(f"{k}__x"), where_known(y * y).sum().alias(f"{k}__yy"),
                where_known(x * x).sum().alias(f"{k}__xx"), where_known(x * y).sum().alias(f"{k}__xy")]
    if metric.kind == "rate":  # one flag column: successes among the rows that have it
        flag = (1.0 - f[0]) if metric.negate else f[0]
        return [ok.cast(pl.Float64).sum().alias(f"{k}__x"), where_known(flag).sum().alias(f"{k}__y")]
    if metric.kind == "mean":
        y = f[0]
        return [ok.cast(pl.Float64).sum().alias(f"{k}__n"), where_known(y).sum().alias(f"{k}__y"),
                ok.cast(pl.Float64).sum().alias(f"{k}__x"), where_known(y * y).sum().alias(f"{k}__yy"),
                ok.cast(pl.Float64).sum().alias(f"{k}__xx"), where_known(y).sum().alias(f"{k}__xy")]
    return []


def calibration_cells(units: pl.LazyFrame, metric: RolloutMetric, keys: Sequence[str]) -> pl.LazyFrame:
    """Per key, bin (equal-width, ``ECE_BINS``) and label: rows, score sum, score sum of squares."""
    score, label = metric.columns
    s = pl.col(score).cast(pl.Float64)
    bin_ = (s * ECE_BINS).floor().clip(0, ECE_BINS - 1).cast(pl.Int32)
    return (units.filter(known(metric)).group_by(*keys, bin_.alias("__bin"), pl.col(label).cast(pl.Int8).alias("__label"))
            .agg(pl.len().cast(pl.Float64).alias("count"), s.sum().alias("score_sum"), (s * s).sum().alias("score_sq")))


# --------------------------------------------------------------------------- intervals


def rate_change(k_b: float, n_b: float, k_c: float, n_c: float, *, relative: bool, confidence: float
                ) -> tuple[float | None, float | None, float | None]:
    """(change, low, high) of a rate: difference by Newcombe's hybrid score interval, relative by the log (Katz)
    interval of the ratio; None where undefined (no trials, or no successes for a ratio)."""
    if n_b <= 0 or n_c <= 0:
        return None, None, None
    p_b, p_c = k_b / n_b, k_c / n_c
    if relative:
        if k_b <= 0 or k_c <= 0:
            return (None if k_b <= 0 else p_c / p_b - 1.0), None, None
        se = math.sqrt(1 / k_c - 1 / n_c + 1 / k_b - 1 / n_b)
        z = two_sided_z(confidence)
        r = math.log(p_c / p_b)
        return p_c / p_b - 1.0, math.exp(r - z * se) - 1.0, math.exp(r + z * se) - 1.0
    (lo_b,), (hi_b,) = proportion_interval(np.array([k_b]), np.array([n_b]), confidence=confidence)
    (lo_c,), (hi_c,) = proportion_interval(np.array([k_c]), np.array([n_c]), confidence=confidence)
    d = p_c - p_b
    low = d - math.sqrt((p_c - lo_c) ** 2 + (hi_b - p_b) ** 2)
    high = d + math.sqrt((hi_c - p_c) ** 2 + (p_b - lo_b) ** 2)
    return d, low, high


def ratio_change(r_b: float | None, se_b: float | None, r_c: float | None, se_c: float | None, *, relative: bool,
                 confidence: float) -> tuple[float | None, float | None, float | None]:
    """(change, low, high) of two independent estimates with standard errors (delta method; log scale for a
    relative change, which needs both positive)."""
    if r_b is None or r_c is None:
        return None, None, None
    z = two_sided_z(confidence)
    if not relative:
        if se_b is None or se_c is None:
            return r_c - r_b, None, None
        half = z * math.sqrt(se_b**2 + se_c**2)
        return r_c - r_b, r_c - r_b - half, r_c - r_b + half
    if r_b == 0:
        return None, None, None
    change = (r_c - r_b) / abs(r_b)
    if r_b <= 0 or r_c <= 0 or se_b is None or se_c is None:
        return change, None, None
    half = z * math.sqrt((se_c / r_c) ** 2 + (se_b / r_b) ** 2)
    lr = math.log(r_c / r_b)
    return change, math.exp(lr - half) - 1.0, math.exp(lr + half) - 1.0


_UNIT = 2.0**53  # numpy's uniforms are multiples of 2**-53: times this, exact integers below 2**53


@dataclass(frozen=True)
class Uniforms:
    """Uniform draws from ``Generator.random``, ``values`` (cells, draws), with each cell's draws sorted once for
    ``poisson_quantiles``: ``rank`` (cells, draws) each draw's place among its cell's, ``keys`` (cells x draws) the
    sorted values as integers (cell << 54 | value * 2**53), increasing from cell to cell."""

    values: np.ndarray
    rank: np.ndarray
    keys: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> Uniforms:
        order = np.argsort(values, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(values.shape[1]), axis=1)
        ordered = np.take_along_axis(values, order, axis=1)
        keys = ((np.arange(values.shape[0], dtype=np.int64) << 54)[:, None] + (ordered * _UNIT).astype(np.int64)).ravel()
        for a in (values, rank, keys):
            a.flags.writeable = False
        return cls(values, rank, keys)


@functools.lru_cache(maxsize=4)
def bootstrap_draws(seed: int = BOOTSTRAP_SEED, draws: int = BOOTSTRAP_DRAWS
                    ) -> tuple[Uniforms, np.ndarray, Uniforms, np.ndarray]:
    """The random numbers of every ECE bootstrap: uniforms and standard normals of the control, then of the
    candidate, each (cells, draws) with cells in the ``calibration_layout`` order, from a generator seeded with
    ``seed``. Every interval reads these same numbers, so an interval depends on its two arms' cells only (drawn
    alone, beside other segments or later, it is the same); read-only."""
    rng = np.random.default_rng(seed)
    shape = (2 * ECE_BINS, draws)
    u_b, z_b, u_c, z_c = rng.random(shape), rng.standard_normal(shape), rng.random(shape), rng.standard_normal(shape)
    z_b.flags.writeable = z_c.flags.writeable = False
    return Uniforms.of(u_b), z_b, Uniforms.of(u_c), z_c


def poisson_quantiles(lam: np.ndarray, uniform: Uniforms) -> np.ndarray:
    """Inverse-CDF Poisson draws: for ``lam`` (segments, cells) and uniforms (cells, draws), the smallest k with
    P(Poisson(lam[s, c]) <= k) >= uniform[c, d], shape (segments, cells, draws).

    Each cell's CDF is tabulated only over the counts its uniforms reach (from the inverse of the Poisson CDF at
    the smallest and the largest, two counts wider on each side). A draw's count is the table's first count plus
    the number of entries below its uniform: every entry is placed among its cell's sorted uniforms by one
    bisection of all of them at once (compared as integers, exactly), and the counts of the sorted draws are
    running sums of where the entries fall."""
    from scipy import special

    segments, cells = lam.shape
    draws = uniform.values.shape[1]
    out = np.zeros((segments, cells, draws))
    at = np.argwhere(lam > 0)
    if not at.size:
        return out
    cell = at[:, 1]
    rate = lam[at[:, 0], cell]
    base = cell << 54
    smallest = (uniform.keys[cell * draws] - base) / _UNIT
    largest = (uniform.keys[cell * draws + draws - 1] - base) / _UNIT
    lo = np.maximum(np.floor(special.pdtrik(smallest, rate)) - 2, 0)  # pdtrik: k of the continuous CDF
    size = (np.ceil(special.pdtrik(largest, rate)) + 2 - lo).astype(np.int64) + 1
    block = np.repeat(np.arange(len(rate)), size)
    cdf = special.pdtr(np.arange(block.size, dtype=np.float64) - np.repeat(np.cumsum(size) - size - lo, size),
                       rate[block])
    # an entry is below the uniform of its cell's sorted draw i from i = below on
    below = np.searchsorted(uniform.keys, base[block] + np.floor(cdf * _UNIT).astype(np.int64), side="right")
    below -= cell[block] * draws
    counts = np.bincount(block * (draws + 1) + below, minlength=len(rate) * (draws + 1)).reshape(
        len(rate), draws + 1)[:, :draws].cumsum(axis=1)
    counts = np.minimum(lo[:, None] + np.take_along_axis(counts, uniform.rank[cell], axis=1), (lo + size - 1)[:, None])
    out[at[:, 0], cell] = counts
    return out


def ece_draws(count: np.ndarray, score_sum: np.ndarray, score_sq: np.ndarray, *, uniform: Uniforms,
              normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap draws of one arm's per-cell (counts, score sums), shape (segments, cells, draws), for its cells
    (segments, cells) and the uniforms and normals (cells, draws) of ``bootstrap_draws``: each row is drawn
    Poisson(1) times, so a cell's count is Poisson(its rows) (``poisson_quantiles``), and its score sum is drawn
    from the cell's mean and spread (normal, which the sum of that many of its scores approaches). Read ECE off
    them with ``ece_from_cells`` (cells on the last axis)."""
    safe = np.where(count > 0, count, 1)
    mean = np.where(count > 0, score_sum / safe, 0.0)[..., None]
    var = np.where(count > 1, np.clip(score_sq / safe - mean[..., 0] ** 2, 0, None), 0.0)[..., None]
    counts = poisson_quantiles(count, uniform)
    return counts, counts * mean + np.sqrt(counts * var) * normal


def ece_from_cells(bins: np.ndarray, label: np.ndarray, counts: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """ECE = sum over bins |labels - scores| / rows, along the last axis of per-cell counts and score sums."""
    total = counts.sum(axis=-1)
    gap = np.zeros(counts.shape[:-1])
    for part in _bin_gaps(bins, label, counts, sums):  # bins in order, added one at a time
        gap = gap + part
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, gap / np.where(total > 0, total, 1), np.nan)


def _bin_gaps(bins: np.ndarray, label: np.ndarray, counts: np.ndarray, sums: np.ndarray) -> list[np.ndarray]:
    """Each bin's |labels - scores|, in bin order. In the ``calibration_layout`` (a bin's two cells side by side,
    label 0 then 1) a reshape reads every bin at once, with the same additions as picking each bin's cells."""
    layout_bins, layout_labels = calibration_layout()
    if np.array_equal(bins, layout_bins) and np.array_equal(label, layout_labels):
        pairs_c = counts.reshape(*counts.shape[:-1], ECE_BINS, 2)
        pairs_s = sums.reshape(*sums.shape[:-1], ECE_BINS, 2)
        gaps = np.abs(pairs_c[..., 1] - (pairs_s[..., 0] + pairs_s[..., 1]))
        return [gaps[..., b] for b in range(ECE_BINS)]
    out = []
    for b in np.unique(bins):  # each bin's cells picked by index: no masked pass over every cell
        in_bin = np.flatnonzero(bins == b)
        positive = in_bin[label[in_bin] == 1]
        out.append(np.abs(counts[..., positive].sum(axis=-1) - sums[..., in_bin].sum(axis=-1)))
    return out


# --------------------------------------------------------------------------- one window


def arm_values(sums: pl.DataFrame, metric: RolloutMetric) -> pl.DataFrame:
    """Each row's (an arm x segment) value, standard error and sample of a ratio, rate or mean metric."""
    k = metric.key
    c = {s: pl.col(f"{k}__{s}").fill_null(0.0) for s in ("n", "y", "x", "yy", "xx", "xy")}
    if metric.kind == "rate":
        value = pl.when(c["x"] > 0).then(c["y"] / c["x"])
        return sums.with_columns(value.alias(f"{k}__value"), pl.lit(None, pl.Float64).alias(f"{k}__se"),
                                 c["x"].alias(f"{k}__sample"))
    r, se = ratio_of_sums(c["y"], c["x"], num_sq=c["yy"], den_sq=c["xx"], num_x_den=c["xy"], n=c["n"])
    return sums.with_columns(pl.when(c["x"] > 0).then(r).alias(f"{k}__value"),
                             pl.when((c["x"] > 0) & (c["n"] > 1) & se.is_finite()).then(se).alias(f"{k}__se"),
                             c["x"].alias(f"{k}__sample"))


def compare_sums(metric: RolloutMetric, control: dict | None, candidate: dict | None, *, relative: bool,
                 confidence: float) -> dict:
    """One segment's comparison from the two arms' ``arm_values`` rows (a ratio, rate or mean metric)."""
    k = metric.key
    c0, c1 = control or {}, candidate or {}
    v_b, se_b, n_b = c0.get(f"{k}__value"), c0.get(f"{k}__se"), c0.get(f"{k}__sample") or 0.0
    v_c, se_c, n_c = c1.get(f"{k}__value"), c1.get(f"{k}__se"), c1.get(f"{k}__sample") or 0.0
    if metric.kind == "rate":
        change, low, high = rate_change(c0.get(f"{k}__y") or 0.0, n_b, c1.get(f"{k}__y") or 0.0, n_c,
                                        relative=relative, confidence=confidence)
    else:
        change, low, high = ratio_change(v_b, se_b, v_c, se_c, relative=relative, confidence=confidence)
    return {"metric": metric.name, "control": v_b, "candidate": v_c, "change": change, "ci_low": low, "ci_high": high,
            "p_value": None, "n_control": n_b, "n_candidate": n_c}


def compare_calibration_cells(metric: RolloutMetric, control: pl.DataFrame, candidate: pl.DataFrame, *,
                              relative: bool, confidence: float, seed: int = BOOTSTRAP_SEED) -> dict:
    """ECE of both arms from their cells, and a bootstrap interval of the change."""
    bins, labels = calibration_layout()
    cells = pl.DataFrame({"__bin": bins, "__label": labels})

    def arrays(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        full = cells.join(frame.select("__bin", "__label", "count", "score_sum", "score_sq"), on=["__bin", "__label"],
                          how="left").fill_null(0.0)
        return full["count"].to_numpy(), full["score_sum"].to_numpy(), full["score_sq"].to_numpy()

    return compare_calibration_arrays(metric, arrays(control), arrays(candidate), relative=relative,
                                      confidence=confidence, seed=seed)


def calibration_layout() -> tuple[np.ndarray, np.ndarray]:
    """(bin, label) of each cell in the order ``compare_calibration_arrays`` reads them: bin-major, label 0 then 1."""
    return np.repeat(np.arange(ECE_BINS, dtype=np.int32), 2), np.tile(np.array([0, 1], dtype=np.int8), ECE_BINS)


def compare_calibration_arrays(metric: RolloutMetric, control: tuple[np.ndarray, np.ndarray, np.ndarray],
                               candidate: tuple[np.ndarray, np.ndarray, np.ndarray], *, relative: bool,
                               confidence: float, seed: int = BOOTSTRAP_SEED, interval: bool = True) -> dict:
    """``compare_calibration_cells`` on each arm's (count, score sum, score sum of squares) per cell, in the
    ``calibration_layout`` order; ``interval=False`` leaves the bootstrap (the costly part) to
    ``ece_change_interval``, which draws the same interval later."""
    (out,) = compare_calibration_segments(metric, tuple(a[None] for a in control), tuple(a[None] for a in candidate),
                                          relative=relative)
    if interval and out["change"] is not None:
        out["ci_low"], out["ci_high"] = ece_change_interval(control, candidate, relative=relative,
                                                            confidence=confidence, seed=seed)
    return out


def compare_calibration_segments(metric: RolloutMetric, control: tuple[np.ndarray, np.ndarray, np.ndarray],
                                 candidate: tuple[np.ndarray, np.ndarray, np.ndarray], *,
                                 relative: bool) -> list[dict]:
    """``compare_calibration_arrays`` without the interval for many segments at once: each array is (segments,
    cells), a segment's ECE read off its own row (the same additions, in the same order, as one at a time)."""
    bins, labels = calibration_layout()
    (cnt_b, s_b, _), (cnt_c, s_c, _) = control, candidate
    n_b, n_c = cnt_b.sum(axis=-1), cnt_c.sum(axis=-1)
    eces_b, eces_c = ece_from_cells(bins, labels, cnt_b, s_b), ece_from_cells(bins, labels, cnt_c, s_c)
    rows = []
    for i in range(n_b.shape[0]):
        ece_b = float(eces_b[i]) if n_b[i] else None
        ece_c = float(eces_c[i]) if n_c[i] else None
        out = {"metric": metric.name, "control": ece_b, "candidate": ece_c, "change": None, "ci_low": None,
               "ci_high": None, "p_value": None, "n_control": float(n_b[i]), "n_candidate": float(n_c[i])}
        if ece_b is not None and ece_c is not None and not (relative and ece_b <= 0):
            out["change"] = ece_c / ece_b - 1.0 if relative else ece_c - ece_b
        rows.append(out)
    return rows


def ece_change_interval(control: tuple[np.ndarray, np.ndarray, np.ndarray],
                        candidate: tuple[np.ndarray, np.ndarray, np.ndarray], *, relative: bool, confidence: float,
                        seed: int = BOOTSTRAP_SEED) -> tuple[float | None, float | None]:
    """The bootstrap interval of the change of ECE between two arms' cells (``compare_calibration_arrays``): the
    percentiles of the change over ``BOOTSTRAP_DRAWS`` draws. Every interval reads the same random numbers
    (``bootstrap_draws(seed)``), so the same cells give the same interval whenever it is drawn."""
    (out,) = ece_change_intervals(tuple(np.asarray(a, dtype=np.float64)[None] for a in control),
                                  tuple(np.asarray(a, dtype=np.float64)[None] for a in candidate), relative=relative,
                                  confidence=confidence, seed=seed)
    return out


def ece_change_intervals(control: tuple[np.ndarray, np.ndarray, np.ndarray],
                         candidate: tuple[np.ndarray, np.ndarray, np.ndarray], *, relative: bool, confidence: float,
                         seed: int = BOOTSTRAP_SEED) -> list[tuple[float | None, float | None]]:
    """``ece_change_interval`` of many segments at once: each array is (segments, cells); each segment's interval
    is the one it has alone. Segments are drawn ``BOOTSTRAP_CHUNK`` at a time (the draws of a few segments stay
    in the processor's cache)."""
    if control[0].shape[0] > BOOTSTRAP_CHUNK:
        return [interval for i in range(0, control[0].shape[0], BOOTSTRAP_CHUNK)
                for interval in ece_change_intervals(tuple(a[i:i + BOOTSTRAP_CHUNK] for a in control),
                                                     tuple(a[i:i + BOOTSTRAP_CHUNK] for a in candidate),
                                                     relative=relative, confidence=confidence, seed=seed)]
    bins, labels = calibration_layout()
    u_b, z_b, u_c, z_c = bootstrap_draws(seed)
    draws_b = ece_from_cells(bins, labels, *(np.moveaxis(a, 1, -1) for a in ece_draws(*control, uniform=u_b,
                                                                                      normal=z_b)))
    draws_c = ece_from_cells(bins, labels, *(np.moveaxis(a, 1, -1) for a in ece_draws(*candidate, uniform=u_c,
                                                                                        normal=z_c)))
    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        changes = draws_c / draws_b - 1.0 if relative else draws_c - draws_b
    out: list[tuple[float | None, float | None]] = []
    for diffs in changes:
        diffs = diffs[np.isfinite(diffs)]
        if not diffs.size:
            out.append((None, None))
            continue
        low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
        out.append((float(low), float(high)))
    return out


def compare_distribution(metric: RolloutMetric, control: np.ndarray, candidate: np.ndarray, *,
                         p_value: bool = True) -> dict:
    """PSI of the candidate's values against the control's deciles, KS p-value, and each arm's mean (and the KS
    statistic, ``ks_statistic``). ``p_value=False`` leaves the p-value (the costly part) to
    ``ks_pvalue(row["ks_statistic"], n_control, n_candidate)``, the same number later."""
    b = np.sort(control[np.isfinite(control)])
    c = np.sort(candidate[np.isfinite(candidate)])
    psi = psi_numeric(b, c) if b.size and c.size else None
    d = ks_statistic(b, c) if b.size and c.size else None
    p = ks_pvalue(d, b.size, c.size) if p_value and d is not None else None
    return {"metric": metric.name, "control": float(b.mean()) if b.size else None,
            "candidate": float(c.mean()) if c.size else None, "change": psi, "ci_low": None, "ci_high": None,
            "p_value": p, "n_control": float(b.size), "n_candidate": float(c.size), "ks_statistic": d}


def compare_distribution_aggregates(metric: RolloutMetric, control: tuple[np.ndarray, np.ndarray] | HistogramSketch,
                                    candidate: tuple[np.ndarray, np.ndarray] | HistogramSketch) -> dict:
    """``compare_distribution(..., p_value=False)`` from each arm's aggregate rather than its values: its distinct
    finite values (sorted) with their counts, exact (the deciles, the PSI's bin counts and the KS statistic are
    read off the cumulative counts: the weighted statistics of ``driftdesk.stats`` with whole-number weights,
    equal to those of the repeated values), or its histogram sketch (``driftdesk.sketch``): the PSI estimate and
    the KS statistic's lower bound, as ``driftdesk drift`` reads a sketch, with ``psi_low`` / ``psi_high`` and
    ``ks_error`` bounding the exact values."""
    if isinstance(control, HistogramSketch):
        b, c = control, candidate
        n_b, n_c = b.n, c.n
        psi = d = None
        bounds = {}
        if n_b and n_c:
            psi, low, high = psi_estimate(b, c)
            d, d_high = ks_bounds(b, c)
            bounds = {"psi_low": low, "psi_high": high, "ks_error": d_high - d}
        return {"metric": metric.name, "control": b.mean, "candidate": c.mean, "change": psi, "ci_low": None,
                "ci_high": None, "p_value": None, "n_control": float(n_b), "n_candidate": float(n_c),
                "ks_statistic": d, **bounds}
    (vb, cb), (vc, cc) = control, candidate
    n_b, n_c = float(cb.sum()), float(cc.sum())
    psi = d = None
    if n_b and n_c:
        edges = weighted_quantile_edges(vb, cb)
        psi = psi_from_counts(weighted_bin_sums(vb, cb, edges), weighted_bin_sums(vc, cc, edges))
        d = weighted_ks(vb, cb, vc, cc)
    return {"metric": metric.name, "control": weighted_mean(vb, cb), "candidate": weighted_mean(vc, cc),
            "change": psi, "ci_low": None, "ci_high": None, "p_value": None, "n_control": n_b, "n_candidate": n_c,
            "ks_statistic": d}


def compare_distributions(metric: RolloutMetric, runs: np.ndarray, bounds: np.ndarray) -> list[dict]:
    """``compare_distribution(..., p_value=False)`` of many segments at once: ``runs`` holds each segment's control
    values then its candidate values, each run finite and sorted, from ``bounds[2 s]`` to ``bounds[2 s + 1]`` and
    on to ``bounds[2 s + 2]``. Every segment's PSI bin edges (the control's deciles, as ``stats.quantile_edges``)
    and bin terms (``stats.psi_terms``) are computed as arrays, then each PSI is the sum of its own bins; each row is
    the one ``compare_distribution`` gives the segment alone."""
    first, cut, last = bounds[0:-1:2], bounds[1::2], bounds[2::2]
    n_b, n_c = cut - first, last - cut
    both = np.flatnonzero((n_b > 0) & (n_c > 0))
    psi: dict[int, float | None] = {}
    if both.size:
        n = n_b[both][:, None]
        pos = np.arange(1, DEFAULT_PSI_BINS) / DEFAULT_PSI_BINS * (n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        frac = pos - lo
        a, b = runs[first[both][:, None] + lo], runs[first[both][:, None] + hi]
        edges = np.where(frac == 0, a, a + (b - a) * frac)
        rising = bool((edges[:, 1:] >= edges[:, :-1]).all())
        keep = np.concatenate([np.ones((edges.shape[0], 1), dtype=bool), edges[:, 1:] != edges[:, :-1]], axis=1)
        counts = np.zeros((2, both.size, DEFAULT_PSI_BINS))
        bins = np.empty(both.size, dtype=np.int64)
        for i, s in enumerate(both.tolist()):
            e = edges[i][keep[i]] if rising else np.unique(edges[i])  # np.unique of rising edges: the same
            bins[i] = e.size + 1
            for side, (start, end) in enumerate(((first[s], cut[s]), (cut[s], last[s]))):
                run = runs[start:end]
                cum = np.searchsorted(run, e, side="right")
                counts[side, i, :e.size + 1] = np.diff(np.concatenate(([0], cum, [run.size])))
        terms = psi_terms(counts[0], counts[1])
        psi = {s: _finite(terms[i, :bins[i]].sum()) for i, s in enumerate(both.tolist())}
    rows = []
    for s in range(len(first)):
        b, c = runs[first[s]:cut[s]], runs[cut[s]:last[s]]
        rows.append({"metric": metric.name, "control": float(b.mean()) if b.size else None,
                     "candidate": float(c.mean()) if c.size else None, "change": psi.get(s), "ci_low": None,
                     "ci_high": None, "p_value": None, "n_control": float(b.size), "n_candidate": float(c.size),
                     "ks_statistic": ks_statistic(b, c) if b.size and c.size else None})
    return rows


def _finite(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


# --------------------------------------------------------------------------- verdicts

VERDICTS = ("not_enough_data", "ok", "inconclusive", "breach")


def verdict(row: dict, gate: Gate, *, confidence: float) -> tuple[str, str]:
    """(verdict, note) of one segment under one gate.

    ``not_enough_data``: an arm has no traffic or fewer than ``min_sample``, or the change is undefined;
    ``breach``: the change is beyond the threshold in the bad direction and significant (its interval excludes no
    change; for PSI the KS p-value is below 1 - confidence); ``inconclusive``: beyond the threshold but within the
    noise; ``ok``: within the threshold.
    """
    n_b, n_c = row["n_control"] or 0.0, row["n_candidate"] or 0.0
    sample = row.get("sample") or "rows"
    if n_b <= 0 or n_c <= 0:
        return "not_enough_data", f"no {'control' if n_b <= 0 else 'candidate'} traffic"
    if min(n_b, n_c) < gate.min_sample:
        arm, n = ("control", n_b) if n_b < n_c else ("candidate", n_c)
        return "not_enough_data", f"{arm} has {n:,.0f} {sample} < {gate.min_sample:g}"
    change = row["change"]
    if change is None or not math.isfinite(change):
        return "not_enough_data", "the change is undefined (a value is missing or zero)"
    t = gate.threshold
    bad = {"above": change > t, "below": change < t, "either": abs(change) > abs(t)}[gate.direction]
    if not bad:
        return "ok", ""
    if row["p_value"] is not None:
        significant = row["p_value"] < 1 - confidence
    elif row["ci_low"] is None or row["ci_high"] is None:
        significant = False
    else:
        significant = row["ci_low"] > 0 or row["ci_high"] < 0
    if significant:
        return "breach", "beyond the threshold and beyond the noise"
    return "inconclusive", "beyond the threshold but within the noise (the interval includes no change)"
