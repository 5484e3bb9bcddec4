"""The Spark engine gives the polars engine's aggregates: the golden drift cases to 1e-9 on the exact path,
identical counts and sums, sketched statistics within their bounds, and clear messages for a master that cannot
be reached or a folder of mixed schemas. Marked ``spark``: skip locally with -m 'not spark'; CI runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from driftdesk import engine
from driftdesk.drift import compare_frames
from driftdesk.errors import DriftdeskError

pytestmark = pytest.mark.spark
GOLDEN = Path(__file__).resolve().parents[2] / "golden"


@pytest.fixture(scope="module")
def golden_inputs(sample_dir, tmp_path_factory):
    sys.path.insert(0, str(GOLDEN))
    from cli_cases import write_inputs

    return write_inputs(sample_dir, tmp_path_factory.mktemp("spark-golden"))


@pytest.mark.parametrize("name", ["drift_quiet"])
def test_golden_drift_cases_on_spark(name, spark, sample_dir, golden_inputs):
    from cli_cases import _anonymise, cases, run_case
    from test_cli_golden import _compare

    golden = json.loads((GOLDEN / "cli" / f"{name}.json").read_text())
    code, doc = run_case([*cases(sample_dir, golden_inputs)[name], "--engine", "spark"])
    assert code == golden["exit_code"]
    problems: list[str] = []
    _compare(golden["output"], _anonymise(doc, str(next(iter(golden_inputs.values())).parent), sample_dir), name,
             problems)
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def window_files(tmp_path_factory):
    rng = np.random.default_rng(9)
    folder = tmp_path_factory.mktemp("spark-windows")
    n = 30_000
    for name, shift in (("baseline", 0.0), ("current", 0.2)):
        x = rng.normal(10 + shift, 3, n)
        x[rng.random(n) < 0.02] = np.nan
        x[:3] = [np.inf, -np.inf, 0.0]
        pl.DataFrame({"x": x, "k": rng.integers(0, 9, n), "geo": pl.Series(rng.choice(["US", "DE", ""], n)).replace("", None),
                      "ts": pl.datetime_range(pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 5), "10s", eager=True)[:n]}
                     ).write_parquet(folder / f"{name}.parquet")
    return folder / "baseline.parquet", folder / "current.parquet"


def test_same_counts_and_sums_as_polars(spark, window_files):
    from driftdesk.engine import spark as engine_spark

    items = [("x", "numeric"), ("k", "numeric"), ("ts", "numeric"), ("geo", "categorical")]
    table = engine_spark.read_parquet(window_files[0])
    assert table.count() == pl.scan_parquet(window_files[0]).select(pl.len()).collect().item()
    for path in ("exact", "sketch"):
        got = engine.reduce_columns(table, items, path=path)
        want = engine.reduce_columns(pl.scan_parquet(window_files[0]), items, path=path)
        for name, _ in items:
            g, w = got[name], want[name]
            assert (g.n_rows, g.n_missing) == (w.n_rows, w.n_missing), (path, name)
            if hasattr(w, "sorted_values"):
                np.testing.assert_array_equal(g.sorted_values, w.sorted_values)
                assert g.n_infinite == w.n_infinite
            elif hasattr(w, "categories"):
                assert g.categories == w.categories and np.array_equal(g.counts, w.counts)
            else:  # the sketch: the same bins, counts and sums
                assert g.n == w.n and g.n_infinite == w.n_infinite
                np.testing.assert_array_equal(g.bins, w.bins)
                np.testing.assert_array_equal(g.count, w.count)
                np.testing.assert_allclose(g.sum, w.sum, rtol=1e-12)


def test_segments_equal_polars(spark, window_files):
    """Drift per segment (each segment's rows selected by Spark) equals the polars engine's to 1e-9."""
    from driftdesk.drift import segment_table
    from driftdesk.engine import spark as engine_spark

    got = segment_table(*[engine_spark.read_parquet(p) for p in window_files], by="geo", columns=["x", "k"])
    want = segment_table(*[pl.scan_parquet(p) for p in window_files], by="geo", columns=["x", "k"])
    assert got["geo"].to_list() == want["geo"].to_list() and set(got["geo"]) == {"DE", "US", None}
    for g, w in zip(got.iter_rows(named=True), want.iter_rows(named=True)):
        for k in ("share_baseline", "share_current", "psi", "ks", "ks_pvalue", "wasserstein", "null_rate_current",
                  "n_baseline", "status"):
            assert g[k] == (w[k] if w[k] is None or isinstance(w[k], str) else pytest.approx(w[k], rel=1e-9)), k


def test_sketched_statistics_agree_within_their_bounds(spark, window_files, monkeypatch):
    from driftdesk.engine import spark as engine_spark

    exact = compare_frames(*[pl.scan_parquet(p) for p in window_files], columns=["x", "k", "geo"])
    monkeypatch.setenv(engine.BUDGET_ENV, "64K")
    got = compare_frames(*[engine_spark.read_parquet(p) for p in window_files], columns=["x", "k", "geo"])
    local = compare_frames(*[pl.scan_parquet(p) for p in window_files], columns=["x", "k", "geo"])
    for e, s, p in zip(exact.iter_rows(named=True), got.iter_rows(named=True), local.iter_rows(named=True)):
        if e["kind"] == "numeric":
            assert s["method"] == "sketch" and s["ks"] <= e["ks"] <= s["ks"] + s["ks_error"] + 1e-12
            assert abs(s["wasserstein"] - e["wasserstein"]) <= s["wasserstein_error"] + 1e-9
            assert s["psi_low"] - 1e-12 <= e["psi"] <= s["psi_high"] + 1e-12
        for k in ("psi", "ks", "ks_pvalue", "js", "chi2_pvalue", "wasserstein", "null_rate_current"):
            assert s[k] == (None if p[k] is None else pytest.approx(p[k], rel=1e-9, abs=1e-12)), k


def test_unreachable_master_is_named_within_seconds(tmp_path, window_files):
    env = {"DRIFTDESK_SPARK_MASTER": "spark://127.0.0.1:9", "PYTHONPATH": str(Path(engine.__file__).parents[2])}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "driftdesk.cli", "drift", "--engine", "spark", "--baseline",
                           str(window_files[0]), "--current", str(window_files[1])], capture_output=True, text=True,
                          env={**env, "PATH": "/usr/bin:/bin"}, timeout=60)
    assert proc.returncode == 2
    assert "Spark master spark://127.0.0.1:9 cannot be reached" in proc.stderr
    assert time.perf_counter() - start < 15


def test_mixed_schemas_are_named(tmp_path):
    from driftdesk.io import parquet_files, scan_table

    pl.DataFrame({"x": [1.0], "geo": ["US"]}).write_parquet(tmp_path / "part-0.parquet")
    pl.DataFrame({"x": ["1"], "geo": ["US"]}).write_parquet(tmp_path / "part-1.parquet")
    with pytest.raises(DriftdeskError, match=r"mixed schemas: column 'x' is double in part-0.parquet but "
                                             r"(string|large_string) in part-1.parquet"):
        parquet_files(tmp_path)
    with pytest.raises(DriftdeskError, match="mixed schemas"):
        scan_table(tmp_path)
