"""The drift history computes all its days at once: each day's columns reduced together, the tests' p-values of
every day in one call per distribution. Both must give what one day, one column and one test at a time give, and
that against scipy."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp
from polars.testing import assert_frame_equal
from scipy import stats as sps

from driftdesk import stats as st
from driftdesk.drift import drift_history
from driftdesk.drift.compare import reduce_column, reduce_days
from driftdesk.errors import DriftdeskError


def test_many_ks_pvalues_at_once_are_each_one_and_scipys():
    rng = np.random.default_rng(3)
    n = np.array([1, 5, 140, 3400, 3400, 40_000, 200_000, 0, 12])
    m = np.array([1, 7, 150, 3300, 900, 40_000, 150_000, 10, 0])
    d = np.array([1.0, 0.4, 0.11, 0.05, 0.02, 0.01, 0.004, 0.3, 0.3])
    many = st.ks_pvalues(d, n, m)
    for k in range(n.size):
        one = st.ks_pvalue(float(d[k]), int(n[k]), int(m[k]))
        assert (np.isnan(many[k]) and one is None) or many[k] == one
    for size_a, size_b, shift in ((400, 300, 0.2), (3000, 2500, 0.05)):
        a, b = rng.normal(0, 1, size_a), rng.normal(shift, 1, size_b)
        ref = sps.ks_2samp(a, b, method="asymp")
        got = st.ks_pvalues(np.array([ref.statistic]), np.array([size_a]), np.array([size_b]))[0]
        assert got == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_many_chi2_pvalues_at_once_are_each_one_and_scipys():
    tables = [([10, 20, 30], [12, 18, 40]), ([5, 0, 3], [0, 4, 3]), ([7], [9]), ([0, 0], [1, 2]),
              ([1000, 10, 1], [900, 40, 3])]
    tests = [st.chi2_statistic(b, c) for b, c in tables]
    known = [t for t in tests if t is not None]
    many = st.chi2_pvalues(np.array([t[0] for t in known]), np.array([t[1] for t in known]))
    ones = [st.chi2_pvalue(b, c) for b, c in tables]
    assert [p for p in ones if p is not None] == many.tolist()
    assert ones[3] is None and ones[2] == 1.0
    b, c = np.array(tables[0][0]), np.array(tables[0][1])
    assert many[0] == pytest.approx(sps.chi2_contingency(np.vstack([b, c]), correction=False).pvalue, rel=1e-12)


def test_reducing_every_day_at_once_is_reducing_each_day():
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=k) for k in range(4)]
    frame = pl.DataFrame({
        "__day": [days[0]] * 5 + [days[2]] * 4 + [days[0]] + [days[3]] * 3,  # days[1] has no rows
        "x": [1.5, None, float("nan"), float("inf"), -0.0, 2.0, 0.0, float("-inf"), 1.0, 3.0, None, None, None],
        "n": [3, 1, 2, None, 5, 5, 5, 1, 2, 7, 1, 1, 1],
        "t": [dt.datetime(2026, 3, 1, h) for h in range(13)],
        "c": ["b", "a", None, "b", "c", "a", "a", None, "z", "a", None, None, None],
        "flag": [True, False, None, True, True, False, False, True, None, True, None, None, None],
        "nothing": pl.Series([None] * 13, dtype=pl.Null),
    }).with_columns(pl.col("c").cast(pl.Categorical))
    items = [("x", "numeric"), ("n", "numeric"), ("t", "numeric"), ("c", "categorical"), ("flag", "categorical"),
             ("nothing", "categorical")]
    at_once = reduce_days(frame, "__day", days, items)
    for d in days:
        rows = frame.filter(pl.col("__day") == d)
        for c, kind in items:
            one, got = reduce_column(rows[c], kind), at_once[d][c]
            assert type(got) is type(one)
            if kind == "numeric":
                assert got.sorted_values.tolist() == one.sorted_values.tolist()
                assert (got.n_rows, got.n_missing, got.n_infinite) == (one.n_rows, one.n_missing, one.n_infinite)
            else:
                assert got.categories == one.categories and got.counts.tolist() == one.counts.tolist()
                assert (got.n_rows, got.n_missing) == (one.n_rows, one.n_missing)


@pytest.mark.parametrize("table", ["decisions", "llm_calls"])
def test_the_history_at_once_is_the_history_of_each_pair_of_days_to_the_bit(sample_dataset, table):
    from driftdesk.drift.view import drift_columns

    frame = sample_dataset[table].frame
    cols = drift_columns(sample_dataset, table)
    days = [dt.date(2026, 10, 20) - dt.timedelta(days=k) for k in range(16)]
    once = drift_history(frame, days=days, columns=cols)
    pairs = drift_history(frame, days=days, columns=cols, _per_pair=True)
    assert_frame_equal(once.daily, pairs.daily, check_exact=True)


def _same_weighted(got, one) -> None:
    assert type(got) is type(one)
    for name in one.__dataclass_fields__:
        a, b = getattr(got, name), getattr(one, name)
        if isinstance(b, np.ndarray):
            assert a.tolist() == b.tolist(), name
        else:
            assert a == b, name


def test_reducing_every_day_at_once_with_weights_is_reducing_each_day():
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=k) for k in range(3)]
    rng = np.random.default_rng(5)
    n = 40
    frame = pl.DataFrame({
        "__day": [days[k % 3 if k % 3 != 1 else 2] for k in range(n)],  # days[1] has no rows
        "x": [None if k % 7 == 0 else (float("inf") if k % 11 == 0 else float(rng.normal())) for k in range(n)],
        "c": [None if k % 5 == 0 else "abc"[k % 3] for k in range(n)],
        "w": [0.0 if k % 6 == 0 else float(rng.uniform(0, 9)) for k in range(n)],
    })
    items = [("x", "numeric"), ("c", "categorical")]
    for sample in ("weight_sum", "kish"):
        at_once = reduce_days(frame, "__day", days, items, weight="w", sample=sample)
        for d in days:
            rows = frame.filter(pl.col("__day") == d)
            for c, kind in items:
                _same_weighted(at_once[d][c], reduce_column(rows[c], kind, weights=rows["w"], sample=sample))


def test_a_bad_weight_in_a_history_names_its_window_and_row_as_each_pair_of_days_does():
    day = dt.date(2026, 3, 9)
    ts = [dt.datetime(2026, 3, 2, h) for h in range(6)] + [dt.datetime(2026, 3, 9, h) for h in range(6)]
    frame = pl.DataFrame({"ts": ts, "x": [float(k) for k in range(12)],
                          "w": [1.0, 2.0, -1.0, 1.0, 1.0, 1.0] + [1.0] * 6})
    messages = []
    for per_pair in (False, True):
        with pytest.raises(DriftdeskError, match=r"weight column 'w' of the baseline window: 1 row .* e.g. row 3") as err:
            drift_history(frame, days=[day], columns=["x"], weight="w", _per_pair=per_pair)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_the_ks_statistic_from_one_merge_is_the_one_searched_at_every_value_and_scipys():
    rng = np.random.default_rng(11)
    for trial in range(400):
        n, m = (int(k) for k in rng.integers(1, 400, size=2))
        if trial % 3 == 0:
            a, b = rng.normal(size=n), rng.normal(0.3, 1, size=m)
        elif trial % 3 == 1:  # ties within and across the samples
            a, b = rng.integers(0, 5, n).astype(float), rng.integers(0, 7, m).astype(float)
        else:
            a, b = rng.choice([-0.0, 0.0, 1.0, 2.5], n), rng.choice([0.0, -0.0, 2.5, 9.0], m)
        a, b = np.sort(a), np.sort(b)
        searched = st._ks_exact_at(a, b, np.concatenate((st._distinct(a), st._distinct(b))))
        assert st.ks_statistic(a, b) == searched
        assert st.ks_statistic(a, b) == pytest.approx(sps.ks_2samp(a, b).statistic, abs=1e-12)


# --------------------------------------------------------------------------- many pairs of samples at once


def _one_pair(a: np.ndarray, b: np.ndarray, bins: int) -> dict | None:
    """What the drift table reads of one pair of sorted samples, one function at a time."""
    if not (a.size and b.size):
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        return {"psi": st.psi_numeric(a, b, bins=bins), "wasserstein": st.wasserstein(a, b),
                "sd": float(np.std(a, ddof=1)) if a.size > 1 else 0.0, "mean_baseline": float(np.mean(a)),
                "mean_current": float(np.mean(b)), "below": int(np.searchsorted(b, a[0], side="left")),
                "above": int(b.size - np.searchsorted(b, a[-1], side="right"))}


def _same_to_the_bit(got: dict[str, np.ndarray], samples: list[np.ndarray], base, cur, bins: int) -> None:
    for p, (i, j) in enumerate(zip(base, cur)):
        one = _one_pair(samples[i], samples[j], bins)
        for name, values in got.items():
            if one is None:
                assert np.isnan(values[p]), (p, name)
            else:
                assert np.float64(values[p]).tobytes() == np.float64(one[name]).tobytes(), (p, name, values[p], one[name])


def _hand_psi(a: np.ndarray, b: np.ndarray, bins: int) -> float:
    """PSI written out: numpy's linear quantiles of the baseline as edges (each once), shares floored at 1e-4."""
    edges = np.unique(np.quantile(a, np.arange(1, bins) / bins))
    pa = np.array([np.sum(a <= edges[0]), *[np.sum((a > lo) & (a <= hi)) for lo, hi in zip(edges, edges[1:])],
                   np.sum(a > edges[-1])]) / a.size
    pb = np.array([np.sum(b <= edges[0]), *[np.sum((b > lo) & (b <= hi)) for lo, hi in zip(edges, edges[1:])],
                   np.sum(b > edges[-1])]) / b.size
    pa, pb = np.maximum(pa, 1e-4), np.maximum(pb, 1e-4)
    return float(np.sum((pb - pa) * np.log(pb / pa)))


def test_many_pairs_at_once_are_each_pair_to_the_bit_and_scipys():
    rng = np.random.default_rng(17)
    samples = [np.sort(x) for x in (
        rng.normal(0, 1, 3400), rng.normal(0.3, 1.2, 3350), rng.normal(0, 1, 3400),  # a day, the next, n == m
        np.round(rng.normal(5, 2, 900)),  # ties
        np.full(50, 2.5),  # a constant day: one edge, no spread
        np.array([7.0]),  # one row
        np.empty(0),  # an empty (or all-null) day
        rng.choice([-0.0, 0.0, 1.0], 40),  # signed zeros
        rng.normal(0, 1, 200) * 10.0 ** rng.integers(-30, 30, 200),  # every magnitude
        rng.choice([-1.7e308, 1.7e308, 0.0, 3.0], 30),  # near the float limit: scaled Wasserstein, inf edges
        rng.exponential(1.0, 140_000),  # more steps than one chunk of the Wasserstein sum
    )]
    k = len(samples)
    base = np.array([i for i in range(k) for _ in range(k)])
    cur = np.array([j for _ in range(k) for j in range(k)])
    for bins in (10, 4, 1):
        got = st.paired_numeric_stats(samples, base, cur, bins=bins)
        _same_to_the_bit(got, samples, base, cur, bins)
    got = st.paired_numeric_stats(samples, base, cur)
    for p, (i, j) in enumerate(zip(base, cur)):
        a, b = samples[i], samples[j]
        if not (a.size and b.size) or max(abs(a).max(), abs(b).max()) > 1e300:
            continue
        assert got["wasserstein"][p] == pytest.approx(sps.wasserstein_distance(a, b), rel=1e-9, abs=1e-12)
        assert got["psi"][p] == pytest.approx(_hand_psi(a, b, 10), rel=1e-12, abs=1e-15)
        assert got["mean_current"][p] == pytest.approx(np.sum(b) / b.size, rel=1e-12)
        if a.size > 1:
            assert got["sd"][p] == pytest.approx(np.sqrt(np.sum((a - a.mean()) ** 2) / (a.size - 1)), rel=1e-12)
        assert got["below"][p] == np.sum(b < a[0]) and got["above"][p] == np.sum(b > a[-1])
    none = st.paired_numeric_stats([], np.empty(0, np.int64), np.empty(0, np.int64))
    assert all(v.size == 0 for v in none.values())


finite = hs.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(hs.lists(hnp.arrays(np.float64, hs.integers(0, 60), elements=finite | hs.sampled_from([0.0, -0.0, 1.0])),
                min_size=1, max_size=6),
       hs.lists(hs.tuples(hs.integers(0, 5), hs.integers(0, 5)), max_size=12), hs.integers(1, 12))
def test_many_pairs_at_once_are_each_pair_on_any_samples(raw, pairs, bins):
    samples = [st.numeric_sketch(x).sorted_values for x in raw]
    pairs = [(i % len(samples), j % len(samples)) for i, j in pairs]
    base = np.array([i for i, _ in pairs], dtype=np.int64)
    cur = np.array([j for _, j in pairs], dtype=np.int64)
    _same_to_the_bit(st.paired_numeric_stats(samples, base, cur, bins=bins), samples, base, cur, bins)


def test_the_history_of_days_with_no_rows_constant_null_infinite_values_and_many_levels_is_each_pair_of_days():
    days = [dt.date(2026, 3, 9) + dt.timedelta(days=k) for k in range(9)]  # and the seven days before
    hours = [dt.datetime(2026, 3, 2) + dt.timedelta(hours=h) for h in range(16 * 24) if h % 24 < 20]
    hours = [t for t in hours if t.date() != dt.date(2026, 3, 12)]  # a day without rows
    rng = np.random.default_rng(8)
    n = len(hours)
    frame = pl.DataFrame({
        "ts": hours,
        "x": rng.normal(0, 1, n),
        "constant": np.full(n, 4.0),
        "gappy": [None if k % 3 == 0 else (float("inf") if k % 17 == 0 else float(rng.normal())) for k in range(n)],
        "one": [float(k) if k % 20 == 0 else None for k in range(n)],  # about one value a day
        "nothing": pl.Series([None] * n, dtype=pl.Float64),  # all null
        "c": rng.choice(["a", "b", "c"], n).tolist(),
        # forty levels, some only on some days (new and vanished ones): more than eight terms in every sum
        "many": [f"L{int(v)}" if v < 40 else None for v in rng.integers(0, 42 + np.arange(n) // 200, n)],
        "few": ["only"] * n,  # one category: chi-squared with no degree of freedom
    })
    columns = ["x", "constant", "gappy", "one", "nothing", "c", "many", "few"]
    once = drift_history(frame, days=days, columns=columns)
    pairs = drift_history(frame, days=days, columns=columns, _per_pair=True)
    assert_frame_equal(once.daily, pairs.daily, check_exact=True)
    assert once.daily.filter(pl.col("column") == "nothing")["psi"].null_count() == len(days)


def test_ks_pvalues_kept_from_earlier_calls_are_scipys_to_the_bit_and_bounded():
    rng = np.random.default_rng(23)
    d = rng.uniform(0.001, 0.2, 300)
    n, m = rng.integers(50, 4000, 300), rng.integers(50, 4000, 300)
    en = np.maximum(1, np.round(n * m / (n + m))).astype(np.int64)
    direct = sps.kstwo.sf(d, en)
    st._KSTWO_KNOWN.clear()
    first = st.ks_pvalues(d[:200], n[:200], m[:200])  # computed
    again = st.ks_pvalues(d, n, m)  # two thirds kept, a third computed
    assert first.tobytes() == direct[:200].tobytes() and again.tobytes() == direct.tobytes()
    keep = st._KSTWO_KEEP
    try:
        st._KSTWO_KEEP = 50
        st.ks_pvalues(d, n, m)
        assert len(st._KSTWO_KNOWN) == 50
        assert st.ks_pvalues(d, n, m).tobytes() == direct.tobytes()
    finally:
        st._KSTWO_KEEP = keep
