"""Segment columns: the one rule for every ``by`` argument of the library.

``by`` is a column name (``"geo"``) or a sequence of column names (``["geo", "device"]``). The library never
splits a string on commas, because a column name may contain one; a comma string that is not a column is an
error that says to pass a list. The CLI splits ``--by geo,device`` into a list before calling the library.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import polars as pl

from driftdesk.bounds import BY_COLUMNS, CATEGORIES_SHOWN
from driftdesk.errors import DriftdeskError


def by_columns(by: str | Sequence[str] | None,
               columns: Collection[str] | pl.DataFrame | pl.LazyFrame | None = None) -> tuple[str, ...]:
    """``by`` as a tuple of column names; () for None or an empty sequence.

    ``columns`` (the table, or its column names) lets a name that really contains a comma through.
    """
    if by is None:
        return ()
    if isinstance(columns, pl.DataFrame | pl.LazyFrame):
        columns = set(columns.collect_schema().names())
    names = (by,) if isinstance(by, str) else tuple(by)
    for name in names:
        if not isinstance(name, str):
            raise DriftdeskError(f"by: column names must be text, got {name!r} in {by!r}")
        if "," in name and (columns is None or name not in columns):
            parts = [p.strip() for p in name.split(",") if p.strip()]
            raise DriftdeskError(f"by={name!r} is not a column name; to segment by several columns pass a list, "
                                 f"by={parts!r}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DriftdeskError(f"by names {', '.join(map(repr, twice))} more than once; name each column once")
    BY_COLUMNS.check(len(names), where=f"by={list(names)!r}")
    return names


def segment_values(frame: pl.DataFrame | pl.LazyFrame, column: str, *, max_values: int = CATEGORIES_SHOWN) -> list[str]:
    """The values of a segment column as text, sorted, nulls left out, at most ``max_values`` (a picker's options)."""
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    values = lf.select(pl.col(column).cast(pl.String).unique().sort()).collect()[column].drop_nulls().to_list()
    return values[:max_values]
