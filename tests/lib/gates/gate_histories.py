"""Hand-made histories for gate tests: small contract tables whose right alerts can be worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from driftdesk.contract import Dataset, validate_frame

T0 = dt.datetime(2026, 1, 5)  # a Monday, 00:00 UTC


def table(frame: pl.DataFrame, name: str, **mapping):
    out, violations = validate_frame(frame, name, mapping=mapping or None, source=f"<{name}>")
    assert out is not None, [v.message for v in violations]
    return out


def kpis_frame(spend: np.ndarray, conversions: np.ndarray, *, segments: dict[str, list[str]] | None = None,
               clicks: np.ndarray | None = None) -> pl.DataFrame:
    """Hourly kpis from arrays of shape (hours,) or (segments, hours); one segment column 'geo' by default."""
    spend = np.atleast_2d(np.asarray(spend, float))
    conversions = np.atleast_2d(np.asarray(conversions, float))
    clicks = np.atleast_2d(np.asarray(clicks, float)) if clicks is not None else conversions * 10
    geos = (segments or {}).get("geo") or [f"g{i}" for i in range(spend.shape[0])]
    n_seg, hours = spend.shape
    ts = [T0 + dt.timedelta(hours=h) for h in range(hours)]
    return pl.DataFrame({
        "ts": ts * n_seg,
        "geo": [g for g in geos for _ in range(hours)],
        "impressions": (clicks * 20).ravel(),
        "clicks": clicks.ravel(),
        "conversions": conversions.ravel(),
        "spend": spend.ravel(),
        "revenue": (spend * 2).ravel(),
    })


def dataset(**tables) -> Dataset:
    return Dataset("<hand-made>", {name: table(frame, name) for name, frame in tables.items()})


def incidents_frame(rows: list[tuple[str, dt.datetime, dt.datetime | None]]) -> pl.DataFrame:
    return pl.DataFrame({"incident_id": [r[0] for r in rows], "start": [r[1] for r in rows],
                         "end": [r[2] for r in rows]}, schema={"incident_id": pl.String, "start": pl.Datetime("us"),
                                                               "end": pl.Datetime("us")})


def at(hour: float) -> dt.datetime:
    """T0 plus some hours."""
    return T0 + dt.timedelta(hours=hour)
