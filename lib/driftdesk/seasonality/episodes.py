"""Alerts worth acting on: runs of abnormal flags grouped into episodes, one alert per episode, and an alert
budget per series and week.

An alert fires where a series' flag leaves ``normal`` (a run of non-normal points is one alert). A series that
keeps misbehaving raises run after run; here, walking forward in time (so each decision uses only the past):

* a run that starts within ``episode_gap`` of the end of the last run of its kind (drift, or anomaly) belongs to
  that ongoing episode: its points are set back to ``normal`` (the episode already alerted), and counted;
* a run that starts a new episode when the series has already raised ``alert_budget`` alerts in the trailing
  week is suppressed whole (points set to ``normal``), and so are the runs that continue it; both are counted.

Level shifts and anomalies are separate episodes: an ongoing burst of anomalies never hides a level shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftdesk.seasonality.state import DRIFT, NORMAL


@dataclass(frozen=True)
class EpisodeCounts:
    """Per series: alerts raised, episodes seen, runs folded into an ongoing episode, episodes over budget."""

    alerts: int = 0
    episodes: int = 0
    continued: int = 0
    suppressed: int = 0


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end] (inclusive) of each run of non-normal flags."""
    hit = (flags != NORMAL).astype(np.int8)
    if not hit.any():
        return []
    edges = np.diff(np.concatenate([[0], hit, [0]]))
    return [(int(a), int(b) - 1) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def group_episodes(flags: np.ndarray, *, gap: int, budget: int | None, week: int) -> tuple[np.ndarray, EpisodeCounts]:
    """The flags with continuing and over-budget runs set to normal, and the counts (see the module text)."""
    out = flags.copy()
    last_end = {True: -(10 ** 12), False: -(10 ** 12)}  # per kind (drift?): end of its last run
    alerts: list[int] = []
    counts = {"episodes": 0, "continued": 0, "suppressed": 0}
    for a, b in runs(flags):
        drift = bool((flags[a:b + 1] == DRIFT).any())
        ongoing = a - last_end[drift] <= gap
        last_end[drift] = b
        if ongoing:
            out[a:b + 1] = NORMAL
            counts["continued"] += 1
            continue
        counts["episodes"] += 1
        recent = sum(1 for t in alerts if t > a - week)
        if budget is not None and recent >= budget:
            out[a:b + 1] = NORMAL
            counts["suppressed"] += 1
            continue
        alerts.append(a)
    return out, EpisodeCounts(len(alerts), counts["episodes"], counts["continued"], counts["suppressed"])
