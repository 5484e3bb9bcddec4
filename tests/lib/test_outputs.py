"""Output drift between versions: token statistics against scipy, refusals against statsmodels, repetitiveness
against a plain-Python n-gram reference."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import proportions_ztest

from driftdesk.errors import DriftdeskError
from driftdesk.outputs import consecutive_overlap, output_drift, repetitiveness, version_calls

T0 = dt.datetime(2026, 9, 1)


def calls(n: int, *, mean: float, refusal: float, seed: int, version: str) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=i) for i in range(n)],
                         "prompt_version": version, "feature": rng.choice(["a", "b"], n),
                         "output_tokens": np.round(rng.lognormal(np.log(mean), 0.3, n)),
                         "refusal": rng.random(n) < refusal})


BOTH = pl.concat([calls(3000, mean=200, refusal=0.01, seed=1, version="v2"),
                  calls(2500, mean=250, refusal=0.03, seed=2, version="v3")])


def test_token_statistics_match_scipy_and_refusals_statsmodels():
    base, cand = version_calls(BOTH, column="prompt_version", baseline="v2", candidate="v3")
    result = output_drift(base, cand, labels=("v2", "v3"))
    row = result.table.row(0, named=True)
    b, c = (f["output_tokens"].to_numpy() for f in (base.collect(), cand.collect()))
    ks = sps.ks_2samp(b, c)
    assert row["ks"] == pytest.approx(ks.statistic, abs=1e-12)
    assert row["wasserstein"] == pytest.approx(sps.wasserstein_distance(b, c), rel=1e-9)
    edges = np.unique(np.quantile(b, np.linspace(0, 1, 11)[1:-1]))
    p = np.bincount(np.searchsorted(edges, b, side="left"), minlength=edges.size + 1) / b.size
    q = np.bincount(np.searchsorted(edges, c, side="left"), minlength=edges.size + 1) / c.size
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert row["psi"] == pytest.approx(float(np.sum((q - p) * np.log(q / p))), rel=1e-9)
    counts = [int(f["refusal"].sum()) for f in (base.collect(), cand.collect())]
    _, pvalue = proportions_ztest(counts, [b.size, c.size])
    assert row["refusal_pvalue"] == pytest.approx(pvalue, rel=1e-9)
    assert row["tokens_status"] == "alert" and row["refusal_status"] == "alert" and result.status == "alert"
    assert result.to_dict()["groups"][0]["refusal_rate_current"] == pytest.approx(counts[1] / c.size)
    assert "repetitiveness is not measured" in result.notes[0]


def test_per_group_and_a_quiet_comparison():
    v2 = BOTH.filter(pl.col("prompt_version") == "v2")
    result = output_drift(v2.head(1500), v2.tail(1500), by="feature")
    assert result.table["feature"].to_list() == ["a", "b"]
    assert set(result.table["status"]) == {"ok"}
    assert result.to_figure().layout.title.text == "Output drift"


def test_bad_input_is_named():
    with pytest.raises(DriftdeskError, match="candidate version 'v9' is not a value of prompt_version; the calls have v2, v3"):
        version_calls(BOTH, column="prompt_version", baseline="v2", candidate="v9")
    with pytest.raises(DriftdeskError, match="no column 'colour'"):
        version_calls(BOTH, column="colour", baseline="v2", candidate="v3")
    with pytest.raises(DriftdeskError, match=r"no column\(s\) \['output_tokens'\]"):
        output_drift(BOTH.drop("output_tokens"), BOTH)
    with pytest.raises(DriftdeskError, match="one column at a time"):
        output_drift(BOTH, BOTH, by=["feature", "prompt_version"])
    few = output_drift(BOTH.head(5), BOTH.tail(5))
    assert few.table["tokens_status"][0] == "not_enough_data" and few.table["refusal_status"][0] == "not_enough_data"
    plain = output_drift(BOTH.drop("refusal"), BOTH.drop("refusal"))
    assert plain.table["refusal_status"][0] is None and any("no refusal column" in n for n in plain.notes)


def reference_overlap(a: str, b: str, n: int) -> float | None:
    def grams(text: str) -> set[str]:
        words = re.findall(r"\w+", text.lower())
        return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}

    ga, gb = grams(a), grams(b)
    union = ga | gb
    return len(ga & gb) / len(union) if union else None


VOCAB = ["buy", "the", "tent", "today", "Tent", "free", "shipping", "on", "all", "boots", "42", "ünïcode"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(VOCAB), max_size=9).map(" ".join), min_size=1, max_size=8),
       st.integers(1, 4))
def test_overlap_matches_a_plain_python_reference(texts, n):
    frame = pl.DataFrame({"ts": [T0 + dt.timedelta(seconds=i) for i in range(len(texts))], "text": texts})
    got = consecutive_overlap(frame, text="text", n=n)["overlap"].to_list()
    want = [None] + [reference_overlap(texts[i], texts[i - 1], n) for i in range(1, len(texts))]
    assert got == pytest.approx(want) if any(w is not None for w in want) else got == want
    for value in got:
        assert value is None or 0.0 <= value <= 1.0


def test_repetitiveness_by_hand_per_group_in_time_order():
    frame = pl.DataFrame({
        "ts": [T0 + dt.timedelta(seconds=s) for s in (3, 1, 2, 1, 2)],
        "feature": ["a", "a", "a", "b", "b"],
        "text": ["free shipping on boots", "free shipping on tents", "buy the tent", "x y", "x y"],
    })
    overlap = consecutive_overlap(frame, text="text", by="feature", n=2)
    # a, in time order: "free shipping on tents" -> "buy the tent" (0 of 5 bigrams) -> "free shipping on boots"
    # (0 of 5); b: "x y" -> "x y" (1 of 1)
    assert overlap["overlap"].to_list() == [None, 0.0, 0.0, None, 1.0]
    rep = repetitiveness(frame, text="text", by="feature", n=2)
    assert rep.rows() == [("a", 0.0, 2), ("b", 1.0, 1)]
    with pytest.raises(DriftdeskError, match="n must be at least 1"):
        consecutive_overlap(frame, text="text", n=0)


def test_output_drift_with_text_reports_repetition():
    templated = ["Buy the tent today, free shipping"] * 200
    varied = [f"Offer {i}: boots size {i % 13} ship in {i % 7} days" for i in range(200)]
    base = pl.DataFrame({"ts": [T0 + dt.timedelta(minutes=i) for i in range(200)], "output_tokens": 10.0,
                         "text": varied})
    cur = base.with_columns(pl.Series("text", templated))
    row = output_drift(base, cur, text="text").table.row(0, named=True)
    assert row["repetition_current"] == 1.0 and row["repetition_baseline"] < 0.5


def test_a_new_version_is_compared_with_all_baseline_calls():
    base, cand = version_calls(BOTH, column="prompt_version", baseline="v2", candidate="v3")
    grouped = output_drift(base, cand, by="prompt_version").table
    whole = output_drift(base, cand).table
    v3 = grouped.filter(pl.col("prompt_version") == "v3").row(0, named=True)
    assert v3["reference"] == "all baseline calls" and v3["psi"] == whole["psi"][0]
    v2 = grouped.filter(pl.col("prompt_version") == "v2").row(0, named=True)
    assert v2["calls_current"] == 0 and v2["status"] == "not_enough_data"
