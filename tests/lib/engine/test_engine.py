"""The polars engine: lazy scans reduce to the same aggregates as eager frames, and past the memory budget the
numeric columns go through the sketch within its bounds, or a clear message names the cause."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from driftdesk import engine
from driftdesk import stats as st
from driftdesk.drift import compare_frames
from driftdesk.errors import DriftdeskError


@pytest.fixture(scope="module")
def windows(tmp_path_factory):
    rng = np.random.default_rng(5)
    folder = tmp_path_factory.mktemp("scan")
    n = 40_000
    for name, shift in (("baseline", 0.0), ("current", 0.3)):
        x = rng.lognormal(1 + shift, 1, n)
        x[rng.random(n) < 0.01] = np.nan
        pl.DataFrame({"x": x, "k": rng.integers(0, 30, n).astype(float), "geo": pl.Series(rng.choice(["US", "DE", ""], n)).replace("", None),
                      "when": pl.datetime_range(pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 2), "1s", eager=True)[:n]}
                     ).write_parquet(folder / f"{name}.parquet")
    return pl.scan_parquet(folder / "baseline.parquet"), pl.scan_parquet(folder / "current.parquet")


def test_lazy_scans_give_the_eager_numbers(windows):
    b, c = windows
    cols = ["x", "k", "geo", "when"]
    lazy = compare_frames(b, c, columns=cols)
    eager = compare_frames(b.collect(), c.collect(), columns=cols)
    assert lazy.drop("method").equals(eager.drop("method"))
    assert set(lazy["method"]) == {"exact"}


def test_past_the_budget_numeric_columns_are_sketched_within_their_bounds(windows, monkeypatch):
    b, c = windows
    exact = compare_frames(b, c, columns=["x", "k", "geo"])
    monkeypatch.setenv(engine.BUDGET_ENV, "100K")
    sketched = compare_frames(b, c, columns=["x", "k", "geo"])
    assert sketched.filter(pl.col("kind") == "numeric")["method"].to_list() == ["sketch", "sketch"]
    for e, s in zip(exact.iter_rows(named=True), sketched.iter_rows(named=True)):
        assert s["null_rate_baseline"] == e["null_rate_baseline"] and s["n_valid_current"] == e["n_valid_current"]
        if e["kind"] == "categorical":
            assert s["psi"] == e["psi"] and s["chi2_pvalue"] == e["chi2_pvalue"]
            continue
        assert s["ks"] <= e["ks"] <= s["ks"] + s["ks_error"] + 1e-12
        assert abs(s["wasserstein"] - e["wasserstein"]) <= s["wasserstein_error"] + 1e-9
        assert s["psi_low"] - 1e-12 <= e["psi"] <= s["psi_high"] + 1e-12
        assert s["status"] == e["status"]
        assert s["mean_baseline"] == pytest.approx(e["mean_baseline"], rel=1e-9)


def test_budget_words_and_refusals(windows, monkeypatch):
    assert engine.parse_size("3G") == 3 * 2**30 and engine.parse_size("512m") == 512 * 2**20
    assert engine.parse_size("1.5GiB") == int(1.5 * 2**30) and engine.parse_size("100") == 100
    monkeypatch.setenv(engine.BUDGET_ENV, "lots")
    with pytest.raises(DriftdeskError, match="DRIFTDESK_MEMORY_BUDGET='lots'"):
        engine.memory_budget()
    monkeypatch.setenv(engine.BUDGET_ENV, "100K")
    b, c = windows
    with pytest.raises(engine.MemoryBudgetError, match=r"weighted drift of 80,000 rows needs about .* above the "
                                                       r"memory budget of 100.0 KB \(DRIFTDESK_MEMORY_BUDGET\)"):
        compare_frames(b, c, columns=["geo"], weight="k")


def test_category_counts_by_group_by_equal_value_counts(windows):
    b, _ = windows
    got = engine.reduce_columns(b, [("geo", "categorical")], path="exact")["geo"]
    s = b.collect()["geo"]
    vc = s.drop_nulls().value_counts().sort("geo")
    assert got.categories == tuple(vc["geo"]) and np.array_equal(got.counts, vc["count"].to_numpy())
    assert (got.n_rows, got.n_missing) == (s.len(), s.null_count())
    assert isinstance(engine.reduce_columns(b, [("x", "numeric")], path="exact")["x"], st.NumericSketch)


def test_a_table_larger_than_the_budget_is_refused_before_reading(windows, tmp_path, monkeypatch):
    import time

    from driftdesk.contract import load_table

    pl.DataFrame({"ts": [1] * 50_000, "score": [0.5] * 50_000}).write_parquet(tmp_path / "decisions.parquet")
    monkeypatch.setenv(engine.BUDGET_ENV, "64K")
    start = time.perf_counter()
    with pytest.raises(engine.MemoryBudgetError, match=r"decisions.parquet: reading the whole table needs about "
                                                       r".* above the memory budget of 64.0 KB"):
        load_table(tmp_path / "decisions.parquet", "decisions")
    assert time.perf_counter() - start < 2
