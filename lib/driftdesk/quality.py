"""Data quality between two windows: null-rate jumps, freshness, schema changes, duplicate keys, out-of-range values.

Every check returns rows of one tidy frame (check, column, segment, value, threshold, status, message), so a
report is one ``QualityResult``. Statuses are the library's status words (ok, warn, alert; driftdesk.status). Each check is also usable alone. Checks are polars aggregations: one pass
per window (and a top-k per column with values out of range, for its examples), no loop over rows. A window may also be a Spark table (``driftdesk.engine``): Spark reduces it to the
same aggregates (``engine.spark.quality``) and the checks read those.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from driftdesk import engine
from driftdesk.errors import DriftdeskError
from driftdesk.jsonsafe import jsonable
from driftdesk.metrics import is_missing
from driftdesk.segments import by_columns
from driftdesk.stats import two_proportion_pvalue
from driftdesk.status import ALERT, OK, STATUS, WARN, rank, worst

Frame = pl.DataFrame | pl.LazyFrame
CHECK_SCHEMA = {"check": pl.String, "column": pl.String, "segment": pl.String, "value": pl.Float64,
                "threshold": pl.Float64, "status": pl.String, "message": pl.String}


def _lazy(frame: Frame) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def _schema(frame: Frame) -> dict[str, pl.DataType]:
    return engine.schema(frame)


def _on_spark():
    """The Spark engine's quality reductions (imported only for a Spark table)."""
    from driftdesk.engine.spark import quality

    return quality


def _rows(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in CHECK_SCHEMA} for r in rows], schema=CHECK_SCHEMA, orient="row")


def _one_column(by: str | Sequence[str] | None, schema: Mapping[str, pl.DataType]) -> str | None:
    """Quality checks split by one segment (or source) column: ``by`` is that column, a one-item list, or None."""
    names = by_columns(by, schema)
    if len(names) > 1:
        raise DriftdeskError(f"quality checks split by one column at a time; got by={list(names)}")
    return names[0] if names else None


# --------------------------------------------------------------------------- checks


def null_rates(frame: Frame, *, columns: Sequence[str] | None = None, by: str | Sequence[str] | None = None) -> pl.DataFrame:
    """Share of missing values (null, and NaN for floats) per column, and per segment of ``by`` (one column)."""
    schema = _schema(frame)
    by = _one_column(by, schema)
    cols = [c for c in (columns or schema) if c != by]
    unknown = [c for c in cols if c not in schema]
    if unknown:
        raise DriftdeskError(f"unknown column(s) {unknown}; columns are {list(schema)}")
    if engine.is_spark(frame):
        wide = _on_spark().missing_counts(frame, cols, by)
    else:
        exprs = [pl.len().alias("__rows"), *[is_missing(c).sum().alias(c) for c in cols]]
        lf = _lazy(frame)
        agg = (lf.group_by(pl.col(by).cast(pl.String).alias("segment")).agg(exprs) if by
               else lf.select(exprs).with_columns(pl.lit(None, dtype=pl.String).alias("segment")))
        wide = agg.collect()
    if not cols:
        return pl.DataFrame(schema={"segment": pl.String, "column": pl.String, "rows": pl.Int64, "missing": pl.Int64})
    long = wide.unpivot(index=["segment", "__rows"], on=cols, variable_name="column", value_name="missing")
    return long.select("segment", "column", pl.col("__rows").cast(pl.Int64).alias("rows"),
                       pl.col("missing").cast(pl.Int64))


def null_rate_jumps(baseline: Frame, current: Frame, *, columns: Sequence[str] | None = None,
                    by: str | Sequence[str] | None = None, warn: float = 0.02, alert: float = 0.05, pvalue: float = 0.01,
                    min_rows: int = 100) -> pl.DataFrame:
    """Columns (per segment with ``by``) whose null rate changed by at least ``warn`` / ``alert`` (absolute),
    with a two-proportion test below ``pvalue`` so small segments do not alarm on noise."""
    sb, sc = _schema(baseline), _schema(current)
    by = _one_column(by, sb)
    cols = [c for c in (columns or [c for c in sb if c in sc]) if c in sb and c in sc and c != by]
    nb = null_rates(baseline, columns=cols, by=by)
    nc = null_rates(current, columns=cols, by=by)
    j = nb.join(nc, on=["segment", "column"], how="full", suffix="_current", nulls_equal=True, coalesce=True)
    rows = []
    for r in j.iter_rows(named=True):
        n0, k0, n1, k1 = r["rows"] or 0, r["missing"] or 0, r["rows_current"] or 0, r["missing_current"] or 0
        seg = f"{by}={r['segment']}" if by else None
        if n0 < min_rows or n1 < min_rows:
            continue
        r0, r1 = k0 / n0, k1 / n1
        p = two_proportion_pvalue(k0, n0, k1, n1)
        change = r1 - r0
        status = OK
        if p is not None and p < pvalue:
            status = ALERT if abs(change) >= alert else WARN if abs(change) >= warn else OK
        rows.append({"check": "null_rate_jump", "column": r["column"], "segment": seg, "value": change,
                     "threshold": alert, "status": status,
                     "message": f"null rate {r0:.1%} → {r1:.1%} ({n0:,} → {n1:,} rows, p={p:.2g})"})
    return _rows(rows)


def freshness(frame: Frame, *, ts: str = "ts", by: str | None = None, now: dt.datetime | None = None,
              max_lag: dt.timedelta = dt.timedelta(hours=2)) -> pl.DataFrame:
    """Latest timestamp per source (``by``) and its lag behind ``now`` (default: the newest row overall).

    A source whose data stopped arriving while others continue shows a lag beyond ``max_lag``.
    """
    schema = _schema(frame)
    by = _one_column(by, schema)
    if ts not in schema:
        raise DriftdeskError(f"freshness: timestamp column {ts!r} not found; columns are {list(schema)}")
    if by is not None and by not in schema:
        raise DriftdeskError(f"freshness: source column {by!r} not found; columns are {list(schema)}")
    if engine.is_spark(frame):
        latest = _on_spark().latest(frame, ts, by)
    else:
        lf = _lazy(frame)
        latest = (lf.group_by(pl.col(by).cast(pl.String).alias("segment")).agg(pl.col(ts).max().alias("latest"))
                  if by else lf.select(pl.col(ts).max().alias("latest")).with_columns(
                      pl.lit(None, dtype=pl.String).alias("segment"))).collect()
    latest = latest.sort("segment", nulls_last=True)
    if latest.is_empty() or latest["latest"].null_count() == latest.height:
        return _rows([{"check": "freshness", "column": ts, "segment": None, "value": None, "threshold": None,
                       "status": ALERT, "message": "no rows with a timestamp"}])
    ref = now or latest["latest"].max()
    rows = []
    for r in latest.iter_rows(named=True):
        seg = f"{by}={r['segment']}" if by else None
        if r["latest"] is None:
            rows.append({"check": "freshness", "column": ts, "segment": seg, "value": None,
                         "threshold": max_lag.total_seconds() / 3600, "status": ALERT, "message": "no timestamps"})
            continue
        lag = ref - r["latest"]
        hours = lag.total_seconds() / 3600
        rows.append({"check": "freshness", "column": ts, "segment": seg, "value": hours,
                     "threshold": max_lag.total_seconds() / 3600, "status": ALERT if lag > max_lag else OK,
                     "message": f"latest {r['latest'].isoformat()}Z, {hours:.1f} h behind {ref.isoformat()}Z"})
    return _rows(rows)


def schema_changes(baseline: Frame | Mapping[str, pl.DataType], current: Frame | Mapping[str, pl.DataType]) -> pl.DataFrame:
    """New, missing and retyped columns between two windows (or two schemas)."""
    sb = dict(baseline) if isinstance(baseline, Mapping) else _schema(baseline)
    sc = dict(current) if isinstance(current, Mapping) else _schema(current)
    rows = []
    for c in sb:
        if c not in sc:
            rows.append({"check": "schema", "column": c, "status": ALERT, "message": f"column missing (was {sb[c]})"})
        elif sb[c] != sc[c]:
            rows.append({"check": "schema", "column": c, "status": WARN if sb[c].is_numeric() and sc[c].is_numeric()
                         else ALERT, "message": f"type changed: {sb[c]} → {sc[c]}"})
    for c in sc:
        if c not in sb:
            rows.append({"check": "schema", "column": c, "status": WARN, "message": f"new column ({sc[c]})"})
    return _rows(rows)


def duplicate_keys(frame: Frame, *, keys: Sequence[str], examples: int = 5) -> pl.DataFrame:
    """Rows whose key (e.g. ts + segment columns) occurs more than once, with a few example keys (the most
    repeated, then the first in key order)."""
    schema = _schema(frame)
    missing = [k for k in keys if k not in schema]
    if missing:
        raise DriftdeskError(f"duplicate check: key column(s) {missing} not found; columns are {list(schema)}")
    if engine.is_spark(frame):
        n_rows, n_keys, top = _on_spark().repeated_keys(frame, keys, examples)
    else:
        dup = (_lazy(frame).group_by(list(keys)).agg(pl.len().alias("__n")).filter(pl.col("__n") > 1)
               .sort(["__n", *keys], descending=[True, *[False] * len(keys)], nulls_last=True).collect())
        n_rows, n_keys, top = (int(dup["__n"].sum()) if dup.height else 0), dup.height, dup.head(examples)
    ex = "; ".join(", ".join(f"{k}={r[k]}" for k in keys) + f" (x{r['__n']})" for r in top.iter_rows(named=True))
    return _rows([{"check": "duplicate_keys", "column": ", ".join(keys), "value": float(n_rows), "threshold": 0.0,
                   "status": ALERT if n_rows else OK,
                   "message": f"{n_rows:,} rows share {n_keys:,} keys" + (f", e.g. {ex}" if ex else "")
                   if n_rows else "every key is unique"}])


def _outside(x: pl.Expr, lo: float | None, hi: float | None) -> pl.Expr:
    """Whether a value lies outside ``[lo, hi]`` (a bound None is open); a missing value (null, NaN) is not."""
    bad = pl.lit(False)
    if lo is not None:
        bad = bad | (x < lo)
    if hi is not None:
        bad = bad | (x > hi)
    return bad & x.is_not_nan()


def _beyond(x: pl.Expr, lo: float | None, hi: float | None) -> pl.Expr:
    """How far a value outside ``[lo, hi]`` lies past the bound it crosses."""
    if lo is None:
        return x - hi
    if hi is None:
        return lo - x
    return pl.when(x < lo).then(lo - x).otherwise(x - hi)


def _example_rows(top: pl.DataFrame, ids: Sequence[str]) -> str:
    """'ts=…, geo=US: 5.0; …' (the value alone without row identifiers)."""
    return "; ".join((", ".join(f"{k}={r[k]}" for k in ids) + ": " if ids else "") + f"{r['__value']}"
                     for r in top.iter_rows(named=True))


def out_of_range(current: Frame, *, ranges: Mapping[str, tuple[float | None, float | None]] | None = None,
                 baseline: Frame | None = None, warn: float = 0.01, alert: float = 0.05,
                 keys: Sequence[str] | None = None, examples: int = 3) -> pl.DataFrame:
    """Share of values outside given ranges, or (with ``baseline``) outside the baseline's observed range, with up
    to ``examples`` offending values: the furthest outside first, then in the order of ``keys`` (columns that
    identify a row, e.g. ts + segment columns, named with each example).

    A missing value (null, or NaN as ``metrics.is_missing`` reads it: the null-rate checks count it) is neither
    counted nor shown; ±inf is a value, outside the bound on its side (and the furthest outside). Only the counts
    and, per column with values outside, its ``examples`` rows are read back (a filter and a top-k)."""
    sc = _schema(current)
    ids = list(keys or [])
    missing = [k for k in ids if k not in sc]
    if missing:
        raise DriftdeskError(f"range check: key column(s) {missing} not found; columns are {list(sc)}")
    bounds: dict[str, tuple[float | None, float | None]] = dict(ranges or {})
    if baseline is not None:
        sb = _schema(baseline)
        num = [c for c in sb if c in sc and sb[c].is_numeric() and sc[c].is_numeric() and c not in bounds]
        if num and engine.is_spark(baseline):
            bounds.update(_on_spark().observed_range(baseline, num))
        elif num:
            mm = _lazy(baseline).select([pl.col(c).min().alias(f"{c}__min") for c in num]
                                        + [pl.col(c).max().alias(f"{c}__max") for c in num]).collect().row(0, named=True)
            for c in num:
                bounds[c] = (mm[f"{c}__min"], mm[f"{c}__max"])
    unknown = [c for c in bounds if c not in sc]
    if unknown:
        raise DriftdeskError(f"range check: column(s) {unknown} not found; columns are {list(sc)}")
    if not bounds:
        return _rows([])
    if engine.is_spark(current):
        counts = _on_spark().outside(current, bounds)
    else:
        exprs = []
        for c, (lo, hi) in bounds.items():
            col = pl.col(c).cast(pl.Float64)
            exprs += [_outside(col, lo, hi).sum().alias(f"{c}__bad"), col.is_not_nan().sum().alias(f"{c}__n")]
        got = _lazy(current).select(exprs).collect().row(0, named=True)
        counts = {c: (got[f"{c}__bad"], got[f"{c}__n"]) for c in bounds}
    rows = []
    for c, (lo, hi) in bounds.items():
        bad, n = counts[c]
        share = bad / n if n else None
        status = OK if not share else ALERT if share >= alert else WARN if share >= warn else OK
        ex = _example_rows(_outside_examples(current, c, lo, hi, ids, examples), ids) if bad and examples > 0 else ""
        rows.append({"check": "out_of_range", "column": c, "value": share, "threshold": alert, "status": status,
                     "message": f"{bad:,} of {n:,} values outside [{lo}, {hi}]" + (f", e.g. {ex}" if ex else "")})
    return _rows(rows)


def _outside_examples(frame: Frame, column: str, lo: float | None, hi: float | None, ids: Sequence[str],
                      examples: int) -> pl.DataFrame:
    """The first ``examples`` rows of ``column`` outside ``[lo, hi]`` (``ids`` and the value as ``__value``),
    the furthest outside first, then in ``ids`` order (nulls last), then by value."""
    if engine.is_spark(frame):
        return _on_spark().outside_examples(frame, column, lo, hi, ids, examples)
    x = pl.col(column).cast(pl.Float64)
    return (_lazy(frame).filter(_outside(x, lo, hi))
            .select(*ids, pl.col(column).alias("__value"), _beyond(x, lo, hi).alias("__beyond"), x.alias("__x"))
            .sort(["__beyond", *ids, "__x"], descending=[True, *[False] * len(ids), False], nulls_last=True)
            .head(examples).collect())


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class QualityResult:
    """Every quality check's rows in one frame; ``status`` is the worst (ok < warn < alert)."""

    checks: pl.DataFrame

    @property
    def status(self) -> str:
        return worst(self.checks["status"].to_list(), default=OK)

    def issues(self) -> pl.DataFrame:
        return self.checks.filter(pl.col("status") != OK)

    def to_frame(self) -> pl.DataFrame:
        order = {s: rank(s) for s in STATUS}
        return self.checks.sort(pl.col("status").replace_strict(order, return_dtype=pl.Int8), "check", "column",
                                descending=[True, False, False])

    def to_dict(self) -> dict:
        return jsonable({"status": self.status, "checks": self.to_frame()})

    def to_figure(self):
        from driftdesk.viz.drift import quality_figure

        return quality_figure(self)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(r['status'])}</td><td>{html.escape(r['check'])}</td>"
            f"<td>{html.escape(r['column'] or '')}</td><td>{html.escape(r['segment'] or '')}</td>"
            f"<td>{html.escape(r['message'] or '')}</td></tr>" for r in self.to_frame().head(40).iter_rows(named=True))
        return (f"<h4>Data quality: {self.status}</h4><table><thead><tr><th>status</th><th>check</th><th>column</th>"
                f"<th>segment</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>")


def quality_report(baseline: Frame, current: Frame, *, ts: str | None = "ts", by: str | Sequence[str] | None = None,
                   keys: Sequence[str] | None = None, ranges: Mapping[str, tuple[float | None, float | None]] | None = None,
                   now: dt.datetime | None = None, max_lag: dt.timedelta = dt.timedelta(hours=2)) -> QualityResult:
    """All checks of a current window against its baseline: schema, null-rate jumps (overall and per ``by``
    segment), freshness per ``by`` source, duplicate ``keys``, out-of-range values (``ranges`` or the baseline's;
    each example named by ``keys``, else by ``ts`` and the ``by`` column)."""
    parts = [schema_changes(baseline, current)]
    sc = _schema(current)
    parts.append(null_rate_jumps(baseline, current))
    if by:
        parts.append(null_rate_jumps(baseline, current, by=by))
    if ts and ts in sc:
        parts.append(freshness(current, ts=ts, by=by, now=now, max_lag=max_lag))
    if keys:
        parts.append(duplicate_keys(current, keys=keys))
    ids = list(keys) if keys else [c for c in ([ts] if ts else []) + list(by_columns(by, sc)) if c in sc]
    parts.append(out_of_range(current, ranges=ranges, baseline=None if ranges else baseline, keys=ids))
    return QualityResult(pl.concat(parts))
