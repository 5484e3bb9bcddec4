"""Turn result values into JSON the CLI contract allows: no NaN or Infinity, UTC ISO 8601 timestamps."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import polars as pl


def iso_utc(value: dt.datetime | dt.date) -> str:
    """ISO 8601 with a trailing Z; naive datetimes are UTC by the data contract."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    return value.isoformat()


def jsonable(value: Any) -> Any:
    """Recursively convert to plain JSON types; non-finite floats become None.

    >>> import datetime as dt
    >>> jsonable({"psi": float("nan"), "ts": dt.datetime(2026, 10, 5, 9), "counts": (1, 2)})
    {'psi': None, 'ts': '2026-10-05T09:00:00Z', 'counts': [1, 2]}
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return iso_utc(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, pl.DataFrame):
        return [jsonable(row) for row in value.to_dicts()]
    if isinstance(value, pl.Series):
        return [jsonable(v) for v in value.to_list()]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return jsonable(value.to_dict())
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)
