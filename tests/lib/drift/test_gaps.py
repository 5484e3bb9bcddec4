"""A folder with a gap of several days: the sentence names the baselines that could not be judged, and the history
keeps the days without rows (on either side) as gaps, never as an effect of 0."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from driftdesk import load_dataset
from driftdesk.cli import main
from driftdesk.drift import consensus, consensus_sentence, drift_history, drift_view
from driftdesk.status import NOT_ENOUGH_DATA
from foreign_data import GAP_DAYS, write_gap_folder

# every statistic of a day against its baseline; none can be measured when either day has no rows
STATS = ("psi", "ks", "ks_pvalue", "wasserstein", "wasserstein_norm", "js", "chi2_pvalue", "null_rate_change",
         "null_pvalue", "out_of_range_share", "mean_baseline", "mean_current", "effect")
DAYS = [dt.date(2026, 6, 5) + dt.timedelta(days=k) for k in range(15)]  # 5 Jun .. 19 Jun: across the gap


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_gap_folder(tmp_path_factory.mktemp("gap") / "export")


@pytest.fixture(scope="module")
def dataset(folder):
    return load_dataset(str(folder))


def test_the_sentence_names_the_baseline_in_the_gap_and_claims_no_shift_only_against_the_other(dataset):
    view = drift_view(dataset, table="kpis", day=dt.date(2026, 6, 12))  # yesterday (11 Jun) has no rows
    cons = view.comparison.consensus
    assert (cons["status_day_over_day"] == NOT_ENOUGH_DATA).all()
    assert (cons["status_week_over_week"] != NOT_ENOUGH_DATA).all()
    assert "Could not judge day over day: no data on 11 Jun." in view.sentence
    assert "against day over day" not in view.sentence
    if view.status == "ok":
        assert view.sentence.startswith("No column shifted beyond the thresholds against week over week.")
    view = drift_view(dataset, table="kpis", day=dt.date(2026, 6, 18))  # a week earlier: 11 Jun
    assert "Could not judge week over week: no data on 11 Jun." in view.sentence
    assert "against day over day and week over week" not in view.sentence
    view = drift_view(dataset, table="kpis", day=dt.date(2026, 6, 10))  # the day itself has no rows
    assert view.sentence == ("Not enough data to compare against day over day and week over week (no data on 10 Jun, "
                             "the current window).")


def test_a_flag_against_one_baseline_is_not_persisting_when_the_other_was_not_judged():
    unjudged = pl.DataFrame({"column": ["Betrag"], "status": [NOT_ENOUGH_DATA], "direction": ["none"]})
    flagged = pl.DataFrame({"column": ["Betrag"], "status": ["alert"], "direction": ["up"]})
    table = consensus({"day_over_day": unjudged, "week_over_week": flagged})
    row = table.row(0, named=True)
    assert row["strength"] == "single" and row["status"] == "warn"
    text = consensus_sentence(table, labels=("day_over_day", "week_over_week"),
                              unjudged={"day_over_day": "no data on 11 Jun"})
    assert text == "Weak signal in Betrag: only week over week flags it. Could not judge day over day: no data on 11 Jun."
    back = consensus({"day_over_day": flagged, "week_over_week": unjudged})  # not the calendar either
    assert back.row(0, named=True)["strength"] == "single"


def _rows_per_day(frame: pl.DataFrame) -> dict[dt.date, int]:
    counts = frame.group_by(pl.col("ts").dt.date().alias("day")).len()
    return dict(zip(counts["day"].to_list(), counts["len"].to_list()))


@pytest.mark.parametrize("per_pair", [False, True])
@pytest.mark.parametrize("weight", [None, "impressions"])
@pytest.mark.parametrize("vs", ["day_over_day", "week_over_week"])
def test_history_days_without_rows_on_either_side_are_null_not_zero(dataset, per_pair, weight, vs):
    frame = dataset["kpis"].frame
    rows = _rows_per_day(frame)
    assert all(d not in rows for d in GAP_DAYS)
    step = dt.timedelta(days=1 if vs == "day_over_day" else 7)
    history = drift_history(frame, days=DAYS, vs=vs, columns=["Markt", "Kanal", "impressions", "clicks", "spend"],
                            weight=weight, _per_pair=per_pair).daily
    assert history.height == len(DAYS) * 5
    for row in history.iter_rows(named=True):
        n_cur, n_base = rows.get(row["day"], 0), rows.get(row["day"] - step, 0)
        assert (row["n_current"], row["n_baseline"]) == (n_cur, n_base)
        if not (n_cur and n_base):  # a gap: on the day, on its baseline day, or both (10 Jun vs 9 Jun)
            assert all(row[s] is None for s in STATS), row
            assert row["status"] == NOT_ENOUGH_DATA
            if not n_cur:
                assert row["null_rate_current"] is None
            if not n_base:
                assert row["null_rate_baseline"] is None
        else:
            assert row["psi"] is not None and row["effect"] is not None
            assert row["null_rate_current"] is not None and row["null_rate_baseline"] is not None
    both_empty = history.filter(pl.col("day") == dt.date(2026, 6, 10))
    assert vs == "week_over_week" or (both_empty["n_baseline"] == 0).all() and (both_empty["n_current"] == 0).all()


def test_the_view_history_and_its_json_keep_gap_days_as_null(dataset):
    day = dt.date(2026, 6, 12)
    view = drift_view(dataset, table="kpis", day=day)
    days = sorted(day - dt.timedelta(days=k) for k in range(14))  # the sparkline's days, oldest first
    rows = _rows_per_day(dataset["kpis"].frame)
    gap = [not (rows.get(d) and rows.get(d - dt.timedelta(days=7))) for d in days]
    assert gap.count(False) == 2  # 8 Jun and 12 Jun: both sides have rows
    for history in view.severity_table()["history"].to_list():
        assert [v is None for v in history] == gap
    assert view.history_gaps()["no_data"].unique().to_list() == ["30 May – 7 Jun, 9 Jun – 11 Jun"]
    doc = json.loads(json.dumps(view.to_dict(), allow_nan=False))
    for col in doc["columns"]:
        assert [v is None for v in col["history"]] == gap
    for row in doc["history"]["daily"]:
        if row["day"] in {d.isoformat() for d in GAP_DAYS}:
            assert row["psi"] is None and row["ks"] is None and row["js"] is None and row["effect"] is None
            assert row["null_rate_current"] is None


def test_cli_json_segment_without_rows_in_a_window_has_null_effect(tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 3000
    pl.DataFrame({"Betrag": rng.normal(0, 1, n), "Land": rng.choice(["DE", "AT"], n)}).write_parquet(tmp_path / "b.parquet")
    pl.DataFrame({"Betrag": rng.normal(0, 1, n), "Land": rng.choice(["DE", "AT", "CH"], n)}).write_parquet(
        tmp_path / "c.parquet")
    assert main(["drift", "--baseline", str(tmp_path / "b.parquet"), "--current", str(tmp_path / "c.parquet"),
                 "--by", "Land", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ch = next(s for s in doc["segments"] if s["Land"] == "CH" and s["column"] == "Betrag")
    assert ch["n_baseline"] == 0 and ch["status"] == NOT_ENOUGH_DATA
    assert all(ch[s] is None for s in ("psi", "ks", "wasserstein", "effect", "null_rate_baseline"))
    de = next(s for s in doc["segments"] if s["Land"] == "DE" and s["column"] == "Betrag")
    assert de["effect"] is not None and de["effect"] >= 0
