"""Consensus across baselines: strength and status per column, and the sentence that says which rule held."""

from __future__ import annotations

import polars as pl

from driftdesk.drift.consensus import consensus, consensus_sentence


def table(rows):
    return pl.DataFrame(rows, schema={"column": pl.String, "status": pl.String, "direction": pl.String}, orient="row")


def test_consensus_rules():
    dod = table([("a", "alert", "nulls_up"), ("b", "warn", "BR+"), ("c", "ok", "none"), ("d", "alert", "up"),
                 ("e", "warn", "up")])
    wow = table([("a", "alert", "nulls_up"), ("b", "alert", "BR+"), ("c", "alert", "up"), ("d", "ok", "none"),
                 ("e", "warn", "down")])
    out = {r["column"]: r for r in consensus({"day_over_day": dod, "week_over_week": wow}).iter_rows(named=True)}
    assert (out["a"]["strength"], out["a"]["status"], out["a"]["data_layer_shift"]) == ("strong", "alert", True)
    assert (out["b"]["strength"], out["b"]["status"], out["b"]["data_layer_shift"]) == ("consistent", "alert", False)
    assert (out["c"]["strength"], out["c"]["status"]) == ("persisting", "warn")
    assert (out["d"]["strength"], out["d"]["status"]) == ("calendar", "ok")
    assert (out["e"]["strength"], out["e"]["status"], out["e"]["agree_direction"]) == ("mixed", "warn", False)
    c = consensus({"day_over_day": dod, "week_over_week": wow})
    assert c["column"][0] in ("a", "b")  # most severe first
    assert consensus_sentence(c, {"a": "null rate 2% → 9%"}).startswith("Strong shift in a (null rate 2% → 9%)")


def test_consensus_quiet_and_single_baseline():
    quiet = table([("a", "ok", "none")])
    c = consensus({"day_over_day": quiet, "week_over_week": quiet})
    assert consensus_sentence(c).startswith("No column shifted")
    one = consensus({"custom": table([("a", "alert", "up")])})
    assert one.row(0, named=True)["status"] == "alert"
    nd = consensus({"day_over_day": table([("a", "not_enough_data", "none")]),
                    "week_over_week": table([("a", "not_enough_data", "none")])})
    assert consensus_sentence(nd).startswith("Not enough data")


def test_consensus_drops_flags_that_an_abnormal_baseline_explains():
    dod = table([("a", "ok", "none"), ("b", "alert", "BR-"), ("c", "ok", "none")])
    wow = table([("a", "alert", "nulls_down"), ("b", "alert", "BR-"), ("c", "warn", "up")])
    plain = {r["column"]: r for r in consensus({"day_over_day": dod, "week_over_week": wow}).iter_rows(named=True)}
    assert plain["a"]["strength"] == "persisting"  # what week over week alone would say the day after an incident
    abnormal = {"week_over_week": {"a", "b"}, "day_over_day": {"b"}}
    c = consensus({"day_over_day": dod, "week_over_week": wow}, abnormal=abnormal)
    out = {r["column"]: r for r in c.iter_rows(named=True)}
    assert (out["a"]["strength"], out["a"]["status"], out["a"]["abnormal_baseline"]) == ("recovery", "ok",
                                                                                         "week_over_week")
    assert (out["b"]["strength"], out["b"]["status"]) == ("recovery", "ok")
    assert out["b"]["abnormal_baseline"] == "day_over_day, week_over_week"
    assert out["a"]["status_week_over_week"] == "alert"  # the raw comparison stays visible
    assert (out["c"]["strength"], out["c"]["status"]) == ("persisting", "warn")  # not explained: still counts
    only_explained = consensus({"day_over_day": dod.filter(pl.col("column") != "c"),
                                "week_over_week": wow.filter(pl.col("column") != "c")}, abnormal=abnormal)
    text = consensus_sentence(only_explained)
    assert text.startswith("No column shifted") and "a, b differ from the" in text and "a recovery, not drift" in text
