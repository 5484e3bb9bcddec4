"""Drift thresholds and the verdict rule: from one column's statistics to a status, reasons and reason codes.

The verdict rests on effect sizes (PSI, Jensen-Shannon, null-rate change); a p-value must also be below its
threshold, so tiny samples do not alarm on noise and huge samples do not alarm on trivial shifts. Below
``min_rows`` rows in either window the verdict is ``not_enough_data``.

Each reason travels twice: as prose for people (``reasons``) and as short stable codes (``reason_codes``,
listed in ``REASON_CODES``) for programs, so an app or a pipeline never parses the prose.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from driftdesk.errors import DriftdeskError
from driftdesk.stats import DEFAULT_PSI_BINS
from driftdesk.status import ALERT, NOT_ENOUGH_DATA, OK, WARN, rank

# threshold names earlier versions used -> today's (the alert level was called "drift")
DEPRECATED_THRESHOLDS: dict[str, str] = {"psi_drift": "psi_alert", "js_drift": "js_alert",
                                         "null_rate_drift": "null_rate_alert"}

REASON_CODES: dict[str, str] = {
    "not_enough_rows": "fewer than min_rows rows in the baseline or the current window",
    "missing_in_both": "every value is missing in both windows",
    "no_shift": "no statistic crossed its threshold",
    "null_rate_up": "the share of missing values rose",
    "null_rate_down": "the share of missing values fell",
    "distribution_shift": "a numeric column's distribution moved (PSI, confirmed by KS)",
    "out_of_range": "current values outside the baseline's range",
    "category_shift": "a text column's category shares moved (JS or PSI, confirmed by chi-squared)",
    "new_categories": "categories the baseline never had",
    "missing_in_baseline": "the column is not in the baseline window",
    "missing_in_current": "the column is not in the current window",
    "type_changed": "the column's type differs between the windows",
}
# codes that say why nothing was flagged: the reasons a table of findings leaves out
QUIET_CODES: tuple[str, ...] = ("not_enough_rows", "missing_in_both", "no_shift")


@dataclass(frozen=True)
class Thresholds:
    """Verdict thresholds (the seeds' defaults). Round-trips through ``to_dict`` / ``from_dict``.

    Each ``*_warn`` / ``*_alert`` pair gives the effect size at which a column's status becomes warn / alert.
    Null-rate thresholds are absolute changes of the share of missing values (0.02 = two points).
    """

    psi_warn: float = 0.1
    psi_alert: float = 0.2
    ks_pvalue: float = 0.01
    js_warn: float = 0.05
    js_alert: float = 0.1
    chi2_pvalue: float = 0.01
    null_rate_warn: float = 0.02
    null_rate_alert: float = 0.05
    null_pvalue: float = 0.01
    out_of_range_warn: float = 0.05
    min_rows: int = 100
    psi_bins: int = DEFAULT_PSI_BINS

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
                raise DriftdeskError(f"threshold {f.name} must be a finite number >= 0, got {v!r}")
        if self.psi_warn > self.psi_alert or self.js_warn > self.js_alert or self.null_rate_warn > self.null_rate_alert:
            raise DriftdeskError("each warn threshold must be at most its alert threshold")
        if self.psi_bins < 2:
            raise DriftdeskError(f"psi_bins must be at least 2, got {self.psi_bins}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: Mapping | None) -> Thresholds:
        """Thresholds from a mapping; the names in ``DEPRECATED_THRESHOLDS`` still work, with a DeprecationWarning."""
        doc = dict(doc or {})
        for old, new in DEPRECATED_THRESHOLDS.items():
            if old in doc:
                warnings.warn(f"drift threshold {old!r} is deprecated; use {new!r}", DeprecationWarning, stacklevel=2)
                value = doc.pop(old)
                doc.setdefault(new, value)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise DriftdeskError(f"unknown drift threshold(s) {unknown}; known: {sorted(known)}")
        return cls(**doc)


def _fmt_pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _level(value: float | None, warn: float, alert: float) -> str:
    if value is None:
        return OK
    return ALERT if value >= alert else WARN if value >= warn else OK


def verdict(row: dict, t: Thresholds) -> dict:
    """Status, reasons (prose and codes), a severity score for ordering, and the direction of the main signal.

    ``row`` holds one column's statistics (as ``compare_aggregates`` builds them). The severity is the status'
    rank plus a tenth of the strongest signal's effect (as a multiple of its alert threshold, capped below 10),
    so columns sort by status first, then by how far past the threshold they are.
    """
    if row["n_baseline"] < t.min_rows or row["n_current"] < t.min_rows:
        return {"status": NOT_ENOUGH_DATA, "severity": 0.0, "direction": "none", "reason_codes": ["not_enough_rows"],
                "reasons": f"fewer than {t.min_rows} rows (baseline {row['n_baseline']}, current {row['n_current']})"}
    signals: list[tuple[str, float, str, str, str]] = []  # (status, effect/threshold, reason, code, direction)
    d_null = row["null_rate_change"]
    if d_null is not None:
        lv = _level(abs(d_null), t.null_rate_warn, t.null_rate_alert)
        if lv != OK and (row["null_pvalue"] is None or row["null_pvalue"] < t.null_pvalue):
            up = d_null > 0
            signals.append((lv, abs(d_null) / t.null_rate_alert,
                            f"null rate {_fmt_pct(row['null_rate_baseline'])} → {_fmt_pct(row['null_rate_current'])}",
                            "null_rate_up" if up else "null_rate_down", "nulls_up" if up else "nulls_down"))
    enough = row["n_valid_baseline"] >= t.min_rows and row["n_valid_current"] >= t.min_rows
    if row["kind"] == "numeric" and enough and row["psi"] is not None:
        lv = _level(row["psi"], t.psi_warn, t.psi_alert)
        p = row["ks_pvalue"]
        if lv != OK and p is not None and p < t.ks_pvalue:
            up = (row["mean_current"] or 0.0) >= (row["mean_baseline"] or 0.0)
            signals.append((lv, row["psi"] / t.psi_alert, f"PSI {row['psi']:.3f} (KS {row['ks']:.3f}, p={p:.2g})",
                            "distribution_shift", "up" if up else "down"))
        oor = row["out_of_range_share"]
        if oor is not None and oor >= t.out_of_range_warn:
            signals.append((WARN, oor / t.out_of_range_warn / 2, f"{oor:.1%} of values outside the baseline's range",
                            "out_of_range", "up"))
    if row["kind"] == "categorical" and enough and row["js"] is not None:
        lv = max(_level(row["js"], t.js_warn, t.js_alert), _level(row["psi"], t.psi_warn, t.psi_alert), key=rank)
        p = row["chi2_pvalue"]
        if lv != OK and p is not None and p < t.chi2_pvalue:
            signals.append((lv, max(row["js"] / t.js_alert, row["psi"] / t.psi_alert),
                            f"JS {row['js']:.3f}, PSI {row['psi']:.3f} (chi² p={p:.2g})", "category_shift",
                            row.get("_top_mover") or "mix"))
        if row["new_categories"]:
            signals.append((WARN, 0.5, f"new categories: {', '.join(map(str, row['new_categories'][:5]))}",
                            "new_categories", "new_categories"))
    if not signals:
        empty = not row["n_valid_baseline"] and not row["n_valid_current"]
        return {"status": OK, "severity": rank(OK) + min(effect(row, t) or 0.0, 9.99) / 10, "direction": "none",
                "reason_codes": ["missing_in_both" if empty else "no_shift"],
                "reasons": "all values missing in both windows" if empty else "no shift beyond thresholds"}
    signals.sort(key=lambda s: (rank(s[0]), s[1]), reverse=True)
    status = signals[0][0]
    return {"status": status, "severity": rank(status) + min(signals[0][1], 9.99) / 10, "direction": signals[0][4],
            "reasons": "; ".join(s[2] for s in signals), "reason_codes": [s[3] for s in signals]}


def effect(row: dict, t: Thresholds) -> float | None:
    """The largest effect size as a multiple of its alert threshold (1.0 = at the threshold): null-rate change,
    PSI, JS. Unit-free, so columns of any kind share one scale (and one sparkline). None when none of them could
    be computed (a window without rows): no effect was measured, which is not an effect of 0."""
    parts = [None if row["null_rate_change"] is None else abs(row["null_rate_change"]) / t.null_rate_alert,
             None if row["psi"] is None else row["psi"] / t.psi_alert,
             None if row["js"] is None else row["js"] / t.js_alert]
    known = [p for p in parts if p is not None]
    return float(max(known)) if known else None
