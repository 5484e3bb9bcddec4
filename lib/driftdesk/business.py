"""Business impact: segment KPIs as ratios of sums, and which segment moved CPA / ROAS / CR, by mix or by rate.

Public API
----------
``kpi_table(kpis, *, by=(), every=None, ...) -> pl.DataFrame``
    KPI series per segment (and per time bucket with ``every="1h" | "1d" | ...``): ``spend_sum``,
    ``conversions_sum``, ``revenue_sum``, ``clicks_sum``, ``impressions_sum``, ``rows`` and the ratios
    ``cpa``, ``roas``, ``cr``, ``ctr``, ``cpc``, ``cost_per_outcome``, each with ``<metric>_ci_low`` /
    ``<metric>_ci_high`` (delta method, see below) and ``<metric>_note`` (why a value is null: "no
    conversions", "too few conversions (12 < 30)", "no spend", ...). This is the series the gate
    backtester and the seasonality checks read, e.g. ``kpi_table(kpis, by=["geo"], every="1d")``.
``segment_impact(kpis, *, baseline, current, by, metric="cpa") -> ImpactResult``
    The change of a global ratio metric between two windows split into a mix effect and a rate effect
    per segment (Kitagawa 1955, symmetric form), with a summary sentence a leader can read.
``impact_summary(result) -> str``
    That sentence, e.g. "CPA rose 14% week over week, from $20.00 to $22.80 (+$2.80): +$1.80 from more traffic
    in geo=BR (mix), +$1.00 from lower conversion in geo=DE device=mobile (rate)." Effects are in the metric's
    own unit (percentage points for a conversion rate), as the waterfall and the table write them. A CPA rate
    effect is worded from CPA = CPC / CR: "lower conversion" or "costlier clicks", whichever moved more (log
    scale), or "costlier conversions" when there are no clicks. An overlapping baseline is named as such.
``spend_shift(kpis, *, baseline, current, by) -> pl.DataFrame``
    Spend reallocation: each segment's share of spend in both windows.
``decision_drift(decisions, *, baseline, current, by, bands=...) -> pl.DataFrame``
    Share of positive decisions by segment and score band, baseline vs current, with Wilson intervals.

Every metric is a ratio of sums (never a mean of per-row ratios). A zero denominator gives null with a
reason, never infinity. Intervals use the delta method for a ratio of sums (``driftdesk.stats.ratio_of_sums``),
treating each input row (an hour x segment of the kpis table) as one sampling unit:
``Var(R) ~= n/(n-1) * sum((y_i - R x_i)^2) / (sum x_i)^2`` with ``R = sum y / sum x``; this is the
linearisation (Taylor) variance of a ratio estimator (Cochran, Sampling Techniques, 3rd ed., 6.3). What each
metric is (its columns, label, unit) comes from the registry, ``driftdesk.metrics``.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from driftdesk import engine
from driftdesk.bounds import MIN_COUNT, check_every
from driftdesk.contract import Dataset, Table
from driftdesk.engine.budget import collect
from driftdesk.errors import DriftdeskError
from driftdesk.format import difference_unit, format_difference, format_value
from driftdesk.io import as_lazy
from driftdesk.jsonsafe import jsonable
from driftdesk.metrics import get_metric, known_sum, metrics_for
from driftdesk.segments import by_columns
from driftdesk.stats import proportion_interval, ratio_of_sums, two_sided_z
from driftdesk.windows import Window, as_window, baselines_for, comparison_words, overlap_note, rows_in_window

Metric = Literal["cpa", "roas", "cr"]
Frame = pl.DataFrame | pl.LazyFrame

KPI_METRICS = metrics_for("kpis")
# metric -> (numerator column, denominator column): the registry's kpis ratios, and cost per outcome, whose
# denominator is the outcome column the caller picks (conversions by default)
RATIOS: dict[str, tuple[str, str]] = {
    **{m.name: m.columns for m in KPI_METRICS if m.aggregation == "ratio"},
    "cost_per_outcome": ("spend", "outcome"),
}
IMPACT_METRICS: tuple[str, ...] = ("cpa", "roas", "cr")  # ratios whose change splits into mix and rate
SUMMABLE = tuple(m.columns[0] for m in KPI_METRICS if m.aggregation == "sum")
DEFAULT_MIN_CONVERSIONS = get_metric("cpa", "kpis").min_count[1]  # the registry's one low-volume rule


def metric_label(metric: str) -> str:
    """A kpis metric's label, capitalised to start a sentence: "CPA", "Conversion rate (per click)"."""
    label = get_metric(metric, "kpis").label
    return label[:1].upper() + label[1:]


def check_kpi_columns(frame: Frame, *, required: Sequence[str], by: Sequence[str] = (), ts: str | None = None,
                      source: str = "kpis") -> list[str]:
    """The summable columns present; raise a DriftdeskError naming a missing, non-numeric or negative column.

    Negative or null spend / conversions would silently bend every ratio, so they are refused with a few rows.
    """
    lf = engine.lazy(frame)
    schema = engine.schema(lf)
    missing = [c for c in [*required, *by, *([ts] if ts else [])] if c not in schema]
    if missing:
        raise DriftdeskError(f"{source}: missing column(s) {missing}; columns are {list(schema)}")
    if ts and not isinstance(schema[ts], pl.Datetime | pl.Date):
        raise DriftdeskError(f"{source}: column {ts!r} must be a timestamp, found {schema[ts]}; load the file through "
                             "the data contract (load_table) or parse it first")
    present = [c for c in SUMMABLE if c in schema]
    for c in present:
        if not schema[c].is_numeric():
            raise DriftdeskError(f"{source}: column {c!r} must be numeric, found {schema[c]}")
    if not present:
        return present
    if engine.is_spark(lf):
        from driftdesk.engine.spark.aggregate import check_sums

        check_sums(lf, present, required=required, source=source)
        return present
    checks = lf.select(
        *[(pl.col(c) < 0).sum().alias(f"neg_{c}") for c in present],
        *[(pl.col(c).is_null() | pl.col(c).is_nan()).sum().alias(f"null_{c}") for c in present],
        *[pl.col(c).is_infinite().sum().alias(f"inf_{c}") for c in present],
    ).pipe(collect)
    for c in present:
        for rule, key, expr in (
            ("negative values are not allowed", f"neg_{c}", pl.col(c) < 0),
            ("infinite values are not allowed", f"inf_{c}", pl.col(c).is_infinite()),
        ):
            n = int(checks[key][0])
            if n:
                rows = lf.with_row_index("row", offset=1).filter(expr).select("row", c).head(3).collect()
                ex = "; ".join(f"row {r}: {v!r}" for r, v in rows.iter_rows())
                raise DriftdeskError(f"{source}: column {c!r}: {rule} — {n} row{'s' if n != 1 else ''}, e.g. {ex}")
        n = int(checks[f"null_{c}"][0])
        if n and c in required:
            rows = lf.with_row_index("row", offset=1).filter(pl.col(c).is_null() | pl.col(c).is_nan()).select("row").head(3).collect()
            ex = ", ".join(str(r) for r in rows["row"])
            raise DriftdeskError(f"{source}: column {c!r}: missing values ({n} rows, e.g. rows {ex}); "
                                 "fill them (0 if nothing happened) rather than let a sum skip them")
    return present


def _ratio_exprs(name: str, num: str, den: str, *, z: float, min_den: float, den_word: str) -> list[pl.Expr]:
    """ratio, delta-method interval and a note explaining a null, from the aggregated sums."""
    y, x = pl.col(f"{num}_sum"), pl.col(f"{den}_sum")
    n = pl.col("rows").cast(pl.Float64)
    ratio, se = ratio_of_sums(y, x, num_sq=pl.col(f"{num}_sq"), den_sq=pl.col(f"{den}_sq"),
                              num_x_den=pl.col(f"{num}_x_{den}"), n=n)
    defined = (x > 0) & x.is_not_null() & y.is_not_null() & (x >= min_den) & ratio.is_finite()
    note = (
        pl.when(y.is_null()).then(pl.lit(f"no {num} column"))
        .when(x.is_null()).then(pl.lit(f"no {den} column"))
        .when(x <= 0).then(pl.lit(f"no {den_word}"))
        .when(x < min_den).then(pl.lit(f"too few {den_word} (") + x.round(1).cast(pl.String) + pl.lit(f" < {min_den:g})"))
        .when(~ratio.is_finite()).then(pl.lit("not finite: the sums are too large to divide"))
        .otherwise(None)
    )
    has_ci = defined & (n > 1) & se.is_finite()
    return [
        pl.when(defined).then(ratio).otherwise(None).alias(name),
        pl.when(has_ci).then(ratio - z * se).otherwise(None).alias(f"{name}_ci_low"),
        pl.when(has_ci).then(ratio + z * se).otherwise(None).alias(f"{name}_ci_high"),
        note.alias(f"{name}_note"),
    ]


def kpi_table(kpis: Frame, *, by: Sequence[str] = (), every: str | None = None, ts: str = "ts",
              outcome: str = "conversions", min_conversions: float = 0, confidence: float = 0.95,
              source: str = "kpis") -> pl.DataFrame:
    """Sums and ratio-of-sums KPIs per segment (``by``) and, with ``every`` ("1h", "1d", "1w"), per time bucket.

    Columns: [ts], by..., rows, <x>_sum for spend/conversions/revenue/clicks/impressions (null when the
    column is absent), cpa, roas, cr, ctr, cpc, cost_per_outcome (spend / sum of ``outcome``), each with
    _ci_low/_ci_high (delta method over rows) and _note. CPA and cost per outcome are null, with a note,
    when their count is zero or below ``min_conversions``; nothing is ever infinite.
    """
    by = list(by_columns(by, kpis))
    MIN_COUNT.check(min_conversions, where=f"{source}: min_conversions")
    lf = engine.lazy(kpis)
    present = check_kpi_columns(lf, required=("spend", "conversions"), by=by, ts=ts if every else None, source=source)
    schema = engine.schema(lf)
    if outcome not in schema:
        raise DriftdeskError(f"{source}: outcome column {outcome!r} not found; columns are {list(schema)}")
    every = check_every(every) if every else None
    keys = ([pl.col(ts).dt.truncate(every).alias(ts)] if every else []) + [pl.col(c) for c in by]
    cols = {c: pl.col(c).cast(pl.Float64) for c in present}
    cols["outcome"] = pl.col(outcome).cast(pl.Float64)
    aggs = [pl.len().alias("rows")]
    for c, e in cols.items():
        aggs += [known_sum(e).alias(f"{c}_sum"), (e * e).sum().alias(f"{c}_sq")]
    pairs = {(num, den) for num, den in RATIOS.values() if num in cols and den in cols}
    aggs += [(cols[num] * cols[den]).sum().alias(f"{num}_x_{den}") for num, den in pairs]
    out = _sums(lf, aggs, keys=keys, by=by, every=every, ts=ts, columns={**{c: c for c in present}, "outcome": outcome},
                pairs=pairs)
    absent = [c for c in SUMMABLE if c not in cols]
    out = out.with_columns(*[pl.lit(None, pl.Float64).alias(f"{c}_{s}") for c in absent for s in ("sum", "sq")])
    out = out.with_columns(
        *[pl.lit(None, pl.Float64).alias(f"{num}_x_{den}") for num, den in RATIOS.values() if (num, den) not in pairs]
    )
    z = two_sided_z(confidence)
    words = {"conversions": "conversions", "spend": "spend", "clicks": "clicks", "impressions": "impressions",
             "outcome": f"{outcome}"}
    mins = {"cpa": min_conversions, "cost_per_outcome": min_conversions if outcome == "conversions" else 0}
    ratio_cols: list[pl.Expr] = []
    for name, (num, den) in RATIOS.items():
        ratio_cols += _ratio_exprs(name, num, den, z=z, min_den=mins.get(name, 0), den_word=words[den])
    sums = [f"{c}_sum" for c in SUMMABLE]
    metric_cols = [c for name in RATIOS for c in (name, f"{name}_ci_low", f"{name}_ci_high", f"{name}_note")]
    lead = ([ts] if every else []) + by
    result = (
        out.with_columns(ratio_cols)
        .with_columns(pl.col("outcome_sum").alias("outcome_sum"))
        .select(*lead, "rows", *sums, "outcome_sum", *metric_cols)
        .pipe(collect)
    )
    if lead:
        result = result.sort(lead, nulls_last=True)
    return result


def _sums(lf, aggs: list[pl.Expr], *, keys: list[pl.Expr], by: list[str], every: str | None, ts: str,
          columns: dict[str, str], pairs: set) -> pl.LazyFrame:
    """The rows reduced to kpi_table's per-group sums, by the frame's engine (the one pass over every row)."""
    if not engine.is_spark(lf):
        return lf.group_by(keys).agg(aggs) if keys else lf.select(aggs)
    from driftdesk.engine.spark import aggregate as on_spark

    F = on_spark.functions()
    x = {c: F.col(source).cast("double") for c, source in columns.items()}
    spark_aggs = {"rows": F.count(F.lit(1))}
    for c, e in x.items():
        spark_aggs |= {f"{c}_sum": on_spark.known_sum(e), f"{c}_sq": on_spark.total(e * e)}
    spark_aggs |= {f"{num}_x_{den}": on_spark.total(x[num] * x[den]) for num, den in pairs}
    like = on_spark.like(engine.schema(lf), aggs, keys)
    return on_spark.reduce(lf, spark_aggs, by=by, every=every, ts=ts, like=like).lazy()


# --------------------------------------------------------------------------- windows


# --------------------------------------------------------------------------- mix vs rate


@dataclass(frozen=True)
class ImpactResult:
    """A global ratio metric's change between two windows, split per segment into mix and rate effects.

    ``total``: baseline, current, change, change_pct, mix_effect, rate_effect (mix + rate == change exactly),
    note. ``segments``: one row per segment seen in either window (see ``segment_impact``).
    """

    metric: str
    baseline: Window
    current: Window
    by: tuple[str, ...]
    total: dict
    segments: pl.DataFrame
    min_conversions: float
    summary: str = ""
    period: str = field(default="against the baseline")

    def to_frame(self) -> pl.DataFrame:
        return self.segments

    def to_dict(self) -> dict:
        return jsonable({
            "metric": self.metric,
            "baseline_window": self.baseline.to_dict(),
            "current_window": self.current.to_dict(),
            "by": list(self.by),
            "total": self.total,
            "segments": self.segments,
            "summary": self.summary,
            "min_conversions": self.min_conversions,
        })

    def to_figure(self, kind: Literal["waterfall", "heatmap", "spend"] = "waterfall"):
        from driftdesk.viz import business as viz

        return {"waterfall": viz.impact_waterfall, "heatmap": viz.segment_heatmap, "spend": viz.spend_shift_bars}[kind](self)

    def _repr_html_(self) -> str:
        t = self.total
        head = f"<p><b>{html.escape(self.summary)}</b></p>"
        cols = [*self.by, "baseline", "current", "change", "mix_effect", "rate_effect", "note"]
        table = self.segments.select(cols).head(30)._repr_html_()
        return head + f"<p>total change {t.get('change')!r}: mix {t.get('mix_effect')!r}, rate {t.get('rate_effect')!r}</p>" + table


def segment_impact(kpis: Frame, *, baseline: Window | str, current: Window | str, by: Sequence[str] | str,
                   metric: Metric = "cpa", ts: str = "ts", min_conversions: float = DEFAULT_MIN_CONVERSIONS,
                   confidence: float = 0.95, source: str = "kpis") -> ImpactResult:
    """Split the change of a global ratio metric (CPA, ROAS or CR) into per-segment mix and rate effects.

    The global metric is a ratio of sums, M = sum(num) / sum(den) = sum_i w_i m_i, with w_i = den_i / sum(den)
    the segment's share of the denominator (conversions for CPA, spend for ROAS, clicks for CR) and m_i its
    own ratio. Between baseline (0) and current (1) the exact symmetric two-factor split of Kitagawa (1955,
    "Components of a difference between two rates", JASA 50) - the Shapley value of the two factors - is

        rate_i = (m1_i - m0_i) * (w0_i + w1_i) / 2          # the segment itself got better or worse
        mix_i  = (w1_i - w0_i) * ((m0_i + m1_i) / 2 - M̄)    # traffic moved towards or away from it

    with M̄ = (M0 + M1) / 2. Centring the mix term on M̄ changes no total (shares sum to one in both windows,
    so sum_i (w1_i - w0_i) = 0) but makes a segment's mix effect mean "traffic moved to a segment dearer
    (or cheaper) than average", as in price-volume-mix analysis. Then sum_i (mix_i + rate_i) = M1 - M0
    exactly. A segment whose own ratio is undefined in a window (present in only one window, or with a
    zero denominator there) has no rate: its rate_effect is null, its whole contribution
    num1_i/D1 - num0_i/D0 (minus the centring term) is counted as mix, and its ``note`` says so. Segments
    with fewer than ``min_conversions`` conversions keep their effects (so the parts still add up) but are
    flagged "too few conversions" in ``note``.
    """
    if metric not in IMPACT_METRICS:
        raise DriftdeskError(f"metric must be one of {list(IMPACT_METRICS)}, got {metric!r}")
    by = list(by_columns(by, kpis))
    if not by:
        raise DriftdeskError("segment_impact needs at least one segment column in `by`")
    MIN_COUNT.check(min_conversions, where=f"{source}: min_conversions")
    baseline = as_window(baseline, "baseline")
    current = as_window(current, "current")
    seg = _segments_in_both(engine.lazy(kpis), metric, by=by, windows=(baseline, current), ts=ts, confidence=confidence,
                            source=source)
    total = _global_change(seg, metric, min_conversions)
    seg = _mix_and_rate(seg, metric, total)
    seg = _segment_rows(seg, metric, by, note=_segment_note(metric, total, min_conversions))
    defined = total["change"] is not None
    total = {**total, "mix_effect": float(seg["mix_effect"].sum()) if defined else None,
             "rate_effect": float(seg["rate_effect"].fill_null(0).sum()) if defined else None}
    total = {k: total[k] for k in ("baseline", "current", "change", "change_pct", "mix_effect", "rate_effect",
                                   "baseline_denominator", "current_denominator", "conversions_baseline",
                                   "conversions_current", "note")}
    period = comparison_words(baseline, current)
    result = ImpactResult(metric, baseline, current, tuple(by), total, seg, min_conversions, "", period)
    return ImpactResult(metric, baseline, current, tuple(by), total, seg, min_conversions, impact_summary(result), period)


def _segments_in_both(lf: pl.LazyFrame, metric: str, *, by: list[str], windows: tuple[Window, Window], ts: str,
                      confidence: float, source: str) -> pl.DataFrame:
    """Per segment, both windows' sums and ratios side by side (<column>_baseline, <column>_current); a segment
    seen in one window only has zero sums in the other."""
    num, den = RATIOS[metric]
    check_kpi_columns(lf, required=(num, den, "spend", "conversions"), by=by, ts=ts, source=source)
    ratios = list(dict.fromkeys([metric, "cr", "cpc"]))  # CR and CPC say why a CPA moved
    keep = ["rows", *[f"{c}_sum" for c in SUMMABLE], *ratios, f"{metric}_ci_low", f"{metric}_ci_high"]
    sides = []
    for name, window in zip(("baseline", "current"), windows):
        rows = rows_in_window(lf, window, ts=ts, name=name, source=source)
        table = kpi_table(rows, by=by, ts=ts, min_conversions=0, confidence=confidence, source=source)
        sides.append(table.select(*by, *keep).rename({c: f"{c}_{name}" for c in keep}))
    seg = sides[0].join(sides[1], on=by, how="full", coalesce=True, nulls_equal=True)
    fill = [f"{k}_sum_{w}" for k in SUMMABLE for w in ("baseline", "current")] + ["rows_baseline", "rows_current"]
    return seg.with_columns(*[pl.col(f).fill_null(0) for f in fill if seg.schema[f] != pl.Null])


def _global_change(seg: pl.DataFrame, metric: str, min_conversions: float) -> dict:
    """The global ratio in both windows (a ratio of the segments' sums), its change and why it may be undefined."""
    num, den = RATIOS[metric]
    label = metric_label(metric)
    nb, db = seg[f"{num}_sum_baseline"].sum(), seg[f"{den}_sum_baseline"].sum()
    nc, dc = seg[f"{num}_sum_current"].sum(), seg[f"{den}_sum_current"].sum()
    m0 = nb / db if db > 0 else None
    m1 = nc / dc if dc > 0 else None
    note = None
    if any(v is not None and not math.isfinite(v) for v in (m0, m1, nb, nc, db, dc)):
        m0 = m1 = None
        note = f"undefined: the sums are too large to represent, so global {label} has no value"
    elif m0 is None or m1 is None:
        which = " and ".join(w for w, m in (("baseline", m0), ("current", m1)) if m is None)
        note = f"undefined: no {den} in the {which} window, so global {label} has no value there"
    conv_b, conv_c = seg["conversions_sum_baseline"].sum(), seg["conversions_sum_current"].sum()
    if note is None and min(conv_b, conv_c) < min_conversions:
        note = f"too few conversions ({min(conv_b, conv_c):g} < {min_conversions:g}): the change may be noise"
    change = (m1 - m0) if (m0 is not None and m1 is not None) else None
    return {"baseline": m0, "current": m1, "change": change,
            "change_pct": _finite(100 * (m1 / m0 - 1)) if change is not None and m0 else None,
            "baseline_denominator": db, "current_denominator": dc,
            "conversions_baseline": conv_b, "conversions_current": conv_c, "note": note}


def _mix_and_rate(seg: pl.DataFrame, metric: str, total: dict) -> pl.DataFrame:
    """Each segment's shares of the denominator, and its contribution split into rate and mix (Kitagawa)."""
    num, den = RATIOS[metric]
    m0, m1, db, dc = total["baseline"], total["current"], total["baseline_denominator"], total["current_denominator"]
    seg = seg.with_columns(_divide(seg[f"{den}_sum_baseline"], db, "share_baseline"),
                           _divide(seg[f"{den}_sum_current"], dc, "share_current"))
    if m0 is None or m1 is None:
        return seg.with_columns(*[pl.lit(None, pl.Float64).alias(c) for c in ("contribution", "rate_effect", "mix_effect")])
    mbar = (m0 + m1) / 2
    mb, mc = pl.col(f"{metric}_baseline"), pl.col(f"{metric}_current")
    w0, w1 = pl.col("share_baseline"), pl.col("share_current")
    seg = seg.with_columns(
        (_divide(seg[f"{num}_sum_current"], dc, "c") - _divide(seg[f"{num}_sum_baseline"], db, "c")).alias("contribution"),
        pl.when(mb.is_not_null() & mc.is_not_null()).then((mc - mb) * (w0 + w1) / 2).otherwise(None).alias("rate_effect"),
    )
    return seg.with_columns(
        (pl.col("contribution") - pl.col("rate_effect").fill_null(0.0) - mbar * (w1 - w0)).alias("mix_effect"),
        (pl.col("contribution") - mbar * (w1 - w0)).alias("contribution"),
    )


def _segment_note(metric: str, total: dict, min_conversions: float) -> pl.Expr:
    """Why a segment's effects need care: undefined globally or in a window, one window only, too few conversions."""
    den = RATIOS[metric][1]
    label = metric_label(metric)
    mb, mc = pl.col(f"{metric}_baseline"), pl.col(f"{metric}_current")
    fewest = pl.min_horizontal("conversions_sum_baseline", "conversions_sum_current")
    undefined = total["baseline"] is None or total["current"] is None
    return (
        pl.when(pl.lit(undefined)).then(pl.lit("undefined: global " + label + " has no value in a window"))
        .when(pl.col("rows_baseline") == 0).then(pl.lit("only in the current window: no rate, its whole contribution is mix"))
        .when(pl.col("rows_current") == 0).then(pl.lit("only in the baseline window: no rate, its whole contribution is mix"))
        .when(mb.is_null()).then(pl.lit(f"no {den} in the baseline window: {label} undefined there, "
                                        "its whole contribution is mix"))
        .when(mc.is_null()).then(pl.lit(f"no {den} in the current window: {label} undefined there, "
                                        "its whole contribution is mix"))
        .when(fewest < min_conversions).then(pl.lit("too few conversions (") + fewest.round(1).cast(pl.String)
                                             + pl.lit(f" < {min_conversions:g}): treat as noise"))
        .otherwise(None)
    )


def _segment_rows(seg: pl.DataFrame, metric: str, by: list[str], *, note: pl.Expr) -> pl.DataFrame:
    """The published segment table: values, change, effects, shares, intervals, spend; largest contribution first."""
    mb, mc = pl.col(f"{metric}_baseline"), pl.col(f"{metric}_current")
    spend_b, spend_c = seg["spend_sum_baseline"].sum(), seg["spend_sum_current"].sum()
    seg = seg.with_columns(
        mb.alias("baseline"), mc.alias("current"), (mc - mb).alias("change"),
        pl.col("spend_sum_baseline").alias("spend_baseline"), pl.col("spend_sum_current").alias("spend_current"),
        _divide(seg["spend_sum_baseline"], spend_b, "spend_share_baseline"),
        _divide(seg["spend_sum_current"], spend_c, "spend_share_current"),
        pl.col("conversions_sum_baseline").alias("conversions_baseline"),
        pl.col("conversions_sum_current").alias("conversions_current"),
        pl.col(f"{metric}_ci_low_baseline").alias("baseline_ci_low"), pl.col(f"{metric}_ci_high_baseline").alias("baseline_ci_high"),
        pl.col(f"{metric}_ci_low_current").alias("current_ci_low"), pl.col(f"{metric}_ci_high_current").alias("current_ci_high"),
        note.alias("note"),
    ).with_columns((pl.col("spend_share_current") - pl.col("spend_share_baseline")).alias("spend_share_change"))
    return seg.select(
        *by, "baseline", "current", "change", "mix_effect", "rate_effect", "contribution",
        "share_baseline", "share_current", "baseline_ci_low", "baseline_ci_high", "current_ci_low", "current_ci_high",
        "conversions_baseline", "conversions_current", "spend_baseline", "spend_current",
        "spend_share_baseline", "spend_share_current", "spend_share_change",
        "cr_baseline", "cr_current", "cpc_baseline", "cpc_current", "note",
    ).sort(pl.col("contribution").abs(), descending=True, nulls_last=True)


def _divide(values: pl.Series, total: float, name: str) -> pl.Series:
    """values / total in numpy (null when total is not positive). Polars divides by a constant through its
    reciprocal, which overflows for subnormal totals; a share must stay exact."""
    if not total > 0:
        return pl.Series(name, [None] * len(values), dtype=pl.Float64)
    return pl.Series(name, np.divide(values.cast(pl.Float64).to_numpy(), total))


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _segment_name(row: dict, by: Sequence[str]) -> str:
    return " ".join(f"{c}={row[c]}" for c in by)


def _fmt(value: float, metric: str) -> str:
    return get_metric(metric, "kpis").format(value)


def effect_unit(metric: str) -> str:
    """The unit the metric's changes and effects are written in: a rate's in percentage points, CPA's in the data's currency."""
    return difference_unit(get_metric(metric, "kpis").unit)


def format_effect(value: float | None, metric: str) -> str:
    """An effect or a change of the metric as the sentence, the waterfall and the table write it (+$1.20, -0.031 pp)."""
    return format_difference(value, get_metric(metric, "kpis").unit)


def _cpa_reason(row: dict, rose: bool) -> str:
    """Why a segment's CPA moved: CPA = CPC / CR, so compare the log changes of conversion rate and click cost."""
    cr0, cr1, cpc0, cpc1 = (row.get(k) for k in ("cr_baseline", "cr_current", "cpc_baseline", "cpc_current"))
    if not all(v is not None and v > 0 and math.isfinite(v) for v in (cr0, cr1, cpc0, cpc1)):
        return "costlier conversions" if rose else "cheaper conversions"
    d_cr, d_cpc = math.log(cr1 / cr0), math.log(cpc1 / cpc0)
    if rose:
        return "lower conversion" if -d_cr >= d_cpc else "costlier clicks"
    return "higher conversion" if d_cr >= -d_cpc else "cheaper clicks"


def named_effects(result: ImpactResult, *, top: int = 3, min_share: float = 0.1) -> list[dict]:
    """The few mix and rate effects a sentence names: among the ``top`` largest, each at least ``min_share`` of the
    change (or of half the largest effect, when effects cancel). Each: segment, kind (mix | rate), effect (in the
    metric's unit), why (the words), own_change (the segment's own relative change of the metric, for a rate
    effect), caveat, row (the segment's row of ``result.segments``)."""
    t = result.total
    if t["change"] is None:
        return []
    effects = []
    for row in result.segments.iter_rows(named=True):
        for kind in ("mix", "rate"):
            value = row[f"{kind}_effect"]
            if value is not None and math.isfinite(value):
                effects.append((abs(value), kind, value, row))
    effects.sort(key=lambda e: e[0], reverse=True)
    scale = max(abs(t["change"]), max((e[0] for e in effects), default=0.0) * 0.5)
    out = []
    for size, kind, value, row in effects[:top]:
        if size < min_share * scale or size == 0:
            continue
        name = _segment_name(row, result.by)
        if kind == "mix":
            more = (row["share_current"] or 0) > (row["share_baseline"] or 0)
            moved = "spend" if result.metric == "roas" else "traffic"  # ROAS weighs segments by spend
            why = f"{'more' if more else 'less'} {moved} in {name}"
        else:
            why = {
                "cpa": f"{_cpa_reason(row, value > 0)} in {name}",
                "roas": f"{'higher' if value > 0 else 'lower'} return in {name}",
                "cr": f"{'higher' if value > 0 else 'lower'} conversion in {name}",
            }[result.metric]
        own = None
        if kind == "rate" and row["baseline"] and row["current"] is not None:
            own = row["current"] / row["baseline"] - 1
        caveat = "few conversions, may be noise" if row["note"] and row["note"].startswith("too few") else None
        out.append({"segment": name, "kind": kind, "effect": value, "why": why, "own_change": own, "caveat": caveat,
                    "row": row})
    return out


def impact_summary(result: ImpactResult, *, top: int = 3, min_share: float = 0.1) -> str:
    """One sentence a leader can read (see ``_impact_sentence``), then, when the baseline overlaps the current
    window, a second sentence that says so."""
    note = overlap_note(result.current, result.baseline)
    text = _impact_sentence(result, top=top, min_share=min_share)
    return text + (f" {note[0].upper()}{note[1:]}." if note else "")


def _impact_sentence(result: ImpactResult, *, top: int = 3, min_share: float = 0.1) -> str:
    """One sentence a leader can read: how much the metric moved and the few mix / rate effects behind it.

    Effects are in the metric's own unit (dollars for CPA, percentage points for a conversion rate), written as
    the waterfall and the table write them, so they add up to the change between the two values in the sentence.
    An effect is named if it is among the ``top`` largest and at least ``min_share`` of the change.
    """
    t = result.total
    label = metric_label(result.metric)
    if t["change"] is None:
        return f"{label} cannot be compared {result.period}: {t['note']}."
    m0, m1, change = t["baseline"], t["current"], t["change"]
    pct = t["change_pct"]
    if pct is None:
        return f"{label} moved from {_fmt(m0, result.metric)} to {_fmt(m1, result.metric)} {result.period}."
    verb = "rose" if change > 0 else "fell" if change < 0 else "held"
    size = "" if verb == "held" else format_value(abs(pct) / 100, "change").lstrip("+") + " "
    head = (f"{label} {verb} {size}{result.period}, from {_fmt(m0, result.metric)} to {_fmt(m1, result.metric)} "
            f"({format_effect(change, result.metric)})")
    named = named_effects(result, top=top, min_share=min_share)
    if not named:
        return head + ": no single segment stands out." if verb != "held" else head + "."
    parts = [f"{format_effect(e['effect'], result.metric)} from {e['why']} ({e['kind']})"
             + (f" — {e['caveat']}" if e["caveat"] else "") for e in named]
    return head + ": " + ", ".join(parts) + "."


# --------------------------------------------------------------------------- spend and decisions


def spend_shift(kpis: Frame, *, baseline: Window | str, current: Window | str, by: Sequence[str] | str,
                ts: str = "ts", source: str = "kpis") -> pl.DataFrame:
    """Spend reallocation: spend and share of spend per segment in both windows, largest shift first."""
    by = list(by_columns(by, kpis))
    lf = as_lazy(kpis)
    check_kpi_columns(lf, required=("spend",), by=by, ts=ts, source=source)
    frames = []
    for name, window in (("baseline", as_window(baseline, "baseline")), ("current", as_window(current, "current"))):
        rows = rows_in_window(lf, window, ts=ts, name=name, source=source)
        frames.append(rows.group_by(by).agg(pl.col("spend").cast(pl.Float64).sum().alias(f"spend_{name}")).pipe(collect))
    out = frames[0].join(frames[1], on=by, how="full", coalesce=True, nulls_equal=True).with_columns(
        pl.col("spend_baseline").fill_null(0.0), pl.col("spend_current").fill_null(0.0))
    sb, sc = out["spend_baseline"].sum(), out["spend_current"].sum()
    out = out.with_columns(
        _divide(out["spend_baseline"], sb, "share_baseline"),
        _divide(out["spend_current"], sc, "share_current"),
    ).with_columns((pl.col("share_current") - pl.col("share_baseline")).alias("share_change"))
    return out.sort(pl.col("share_change").abs(), descending=True, nulls_last=True)


DEFAULT_BANDS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)


def decision_drift(decisions: Frame, *, baseline: Window | str, current: Window | str, by: Sequence[str] | str = (),
                   bands: Sequence[float] = DEFAULT_BANDS, ts: str = "ts", score: str = "score",
                   decision: str = "decision", confidence: float = 0.95, source: str = "decisions") -> pl.DataFrame:
    """Share of positive decisions by segment and score band, baseline vs current, with Wilson intervals.

    A score band is [lower, upper) (the last one includes 1). A shift inside a band means the decision rule
    moved (e.g. a threshold change); a shift in band counts means the scores moved.
    """
    by = list(by_columns(by, decisions))
    lf = as_lazy(decisions)
    schema = lf.collect_schema()
    missing = [c for c in [ts, score, decision, *by] if c not in schema]
    if missing:
        raise DriftdeskError(f"{source}: missing column(s) {missing}; columns are {list(schema)}")
    edges = sorted(set(float(b) for b in bands))
    if len(edges) < 2:
        raise DriftdeskError("bands needs at least two edges, e.g. (0, 0.3, 1)")
    dec = pl.col(decision).cast(pl.Float64)
    bad = lf.select((dec.is_not_null() & ~dec.is_in([0.0, 1.0])).sum()).pipe(collect).item()
    if bad:
        raise DriftdeskError(f"{source}: column {decision!r}: decisions must be 0/1 or true/false — {bad} rows are not")
    band_idx = pl.sum_horizontal([(pl.col(score) >= e).cast(pl.Int32) for e in edges[1:-1]]).alias("band")
    frames = []
    for name, window in (("baseline", as_window(baseline, "baseline")), ("current", as_window(current, "current"))):
        rows = rows_in_window(lf, window, ts=ts, name=name, source=source).filter(pl.col(decision).is_not_null())
        frames.append(rows.group_by([*by, band_idx]).agg(
            pl.len().alias(f"n_{name}"), dec.sum().alias(f"positive_{name}")).pipe(collect))
    out = frames[0].join(frames[1], on=[*by, "band"], how="full", coalesce=True, nulls_equal=True)
    out = out.with_columns(pl.col(c).fill_null(0) for c in ("n_baseline", "n_current", "positive_baseline", "positive_current"))
    band_frame = pl.DataFrame({"band": list(range(len(edges) - 1)), "band_lower": edges[:-1], "band_upper": edges[1:]},
                              schema={"band": out.schema["band"], "band_lower": pl.Float64, "band_upper": pl.Float64})
    out = out.join(band_frame, on="band", how="left")
    for name in ("baseline", "current"):
        lo, hi = proportion_interval(out[f"positive_{name}"].to_numpy(), out[f"n_{name}"].to_numpy(),
                                     confidence=confidence, method="wilson")
        out = out.with_columns(
            pl.when(pl.col(f"n_{name}") > 0).then(pl.col(f"positive_{name}") / pl.col(f"n_{name}")).alias(f"positive_share_{name}"),
            pl.Series(f"positive_share_{name}_ci_low", lo).fill_nan(None),
            pl.Series(f"positive_share_{name}_ci_high", hi).fill_nan(None),
        )
    out = out.with_columns((pl.col("positive_share_current") - pl.col("positive_share_baseline")).alias("change"))
    return out.sort([*by, "band"]).drop("band")


# --------------------------------------------------------------------------- the Segments & impact page's view

IMPACT_NEEDS: dict[str, str | None] = {"cpa": None, "roas": "revenue", "cr": "clicks"}  # column beyond spend, conversions


def impact_metrics(kpis: Table) -> list[str]:
    """The impact metrics a kpis table offers: CPA always, ROAS with revenue, CR with clicks."""
    return [m for m in IMPACT_METRICS if IMPACT_NEEDS[m] is None or kpis.has(IMPACT_NEEDS[m])]


@dataclass(frozen=True)
class ImpactView:
    """Everything the Segments & impact page shows: the metric's change split into mix and rate per segment (against
    the baseline of kind ``vs``), and the decisions' positive share per score band (``decisions``; ``decisions_note``
    says why it is missing)."""

    impact: ImpactResult
    vs: str
    decisions: pl.DataFrame | None
    decisions_by: tuple[str, ...]
    decisions_note: str | None

    @property
    def unit(self) -> str:
        return get_metric(self.impact.metric, "kpis").unit

    def share_of_baseline(self, effect: str) -> float | None:
        """A total effect (``mix_effect``, ``rate_effect``) relative to the baseline value: its part of the relative
        change (mix and rate parts add up to ``change_pct`` / 100)."""
        t = self.impact.total
        value, base = t[effect], t["baseline"]
        return None if value is None or not base else value / base

    def to_frame(self) -> pl.DataFrame:
        return self.impact.to_frame()

    def to_dict(self) -> dict:
        return jsonable({"vs": self.vs, "impact": self.impact.to_dict(), "decisions": self.decisions,
                         "decisions_by": list(self.decisions_by), "decisions_note": self.decisions_note})

    def to_figure(self, kind: Literal["waterfall", "heatmap", "spend"] = "waterfall"):
        return self.impact.to_figure(kind)

    def _repr_html_(self) -> str:
        return self.impact._repr_html_()


def impact_view(dataset: Dataset, *, end: dt.date, days: int, vs: str = "week_over_week", by: Sequence[str],
                metric: Metric = "cpa", min_conversions: float = DEFAULT_MIN_CONVERSIONS,
                pinned: str | Window | None = None) -> ImpactView:
    """The kpis' ``metric`` over the ``days`` days ending ``end`` against the baseline of kind ``vs`` (``pinned``:
    the window of a ``pinned`` baseline; ``last_release`` is placed from the releases table), split per segment of
    ``by`` into mix and rate; with the decisions' positive share per score band by the same columns (those the
    decisions table has)."""
    current = Window.ending(end, days=days)
    MIN_COUNT.check(min_conversions, where="impact: min_conversions")
    releases = dataset.get("releases")
    baseline = baselines_for(current, kinds=(vs,), pinned=pinned if vs == "pinned" else None,
                             releases=releases.frame if releases is not None else None)[0]
    impact = segment_impact(dataset["kpis"].frame, baseline=baseline, current=current, by=by, metric=metric,
                            min_conversions=min_conversions)
    decisions, seg, note = None, (), None
    table = dataset.get("decisions")
    if table is None or not table.has("decision"):
        note = "No decisions table with a decision column loaded."
    else:
        seg = tuple(c for c in impact.by if c in table.frame.columns)
        try:
            decisions = decision_drift(table.frame, baseline=baseline, current=current, by=seg)
        except DriftdeskError as exc:
            note = str(exc)
    return ImpactView(impact, vs, decisions, seg, note)
