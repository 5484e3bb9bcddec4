"""Compare a baseline window with a current one, per column and per segment, and give each column a verdict.

Flow: each column of each window is reduced once (``reduce_column``: a sorted array or category counts),
statistics are read off the two aggregates (``compare_aggregates``), and a verdict follows from
``Thresholds`` (the rule lives in ``drift/thresholds.py``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from driftdesk import engine
from driftdesk import sketch as sk
from driftdesk import stats as st
from driftdesk.drift.consensus import consensus
from driftdesk.drift.result import BaselineComparison, DriftHistory, DriftResult, Weighting
from driftdesk.drift.thresholds import Thresholds, effect, verdict
from driftdesk.errors import DriftdeskError
from driftdesk.segments import by_columns
from driftdesk.status import ALERT, FLAGGED, OK
from driftdesk.windows import Window, aligned_rows, day_over_day, is_calendar_aligned, week_over_week

Frame = pl.DataFrame | pl.LazyFrame


# --------------------------------------------------------------------------- reduction


def column_kind(dtype: pl.DataType) -> str | None:
    """'numeric', 'categorical', or None for types drift does not compare (lists, structs, binary)."""
    if dtype.is_numeric() or dtype.is_temporal():
        return "numeric"
    if dtype in (pl.String, pl.Categorical, pl.Boolean, pl.Null) or isinstance(dtype, pl.Enum | pl.Categorical):
        return "categorical"
    return None


Aggregate = st.NumericSketch | st.CategoryCounts | st.WeightedValues | st.WeightedCounts | sk.HistogramSketch


def reduce_column(series: pl.Series, kind: str, *, weights: pl.Series | None = None,
                  sample: st.SampleSize = "weight_sum") -> Aggregate:
    """The one pass over a column's rows: sort (numeric) or count categories; with ``weights`` (one per row),
    sum the weights per value or category instead of counting rows."""
    if weights is not None:
        return _reduce_weighted(series, kind, weights, sample)
    if kind == "numeric":
        s = series
        if s.dtype.is_temporal():
            s = s.to_physical()
        if s.dtype == pl.Null:
            return st.NumericSketch(np.empty(0), s.len(), s.len(), 0)
        return st.numeric_sketch(s.cast(pl.Float64).to_numpy(writable=True), in_place=True)
    s = series.cast(pl.String) if series.dtype != pl.Null else pl.Series(series.name, [None] * series.len(), pl.String)
    vc = s.drop_nulls().value_counts(name="__n").sort(s.name)  # a stable order: sums are reproducible
    return st.CategoryCounts(tuple(vc[s.name].to_list()), vc["__n"].to_numpy().astype(np.int64), s.len(), s.null_count())


def _reduce_weighted(series: pl.Series, kind: str, weights: pl.Series, sample: st.SampleSize) -> Aggregate:
    w = weights.cast(pl.Float64).fill_null(0.0).to_numpy()
    if kind == "numeric":
        s = series.to_physical() if series.dtype.is_temporal() else series
        x = s.cast(pl.Float64).fill_null(float("nan")).to_numpy() if s.dtype != pl.Null else np.full(s.len(), np.nan)
        return st.weighted_values(x, w, kind=sample)
    s = series.cast(pl.String) if series.dtype != pl.Null else pl.Series(series.name, [None] * series.len(), pl.String)
    frame = pl.DataFrame({"v": s, "w": w})
    missing = frame["v"].is_null().to_numpy()
    valid = frame.filter(pl.col("v").is_not_null() & (pl.col("w") > 0))
    vc = valid.group_by("v").agg(pl.col("w").sum()).sort("v")
    return st.WeightedCounts(tuple(vc["v"].to_list()), vc["w"].to_numpy().astype(np.float64), s.len(), valid.height,
                             float(w.sum()), float(w[missing].sum()), st.sample_size(w, sample),
                             st.sample_size(w[~missing], sample))


def reduce_days(frame: pl.DataFrame, day: str, days: Sequence, items: Sequence[tuple[str, str]], *,
                weight: str | None = None, sample: st.SampleSize = "weight_sum") -> dict[object, dict[str, Aggregate]]:
    """``reduce_column`` of each (column, kind) of ``items`` on the rows of each of ``days`` (dates, the ``day``
    column's values), every day at once: the rows grouped by day (in their order), each day's numeric columns read
    as one array, one count of (day, category) per categorical column. Days without rows get empty aggregates (as
    ``reduce_column`` of no rows). With ``weight``, as ``reduce_column(..., weights=...)``: the numeric columns and
    the weights are read once for every day, the categorical columns reduced a day at a time."""
    days = sorted(set(days))
    n_days = len(days)
    rows = frame.filter(pl.col(day).is_in(days))
    key = np.searchsorted(np.array(days, dtype="datetime64[D]"), rows[day].to_numpy())
    order = np.argsort(key, kind="stable")  # the rows of each day together, in their order
    rows = rows.with_columns(pl.Series("__k", key, dtype=pl.Int64))
    sizes = np.bincount(key, minlength=n_days)
    starts = np.concatenate(([0], np.cumsum(sizes)))
    out: dict[object, dict[str, Aggregate]] = {d: {} for d in days}
    if weight:
        return _reduce_days_weighted(rows, days, items, order, starts, weight, sample)
    alone = [(c, k) for c, k in items if frame.schema[c] == pl.Null]  # an all-null column: as reduce_column does
    numeric = [c for c, k in items if k == "numeric" and (c, k) not in alone]
    categorical = [c for c, k in items if k == "categorical" and (c, k) not in alone]
    if numeric:
        values = rows.select(pl.col(c).to_physical().cast(pl.Float64) for c in numeric).to_numpy()[order]
        for k, d in enumerate(days):
            block = values[starts[k]:starts[k + 1]].T.copy()  # a row per column, each sorted in place
            for j, c in enumerate(numeric):
                out[d][c] = st.numeric_sketch(block[j], in_place=True)
    if categorical:  # the counts of every column in one collect (polars runs the queries side by side)
        lf = rows.lazy()
        missing, *tables = pl.collect_all([
            lf.group_by("__k").agg(pl.col(c).null_count() for c in categorical).sort("__k"),
            *(lf.select("__k", pl.col(c).cast(pl.String)).drop_nulls(c).group_by("__k", c).len("__n")
              .sort("__k", c) for c in categorical)])  # a stable order: sums are reproducible
        index = missing["__k"].to_numpy()
    for c, counts in zip(categorical, tables if categorical else []):
        n_missing = np.zeros(n_days, np.int64)
        n_missing[index] = missing[c].to_numpy()
        at = np.searchsorted(counts["__k"].to_numpy(), np.arange(n_days + 1))
        cats, n = counts[c].to_list(), counts["__n"].to_numpy().astype(np.int64)
        for k, d in enumerate(days):
            out[d][c] = st.CategoryCounts(tuple(cats[at[k]:at[k + 1]]), n[at[k]:at[k + 1]], int(sizes[k]),
                                          int(n_missing[k]))
    for c, kind in alone:
        for k, d in enumerate(days):
            out[d][c] = reduce_column(rows.filter(pl.col("__k") == k)[c], kind)
    return out


def _reduce_days_weighted(rows: pl.DataFrame, days: list, items: Sequence[tuple[str, str]], order: np.ndarray,
                          starts: np.ndarray, weight: str, sample: st.SampleSize) -> dict[object, dict[str, Aggregate]]:
    """reduce_days with weights: each day's rows in their order, so every sum is the one a day alone gives."""
    w = rows[weight].cast(pl.Float64).fill_null(0.0).to_numpy()[order]
    numeric = [c for c, k in items if k == "numeric"]
    values = {}
    for c in numeric:
        s = rows[c].to_physical() if rows.schema[c].is_temporal() else rows[c]
        x = s.cast(pl.Float64).fill_null(float("nan")).to_numpy() if s.dtype != pl.Null else np.full(s.len(), np.nan)
        values[c] = x[order]
    categorical = [c for c, k in items if k == "categorical"]
    out: dict[object, dict[str, Aggregate]] = {}
    for k, d in enumerate(days):
        at = slice(int(starts[k]), int(starts[k + 1]))
        part = rows.select(categorical)[order[at]] if categorical else None
        out[d] = {}
        for c, kind in items:
            if kind == "numeric":
                out[d][c] = st.weighted_values(values[c][at], w[at], kind=sample)
            else:
                out[d][c] = _reduce_weighted(part[c], kind, pl.Series(weight, w[at]), sample)
    return out


def _cast_kind(dtype: pl.DataType | None) -> str | None:
    return None if dtype is None else column_kind(dtype)


# --------------------------------------------------------------------------- one column


def compare_aggregates(column: str, baseline, current, thresholds: Thresholds, *, tests: list | None = None,
                       numeric: dict | None = None, categorical: dict | None = None) -> dict:
    """Every statistic and the verdict for one column from its two aggregates. Missing stats are None.

    With ``tests`` (a list), the p-values are left for ``run_tests`` to compute for many rows at once: each
    test's inputs are appended to it, and the row comes back without its verdict (``judge`` gives it).
    ``numeric``: the pair's ``stats.paired_numeric_stats`` (two sorted samples), computed with other pairs';
    ``categorical``: the pair's ``_paired_categorical`` (two windows' category counts), likewise."""
    t = thresholds
    defer = tests is not None
    kind = "numeric" if isinstance(baseline, st.NumericSketch | st.WeightedValues | sk.HistogramSketch) else "categorical"
    weighted = isinstance(baseline, st.WeightedValues | st.WeightedCounts)
    row: dict = {
        "column": column, "kind": kind, "psi": None, "ks": None, "ks_pvalue": None, "wasserstein": None,
        "wasserstein_norm": None, "js": None, "chi2_pvalue": None,
        "null_rate_baseline": baseline.null_rate, "null_rate_current": current.null_rate,
        "null_rate_change": None, "null_pvalue": None, "out_of_range_share": None,
        "n_baseline": baseline.n_rows, "n_current": current.n_rows,
        "n_valid_baseline": baseline.n, "n_valid_current": current.n,
        "mean_baseline": None, "mean_current": None,
        "new_categories": [], "vanished_categories": [], "direction": "none",
        "method": "sketch" if isinstance(baseline, sk.HistogramSketch) else "exact",
        "ks_error": None, "wasserstein_error": None, "psi_low": None, "psi_high": None,
    }
    if weighted and baseline.null_rate is not None and current.null_rate is not None:
        row["null_rate_change"] = current.null_rate - baseline.null_rate
        sb, sc = baseline.sample_size, current.sample_size
        _test(row, "null_pvalue", (baseline.null_rate * sb, sb, current.null_rate * sc, sc), tests)
    elif not weighted and baseline.n_rows and current.n_rows:
        row["null_rate_change"] = current.null_rate - baseline.null_rate
        _test(row, "null_pvalue", (baseline.n_missing, baseline.n_rows, current.n_missing, current.n_rows), tests)
    if kind == "numeric":
        with np.errstate(over="ignore", invalid="ignore"):  # huge values give inf statistics (null in JSON)
            if isinstance(baseline, sk.HistogramSketch):
                _sketch_numeric_stats(row, baseline, current, t, tests)
            elif weighted:
                _weighted_numeric_stats(row, baseline, current, t, tests)
            else:
                _numeric_stats(row, baseline, current, t, tests, numeric)
    else:
        cats, bc, cc = st.aligned_shares(baseline, current) if categorical is None else categorical["aligned"]
        if bc.sum() and cc.sum():
            if categorical is None:
                change = cc / cc.sum() - bc / bc.sum()  # the category whose share moved most: the verdict's direction
                top = int(np.argmax(np.abs(change)))
                categorical = {"psi": st.psi_from_counts(bc, cc), "js": st.jensen_shannon(bc, cc),
                               "top_mover": f"{cats[top]}{'+' if change[top] > 0 else '-'}",
                               "out_of_range_share": float(cc[bc == 0].sum() / cc.sum())}
            row["psi"], row["js"] = categorical["psi"], categorical["js"]
            if weighted:  # the test counts units: the weights rescaled to each window's sample size
                _test(row, "chi2_pvalue", (st.scaled_counts(bc, baseline.valid_sample_size),
                                           st.scaled_counts(cc, current.valid_sample_size)), tests)
            else:
                _test(row, "chi2_pvalue", (bc, cc), tests)
            row["_top_mover"] = categorical["top_mover"]
            new = [cats[k] for k in np.flatnonzero((bc == 0) & (cc > 0))]
            gone = [cats[k] for k in np.flatnonzero((bc > 0) & (cc == 0))]
            row["new_categories"], row["vanished_categories"] = new[:20], gone[:20]
            row["out_of_range_share"] = categorical["out_of_range_share"]
    return row if defer else judge(row, thresholds)


def judge(row: dict, thresholds: Thresholds) -> dict:
    """A row of statistics (its p-values computed) with its verdict and effect (the categorical top mover, a hint
    for the verdict's direction, then dropped)."""
    row.update(verdict(row, thresholds))
    row["effect"] = effect(row, thresholds)
    row.pop("_top_mover", None)
    return row


_TESTS = {"null_pvalue": st.two_proportion_pvalue, "ks_pvalue": st.ks_pvalue, "chi2_pvalue": st.chi2_pvalue}


def _test(row: dict, key: str, args: tuple, tests: list | None) -> None:
    """The p-value ``key`` of ``row`` from the test's inputs: now, or (``tests`` given) later by ``run_tests``."""
    if tests is None:
        row[key] = _TESTS[key](*args)
    else:
        tests.append((row, key, args))


def run_tests(tests: Sequence[tuple[dict, str, tuple]]) -> None:
    """Fill in the p-values ``compare_aggregates(..., tests=...)`` left: each kind of test for every row at once
    (the same values as one at a time)."""
    by_key: dict[str, list] = {"null_pvalue": [], "ks_pvalue": [], "chi2_pvalue": []}
    for item in tests:
        by_key[item[1]].append(item)
    if by_key["null_pvalue"]:
        args = np.array([a for _, _, a in by_key["null_pvalue"]], dtype=np.float64)
        p = np.atleast_1d(st.two_proportion_pvalue(args[:, 0], args[:, 1], args[:, 2], args[:, 3]))
        for (row, key, _), v in zip(by_key["null_pvalue"], p.tolist()):
            row[key] = None if math.isnan(v) else v
    if by_key["ks_pvalue"]:
        args = np.array([(np.nan if a[0] is None else a[0], a[1], a[2]) for _, _, a in by_key["ks_pvalue"]],
                        dtype=np.float64)
        p = st.ks_pvalues(args[:, 0], args[:, 1], args[:, 2])
        for (row, key, _), v in zip(by_key["ks_pvalue"], p.tolist()):
            row[key] = None if math.isnan(v) else v
    if by_key["chi2_pvalue"]:
        stats = [st.chi2_statistic(*a) for _, _, a in by_key["chi2_pvalue"]]
        known = [(k, s) for k, s in enumerate(stats) if s is not None]
        p = st.chi2_pvalues(np.array([s[0] for _, s in known]), np.array([s[1] for _, s in known])) \
            if known else np.empty(0)
        values: list = [None] * len(stats)
        for (k, _), v in zip(known, p.tolist()):
            values[k] = v
        for (row, key, _), v in zip(by_key["chi2_pvalue"], values):
            row[key] = v


def _numeric_stats(row: dict, baseline: st.NumericSketch, current: st.NumericSketch, t: Thresholds,
                   tests: list | None = None, known: dict | None = None) -> None:
    a, b = baseline.sorted_values, current.sorted_values
    if not (a.size and b.size):
        return
    if known is None:
        known = {"psi": st.psi_numeric(a, b, bins=t.psi_bins), "wasserstein": st.wasserstein(a, b),
                 "sd": float(np.std(a, ddof=1)) if a.size > 1 else 0.0,
                 "below": int(np.searchsorted(b, a[0], side="left")),
                 "above": int(b.size - np.searchsorted(b, a[-1], side="right")),
                 "mean_baseline": float(np.mean(a)), "mean_current": float(np.mean(b))}
    row["psi"] = known["psi"]
    row["ks"] = st.ks_statistic(a, b)
    _test(row, "ks_pvalue", (row["ks"], a.size, b.size), tests)
    w = known["wasserstein"]
    row["wasserstein"] = w
    sd = known["sd"]
    row["wasserstein_norm"] = w / sd if sd > 0 and math.isfinite(sd) else None
    outside = known["below"] + known["above"]
    denom = b.size + current.n_infinite
    row["out_of_range_share"] = float(outside + current.n_infinite) / denom if denom else None
    row["mean_baseline"], row["mean_current"] = known["mean_baseline"], known["mean_current"]


def _paired_numeric(reduced: dict, pairs: Sequence[tuple[object, object]], columns: Sequence[str],
                    bins: int) -> dict[tuple[object, str], dict]:
    """``_numeric_stats``' inputs for every (baseline day, current day) pair of ``pairs`` and unweighted numeric
    column at once (``stats.paired_numeric_stats``), by (current day, column); each day's sorted values are one
    sample however many pairs read them."""
    index: dict[tuple[object, str], int] = {}
    samples, base, cur, keys = [], [], [], []
    for b, d in pairs:
        for c in columns:
            for day in (b, d):
                if (day, c) not in index:
                    index[day, c] = len(samples)
                    samples.append(reduced[day][c].sorted_values)
            base.append(index[b, c])
            cur.append(index[d, c])
            keys.append((d, c))
    stats = st.paired_numeric_stats(samples, np.array(base, np.int64), np.array(cur, np.int64), bins=bins)
    lists = {k: v.tolist() for k, v in stats.items()}
    out = {}
    for p, key in enumerate(keys):
        known = {k: v[p] for k, v in lists.items()}
        known["below"], known["above"] = (int(known["below"]), int(known["above"])) \
            if known["below"] == known["below"] else (0, 0)  # NaN: an empty sample, never read
        out[key] = known
    return out


def _paired_categorical(reduced: dict, pairs: Sequence[tuple[object, object]],
                        columns: Sequence[str]) -> dict[tuple[object, str], dict]:
    """``compare_aggregates``' categorical statistics for every (baseline day, current day) pair of ``pairs`` and
    categorical column of row counts at once, by (current day, column): each pair's counts aligned
    (``stats.aligned_shares``), the pairs with as many categories stacked, and PSI, JS, the top mover and the share
    outside the baseline's categories read off each stack in one set of array operations (a stack's row sums are
    each pair's own sums, to the bit; the counts are integers)."""
    from scipy import special

    aligned = {(d, c): st.aligned_shares(reduced[b][c], reduced[d][c]) for b, d in pairs for c in columns}
    by_size: dict[int, list] = {}
    for key, (cats, bc, cc) in aligned.items():
        if bc.sum() and cc.sum():  # else no statistic: compare_aggregates leaves them out
            by_size.setdefault(len(cats), []).append(key)
    out = {key: {"aligned": value} for key, value in aligned.items()}
    for keys in by_size.values():
        b = np.array([aligned[k][1] for k in keys])
        c = np.array([aligned[k][2] for k in keys])
        psi = st.psi_terms(b, c).sum(axis=-1)  # psi_from_counts
        p, q = b.astype(np.float64), c.astype(np.float64)  # jensen_shannon
        p, q = p / p.sum(axis=-1, keepdims=True), q / q.sum(axis=-1, keepdims=True)
        m = (p + q) / 2
        js = (np.sum(special.rel_entr(p, m), axis=-1) + np.sum(special.rel_entr(q, m), axis=-1)) / 2 / math.log(2)
        js = np.sqrt(np.maximum(js, 0.0))
        change = c / c.sum(axis=-1, keepdims=True) - b / b.sum(axis=-1, keepdims=True)
        top = np.argmax(np.abs(change), axis=-1)
        up = change[np.arange(len(keys)), top] > 0
        outside = np.where(b == 0, c, 0).sum(axis=-1) / c.sum(axis=-1)
        for k, key in enumerate(keys):
            cats = aligned[key][0]
            out[key].update({"psi": float(psi[k]), "js": float(js[k]), "out_of_range_share": float(outside[k]),
                             "top_mover": f"{cats[top[k]]}{'+' if up[k] else '-'}"})
    return out


def _weighted_numeric_stats(row: dict, baseline: st.WeightedValues, current: st.WeightedValues, t: Thresholds,
                            tests: list | None = None) -> None:
    a, wa, b, wb = baseline.values, baseline.weights, current.values, current.weights
    if not (a.size and b.size):
        return
    row["psi"] = st.weighted_psi(baseline, current, bins=t.psi_bins)
    row["ks"] = st.weighted_ks(a, wa, b, wb)
    _test(row, "ks_pvalue", (row["ks"], baseline.valid_sample_size, current.valid_sample_size), tests)
    w = st.weighted_wasserstein(a, wa, b, wb)
    row["wasserstein"] = w
    sd = st.weighted_std(a, wa)
    row["wasserstein_norm"] = w / sd if w is not None and sd and math.isfinite(sd) else None
    outside = float(wb[b < a[0]].sum() + wb[b > a[-1]].sum())
    denom = float(wb.sum()) + current.infinite_weight
    row["out_of_range_share"] = (outside + current.infinite_weight) / denom if denom else None
    row["mean_baseline"], row["mean_current"] = st.weighted_mean(a, wa), st.weighted_mean(b, wb)


def _sketch_numeric_stats(row: dict, baseline: sk.HistogramSketch, current: sk.HistogramSketch, t: Thresholds,
                          tests: list | None = None) -> None:
    """The numeric statistics read off two histogram sketches, each with its error bound (``driftdesk.sketch``)."""
    if not (baseline.n and current.n):
        return
    row["psi"], row["psi_low"], row["psi_high"] = sk.psi_estimate(baseline, current, bins=t.psi_bins)
    low, high = sk.ks_bounds(baseline, current)
    row["ks"], row["ks_error"] = low, high - low
    _test(row, "ks_pvalue", (low, baseline.n, current.n), tests)
    row["wasserstein"], row["wasserstein_error"] = sk.wasserstein_estimate(baseline, current)
    sd = baseline.std
    row["wasserstein_norm"] = row["wasserstein"] / sd if sd and math.isfinite(sd) else None
    row["out_of_range_share"] = sk.out_of_range_share(baseline, current)
    row["mean_baseline"], row["mean_current"] = baseline.mean, current.mean


def _mismatch_row(column: str, kind_b: str | None, kind_c: str | None, dtype_b, dtype_c, n_b: int, n_c: int) -> dict:
    if dtype_b is None or dtype_c is None:
        which = "baseline" if dtype_b is None else "current"
        reason, code = f"column missing in the {which} window", f"missing_in_{which}"
    else:
        reason = f"type changed between windows: {dtype_b} in the baseline, {dtype_c} in the current window"
        code = "type_changed"
    return {"column": column, "kind": kind_b or kind_c or "unsupported", "psi": None, "ks": None, "ks_pvalue": None,
            "wasserstein": None, "wasserstein_norm": None, "js": None, "chi2_pvalue": None,
            "null_rate_baseline": None, "null_rate_current": None, "null_rate_change": None, "null_pvalue": None,
            "out_of_range_share": None, "n_baseline": n_b, "n_current": n_c, "n_valid_baseline": 0, "method": None,
            "n_valid_current": 0, "mean_baseline": None, "mean_current": None, "new_categories": [],
            "vanished_categories": [], "direction": "schema", "status": ALERT, "severity": 3.5, "effect": None,
            "reasons": reason, "reason_codes": [code]}


# --------------------------------------------------------------------------- windows


def _schema(frame: Frame) -> dict[str, pl.DataType]:
    return engine.schema(frame)


def default_columns(baseline: Frame, current: Frame, *, exclude: Iterable[str] = ()) -> list[str]:
    """Every column of either window drift can compare, in the baseline's order (timestamps left out)."""
    sb, sc = _schema(baseline), _schema(current)
    skip = set(exclude)
    out = []
    for name in [*sb, *[c for c in sc if c not in sb]]:
        dtype = sb.get(name, sc.get(name))
        if name in skip or dtype is None or dtype.is_temporal() or column_kind(dtype) is None:
            continue
        out.append(name)
    return out


def _collect(frame: Frame, cols: list[str]) -> pl.DataFrame:
    if isinstance(frame, pl.LazyFrame):
        try:
            return frame.select(cols).collect()
        except pl.exceptions.PolarsError as exc:
            raise DriftdeskError(f"cannot read columns {cols}: {str(exc).strip().splitlines()[0]}") from exc
    return frame.select(cols)


def _height(frame: Frame) -> int:
    return engine.height(frame)


def check_weight(frame: Frame, weight: str, *, window: str = "") -> None:
    """A weight column must exist, be numeric and hold finite, non-negative numbers (0: a row without traffic).

    A null or negative weight has no meaning as traffic, so it is refused with a few rows rather than read as 0.
    """
    schema = _schema(frame)
    where = f" of the {window} window" if window else ""
    if weight not in schema:
        raise DriftdeskError(f"weight column {weight!r} is not among the columns{where}: {list(schema)}")
    if not schema[weight].is_numeric():
        raise DriftdeskError(f"weight column {weight!r} must be numeric (traffic such as impressions, clicks or "
                             f"spend), found {schema[weight]}")
    w = pl.col(weight).cast(pl.Float64)
    bad = w.is_null() | w.is_nan() | w.is_infinite() | (w < 0)
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    n = int(lf.select(bad.sum()).collect().item() or 0)
    if n:
        rows = lf.with_row_index("__row", offset=1).filter(bad).select("__row", weight).head(3).collect()
        ex = "; ".join(f"row {r}: {v!r}" for r, v in rows.iter_rows())
        raise DriftdeskError(f"weight column {weight!r}{where}: {n} row{'s' if n != 1 else ''} with a missing, "
                             f"negative or infinite weight, e.g. {ex}")


def _weights_fit(frame: pl.DataFrame, weight: str) -> bool:
    """Whether ``check_weight`` passes on every row of ``frame`` (one check for many days; the days are checked one
    by one only to name the failure)."""
    try:
        check_weight(frame, weight)
    except DriftdeskError:
        return False
    return True


def _weights(frame: pl.DataFrame, weight: str | None) -> pl.Series | None:
    return frame[weight] if weight else None


def compare_frames(baseline: Frame, current: Frame, *, columns: Sequence[str] | None = None,
                   thresholds: Thresholds | None = None, workers: int | None = None,
                   batch: int = 4, details: bool = False, weight: str | None = None,
                   sample: st.SampleSize = "weight_sum",
                   _reduced: dict | None = None) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The drift table (one row per column) of two frames; lazy frames are read a few columns at a time.

    With ``details``, also the per-bin distributions (for plots) and per-category shares, as a tuple. With
    ``weight`` (a column of both frames), each row counts by its weight (traffic) instead of once, and the
    tests count ``sample`` units (``stats.sample_size``). ``_reduced``: the columns of eager frames reduced so
    far, by frame, shared by calls on the same frames with the same weight (one window compared with several
    baselines is reduced once).
    """
    t = thresholds or Thresholds()
    if weight:
        check_weight(baseline, weight, window="baseline")
        check_weight(current, weight, window="current")
    sb, sc = _schema(baseline), _schema(current)
    cols = list(columns) if columns else default_columns(baseline, current)
    unknown = [c for c in cols if c not in sb and c not in sc]
    if unknown:
        raise DriftdeskError(f"unknown column(s) {unknown}; the windows have {sorted(set(sb) | set(sc))}")
    n_b, n_c = _height(baseline), _height(current)
    rows, comparable = _comparable(cols, sb, sc, n_b, n_c)

    path, batch, n_workers = _plan(baseline, current, n_b, n_c, comparable, weight=weight, batch=batch,
                                   workers=workers)

    def reduce(items: list[tuple[str, str]]) -> tuple[dict, dict]:
        if path is not None:  # lazy or Spark: the engine reduces, only aggregates reach memory
            return (engine.reduce_columns(baseline, items, path=path),
                    engine.reduce_columns(current, items, path=path))
        out = []
        for frame in (baseline, current):
            # by the frame's id, the frame kept beside its columns: no other frame takes its id meanwhile
            known = {} if _reduced is None else _reduced.setdefault(id(frame), (frame, {}))[1]
            todo = [(c, k) for c, k in items if c not in known]
            names = [c for c, _ in todo]
            read = [*names, weight] if weight and weight not in names else names
            part = _collect(frame, read) if todo else None
            known.update({c: reduce_column(part[c], k, weights=_weights(part, weight), sample=sample) for c, k in todo})
            out.append({c: known[c] for c, _ in items})
        return out[0], out[1]

    def work(items: list[tuple[str, str]]) -> tuple[list[dict], list]:
        tests: list = []
        return _compare_reduced(items, *reduce(items), t, details=details, tests=tests), tests

    groups = [comparable[k:k + batch] for k in range(0, len(comparable), batch)]
    if n_workers > 1 and len(groups) > 1:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            results = list(pool.map(work, groups))
    else:
        results = [work(g) for g in groups]
    run_tests([test for _, tests in results for test in tests])  # every column's p-values together
    for group, _ in results:
        for row in group:
            judge(row, t)
            rows[row["column"]] = row
    table = _rows_frame([rows[c] for c in cols])
    if not details:
        return table
    dist = [d for c in cols for d in rows[c].get("_dist", [])]
    cats = [d for c in cols for d in rows[c].get("_cats", [])]
    cat_schema = {**_CAT_SCHEMA, "baseline_count": pl.Float64, "current_count": pl.Float64} if weight else _CAT_SCHEMA
    return (table, pl.DataFrame(dist, schema=_DIST_SCHEMA, orient="row"),
            pl.DataFrame(cats, schema=cat_schema, orient="row"))


def _comparable(cols: Sequence[str], sb: dict, sc: dict, n_b: int, n_c: int
                ) -> tuple[dict[str, dict], list[tuple[str, str]]]:
    """The rows of columns two windows cannot compare (missing in one, or of another kind), by column, and the
    (column, kind) of the others."""
    rows: dict[str, dict] = {}
    comparable = []
    for c in cols:
        kb, kc = _cast_kind(sb.get(c)), _cast_kind(sc.get(c))
        if sb.get(c) == pl.Null or sc.get(c) == pl.Null:  # an all-null column takes the other window's kind
            kb = kb if sb.get(c) != pl.Null else (kc if sc.get(c) != pl.Null else kb)
            kc = kb
        if kb is None or kc is None or kb != kc:
            if c in sb and c in sc and kb is None and kc is None:
                raise DriftdeskError(f"column {c!r} has type {sb[c]}, which drift cannot compare (numbers or text only)")
            rows[c] = _mismatch_row(c, kb, kc, sb.get(c), sc.get(c), n_b, n_c)
        else:
            comparable.append((c, kb))
    return rows, comparable


def _compare_reduced(items: Sequence[tuple[str, str]], aggs_b: dict, aggs_c: dict, t: Thresholds, *,
                     details: bool = False, tests: list) -> list[dict]:
    """The drift row of each (column, kind) of ``items`` from the two windows' aggregates of it, without its
    p-values (their inputs appended to ``tests``) and verdict."""
    out = []
    for c, kind in items:
        ab, ac = aggs_b[c], aggs_c[c]
        row = compare_aggregates(c, ab, ac, t, tests=tests)
        if details:
            row["_dist"] = distribution_rows(c, ab, ac)
            row["_cats"] = category_rows(c, ab, ac) if kind == "categorical" else []
        out.append(row)
    return out


_DIST_SCHEMA = {"column": pl.String, "bin": pl.Int64, "label": pl.String, "lower": pl.Float64, "upper": pl.Float64,
                "baseline_share": pl.Float64, "current_share": pl.Float64}
_CAT_SCHEMA = {"column": pl.String, "category": pl.String, "baseline_share": pl.Float64, "current_share": pl.Float64,
               "change": pl.Float64, "psi_term": pl.Float64, "baseline_count": pl.Int64, "current_count": pl.Int64}


def distribution_rows(column: str, baseline, current, *, bins: int = 30, top: int = 25) -> list[dict]:
    """Baseline and current shares on a common grid (numeric) or over the top categories, for plots."""
    rows = []
    if isinstance(baseline, st.WeightedValues):
        return _weighted_distribution_rows(column, baseline, current, bins=bins)
    if isinstance(baseline, sk.HistogramSketch):  # each sketch bin drawn at its mean
        return _weighted_distribution_rows(column, _centroids(baseline), _centroids(current), bins=bins)
    if isinstance(baseline, st.NumericSketch):
        a, b = baseline.sorted_values, current.sorted_values
        if not a.size and not b.size:
            return rows
        both = [x for x in (a, b) if x.size]
        lo = min(float(x[int(0.005 * (x.size - 1))]) for x in both)
        hi = max(float(x[int(0.995 * (x.size - 1))]) for x in both)
        if hi <= lo:
            lo, hi = lo - 0.5, lo + 0.5
        with np.errstate(over="ignore", invalid="ignore"):
            edges = np.linspace(lo, hi, bins + 1)
        if not np.all(np.isfinite(edges)):  # a range beyond 1.8e308: no plot grid
            return rows
        inner = edges[1:-1]
        sa = st.bin_counts(a, inner) / a.size if a.size else np.zeros(bins)
        sb = st.bin_counts(b, inner) / b.size if b.size else np.zeros(bins)
        for k in range(bins):
            rows.append({"column": column, "bin": k, "label": f"{edges[k] / 2 + edges[k + 1] / 2:.3g}",
                         "lower": float(edges[k]), "upper": float(edges[k + 1]),
                         "baseline_share": float(sa[k]), "current_share": float(sb[k])})
        return rows
    cats, bc, cc = st.aligned_shares(baseline, current)
    pb = bc / bc.sum() if bc.sum() else bc.astype(float)
    pc = cc / cc.sum() if cc.sum() else cc.astype(float)
    order = np.argsort(-np.maximum(pb, pc), kind="stable")
    keep, rest = order[:top], order[top:]
    for k, idx in enumerate(keep):
        rows.append({"column": column, "bin": k, "label": cats[idx], "lower": None, "upper": None,
                     "baseline_share": float(pb[idx]), "current_share": float(pc[idx])})
    if rest.size:
        rows.append({"column": column, "bin": len(keep), "label": f"(other {rest.size})", "lower": None, "upper": None,
                     "baseline_share": float(pb[rest].sum()), "current_share": float(pc[rest].sum())})
    return rows


def _weighted_distribution_rows(column: str, baseline: st.WeightedValues, current: st.WeightedValues, *,
                                bins: int) -> list[dict]:
    """Weight shares on a common equal-width grid between the weighted 0.5% and 99.5% points of both windows."""
    both = [(x.values, x.weights) for x in (baseline, current) if x.values.size]
    if not both:
        return []
    cut = [_weighted_point(v, w, q) for v, w in both for q in (0.005, 0.995)]
    lo, hi = min(cut[0::2]), max(cut[1::2])
    if hi <= lo:
        lo, hi = lo - 0.5, lo + 0.5
    with np.errstate(over="ignore", invalid="ignore"):
        edges = np.linspace(lo, hi, bins + 1)
    if not np.all(np.isfinite(edges)):
        return []

    def shares(x: st.WeightedValues) -> np.ndarray:
        total = x.weights.sum()
        return st.weighted_bin_sums(x.values, x.weights, edges[1:-1]) / total if total > 0 else np.zeros(bins)

    sa, sb = shares(baseline), shares(current)
    return [{"column": column, "bin": k, "label": f"{edges[k] / 2 + edges[k + 1] / 2:.3g}", "lower": float(edges[k]),
             "upper": float(edges[k + 1]), "baseline_share": float(sa[k]), "current_share": float(sb[k])}
            for k in range(bins)]


def _centroids(s: sk.HistogramSketch) -> st.WeightedValues:
    with np.errstate(invalid="ignore", divide="ignore"):
        return st.WeightedValues(s.sum / s.count, s.count, s.n_rows, s.n, float(s.n_rows), float(s.n_missing),
                                 float(s.n_infinite), float(s.n_rows), float(s.n))


def _weighted_point(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The first value whose cumulative weight share reaches q (for plot ranges only)."""
    cum = np.cumsum(weights)
    return float(values[min(int(np.searchsorted(cum, q * cum[-1], side="left")), values.size - 1)])


def category_rows(column: str, baseline: st.CategoryCounts, current: st.CategoryCounts, *, top: int = 50) -> list[dict]:
    """Each category's share in both windows and its PSI term; the largest movers first."""
    cats, bc, cc = st.aligned_shares(baseline, current)
    if not bc.sum() or not cc.sum():
        return []
    pb, pc = bc / bc.sum(), cc / cc.sum()
    terms = st.psi_terms(bc, cc)
    order = np.argsort(-np.abs(pc - pb), kind="stable")[:top]
    count = float if bc.dtype.kind == "f" else int  # weighted counts are sums of weights
    return [{"column": column, "category": cats[k], "baseline_share": float(pb[k]), "current_share": float(pc[k]),
             "change": float(pc[k] - pb[k]), "psi_term": float(terms[k]), "baseline_count": count(bc[k]),
             "current_count": count(cc[k])} for k in order]


def _plan(baseline: Frame, current: Frame, n_b: int, n_c: int, items: list[tuple[str, str]], *,
          weight: str | None, batch: int, workers: int | None) -> tuple[engine.Path_ | None, int, int]:
    """How to reduce: eager frames in memory as they are (path None); lazy or Spark frames by their engine,
    numeric columns sorted (exact) while a batch of them fits the memory budget, else as histogram sketches
    (one column at a time). Weighted rows need the exact path."""
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    eager = isinstance(baseline, pl.DataFrame) and isinstance(current, pl.DataFrame)
    if eager or (weight and not (engine.is_spark(baseline) or engine.is_spark(current))):
        if not eager:
            engine.require_fits((n_b + n_c) * engine.EXACT_BYTES_PER_VALUE * min(batch, len(items) or 1),
                                what=f"weighted drift of {n_b + n_c:,} rows",
                                hint="weighted drift sorts each column in memory; compare shorter windows")
        return None, batch, n_workers
    if weight:
        raise DriftdeskError("weighted drift runs on the polars engine (a kpis table is hour x segment aggregates, "
                             "small enough for it); drop --weight or --engine spark")
    numeric = sum(1 for _, k in items if k == "numeric")
    rows = n_b + n_c
    if not numeric or engine.exact_fits(rows, min(batch, numeric) * n_workers):
        return "exact", batch, n_workers
    if engine.exact_fits(rows, 1):
        return "exact", 1, 1
    return "sketch", 1, 1


def _share(part: pl.DataFrame, whole: pl.DataFrame, weight: str | None) -> float | None:
    """A segment's share of the window: of its rows, or of its weight when weighted."""
    if weight is None:
        return part.height / whole.height if whole.height else None
    total = float(whole[weight].cast(pl.Float64).sum())
    return float(part[weight].cast(pl.Float64).sum()) / total if total > 0 else None


_SCHEMA = {
    "column": pl.String, "kind": pl.String, "status": pl.String, "severity": pl.Float64, "direction": pl.String,
    "reasons": pl.String, "reason_codes": pl.List(pl.String), "effect": pl.Float64, "psi": pl.Float64, "ks": pl.Float64, "ks_pvalue": pl.Float64, "wasserstein": pl.Float64,
    "wasserstein_norm": pl.Float64, "js": pl.Float64, "chi2_pvalue": pl.Float64,
    "null_rate_baseline": pl.Float64, "null_rate_current": pl.Float64, "null_rate_change": pl.Float64,
    "null_pvalue": pl.Float64, "out_of_range_share": pl.Float64, "n_baseline": pl.Int64, "n_current": pl.Int64,
    "n_valid_baseline": pl.Int64, "n_valid_current": pl.Int64, "mean_baseline": pl.Float64,
    "mean_current": pl.Float64, "new_categories": pl.List(pl.String), "vanished_categories": pl.List(pl.String),
    "method": pl.String, "ks_error": pl.Float64, "wasserstein_error": pl.Float64, "psi_low": pl.Float64,
    "psi_high": pl.Float64,
}


def _rows_frame(rows: list[dict]) -> pl.DataFrame:
    clean = [{k: r.get(k) for k in _SCHEMA} for r in rows]
    return pl.DataFrame(clean, schema=_SCHEMA, orient="row") if clean else pl.DataFrame(schema=_SCHEMA)


# --------------------------------------------------------------------------- public entry points


def _segment_column(by: str | Sequence[str], columns: Iterable[str]) -> str:
    """Drift compares segments of one column at a time: ``by`` is that column (or a one-item list)."""
    names = by_columns(by, set(columns))
    if len(names) != 1:
        raise DriftdeskError(f"drift compares the segments of one column at a time; got by={list(names)}")
    return names[0]


def segment_table(baseline: Frame, current: Frame, *, by: str | Sequence[str], columns: Sequence[str] | None = None,
                  thresholds: Thresholds | None = None, weight: str | None = None,
                  sample: st.SampleSize = "weight_sum") -> pl.DataFrame:
    """The drift table within each value of ``by`` (one column, e.g. source), with each segment's share of rows
    (of the ``weight``, when weighted).

    Shows which segments carry a shift: a null jump confined to source=affiliate appears in that row only.
    """
    t = thresholds or Thresholds()
    sb, sc = _schema(baseline), _schema(current)
    by = _segment_column(by, [*sb, *sc])
    if by not in sb or by not in sc:
        raise DriftdeskError(f"segment column {by!r} is not in both windows; columns are {sorted(set(sb) & set(sc))}")
    cols = [c for c in (columns or default_columns(baseline, current)) if c != by]
    if weight is None and not (isinstance(baseline, pl.DataFrame) and isinstance(current, pl.DataFrame)):
        return _segments_by_engine(baseline, current, by, cols, t)
    keep_b = [c for c in cols if c in sb]
    keep_c = [c for c in cols if c in sc]
    extra = [weight] if weight and weight not in (by, *cols) else []
    fb = _collect(baseline, [by, *keep_b, *extra])
    fc = _collect(current, [by, *keep_c, *extra])
    fb = fb.with_columns(pl.col(by).cast(pl.String))
    fc = fc.with_columns(pl.col(by).cast(pl.String))
    parts_b = {k[0]: v for k, v in fb.partition_by(by, as_dict=True).items()}
    parts_c = {k[0]: v for k, v in fc.partition_by(by, as_dict=True).items()}
    values = sorted(set(parts_b) | set(parts_c), key=lambda v: (v is None, str(v)))
    frames = []
    for v in values:
        pb = parts_b.get(v, fb.clear())
        pc = parts_c.get(v, fc.clear())
        table = compare_frames(pb, pc, columns=cols, thresholds=t, workers=1, weight=weight, sample=sample)
        frames.append(table.with_columns(
            pl.lit(_share(pb, fb, weight), dtype=pl.Float64).alias("share_baseline"),
            pl.lit(_share(pc, fc, weight), dtype=pl.Float64).alias("share_current"),
        ).with_columns(pl.lit(v, dtype=pl.String).alias(by)))
    return _segment_rows(frames, by)


def _segments_by_engine(baseline, current, by: str, cols: list[str], t: Thresholds) -> pl.DataFrame:
    """segment_table for lazy or Spark frames: each segment's rows selected by its engine and reduced there, so
    no window is read whole into memory."""
    counts = [engine.reduce_columns(f, [(by, "categorical")], path="exact")[by] for f in (baseline, current)]
    shares = []
    for c in counts:
        n = dict(zip(c.categories, (int(k) for k in c.counts)))
        if c.n_missing:
            n[None] = c.n_missing
        shares.append((n, c.n_rows))
    values = sorted(set(shares[0][0]) | set(shares[1][0]), key=lambda v: (v is None, str(v)))
    frames = []
    for v in values:
        table = compare_frames(engine.where_equal(baseline, by, v), engine.where_equal(current, by, v), columns=cols,
                               thresholds=t, workers=1)
        frames.append(table.with_columns(
            *[pl.lit(n.get(v, 0) / total if total else None, dtype=pl.Float64).alias(f"share_{name}")
              for (n, total), name in zip(shares, ("baseline", "current"))],
        ).with_columns(pl.lit(v, dtype=pl.String).alias(by)))
    return _segment_rows(frames, by)


def _segment_rows(frames: list[pl.DataFrame], by: str) -> pl.DataFrame:
    """Per-segment drift tables as one: the segment and its shares first (an empty table keeps those columns)."""
    lead = (by, "share_baseline", "share_current")
    if not frames:
        return _rows_frame([]).with_columns(pl.lit(None, dtype=pl.String).alias(by),
                                            pl.lit(None, dtype=pl.Float64).alias("share_baseline"),
                                            pl.lit(None, dtype=pl.Float64).alias("share_current"))
    out = pl.concat(frames)
    return out.select(*lead, *[c for c in out.columns if c not in lead])


def compare_windows(baseline: Frame, current: Frame, *, columns: Sequence[str] | None = None,
                    by: str | Sequence[str] | None = None, thresholds: Thresholds | None = None,
                    baseline_window: Window | None = None, current_window: Window | None = None,
                    workers: int | None = None, weight: str | None = None,
                    sample: st.SampleSize | None = None,
                    segment_columns: Sequence[str] | None = None, _reduced: dict | None = None) -> DriftResult:
    """Drift of every column (and per segment of ``by``, one column) between two frames: a DriftResult.

    The frames are the two windows' rows (eager or lazy; lazy ones are read a few columns at a time). With
    ``weight``, every row counts by its traffic (``Weighting``): shares, distributions and tests are of the
    weight, not of rows. ``segment_columns``: the columns compared per segment (default: every column), for a
    reader that shows the segments of one column.
    """
    weighting = Weighting.of(weight, sample)
    t = thresholds or Thresholds()
    cols = list(columns) if columns else default_columns(baseline, current)
    if not cols:
        raise DriftdeskError("no columns to compare: the windows have no numeric or text columns")
    by = _segment_column(by, [*_schema(baseline), *_schema(current)]) if by else None
    w, s = weighting.column, weighting.sample_size
    table, dist, cats = compare_frames(baseline, current, columns=cols, thresholds=t, workers=workers, details=True,
                                       weight=w, sample=s, _reduced=_reduced)
    per_segment = [c for c in cols if c in segment_columns] if segment_columns is not None else cols
    segments = (segment_table(baseline, current, by=by, columns=per_segment, thresholds=t, weight=w, sample=s)
                if by and per_segment else None)
    return DriftResult(table, dist, cats, t, segments, by, baseline_window, current_window, weighting)


def compare_baselines(frame: Frame, *, current: Window, baselines: Sequence[Window], ts: str = "ts",
                      columns: Sequence[str] | None = None, by: str | Sequence[str] | None = None,
                      thresholds: Thresholds | None = None, align: bool = True, weight: str | None = None,
                      sample: st.SampleSize | None = None,
                      segment_columns: Sequence[str] | None = None) -> BaselineComparison:
    """One current window of a frame against several baselines of the same frame, with their consensus.

    Baselines that are not whole days away from the current window (custom ranges, the training period) keep
    only the rows at the current window's hours of day and weekdays when ``align`` is set. A flag against a
    baseline that was itself abnormal (an incident last week) does not count when the current window is back
    to normal: see ``_abnormal_in_baseline``. ``segment_columns`` as in ``compare_windows``.
    """
    schema = _schema(frame)
    if ts not in schema:
        raise DriftdeskError(f"timestamp column {ts!r} not found; columns are {list(schema)}")
    if not isinstance(schema[ts], pl.Datetime):
        raise DriftdeskError(f"timestamp column {ts!r} has type {schema[ts]}, expected a datetime (load it through "
                             "the data contract, which parses and converts timestamps to UTC)")
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    cols = list(columns) if columns else default_columns(lf, lf, exclude=[ts])
    cur = lf.filter(current.contains(ts)).collect()
    results = {}
    abnormal = {}
    reduced: dict = {}  # each window's columns reduced once, whichever comparisons read them
    for k, w in enumerate(baselines):
        label = w.label or f"baseline_{k + 1}"
        aligned = is_calendar_aligned(current, w)
        pred = w.contains(ts) if (not align or aligned) else aligned_rows(current, w, ts)
        base = lf.filter(pred).collect()
        results[label] = compare_windows(base, cur, columns=cols, by=by, thresholds=thresholds,
                                         baseline_window=w, current_window=current, workers=1, weight=weight,
                                         sample=sample, segment_columns=segment_columns, _reduced=reduced)
        if aligned and w.start < current.start:
            abnormal[label] = _abnormal_in_baseline(lf, ts, current, w, base, cur, results[label].columns, thresholds,
                                                    results[label].weighting, reduced)
    return BaselineComparison(current, results, consensus({k: v.columns for k, v in results.items()},
                                                          abnormal=abnormal))


def _abnormal_in_baseline(lf: pl.LazyFrame, ts: str, current, baseline, base: pl.DataFrame, cur: pl.DataFrame,
                          table: pl.DataFrame, thresholds: Thresholds | None, weighting: Weighting,
                          reduced: dict | None = None) -> set[str]:
    """Flagged columns whose flag the baseline explains: the baseline moved against itself a step earlier, the
    current window moved back against the baseline (the reverse direction), and the current window does not
    share the baseline's move against itself two steps earlier; a step is the whole weeks that cover the
    baseline's offset, so weekdays match. On the day after an incident, yesterday and last week were the
    incident: without this, day over day and week over week call the recovery a shift. (Two weeks ago may have
    had its own event, a holiday: then only the same move counts against the current window.) ``reduced``: as
    ``compare_frames``' (the baseline's and the current window's columns are already reduced)."""
    flagged = table.filter(pl.col("status").is_in(FLAGGED))["column"].to_list()
    if not flagged:
        return set()
    week = dt.timedelta(days=7)
    step = -(-(current.start - baseline.start) // week) * week
    w, s = weighting.column, weighting.sample_size
    read = [*flagged, *([w] if w and w not in flagged else [])]
    older = lf.filter(baseline.shift(-step).contains(ts)).select(read).collect()
    clean = lf.filter(current.shift(-2 * step).contains(ts)).select(read).collect()
    if older.is_empty() or clean.is_empty():
        return set()
    base_vs_older = compare_frames(older, base, columns=flagged, thresholds=thresholds, workers=1, weight=w,
                                   sample=s, _reduced=reduced)
    cur_vs_clean = compare_frames(clean, cur, columns=flagged, thresholds=thresholds, workers=1, weight=w, sample=s,
                                  _reduced=reduced)
    was = {r["column"]: r for r in base_vs_older.iter_rows(named=True)}
    now = {r["column"]: r for r in cur_vs_clean.iter_rows(named=True)}
    moved = {r["column"]: r["direction"] for r in table.iter_rows(named=True)}
    out = set()
    for c in flagged:
        b, n = was.get(c), now.get(c)
        if b is None or n is None or b["status"] not in FLAGGED or moved.get(c) != _reverse(b["direction"]):
            continue
        if n["status"] == OK or (n["status"] in FLAGGED and n["direction"] != b["direction"]):
            out.add(c)
    return out


def _reverse(direction: str | None) -> str | None:
    """The opposite move: up / down, nulls_up / nulls_down, a category's share up (BR+) / down (BR-); None for
    moves without one (schema, new categories, a mix)."""
    pairs = {"up": "down", "down": "up", "nulls_up": "nulls_down", "nulls_down": "nulls_up"}
    if direction in pairs:
        return pairs[direction]
    if direction and len(direction) > 1 and direction[-1] in "+-":
        return direction[:-1] + ("-" if direction[-1] == "+" else "+")
    return None


def drift_history(frame: Frame, *, days: Sequence, vs: str = "week_over_week", ts: str = "ts",
                  columns: Sequence[str] | None = None, thresholds: Thresholds | None = None,
                  weight: str | None = None, sample: st.SampleSize | None = None,
                  _per_pair: bool = False) -> DriftHistory:
    """Each given day (a date) against its baseline of kind ``vs`` ('day_over_day' or 'week_over_week').

    Each day's columns are reduced once, whether it is compared as a current day, as a baseline or both, every
    day at once (``reduce_days``; weighted rows a day at a time), and the p-values of every day's tests are
    computed together (``run_tests``): the same table as ``compare_frames`` of each pair of days (``_per_pair``),
    tested to the bit."""
    weighting = Weighting.of(weight, sample)
    makers = {"day_over_day": day_over_day, "week_over_week": week_over_week}
    if vs not in makers:
        raise DriftdeskError(f"history baseline kind vs must be one of {list(makers)}, got {vs!r}")
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    cols = list(columns) if columns else default_columns(lf, lf, exclude=[ts])
    day_list = sorted(set(days))
    if not day_list:
        return DriftHistory(_rows_frame([]).with_columns(pl.lit(None, dtype=pl.Date).alias("day")), vs)
    span = Window(Window.day(day_list[0]).start - dt.timedelta(days=7), Window.day(day_list[-1]).end)
    extra = [weight] if weight and weight not in cols else []
    span = lf.filter(span.contains(ts)).select(ts, *cols, *extra).collect()
    span = span.with_columns(pl.col(ts).dt.date().alias("__day"))
    empty = span.drop("__day").clear()
    frames = []
    if _per_pair:
        by_day = {k[0]: v.drop("__day") for k, v in span.partition_by("__day", as_dict=True).items()}
        for d in day_list:
            table = compare_frames(by_day.get(makers[vs](Window.day(d)).start.date(), empty), by_day.get(d, empty),
                                   columns=cols, thresholds=thresholds, workers=1, weight=weighting.column,
                                   sample=weighting.sample_size)
            frames.append(table.with_columns(pl.lit(d, dtype=pl.Date).alias("day")))
    else:  # every day's rows come from one frame: each day is reduced once, as a current day and as a baseline
        t = thresholds or Thresholds()
        _, items = _comparable(cols, empty.schema, empty.schema, 0, 0)  # one schema: every column, in order
        base_days = [makers[vs](Window.day(d)).start.date() for d in day_list]
        if weighting.column and not _weights_fit(span, weighting.column):
            # each day's weights checked, the day named as the window it is first read as
            by_day = {k[0]: v.drop("__day") for k, v in span.partition_by("__day", as_dict=True).items()}
            checked: set = set()
            for day, window in [(x, w) for b, d in zip(base_days, day_list) for x, w in ((b, "baseline"),
                                                                                         (d, "current"))]:
                if day not in checked:
                    check_weight(by_day.get(day, empty), weighting.column, window=window)
                    checked.add(day)
        reduced = reduce_days(span, "__day", sorted(set(base_days) | set(day_list)), items, weight=weighting.column,
                              sample=weighting.sample_size)
        exact = [c for c, kind in items if kind == "numeric" and isinstance(reduced[day_list[0]][c], st.NumericSketch)]
        numeric = _paired_numeric(reduced, list(zip(base_days, day_list)), exact, t.psi_bins) if exact else {}
        counted = [c for c, kind in items if kind == "categorical"
                   and all(isinstance(reduced[d][c], st.CategoryCounts) for d in reduced)]
        categorical = _paired_categorical(reduced, list(zip(base_days, day_list)), counted) if counted else {}
        tests: list = []
        rows = []
        for d, b in zip(day_list, base_days):
            for c, _ in items:
                row = compare_aggregates(c, reduced[b][c], reduced[d][c], t, tests=tests, numeric=numeric.get((d, c)),
                                         categorical=categorical.get((d, c)))
                rows.append(row)
        run_tests(tests)
        for row in rows:
            judge(row, t)
        days_col = pl.Series("day", [d for d in day_list for _ in cols], dtype=pl.Date)
        frames.append(_rows_frame(rows).with_columns(days_col))
    out = pl.concat(frames)
    return DriftHistory(out.select("day", *[c for c in out.columns if c != "day"]), vs)
