"""The metric registry: every entry readable from the sample, each aggregation against a hand computation, the
name grammar, old names, and every face reading the same entries."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from driftdesk import llm, overview
from driftdesk.contract import TABLES
from driftdesk.errors import DriftdeskError
from driftdesk.metrics import (
    FAMILIES,
    METRICS,
    RENAMED,
    Metric,
    find_metric,
    get_metric,
    metric_expr,
    metrics_named,
    parse_metric,
    resolve_metric,
    sample_expr,
)


def test_every_metric_reads_columns_of_its_table_and_is_named_once_per_table():
    seen = set()
    for m in METRICS:
        assert (m.table, m.name) not in seen, m.name
        seen.add((m.table, m.name))
        roles = {r.name for r in TABLES[m.table].roles}
        assert set(m.columns) <= roles, (m.name, set(m.columns) - roles)
        assert m.label and m.doc and m.unit in ("usd", "rate", "ms", "count", "ratio", "score", "tokens")
        assert set(m.default_by) <= roles
    assert all(metrics_named(new) for new in RENAMED.values())
    assert not set(RENAMED) & {m.name for m in METRICS}


def test_every_metric_computes_on_the_sample(sample_dataset):
    for m in METRICS:
        if m.aggregation in ("per_case", "paired", "binned"):
            with pytest.raises(DriftdeskError, match="golden_summary|compare_golden|calibration"):
                metric_expr(m)
            continue
        value = sample_dataset[m.table].frame.select(metric_expr(m).alias("v")).item()
        assert value is not None and np.isfinite(value), m.name


ROWS = pl.DataFrame({
    "num": [1.0, 2.0, 3.0, 4.0], "den": [2.0, 0.0, 2.0, 4.0], "flag": [True, None, False, True],
    "x": pl.Series([1.5, None, 2.5, 10.0], dtype=pl.Float32),
})


@pytest.mark.parametrize(("aggregation", "columns", "expected"), [
    ("ratio", ("num", "den"), 10 / 8),
    ("weighted_mean", ("num", "den"), (1 * 2 + 3 * 2 + 4 * 4) / 8),
    ("rate", ("flag",), 2 / 3),
    ("mean", ("x",), 14 / 3),
    ("percentile", ("x",), float(np.percentile([1.5, 2.5, 10.0], 90))),
    ("sum", ("x",), 14.0),
    ("max", ("x",), 10.0),
    ("count", (), 4),
    ("null_rate", ("x",), 0.25),
])
def test_each_aggregation_by_hand(aggregation, columns, expected):
    m = Metric("m", "m", "t", aggregation, columns, "either", "ratio", "doc", quantile=0.9)
    assert ROWS.select(metric_expr(m)).item() == pytest.approx(expected, rel=1e-12)


def test_per_success_by_hand():
    """Cost over every call / the calls whose validator passed, not refused, no error; a null flag passes."""
    calls = pl.DataFrame({"cost": [1.0, 2.0, 4.0, 8.0, 16.0], "ok": [True, False, True, None, True],
                          "refused": [False, False, True, False, None], "errored": [False, False, False, None, False]})
    m = Metric("c", "c", "t", "per_success", ("cost", "ok", "refused", "errored"), "either", "usd", "doc")
    successes = 3  # rows 1, 4 (null flags) and 5 (null refusal); row 2 failed validation, row 3 was refused
    assert calls.select(metric_expr(m)).item() == pytest.approx(31.0 / successes, rel=1e-12)
    assert calls.select(sample_expr(m)).item() == successes
    assert calls.head(3).tail(2).select(metric_expr(m)).item() is None  # no success: undefined, not inf


def test_rates_negate_ratios_never_divide_by_zero_and_samples():
    failures = Metric("f", "f", "t", "rate", ("flag",), "either", "rate", "doc", negate=True)
    assert ROWS.select(metric_expr(failures)).item() == pytest.approx(1 / 3)
    ratio = Metric("r", "r", "t", "ratio", ("num", "den"), "either", "ratio", "doc")
    assert ROWS.filter(pl.col("den") == 0).select(metric_expr(ratio)).item() is None
    assert ROWS.select(sample_expr(ratio)).item() == 8.0
    assert ROWS.select(sample_expr(failures)).item() == 3


def test_float32_columns_sum_in_float64():
    frame = pl.DataFrame({"v": pl.Series(np.full(1000, 0.1), dtype=pl.Float32)})
    m = Metric("s", "s", "t", "sum", ("v",), "either", "usd", "doc")
    exact = float(np.float32(0.1)) * 1000
    assert frame.select(metric_expr(m)).item() == pytest.approx(exact, rel=1e-15)
    assert frame.select(metric_expr(m)).dtypes == [pl.Float64]


def test_name_grammar():
    assert parse_metric("cpa").canonical == "cpa"
    ref = parse_metric("cpa_change")
    assert (ref.name, ref.change, ref.canonical) == ("cpa", True, "cpa_change")
    assert parse_metric(" null_rate:ctr_7d ").arg == "ctr_7d"
    assert parse_metric("seasonality_flag:null_rate:ctr_7d").arg == "null_rate:ctr_7d"
    assert parse_metric("rate:clicks/impressions").canonical == "rate:clicks/impressions"
    assert parse_metric("errors", columns=["errors"]).canonical == "sum:errors"  # a count: summed
    assert parse_metric("queue_depth", columns=["queue_depth"]).canonical == "mean:queue_depth"
    for bad, message in (("moon_phase", "unknown metric 'moon_phase'"), ("cpa:spend", "takes no column"),
                         ("null_rate", "needs a column"), ("rate:clicks", "NUMERATOR/DENOMINATOR"),
                         ("", "is required"), ("sum:x", "unknown metric")):
        with pytest.raises(DriftdeskError, match=message):
            parse_metric(bad, families=("null_rate", "rate"))
    assert set(FAMILIES) >= {"null_rate", "psi", "share", "seasonality_flag", "sum", "mean", "max", "rate"}


def test_an_old_name_reads_as_the_new_one_with_a_note(caplog):
    with caplog.at_level("WARNING", logger="driftdesk"):
        ref = parse_metric("output_tokens_mean", context="gate 3")
    assert ref.canonical == "tokens_out_mean" and ref.renamed_from == "output_tokens_mean"
    assert "'output_tokens_mean' is deprecated" in ref.deprecation
    assert "gate 3: metric 'output_tokens_mean'" in caplog.text
    assert parse_metric("tokens_out_mean").deprecation is None
    assert find_metric("output_tokens_mean") is get_metric("tokens_out_mean")


def test_one_name_on_two_tables_is_told_apart_by_the_table_or_its_columns():
    service = resolve_metric("latency_p99_ms", columns=["ts", "service", "requests", "latency_p99_ms"])
    calls = resolve_metric("latency_p99_ms", columns=["ts", "model", "latency_ms"])
    assert (service.table, service.aggregation) == ("service", "weighted_mean")
    assert (calls.table, calls.aggregation) == ("llm_calls", "percentile")
    assert find_metric("latency_p99_ms", additive=True).table == "service"
    with pytest.raises(DriftdeskError, match="needs the column 'conversions'"):
        resolve_metric("cpa", columns=["ts", "spend"])
    with pytest.raises(DriftdeskError, match="not a series"):
        resolve_metric("cpa_change", columns=["spend", "conversions"])
    adhoc = resolve_metric("rate:clicks/impressions", columns=["clicks", "impressions"])
    assert (adhoc.aggregation, adhoc.columns) == ("ratio", ("clicks", "impressions"))


def test_every_face_reads_the_registry():
    assert tuple(m.name for m in METRICS if m.table == "llm_calls") == llm.GROUP_METRICS
    assert {m.name for m in METRICS if m.table == "llm_calls" and m.direction == "higher_is_worse"} == llm.HIGHER_IS_WORSE
    own = {"latency_p99_ms": "service", "null_rate": "decisions", "predicted_to_observed": "decisions"}  # views of their own
    for check in overview.DEFAULT_CHECKS:
        if own.get(check.metric) == check.table:
            continue
        m = get_metric(check.metric, check.table)
        assert (check.label, check.unit) == (m.label, m.unit)


def test_only_counts_of_rows_and_sums_may_count_events():
    from driftdesk.metrics import get_metric

    by_hand = {"conversions": True, "spend": True, "cpa": False, "cr": False, "latency_p99_ms": False}
    for name, expected in by_hand.items():
        assert get_metric(name).may_count_events is expected, name
