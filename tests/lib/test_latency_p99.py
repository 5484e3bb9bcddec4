"""A window's p99 latency from the hourly service table is one number on every face: the registry's request-weighted
mean of the hourly p99s, read by the Overview, replayed by a gate, against numpy's weighted average by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftdesk.contract import Dataset, validate_frame
from driftdesk.gates.metrics import metric_components
from driftdesk.metrics import get_metric, metric_expr
from driftdesk.overview import overview

START, DAY = dt.datetime(2026, 3, 2), dt.date(2026, 3, 10)  # eight days before the judged day


@pytest.fixture(scope="module")
def service() -> pl.DataFrame:
    """Nine days of hourly rows for two services, busy by day and quiet by night; on the last day one of them runs
    at three times its p99 for four hours."""
    rng = np.random.default_rng(11)
    hours = 9 * 24
    ts = [START + dt.timedelta(hours=h) for h in range(hours)]
    parts = []
    for name, base in (("api", 80.0), ("bidder", 40.0)):
        requests = np.round(1000 + 800 * np.sin(np.arange(hours) / 24 * 2 * np.pi) + rng.integers(0, 200, hours))
        p99 = base * rng.uniform(0.9, 1.1, hours)
        if name == "api":
            p99[8 * 24 + 13: 8 * 24 + 17] *= 3.0
        parts.append(pl.DataFrame({"ts": ts, "service": name, "requests": requests, "latency_p99_ms": p99}))
    return pl.concat(parts)


def by_hand(frame: pl.DataFrame, name: str, day: dt.date) -> float:
    rows = frame.filter((pl.col("service") == name) & (pl.col("ts").dt.date() == day))
    return float(np.average(rows["latency_p99_ms"].to_numpy(), weights=rows["requests"].to_numpy()))


def test_the_registry_defines_it_as_the_request_weighted_mean_of_hourly_p99s():
    m = get_metric("latency_p99_ms", "service")
    assert (m.aggregation, m.columns, m.additive) == ("weighted_mean", ("latency_p99_ms", "requests"), True)
    assert "weighted by its requests" in m.doc
    frame = pl.DataFrame({"latency_p99_ms": [100.0, 400.0], "requests": [300.0, 100.0]})
    assert frame.select(metric_expr(m)).item() == (100 * 300 + 400 * 100) / 400  # 175, where the worst hour says 400


def test_overview_and_gate_read_the_same_number(service):
    table, violations = validate_frame(service, "service")
    assert table is not None, violations
    ds = Dataset("<x>", {"service": table})
    rows = overview(ds, day=DAY).layer("service").filter(pl.col("metric") == "latency_p99_ms")
    assert rows["label"].unique().to_list() == ["p99 latency"]
    components = metric_components(ds, "latency_p99_ms", by=("service",))
    for name in ("api", "bidder"):
        got = rows.filter(pl.col("subject") == name).row(0, named=True)
        for key, day in (("current", DAY), ("day_over_day", DAY - dt.timedelta(days=1)),
                         ("week_over_week", DAY - dt.timedelta(days=7))):
            want = by_hand(service, name, day)
            assert got[key] == pytest.approx(want, rel=1e-12), (name, key)
            first = (dt.datetime.combine(day, dt.time()) - components.start) // dt.timedelta(hours=1)
            s = components.segments.index(f"service={name}")
            window = components.components[s: s + 1, first: first + 24].sum(axis=1, keepdims=True)
            assert components.level(window)[0, 0] == pytest.approx(want, rel=1e-12), (name, key)
    api = rows.filter(pl.col("subject") == "api").row(0, named=True)
    assert api["status"] in ("warn", "alert") and rows.filter(pl.col("subject") == "bidder")["status"].item() == "ok"
