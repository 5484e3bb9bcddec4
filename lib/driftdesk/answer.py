"""The day's answer in one sentence, at the top of the Overview: what moved most, and for a business ratio why.

A leader opening the Overview reads one sentence: the most serious change of the day against its baseline, with
its values, and for CPA, ROAS or a conversion rate the segments behind it, split into mix and rate as on the
Segments & impact page ("CPA rose 12% week over week ($20.00 → $22.40): -10% conversion rate on platform=ios
(rate, +$1.90), ..."); then the other flags in a few words. A quiet day says so, with the day's CPA.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from driftdesk.business import IMPACT_METRICS, RATIOS, format_effect, metric_label, named_effects, segment_impact
from driftdesk.contract import Dataset
from driftdesk.errors import DriftdeskError
from driftdesk.format import format_value
from driftdesk.status import ALERT, MISSING, NOT_ENOUGH_DATA, OK, WARN, rank
from driftdesk.windows import Window, baseline_label

BASELINE_ORDER = ("week_over_week", "day_over_day", "known_good")  # the baseline a flag is read against, first that holds
MAX_COLUMNS = 4  # segment columns tried for the explanation (each one is a small mix/rate split)
OTHERS = 2  # other flags named after the lead
LAYER_WORDS = {"service": "Service", "data": "Data", "model": "Model", "business": "Business", "llm": "LLM"}
STATUS_WORDS = {ALERT: "alert", WARN: "warning"}


def day_answer(dataset: Dataset, day: dt.date, metrics: pl.DataFrame, layers: pl.DataFrame,
               windows: Mapping[str, tuple[Window, Window]]) -> str:
    """The sentence for ``day`` from the Overview's metrics and layers; ``windows`` maps a baseline kind to the
    (current, baseline) windows of the kpis table, for the mix / rate explanation of a business ratio."""
    flagged = [r for r in metrics.iter_rows(named=True) if r["status"] in (ALERT, WARN)]
    if not flagged:
        return _quiet(day, metrics, layers)
    flagged.sort(key=lambda r: (-rank(r["status"]), r["layer"] != "business", -abs(_change(r)[1] or 0.0)))
    lead, others = flagged[0], flagged[1:]
    base, change = _change(lead)
    text = (f"{LAYER_WORDS.get(lead['layer'], lead['layer'])} {STATUS_WORDS[lead['status']]}: "
            f"{_subject(lead, lower=True)} {_verb(change)} {_size(change)} {baseline_label(base)} "
            f"({format_value(lead[base], lead['unit'])} → {format_value(lead['current'], lead['unit'])})")
    if lead["metric"] in IMPACT_METRICS and base in windows:
        why = _why(dataset, lead["metric"], *windows[base])
        text += f": {why}" if why else ""
    if others:
        named = [f"{_subject(r, lower=True)} {format_value(_change(r)[1], 'change')} {baseline_label(_change(r)[0])}"
                 for r in others[:OTHERS]]
        more = len(others) - OTHERS
        text += f"; also {', '.join(named)}" + (f" and {more} more" if more > 0 else "")
    return text + "."


def _change(row: dict) -> tuple[str, float | None]:
    """The baseline a flag is read against (the first in BASELINE_ORDER with the row's status) and its change."""
    for base in BASELINE_ORDER:
        if row.get(f"status_{base}") == row["status"] and row.get(f"change_{base}") is not None:
            return base, row[f"change_{base}"]
    return "week_over_week", row.get("change_week_over_week")


def _subject(row: dict, *, lower: bool = False) -> str:
    label = row["label"] if lower or row["label"][:1].isupper() else row["label"][:1].upper() + row["label"][1:]
    return label if row["subject"] in (None, "all") else f"{label} ({row['subject']})"


def _verb(change: float | None) -> str:
    return "rose" if (change or 0) > 0 else "fell" if (change or 0) < 0 else "held"


def _size(change: float | None) -> str:
    if change is None:
        return ""
    if change in (float("inf"), float("-inf")):
        return "from nothing"
    return format_value(abs(change), "change").lstrip("+")


def _why(dataset: Dataset, metric: str, current: Window, baseline: Window) -> str:
    """The segment effects behind a business ratio's change, by the segment column that explains most of it."""
    table = dataset.get("kpis")
    if table is None or not table.segments:
        return ""
    best = None
    for column in table.segments[:MAX_COLUMNS]:
        try:
            result = segment_impact(table.frame, baseline=baseline, current=current, by=column, metric=metric,
                                    min_conversions=0)
        except DriftdeskError:
            continue
        effects = named_effects(result, top=2)
        size = max((abs(e["effect"]) for e in effects), default=0.0)
        if effects and (best is None or size > best[0]):
            best = (size, effects)
    if best is None:
        return ""
    return ", ".join(_effect_words(e, metric) for e in best[1])


OWN = {"lower conversion": ("cr", "conversion rate"), "higher conversion": ("cr", "conversion rate"),
       "costlier clicks": ("cpc", "cost per click"), "cheaper clicks": ("cpc", "cost per click")}


def _effect_words(effect: dict, metric: str) -> str:
    """One effect as a leader reads it: the segment's own rate change, or where the traffic moved, and its part of
    the change in the metric's unit."""
    row, name, part = effect["row"], effect["segment"], format_effect(effect["effect"], metric)
    if effect["kind"] == "mix":  # the weight of a segment in a ratio of sums is its share of the denominator
        return (f"{name}'s share of {RATIOS[metric][1]} {format_value(row['share_baseline'], 'rate')} → "
                f"{format_value(row['share_current'], 'rate')} (mix, {part})")
    column, words = next(((c, w) for why, (c, w) in OWN.items() if effect["why"].startswith(why)),
                         (metric, metric_label(metric)))
    before, after = row.get(f"{column}_baseline"), row.get(f"{column}_current")
    own = after / before - 1 if before and after is not None else effect["own_change"]
    if own is None:
        return f"{effect['why']} (rate, {part})"
    return f"{format_value(own, 'change')} {words} on {name} (rate, {part})"


def _quiet(day: dt.date, metrics: pl.DataFrame, layers: pl.DataFrame) -> str:
    """A day without a flag: how many layers were judged, the day's CPA, and what could not be judged."""
    judged = layers.filter(pl.col("status").is_in([OK, WARN, ALERT]))
    blind = layers.filter(pl.col("status").is_in([MISSING, NOT_ENOUGH_DATA]))["layer"].to_list()
    if judged.is_empty():
        return f"Nothing to judge on {day.isoformat()}: no layer has data on that day and the days it is compared with."
    text = (f"Nothing moved beyond its thresholds on {day.isoformat()}: {judged.height} "
            f"layer{'s' if judged.height != 1 else ''} ok against the day before and the week before")
    cpa = metrics.filter((pl.col("metric") == "cpa") & (pl.col("layer") == "business"))
    if cpa.height and cpa["current"][0] is not None:
        row = cpa.row(0, named=True)
        text += (f"; CPA {format_value(row['current'], row['unit'])} "
                 f"({format_value(row['change_week_over_week'], 'change')} week over week)")
    if blind:
        text += f"; not judged: {', '.join(blind)}"
    return text + "."
