"""The deterministic generator behind sample_data/: the "Northwind Outdoor" story of sample_data/STORY.md.

Everything comes from ``numpy.random.default_rng(seed)`` (one spawned stream per table, drawn in a fixed order),
arrays are built with numpy and written by polars with fixed options, so the default run reproduces the bundled files byte
for byte. Volumes carry a daily and a weekly cycle plus calendar days (payday on the 1st, US Labor Day);
the incidents a..f of the story are injected at their exact times, and left out when ``days`` ends earlier.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path

import numpy as np
import polars as pl

from driftdesk.bounds import SAMPLE_DAYS, SAMPLE_SCALE, SEED
from driftdesk.contract import MAPPING_FILE, write_mappings
from driftdesk.errors import DriftdeskError

START = datetime(2026, 8, 3)  # a Monday
STORY_DAYS = 91
US = 3600 * 1_000_000  # microseconds per hour

GEOS = ("US", "GB", "DE", "BR", "IN")
DEVICES = ("mobile", "desktop", "tablet")
SOURCES = ("search", "social", "affiliate", "display")
FEATURES = ("recency_days", "session_depth", "ctr_7d", "bid_floor_usd", "page_speed_ms", "ad_format", "browser")

# per-segment economics (USD): impression volume, click-through, cost per click, conversion rate, order value
GEO_VOLUME = np.array([1.00, 0.35, 0.35, 0.25, 0.45])
DEVICE_VOLUME = np.array([0.55, 0.35, 0.10])
SOURCE_VOLUME = np.array([0.35, 0.30, 0.15, 0.20])
SOURCE_CTR = np.array([0.045, 0.012, 0.020, 0.004])
DEVICE_CTR = np.array([1.10, 1.00, 0.90])
GEO_CPC = np.array([1.20, 0.95, 0.85, 0.25, 0.12])
SOURCE_CPC = np.array([1.30, 0.80, 0.90, 0.50])
SOURCE_CR = np.array([0.050, 0.020, 0.035, 0.012])
DEVICE_CR = np.array([0.85, 1.20, 1.00])
GEO_CR = np.array([1.00, 0.95, 1.05, 0.70, 0.60])
GEO_AOV = np.array([85.0, 70.0, 75.0, 35.0, 20.0])
IMPRESSIONS_PER_HOUR = 1_200_000.0  # all segments, on an average hour
DECISIONS_PER_DAY = 3_300.0  # scored requests kept in the sample, before scale
LLM_CALLS_PER_HOUR = {"ad_copy": 12.0, "keyword_expansion": 8.0, "support_chat": 20.0}


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


# the story's moments (UTC)
INC_A = (_t("2026-08-26T10:00"), _t("2026-08-28T16:00"))
INC_B = (_t("2026-09-14T00:00"), _t("2026-09-21T00:00"))
INC_F = (_t("2026-09-29T13:00"), _t("2026-09-29T17:00"))
CANARY, FULL, ROLLBACK = _t("2026-10-05T00:00"), _t("2026-10-07T00:00"), _t("2026-10-12T00:00")
INC_D = (_t("2026-10-19T00:00"), _t("2026-11-02T00:00"))
PROMPT_V3 = _t("2026-09-02T00:00")
PROVIDER = (_t("2026-09-23T00:00"), _t("2026-09-25T00:00"))
INDEX = (_t("2026-10-14T00:00"), _t("2026-10-16T00:00"))
THRESHOLD_CHANGE = _t("2026-09-08T00:00")
LABOR_DAY = _t("2026-09-07T00:00")
CANARY_SHARE = 0.10
DE_CPA_UPLIFT = 0.15
TABLET_CR_DROP = 0.35
LABEL_DELAY_DAYS = 3
V20_STRETCH = 1.8
V20_DE_SHIFT = 1.2
LEAD_COST_SHARE = 0.15

INCIDENTS = (
    ("INC-a", INC_A[0], INC_A[1], "data", "P2", "source=affiliate",
     "tracking SDK update (release fv-2026-08-26-tracking-sdk-4.2) drops ctr_7d: null rate ~2% -> ~60% in affiliate"),
    ("INC-e1", PROMPT_V3, _t("2026-09-03T00:00"), "llm", "P3", "feature=ad_copy",
     "prompt v3 raises output tokens ~+25% with a small quality gain (judge +0.02): a cost regression"),
    ("INC-b", INC_B[0], INC_B[1], "business", "P2", "geo=BR",
     "partner campaign doubles BR's share of traffic; each segment's CR and CPC hold: global CPA moves by mix"),
    ("INC-e2", PROVIDER[0], PROVIDER[1], "llm", "P1", "model=provider-m-2026-09",
     "provider model update raises validator (format) failures ~0.5% -> ~3%; pinned back on 09-25"),
    ("INC-f", INC_F[0], INC_F[1], "service", "P1", "service=scoring-api",
     "scoring-api p99 latency doubles and timeouts spike x20 for four hours"),
    ("INC-c", CANARY, ROLLBACK, "model", "P1", "geo=DE",
     "model v2.0 (canary 10% from 10-05, full from 10-07) keeps AUC but is overconfident: DE CPA +15%; rolled back"),
    ("INC-e3", INDEX[0], INDEX[1], "llm", "P2", "index=idx-2026-10",
     "index rebuild drops golden recall@5 ~8% (0.80 -> 0.74) and nudges judge scores down"),
    ("INC-d", INC_D[0], INC_D[1], "model", "P2", "device=tablet",
     "gradual concept drift: tablet conversion rate decays linearly to -35% over two weeks; scores do not follow"),
)

RELEASES = (
    # ts, release_id, component, version, traffic_share, note
    (_t("2026-06-22T00:00"), "llm-provider-m-2026-06", "llm_model", "provider-m-2026-06", 1.0, "baseline LLM"),
    (_t("2026-07-06T00:00"), "index-idx-2026-07", "index", "idx-2026-07", 1.0, "baseline retriever index"),
    (_t("2026-07-15T00:00"), "prompt-v2", "prompt", "v2", 1.0, "baseline ad_copy prompt"),
    (_t("2026-07-20T00:00"), "model-v1.9", "model", "v1.9", 1.0, "baseline conversion model"),
    (INC_A[0], "fv-2026-08-26-tracking-sdk-4.2", "feature_view", "tracking-sdk-4.2", 1.0,
     "tracking SDK update in the affiliate feed"),
    (INC_A[1], "fv-2026-08-28-tracking-sdk-4.2.1", "feature_view", "tracking-sdk-4.2.1", 1.0,
     "SDK fix restores ctr_7d"),
    (PROMPT_V3, "prompt-v3", "prompt", "v3", 1.0, "ad_copy prompt v3: longer, slightly better copy"),
    (THRESHOLD_CHANGE, "threshold-0.28", "threshold", "0.28", 1.0, "bid threshold 0.30 -> 0.28"),
    (PROVIDER[0], "llm-provider-m-2026-09", "llm_model", "provider-m-2026-09", 1.0, "provider model update"),
    (PROVIDER[1], "llm-provider-m-2026-06-pin", "llm_model", "provider-m-2026-06", 1.0, "pinned back"),
    (CANARY, "model-v2.0-canary", "model", "v2.0", CANARY_SHARE, "canary"),
    (FULL, "model-v2.0-full", "model", "v2.0", 1.0, "full traffic"),
    (ROLLBACK, "model-v1.9-rollback", "model", "v1.9", 1.0, "rollback after DE CPA rose"),
    (INDEX[0], "index-idx-2026-10", "index", "idx-2026-10", 1.0, "retriever index rebuild"),
    (INDEX[1], "index-idx-2026-07-rollback", "index", "idx-2026-07", 1.0, "index rebuild rolled back"),
    (_t("2026-10-26T00:00"), "config-2026-10-26", "config", "2026-10-26", 1.0, "bidder config refresh (no effect)"),
)

PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "statistics": True, "row_group_size": 131_072}


@dataclass(frozen=True)
class Clock:
    """The hourly grid of the generated period."""

    days: int

    @property
    def hours(self) -> int:
        return self.days * 24

    @property
    def end(self) -> datetime:
        return START + timedelta(days=self.days)

    def hour_of(self, moment: datetime) -> int:
        """Index of the hour starting at ``moment`` (may fall outside the period)."""
        return int((moment - START) / timedelta(hours=1))

    def mask(self, start: datetime, end: datetime) -> np.ndarray:
        h = np.arange(self.hours)
        return (h >= self.hour_of(start)) & (h < self.hour_of(end))

    def ts(self, hour_index: np.ndarray, offset_us: np.ndarray | None = None) -> pl.Series:
        base = int((START - datetime(1970, 1, 1)) / timedelta(microseconds=1))
        values = base + hour_index.astype(np.int64) * US
        if offset_us is not None:
            values = values + offset_us.astype(np.int64)
        return pl.Series("ts", values, dtype=pl.Int64).cast(pl.Datetime("us"))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def _daily_shape(hour_of_day: np.ndarray) -> np.ndarray:
    """Peak around 20:00 UTC, trough in the early morning; averages to 1."""
    wave = 0.5 * (1.0 + np.cos(2 * np.pi * (hour_of_day - 20) / 24))
    shape = 0.30 + 0.70 * wave**1.4
    return shape / shape.mean()


def _calendar_days(clock: Clock) -> list[tuple[datetime, str, str, str | None]]:
    """(date, name, kind, segment) for the calendar days inside the period."""
    days: list[tuple[datetime, str, str, str | None]] = []
    month = datetime(START.year, START.month, 1)
    while month < clock.end:
        if month >= START:
            days.append((month, "payday promotion", "promotion", None))
        month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
    if START <= LABOR_DAY < clock.end:
        days.append((LABOR_DAY, "US Labor Day", "holiday", "geo=US"))
    return sorted(days)


def _segment_index() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.arange(len(GEOS) * len(DEVICES) * len(SOURCES))
    return s // 12, (s // 4) % 3, s % 4


def _v2_share(clock: Clock) -> np.ndarray:
    """Share of traffic scored by model v2.0, per hour."""
    share = np.zeros(clock.hours)
    share[clock.mask(CANARY, FULL)] = CANARY_SHARE
    share[clock.mask(FULL, ROLLBACK)] = 1.0
    return share


def _tablet_decay(clock: Clock) -> np.ndarray:
    """Multiplier of tablet conversion rates per hour: 1 until INC-d, then linear to 1-0.35 over two weeks."""
    h = np.arange(clock.hours)
    start, end = clock.hour_of(INC_D[0]), clock.hour_of(INC_D[1])
    frac = np.clip((h - start + 0.5) / (end - start), 0.0, 1.0)
    return np.where(h >= start, 1.0 - TABLET_CR_DROP * frac, 1.0)


def _volume(clock: Clock, rng: np.random.Generator) -> np.ndarray:
    """Expected impressions per (hour, segment): seasonality, calendar days and INC-b's BR surge."""
    geo, dev, src = _segment_index()
    h = np.arange(clock.hours)
    day, hod = h // 24, h % 24
    dow = day % 7  # START is a Monday
    weekend = dow >= 5
    base = IMPRESSIONS_PER_HOUR * GEO_VOLUME[geo] * DEVICE_VOLUME[dev] * SOURCE_VOLUME[src]
    base = base / base.sum() * IMPRESSIONS_PER_HOUR
    weekly_device = np.where(weekend[:, None], np.array([1.12, 0.75, 1.08])[dev][None, :], 1.0)
    weekday_wobble = np.array([1.00, 1.02, 1.03, 1.02, 0.98, 1.0, 1.0])[dow]
    lam = base[None, :] * _daily_shape(hod)[:, None] * weekly_device * weekday_wobble[:, None]
    # calendar: payday +45% everywhere, Labor Day -30% in the US
    for date, _name, kind, _segment in _calendar_days(clock):
        rows = clock.mask(date, date + timedelta(days=1))
        if kind == "promotion":
            lam[rows] *= 1.45
        else:
            lam[np.ix_(rows, geo == 0)] *= 0.70
    # day-to-day overdispersion per segment
    noise = np.exp(rng.normal(0.0, 0.03, size=(clock.days, base.size)))
    lam *= np.repeat(noise, 24, axis=0)
    # INC-b: BR scaled so that its share of impressions doubles
    s = base[geo == 3].sum() / base.sum()
    factor = 2.0 * (1.0 - s) / (1.0 - 2.0 * s)
    lam[:, geo == 3] *= np.where(clock.mask(*INC_B), factor, 1.0)[:, None]
    return lam


def _kpis(clock: Clock, lam: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    geo, dev, src = _segment_index()
    n_seg = geo.size
    ctr = SOURCE_CTR[src] * DEVICE_CTR[dev]
    cpc = GEO_CPC[geo] * SOURCE_CPC[src]
    cr = np.broadcast_to(SOURCE_CR[src] * DEVICE_CR[dev] * GEO_CR[geo], lam.shape).copy()
    cr[:, dev == 2] *= _tablet_decay(clock)[:, None]
    # INC-c: in DE the overconfident v2.0 buys worse traffic; CPA rises 15% x its traffic share
    cr[:, geo == 2] /= (1.0 + DE_CPA_UPLIFT * _v2_share(clock))[:, None]
    impressions = rng.poisson(lam)
    clicks = rng.binomial(impressions, np.broadcast_to(ctr, lam.shape))
    conversions = rng.binomial(clicks, cr)
    spend = rng.gamma(np.maximum(clicks, 1) * 4.0, 0.25) * np.where(clicks > 0, 1.0, 0.0) * cpc
    revenue = rng.gamma(np.maximum(conversions, 1) * 2.0, 0.5) * np.where(conversions > 0, 1.0, 0.0) * GEO_AOV[geo]
    hour_index = np.repeat(np.arange(clock.hours), n_seg)
    seg = np.tile(np.arange(n_seg), clock.hours)
    return pl.DataFrame(
        {
            "ts": clock.ts(hour_index),
            "geo": np.array(GEOS)[geo[seg]],
            "device": np.array(DEVICES)[dev[seg]],
            "source": np.array(SOURCES)[src[seg]],
            "impressions": impressions.ravel().astype(np.int32),
            "clicks": clicks.ravel().astype(np.int32),
            "conversions": conversions.ravel().astype(np.int32),
            "spend": np.round(spend.ravel(), 2).astype(np.float32),
            "revenue": np.round(revenue.ravel(), 2).astype(np.float32),
        }
    )


def _decisions(clock: Clock, lam: np.ndarray, rng: np.random.Generator, scale: int) -> pl.DataFrame:
    geo_s, dev_s, src_s = _segment_index()
    rate = DECISIONS_PER_DAY / (IMPRESSIONS_PER_HOUR * 24) * scale
    counts = rng.poisson(lam * rate).ravel()
    cell = np.repeat(np.arange(counts.size), counts)
    hour = cell // geo_s.size
    seg = cell % geo_s.size
    n = cell.size
    geo, dev, src = geo_s[seg], dev_s[seg], src_s[seg]
    offset = rng.integers(0, US, size=n)
    order = np.lexsort((offset, hour))  # sort by time
    hour, seg, geo, dev, src, offset = hour[order], seg[order], geo[order], dev[order], src[order], offset[order]

    # features
    recency = rng.gamma(1.2, 8.0, size=n)
    depth = 1 + rng.poisson(np.array([2.5, 4.0, 3.0])[dev])
    ctr_true = rng.beta(8.0, 8.0 / (SOURCE_CTR[src] * 3.0) - 8.0)
    bid_floor = np.exp(rng.normal(np.log(0.4 * GEO_CPC[geo]), 0.35))
    speed = np.exp(rng.normal(np.log(np.array([1900.0, 1100.0, 1500.0])[dev]), 0.4))
    formats = np.array(["banner", "native", "video", "text"])
    fmt = rng.choice(4, size=n, p=[0.35, 0.30, 0.15, 0.20])
    browsers = np.array(["chrome", "safari", "edge", "firefox", "samsung"])
    browser_p = np.array([[0.50, 0.35, 0.01, 0.02, 0.12], [0.62, 0.12, 0.16, 0.10, 0.00], [0.35, 0.55, 0.02, 0.03, 0.05]])
    u = rng.random(n)
    brw = (u[:, None] > np.cumsum(browser_p[dev], axis=1)).sum(axis=1)

    # INC-a: the tracking SDK drops ctr_7d in affiliate traffic (2% baseline missingness everywhere)
    in_a = clock.mask(*INC_A)[hour] & (src == 2)
    missing = rng.random(n) < np.where(in_a, 0.60, 0.02)

    def z(x: np.ndarray) -> np.ndarray:
        return (x - x.mean()) / x.std()

    x_recency = z(-np.log1p(recency))
    x_depth = z(np.log(depth))
    x_ctr = z(_logit(ctr_true))
    x_speed = z(np.log(speed))
    fmt_effect = np.array([-0.10, 0.10, 0.20, 0.0])[fmt]
    seg_cr = SOURCE_CR[src] * DEVICE_CR[dev] * GEO_CR[geo]
    seg_logit = 1.05 * (np.log(seg_cr) - np.log(0.03)) - 1.75
    observed = seg_logit + 0.55 * x_recency + 0.40 * x_depth + 0.45 * x_ctr - 0.25 * x_speed + fmt_effect
    hidden = rng.normal(0.0, 0.6, size=n)
    true_logit = observed + hidden
    p_true = _sigmoid(true_logit)
    p_true = p_true * np.where(dev == 2, _tablet_decay(clock)[hour], 1.0)  # INC-d: the world drifts
    label = (rng.random(n) < p_true).astype(np.int8)

    # model v1.9: sees the observed part (ctr_7d imputed at its mean when missing), calibrated for the hidden noise
    seen = observed - np.where(missing, 0.45 * x_ctr, 0.0)
    kappa = 1.0 / np.sqrt(1.0 + np.pi * 0.6**2 / 8.0)
    logit_v19 = kappa * seen + rng.normal(0.0, 0.15, size=n)
    score_v19 = _sigmoid(logit_v19)
    # model v2.0: same ranking, overconfident: the logit is stretched x1.8 around the bid threshold, so scores move
    # away from it (and from the mean) while the decisions stay put; in DE it is also shifted up (its DE training
    # slice was stale), so it bids on worse DE traffic
    threshold = np.where(hour >= clock.hour_of(THRESHOLD_CHANGE), 0.28, 0.30)
    centre = _logit(threshold)
    score_v20 = _sigmoid(centre + V20_STRETCH * (logit_v19 - centre) + np.where(geo == 2, V20_DE_SHIFT, 0.0))
    share = _v2_share(clock)[hour]
    on_v20 = rng.random(n) < share
    score = np.round(np.where(on_v20, score_v20, score_v19), 5).astype(np.float32)  # as stored
    decision = (score.astype(np.float64) > threshold).astype(np.int8)
    full = hour >= clock.hour_of(FULL)
    rollback = hour >= clock.hour_of(ROLLBACK)
    release = np.where(
        on_v20,
        np.where(full, "model-v2.0-full", "model-v2.0-canary"),
        np.where(rollback, "model-v1.9-rollback", "model-v1.9"),
    )
    # the market price of a won lead, independent of the score: a worse bid set shows up as a higher CPA
    spend = decision * LEAD_COST_SHARE * GEO_AOV[geo] * SOURCE_CPC[src] * rng.gamma(4.0, 0.25, size=n)
    revenue = decision * label * GEO_AOV[geo] * rng.gamma(2.0, 0.5, size=n)
    matured = hour < clock.hours - LABEL_DELAY_DAYS * 24
    return pl.DataFrame(
        {
            "ts": clock.ts(hour, offset),
            "geo": np.array(GEOS)[geo],
            "device": np.array(DEVICES)[dev],
            "source": np.array(SOURCES)[src],
            "recency_days": np.round(recency, 2).astype(np.float32),
            "session_depth": depth.astype(np.int16),
            "ctr_7d": pl.Series(np.round(ctr_true, 5).astype(np.float32)).scatter(np.flatnonzero(missing), None),
            "bid_floor_usd": np.round(bid_floor, 3).astype(np.float32),
            "page_speed_ms": np.round(speed).astype(np.int32),
            "ad_format": formats[fmt],
            "browser": browsers[brw],
            "score": score,
            "label": pl.Series(label).scatter(np.flatnonzero(~matured), None),
            "decision": decision,
            "spend": np.round(spend, 3).astype(np.float32),
            "revenue": pl.Series(np.round(revenue, 2).astype(np.float32)).scatter(np.flatnonzero(~matured), None),
            "model_version": np.where(on_v20, "v2.0", "v1.9"),
            "release_id": release,
        }
    )


def _llm_calls(clock: Clock, rng: np.random.Generator, scale: int) -> pl.DataFrame:
    names = list(LLM_CALLS_PER_HOUR)
    h = np.arange(clock.hours)
    shape = 0.5 + 0.5 * _daily_shape(h % 24)
    lam = np.array([LLM_CALLS_PER_HOUR[f] for f in names])[None, :] * shape[:, None] * scale
    counts = rng.poisson(lam).ravel()
    cell = np.repeat(np.arange(counts.size), counts)
    hour, feat = cell // len(names), cell % len(names)
    n = cell.size
    offset = rng.integers(0, US, size=n)
    order = np.lexsort((offset, hour))
    hour, feat, offset = hour[order], feat[order], offset[order]

    v3 = (feat == 0) & (hour >= clock.hour_of(PROMPT_V3))
    new_model = clock.mask(*PROVIDER)[hour]
    new_index = clock.mask(*INDEX)[hour]
    prompt = np.where(feat == 0, np.where(v3, "v3", "v2"), "v1")
    model = np.where(new_model, "provider-m-2026-09", "provider-m-2026-06")
    index = np.where(new_index, "idx-2026-10", "idx-2026-07")

    in_tokens = np.round(np.exp(rng.normal(np.log(np.array([1200.0, 600.0, 2000.0])[feat]), 0.25)))
    out_mean = np.array([220.0, 150.0, 350.0])[feat] * np.where(v3, 1.25, 1.0)
    out_tokens = np.round(np.exp(rng.normal(np.log(out_mean) - 0.045, 0.30)))
    ttft = np.exp(rng.normal(np.log(np.array([450.0, 350.0, 600.0])[feat]), 0.30))
    latency = ttft + out_tokens * np.exp(rng.normal(np.log(9.0), 0.15, size=n))
    cost = in_tokens * 3e-6 + out_tokens * 15e-6
    validator_fail = rng.random(n) < np.where(new_model, 0.03, 0.005)
    refusal = rng.random(n) < np.array([0.002, 0.001, 0.010])[feat]
    error = rng.random(n) < 0.002
    judge_mean = 0.80 + np.where(v3, 0.02, 0.0) - np.where(new_index, 0.03, 0.0)
    judge = np.clip(rng.beta(judge_mean * 40.0, (1.0 - judge_mean) * 40.0), 0.0, 1.0)
    has_feedback = rng.random(n) < 0.06
    feedback = rng.choice(np.array([-1.0, 0.0, 1.0]), size=n, p=[0.15, 0.25, 0.60])
    release = np.select(
        [new_index, new_model, v3, hour >= clock.hour_of(INDEX[1]), hour >= clock.hour_of(PROVIDER[1])],
        ["index-idx-2026-10", "llm-provider-m-2026-09", "prompt-v3", "index-idx-2026-07-rollback",
         "llm-provider-m-2026-06-pin"],
        "prompt-v2",
    )
    nothing = error  # an errored call returns no output and no judgement
    return pl.DataFrame(
        {
            "ts": clock.ts(hour, offset),
            "feature": np.array(names)[feat],
            "model": model,
            "prompt_version": prompt,
            "index_version": index,
            "latency_ms": np.round(latency, 1).astype(np.float32),
            "ttft_ms": np.round(ttft, 1).astype(np.float32),
            "input_tokens": in_tokens.astype(np.int32),
            "output_tokens": np.where(nothing, 0, out_tokens).astype(np.int32),
            "cost": np.round(cost, 6).astype(np.float32),
            "validator_ok": ~validator_fail & ~nothing,
            "refusal": refusal & ~nothing,
            "error": error,
            "user_feedback": pl.Series(feedback.astype(np.float32)).scatter(np.flatnonzero(~has_feedback), None),
            "judge_score": pl.Series(np.round(judge, 3).astype(np.float32)).scatter(np.flatnonzero(nothing), None),
            "release_id": release,
        }
    )


GOLDEN_CANDIDATES = ("prompt-v2", "prompt-v3", "llm-provider-m-2026-09", "index-idx-2026-10")


def _golden_runs(rng: np.random.Generator) -> pl.DataFrame:
    n_cases, repeats = 120, 3
    kinds = np.array(["happy"] * 60 + ["edge"] * 30 + ["known_failure"] * 15 + ["adversarial"] * 15)
    difficulty = rng.normal(0.0, 0.8, size=n_cases) + np.select(
        [kinds == "edge", kinds == "known_failure", kinds == "adversarial"], [0.6, 2.2, 1.2], 0.0)
    relevant_found = rng.binomial(5, 0.80, size=n_cases)
    # nudge a few cases so the baseline recall@5 is exactly 0.80 (the story's number)
    gap = int(round(0.80 * 5 * n_cases)) - int(relevant_found.sum())
    room = np.flatnonzero(relevant_found < 5) if gap > 0 else np.flatnonzero(relevant_found > 0)
    relevant_found[rng.choice(room, size=abs(gap), replace=False)] += int(np.sign(gap))
    # the index rebuild loses about 8% of the relevant documents found in the top 5
    lost = np.zeros(n_cases, dtype=np.int64)
    candidates = np.flatnonzero(relevant_found > 0)
    n_lost = int(round(0.075 * relevant_found.sum()))
    lost[rng.choice(candidates, size=n_lost, replace=False)] = 1
    case = np.repeat(np.arange(n_cases), repeats)
    repeat = np.tile(np.arange(repeats), n_cases)
    shared_noise = rng.normal(0.0, 0.45, size=case.size)  # the same sampling luck for every candidate: a paired set
    frames = []
    for release in GOLDEN_CANDIDATES:
        found = relevant_found - (lost if release == "index-idx-2026-10" else 0)
        quality = {"prompt-v2": 0.0, "prompt-v3": 0.10, "llm-provider-m-2026-09": -0.35, "index-idx-2026-10": -0.15}[release]
        logit = (2.0 - difficulty[case] + quality + 1.2 * (found[case] / 5 - 0.8) + shared_noise
                 + rng.normal(0.0, 0.2, size=case.size))
        score = _sigmoid(logit * 0.8 + 0.2)
        recall = found[case] / 5.0
        ndcg = np.clip(recall * rng.uniform(0.85, 1.0, size=case.size), 0.0, 1.0)
        tokens = np.round(np.exp(rng.normal(np.log(230.0 * (1.25 if release == "prompt-v3" else 1.0)), 0.25, size=case.size)))
        frames.append(pl.DataFrame({
            "release_id": np.full(case.size, release),
            "case_id": np.char.add("case-", np.char.zfill(case.astype(str), 3)),
            "case_kind": kinds[case],
            "repeat": repeat.astype(np.int16),
            "passed": score >= 0.70,
            "score": np.round(score, 4).astype(np.float32),
            "recall_at_k": recall.astype(np.float32),
            "ndcg": np.round(ndcg, 4).astype(np.float32),
            "tokens": tokens.astype(np.int32),
            "latency_ms": np.round(np.exp(rng.normal(np.log(1900.0), 0.3, size=case.size)), 1).astype(np.float32),
        }))
    return pl.concat(frames)


SERVICES = ("scoring-api", "bidder", "llm-gateway")


def _service(clock: Clock, lam: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    traffic = lam.sum(axis=1)
    load = traffic / traffic.mean()
    llm_load = 0.5 + 0.5 * _daily_shape(np.arange(clock.hours) % 24)
    requests_mean = np.stack([traffic * 0.25, traffic * 0.25 * 0.6, llm_load * 40.0 * 3.0], axis=1)
    requests = rng.poisson(requests_mean)
    base_p50 = np.array([18.0, 9.0, 850.0])
    load_col = np.stack([load, load, llm_load], axis=1)
    p50 = base_p50 * (0.9 + 0.1 * load_col) * np.exp(rng.normal(0.0, 0.04, size=requests.shape))
    p95 = p50 * 2.4 * np.exp(rng.normal(0.0, 0.05, size=requests.shape))
    p99 = p95 * 1.7 * np.exp(rng.normal(0.0, 0.07, size=requests.shape))
    timeout_rate = np.broadcast_to(np.array([2e-4, 1e-4, 1e-3]), requests.shape).copy()
    in_f = clock.mask(*INC_F)
    p99[in_f, 0] *= 2.0
    p95[in_f, 0] *= 1.4
    timeout_rate[in_f, 0] *= 20.0
    timeouts = rng.binomial(requests, timeout_rate)
    errors = rng.binomial(requests, np.array([5e-4, 3e-4, 2e-3])) + timeouts
    queue = rng.poisson(np.array([4.0, 2.0, 6.0]) * load_col * np.where(in_f[:, None] & (np.arange(3) == 0), 5.0, 1.0))
    hour = np.repeat(np.arange(clock.hours), len(SERVICES))
    return pl.DataFrame({
        "ts": clock.ts(hour),
        "service": np.tile(np.array(SERVICES), clock.hours),
        "requests": requests.ravel().astype(np.int32),
        "errors": errors.ravel().astype(np.int32),
        "timeouts": timeouts.ravel().astype(np.int32),
        "latency_p50_ms": np.round(p50.ravel(), 1).astype(np.float32),
        "latency_p95_ms": np.round(p95.ravel(), 1).astype(np.float32),
        "latency_p99_ms": np.round(p99.ravel(), 1).astype(np.float32),
        "queue_depth": queue.ravel().astype(np.int32),
    })


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _releases(clock: Clock, rng: np.random.Generator) -> pl.DataFrame:
    rows = [r for r in RELEASES if r[0] < clock.end]
    commits = ["".join(f"{b:02x}" for b in rng.integers(0, 256, size=20)) for _ in RELEASES][: len(rows)]
    return pl.DataFrame({
        "ts": [_iso(r[0]) for r in rows],
        "release_id": [r[1] for r in rows],
        "component": [r[2] for r in rows],
        "version": [r[3] for r in rows],
        "git_commit": commits,
        "traffic_share": [r[4] for r in rows],
        "note": [r[5] for r in rows],
    })


def _incidents(clock: Clock) -> pl.DataFrame:
    rows = [r for r in INCIDENTS if r[1] < clock.end]
    return pl.DataFrame({
        "incident_id": [r[0] for r in rows],
        "start": [_iso(r[1]) for r in rows],
        "end": [_iso(min(r[2], clock.end)) for r in rows],
        "layer": [r[3] for r in rows],
        "severity": [r[4] for r in rows],
        "segment": [r[5] for r in rows],
        "cause": [r[6] for r in rows],
    }, schema={k: pl.String for k in ("incident_id", "start", "end", "layer", "severity", "segment", "cause")})


def _calendar(clock: Clock) -> pl.DataFrame:
    days = _calendar_days(clock)
    return pl.DataFrame({
        "date": [d.strftime("%Y-%m-%d") for d, *_ in days],
        "name": [name for _, name, _, _ in days],
        "kind": [kind for _, _, kind, _ in days],
        "segment": [segment for *_, segment in days],
    }, schema={k: pl.String for k in ("date", "name", "kind", "segment")})


def write_sample(out: Path, *, seed: int = 7, days: int = STORY_DAYS, scale: int = 1) -> list[Path]:
    """Write every sample table into ``out`` and return the paths written (same seed -> same bytes).

    Nothing is half-written: the tables are written into a temporary folder beside ``out`` and moved into place
    only when every one is done (a new ``out`` appears whole, by one rename; into an existing folder each file
    replaces its old version, and the folder's other files stay). On any failure nothing is left behind.
    """
    for bound, value in ((SAMPLE_DAYS, days), (SAMPLE_SCALE, scale), (SEED, seed)):
        bound.check(value, where="sample")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DriftdeskError(f"sample: {out} exists and is not a folder")
    created = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as exc:
        raise DriftdeskError(f"sample: cannot write into {out.parent}: {exc}") from exc
    try:
        if (out / MAPPING_FILE).is_file():  # its other settings (a calendar) are kept, as write_mappings keeps them
            shutil.copyfile(out / MAPPING_FILE, tmp / MAPPING_FILE)
        names = [p.name for p in _write_tables(tmp, seed=seed, days=days, scale=scale)]
        if out.exists():
            for name in names:
                os.replace(tmp / name, out / name)
        else:
            os.replace(tmp, out)
    except OSError as exc:
        raise DriftdeskError(f"sample: cannot write the sample into {out}: {exc}; nothing was written") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for folder in created if not out.exists() else ():
            shutil.rmtree(folder, ignore_errors=True)
    return [out / name for name in names]


def _write_tables(out: Path, *, seed: int, days: int, scale: int) -> list[Path]:
    clock = Clock(days)
    # one independent stream per table, spawned from the seed: changing how one table is drawn leaves the others alone
    volume_rng, kpis_rng, decisions_rng, llm_rng, golden_rng, service_rng, releases_rng = (
        np.random.default_rng(seed).spawn(7))
    lam = _volume(clock, volume_rng)
    tables = {
        "kpis": _kpis(clock, lam, kpis_rng),
        "decisions": _decisions(clock, lam, decisions_rng, scale),
        "llm_calls": _llm_calls(clock, llm_rng, scale),
        "golden_runs": _golden_runs(golden_rng),
        "service": _service(clock, lam, service_rng),
    }
    written: list[Path] = []
    for name, frame in tables.items():
        path = out / f"{name}.parquet"
        frame.write_parquet(path, **PARQUET_OPTIONS)
        written.append(path)
    for name, frame in (("releases", _releases(clock, releases_rng)), ("incidents", _incidents(clock)),
                        ("calendar", _calendar(clock))):
        path = out / f"{name}.csv"
        frame.write_csv(path, line_terminator="\n")
        written.append(path)
    written.append(write_mappings(out, {"decisions": {"segments": ["geo", "device", "source"],
                                                      "features": list(FEATURES)}}))
    # the default gate policy travels with the data it was written for (package data, copied verbatim)
    policy = out / "policy.toml"
    policy.write_bytes(files("driftdesk.gates").joinpath("default_policy.toml").read_bytes())
    written.append(policy)
    return written
