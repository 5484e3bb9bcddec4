"""A folder in someone else's shape for the engine comparisons: Parquet files not named after tables, columns
named by a mapping (``driftdesk.toml``), timestamps with a UTC zone every five minutes, a day missing from the
KPIs and night hours missing from one country, labels that have not matured, and a candidate model on part of
the traffic from day 12 (a canary whose conversion rate drops in FR), with releases, an incident log and a gate
policy (a seasonality flag, a ratio per segment, a numeric PSI)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

START = dt.datetime(2026, 3, 2)  # a Monday
DAYS = 16
MISSING_DAY = dt.date(2026, 3, 11)
CANARY_FROM = START + dt.timedelta(days=11)
TOML = """[mapping.kpis]
file = "export.parquet"
ts = "Event Time"
spend = "Cost (USD)"
clicks = "Clicks"
conversions = "Purchases"
impressions = "Impressions"
revenue = "Purchase Value"
segments = ["Country", "Device"]

[mapping.decisions]
file = "scored.parquet"
ts = "scored_at"
score = "p_convert"
label = "converted"
decision = "decided"
spend = "cost_usd"
model_version = "model"
segments = ["country"]
features = ["bid_usd", "channel"]
"""
POLICY = """[policy]
name = "foreign"
grace = "24h"

[[gate]]
name = "cpa_flags"
metric = "seasonality_flag:cpa"
by = ["Country"]
comparison = "absolute"
threshold = 0.25
direction = "above"
window = "24h"

[[gate]]
name = "outcomes_by_country"
metric = "observed_to_predicted"
by = ["country"]
comparison = "day_over_day"
change = "relative"
threshold = 0.25
direction = "below"
window = "24h"
min_sample = 50

[[gate]]
name = "bid_psi"
metric = "psi:bid_usd"
comparison = "day_over_day"
threshold = 0.1
direction = "above"
window = "24h"
"""


def write_foreign(folder: Path) -> Path:
    rng = np.random.default_rng(11)
    ts = pl.datetime_range(START, START + dt.timedelta(days=DAYS), "5m", closed="left", eager=True, time_zone="UTC")
    grid = (pl.DataFrame({"Event Time": ts}).join(pl.DataFrame({"Country": ["US", "DE", "FR"]}), how="cross")
            .join(pl.DataFrame({"Device": ["ios", "web"]}), how="cross"))
    t = grid["Event Time"].dt.replace_time_zone(None)
    night_fr = (grid["Country"] == "FR") & t.dt.hour().is_between(2, 4)
    grid = grid.filter((t.dt.date() != MISSING_DAY) & ~night_fr)
    n = grid.height
    clicks = rng.poisson(60, n).astype(float)
    purchases = rng.binomial(clicks.astype(int), 0.05).astype(float)
    grid.with_columns(pl.Series("Impressions", clicks * 25), pl.Series("Clicks", clicks),
                      pl.Series("Purchases", purchases), pl.Series("Cost (USD)", clicks * rng.uniform(0.3, 0.8, n)),
                      pl.Series("Purchase Value", purchases * rng.gamma(4, 10, n))).write_parquet(folder / "export.parquet")

    m = 24_000
    at = np.datetime64(START, "us") + (rng.uniform(0, DAYS * 86_400, m) * 1e6).astype("timedelta64[us]")
    at = np.sort(at)
    country = rng.choice(["US", "DE", "FR"], m, p=[0.5, 0.3, 0.2])
    candidate = (at >= np.datetime64(CANARY_FROM)) & (rng.uniform(size=m) < 0.4)
    score = rng.beta(2, 18, m)
    p = np.where(candidate & (country == "FR"), score * 0.4, score)
    label = (rng.uniform(size=m) < p).astype(float)
    mature = at < np.datetime64(START + dt.timedelta(days=DAYS - 2))
    bid = rng.gamma(3, 0.4, m)
    pl.DataFrame({
        "scored_at": pl.Series(at).dt.replace_time_zone("UTC"), "country": country,
        "p_convert": score, "converted": pl.Series(np.where(mature, label, np.nan)).fill_nan(None).cast(pl.Int8),
        "decided": (score > 0.1).astype(np.int8), "model": np.where(candidate, "m-2", "m-1"),
        "cost_usd": rng.gamma(2, 0.5, m),
        "bid_usd": pl.Series(np.where(rng.uniform(size=m) < 0.03, np.nan, bid)).fill_nan(None),
        "channel": rng.choice(["search", "social", "display"], m),
    }).write_parquet(folder / "scored.parquet")
    pl.DataFrame({"ts": [START.isoformat() + "Z", CANARY_FROM.isoformat() + "Z"],
                  "release_id": ["model-m-1", "model-m-2"], "component": ["model", "model"], "version": ["m-1", "m-2"],
                  "traffic_share": [1.0, 0.4]}).write_csv(folder / "releases.csv")
    start = CANARY_FROM + dt.timedelta(days=1)
    pl.DataFrame({"incident_id": ["FR-1"], "start": [start.isoformat() + "Z"],
                  "end": [(start + dt.timedelta(hours=30)).isoformat() + "Z"], "layer": ["model"],
                  "severity": ["P2"], "segment": ["country=FR"], "cause": ["candidate model under-converts in FR"]}
                 ).write_csv(folder / "incidents.csv")
    (folder / "driftdesk.toml").write_text(TOML, encoding="utf-8")
    (folder / "policy.toml").write_text(POLICY, encoding="utf-8")
    return folder
