"""Episodes and the alert budget decide each run from the past only, and count what they fold or suppress."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.seasonality.episodes import group_episodes, runs
from driftdesk.seasonality.state import DRIFT, NORMAL

ANOMALY = next(v for v in (1, 2) if v not in (NORMAL, DRIFT))
flag_arrays = st.lists(st.sampled_from([NORMAL, NORMAL, NORMAL, ANOMALY, DRIFT]), min_size=0, max_size=120)


def arr(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int8)


def test_runs_split_where_the_kind_changes():
    f = arr([NORMAL, ANOMALY, ANOMALY, DRIFT, DRIFT, NORMAL, ANOMALY])
    assert runs(f) == [(1, 2), (3, 4), (6, 6)]
    assert runs(arr([])) == [] and runs(arr([NORMAL, NORMAL])) == []


def test_a_run_close_to_the_last_of_its_kind_continues_its_episode_by_hand():
    f = arr([ANOMALY, NORMAL, NORMAL, ANOMALY, NORMAL, DRIFT, NORMAL, NORMAL, NORMAL, NORMAL, ANOMALY])
    out, counts = group_episodes(f, gap=3, budget=None, week=100)
    # 3 is 3 steps after 0: the same anomaly episode; 5 is the first drift; 10 is 7 steps after 3: a new episode
    assert out.tolist() == [ANOMALY, NORMAL, NORMAL, NORMAL, NORMAL, DRIFT, NORMAL, NORMAL, NORMAL, NORMAL, ANOMALY]
    assert (counts.alerts, counts.episodes, counts.continued, counts.suppressed) == (3, 3, 1, 0)


def test_the_budget_suppresses_new_episodes_beyond_it_in_a_week():
    f = arr([ANOMALY, NORMAL] * 6)
    out, counts = group_episodes(f, gap=0, budget=2, week=8)
    assert out.tolist()[:8] == [ANOMALY, NORMAL, ANOMALY, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL]
    assert counts.suppressed >= 2 and counts.alerts + counts.suppressed == counts.episodes


@settings(max_examples=300, deadline=None)
@given(flag_arrays, st.integers(0, 8), st.one_of(st.none(), st.integers(0, 4)), st.integers(1, 40), st.data())
def test_episodes_never_look_ahead(values, gap, budget, week, data):
    flags = arr(values)
    cut = data.draw(st.integers(0, flags.size))
    full, _ = group_episodes(flags, gap=gap, budget=budget, week=week)
    short, _ = group_episodes(flags[:cut], gap=gap, budget=budget, week=week)
    assert full[:cut].tolist() == short.tolist()
