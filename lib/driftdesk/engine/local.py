"""The polars engine's reductions: for drift, lazy frames reduced with the streaming engine, column by column; a
few windows' sums."""

from __future__ import annotations

import numpy as np
import polars as pl

from driftdesk import sketch
from driftdesk import stats as st
from driftdesk.engine.budget import Path_, collect
from driftdesk.errors import DriftdeskError


def _physical(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype.is_temporal():
        col = col.to_physical()
    return col.cast(pl.Float64)


def _run(lf: pl.LazyFrame, what: str) -> pl.DataFrame:
    try:
        return collect(lf)
    except pl.exceptions.PolarsError as exc:
        raise DriftdeskError(f"cannot read {what}: {str(exc).strip().splitlines()[0]}") from exc


def reduce_columns(frame: pl.LazyFrame | pl.DataFrame, items: list[tuple[str, str]], *, path: Path_) -> dict:
    lf = frame.lazy()
    schema = lf.collect_schema()
    out: dict = {}
    for name, kind in items:
        dtype = schema[name]
        if kind == "categorical":
            out[name] = _categories(lf, name, dtype)
        elif dtype == pl.Null:
            n = int(_run(lf.select(pl.len()), name).item())
            out[name] = st.NumericSketch(np.empty(0), n, n, 0) if path == "exact" else sketch.from_values(np.full(n, np.nan))
        elif path == "exact":
            values = _run(lf.select(_physical(name, dtype).alias(name)), f"column {name!r}")[name]
            out[name] = st.numeric_sketch(values.to_numpy(writable=True), in_place=True)
        else:
            out[name] = _histogram(lf, name, dtype)
    return out


def _categories(lf: pl.LazyFrame, name: str, dtype: pl.DataType) -> st.CategoryCounts:
    """Row counts per category (as text), sorted by category: a group-by, so only the categories reach memory."""
    v = pl.col(name).cast(pl.String) if dtype != pl.Null else pl.lit(None, pl.String).alias(name)
    counts = _run(lf.group_by(v.alias("__v")).agg(pl.len().alias("__n")), f"column {name!r}")
    missing = counts.filter(pl.col("__v").is_null())
    vc = counts.filter(pl.col("__v").is_not_null()).sort("__v")
    n_missing = int(missing["__n"].sum()) if missing.height else 0
    return st.CategoryCounts(tuple(vc["__v"].to_list()), vc["__n"].to_numpy().astype(np.int64),
                             int(counts["__n"].sum()), n_missing)


def _histogram(lf: pl.LazyFrame, name: str, dtype: pl.DataType) -> sketch.HistogramSketch:
    x = _physical(name, dtype).alias(name)
    rows = lf.select(x)
    counts = _run(rows.select(pl.len().alias("n"), (pl.col(name).is_null() | pl.col(name).is_nan()).sum().alias("m"),
                              pl.col(name).is_infinite().sum().alias("i")), f"column {name!r}").row(0)
    hist = _run(rows.filter(pl.col(name).is_finite()).group_by(sketch.bin_expr(name).alias("bin"))
                .agg(sketch.histogram_aggs(name)), f"column {name!r}")
    return sketch.from_frame(hist, n_rows=int(counts[0]), n_missing=int(counts[1] or 0), n_infinite=int(counts[2] or 0))


def window_sums(frame: pl.LazyFrame | pl.DataFrame, windows, columns, *, known: str | None = None
                ) -> list[tuple[float, ...]]:
    """``engine.window_sums`` with polars: one aggregation per window."""
    lf = frame.lazy()
    if known is not None:
        lf = lf.filter(pl.col(known).is_not_null())
    exprs = [pl.col(c).cast(pl.Float64).sum().alias(f"s{i}") if c is not None else pl.len().cast(pl.Float64).alias(f"s{i}")
             for i, c in enumerate(columns)]
    return [_run(lf.filter((pl.col("ts") >= start) & (pl.col("ts") < end)).select(exprs), "a window's sums").row(0)
            for start, end in windows]
