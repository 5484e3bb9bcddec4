"""Daily budget burn and its projection against hand-computed cases; the 80% alert agrees with the budget gate
replayed on history."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.budget import budget_burn
from driftdesk.errors import DriftdeskError

DAY = dt.date(2026, 9, 2)
MID = dt.datetime(2026, 9, 2)


def at(hours: float) -> dt.datetime:
    return MID + dt.timedelta(hours=hours)


# ad_copy spends $1 at 00:30, 01:30, ..., 09:30 (one dollar an hour); search $5 at 02:15
CALLS = pl.DataFrame({
    "ts": [at(h + 0.5) for h in range(10)] + [at(2.25), at(-1.0), at(25.0)],
    "feature": ["ad_copy"] * 10 + ["search", "ad_copy", "ad_copy"],
    "cost": [1.0] * 10 + [5.0, 100.0, 100.0],  # the last two lie outside the day
})


def test_burn_rate_and_projection_by_hand():
    burn = budget_burn(CALLS, budget={"ad_copy": 12.0, "search": 4.0}, by="feature", day=DAY, as_of=at(8))
    rows = {r["group"]: r for r in burn.groups.iter_rows(named=True)}
    ad = rows["ad_copy"]
    assert (ad["spent"], ad["burn"]) == (8.0, 8.0 / 12.0)
    assert ad["rate_per_hour"] == pytest.approx(1.0)  # $3 over the last 3 hours
    assert ad["projected_exhaustion"] == at(12)  # $4 left at $1/h
    assert ad["projected_day_spend"] == pytest.approx(8.0 + 16.0)
    assert ad["alert_at"] is None and ad["exhausted_at"] is None
    assert ad["status"] == "warn" and ad["reason_codes"] == ["projected_to_run_out"]
    search = rows["search"]
    assert search["spent"] == 5.0 and search["exhausted_at"] == at(2.25) and search["status"] == "alert"
    assert search["alert_at"] == at(3)  # the first hour end after the $5 call
    assert search["reason_codes"] == ["over_budget", "past_alert_share"]
    assert search["projected_exhaustion"] is None
    hourly = burn.hourly.filter(pl.col("group") == "ad_copy")
    assert hourly["ts"].to_list() == [at(h) for h in range(1, 9)]
    assert hourly["spent"].to_list() == [float(h) for h in range(1, 9)]
    assert any("runs out at 12:00 UTC" in s for s in burn.sentences())


def test_the_alert_is_the_first_hour_end_above_the_share():
    burn = budget_burn(CALLS.filter(pl.col("feature") == "ad_copy"), budget=10.0, day=DAY)
    row = burn.groups.row(0, named=True)
    assert burn.as_of == at(10)  # the hour end after the day's last call
    assert row["alert_at"] == at(9)  # $9 > 80% of $10 (at 08:00 it is exactly $8: not above)
    assert row["exhausted_at"] == at(9.5) and row["status"] == "alert"


def test_early_in_the_day_the_rate_uses_the_hours_there_are():
    burn = budget_burn(CALLS, budget={"ad_copy": 100.0}, by="feature", day=DAY, as_of=at(1))
    assert burn.groups["rate_per_hour"][0] == pytest.approx(1.0)  # $1 in the one hour since midnight
    later = budget_burn(CALLS, budget={"ad_copy": 100.0}, by="feature", day=DAY, as_of=at(3))
    assert any("no daily budget for 'search'" in n for n in later.notes)


def test_bad_budgets_and_moments_are_named():
    with pytest.raises(DriftdeskError, match="must be positive, got 0.*budget of zero"):
        budget_burn(CALLS, budget=0, day=DAY)
    with pytest.raises(DriftdeskError, match="finite number"):
        budget_burn(CALLS, budget=float("nan"), day=DAY)
    with pytest.raises(DriftdeskError, match="not within 2026-09-02"):
        budget_burn(CALLS, budget=5.0, day=DAY, as_of=at(30))
    with pytest.raises(DriftdeskError, match="need by="):
        budget_burn(CALLS, budget={"ad_copy": 5.0}, day=DAY)
    with pytest.raises(DriftdeskError, match="negative cost"):
        budget_burn(CALLS.with_columns(pl.lit(-1.0).alias("cost")), budget=5.0, day=DAY)
    quiet = budget_burn(CALLS, budget={"nobody": 5.0}, by="feature", day=DAY)
    assert quiet.groups["spent"][0] == 0.0 and quiet.groups["status"][0] == "ok"
    assert any("'nobody' made no call" in n for n in quiet.notes)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 23.99), st.floats(0, 5)), min_size=1, max_size=40),
       st.floats(0.5, 50), st.integers(1, 24))
def test_spend_accumulates_and_the_alert_agrees_with_the_gate(calls, budget, hour):
    """Spend never falls through the day; spent at as_of is the sum of earlier calls; and the alert time is what the
    budget gate, replayed on the same calls, raises that day."""
    from driftdesk.contract import Dataset, validate_frame
    from driftdesk.gates import backtest_policy, parse_policy

    frame = pl.DataFrame({"ts": [at(h) for h, _ in calls], "cost": [c for _, c in calls]})
    burn = budget_burn(frame, budget=budget, day=DAY, as_of=at(hour))
    spent = burn.hourly["spent"].to_numpy()
    assert np.all(np.diff(spent) >= -1e-9)
    assert burn.groups["spent"][0] == pytest.approx(sum(c for h, c in calls if h < hour))
    full = budget_burn(frame, budget=budget, day=DAY, as_of=at(24))
    # the gate judges whole days of history: calls of no cost at the day's first hour and after it
    edges = pl.DataFrame({"ts": [at(0), at(24.5)], "cost": [0.0, 0.0]})
    table, _ = validate_frame(frame.vstack(edges), "llm_calls")
    gate = parse_policy(f'[[gate]]\nname = "b"\nmetric = "budget_burn:cost"\nbudget = {budget!r}\nthreshold = 0.8\n')
    alerts = backtest_policy(Dataset("<calls>", {"llm_calls": table}), gate, incidents=pl.DataFrame()).alerts
    on_day = alerts.filter(pl.col("ts") < at(24))["ts"].to_list()
    expected = full.groups["alert_at"][0]
    assert on_day == ([] if expected is None else [expected])


def test_sample_prompt_v3_day_burns_past_a_budget_set_for_v2(sample_dataset):
    calls = sample_dataset["llm_calls"].frame
    before = budget_burn(calls, budget={"ad_copy": 2.2}, by="feature", day=dt.date(2026, 9, 1))
    after = budget_burn(calls, budget={"ad_copy": 2.2}, by="feature", day=dt.date(2026, 9, 3))
    assert before.groups["alert_at"][0] is None and after.groups["alert_at"][0] is not None
    fig = after.to_figure()
    assert fig.layout.title.text.startswith("Budget burn on 2026-09-03")
