"""Daily LLM budgets: how much of the day's budget is spent, how fast, and when it runs out at that pace.

For one UTC day and a moment ``as_of`` in it, per group (a feature, say) with a daily budget:

- ``spent``: the cost of the calls from 00:00 UTC up to ``as_of``; ``burn`` = spent / budget;
- ``rate_per_hour``: the cost over the last ``rate_hours`` before ``as_of`` (fewer early in the day) per hour, so a
  projection follows the day's current pace rather than its quiet night;
- ``projected_exhaustion``: ``as_of + (budget - spent) / rate``, when that falls within the day (else null, and
  ``projected_day_spend`` = spent + rate x hours left says how close the day ends);
- ``exhausted_at``: the time of the call with which the spend reached the budget, if it did;
- ``alert_at``: the first hour end (01:00 ... 23:00) at which the burn was above ``alert_share`` (80% by default):
  the moment the budget gate (``budget_burn:cost`` in a gate policy) alerts when replayed on history.

Status: ``alert`` once the budget is spent, ``warn`` past the alert share or when the projection runs out before
the day ends, ``ok`` otherwise. A budget must be a positive amount: a budget of zero is refused with a message.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from driftdesk.errors import DriftdeskError
from driftdesk.format import format_value
from driftdesk.jsonsafe import jsonable
from driftdesk.segments import by_columns
from driftdesk.status import ALERT, OK, WARN

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
ALL_CALLS = "all calls"
# the moments a day's burn can be read at, as a page offers them: the latest data, or an hour end
AS_OF_CHOICES: tuple[str, ...] = ("latest", *(f"{h:02d}:00" for h in range(1, 25)))
REASONS = {
    "over_budget": "the day's budget is spent",
    "past_alert_share": "more than the alert share of the budget is spent",
    "projected_to_run_out": "at the current pace the budget runs out before the day ends",
}


def _budgets(budget: float | Mapping[str, float]) -> dict[str, float]:
    table = dict(budget) if isinstance(budget, Mapping) else {ALL_CALLS: budget}
    if not table:
        raise DriftdeskError("budget: give a daily budget, one amount or one per group")
    for key, amount in table.items():
        if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
            raise DriftdeskError(f"budget: the daily budget of {key!r} must be a finite number, got {amount!r}")
        if amount <= 0:
            raise DriftdeskError(f"budget: the daily budget of {key!r} must be positive, got {amount!r} (a budget of "
                                 "zero is spent by the first call: say no budget instead)")
    return {str(k): float(v) for k, v in table.items()}


@dataclass(frozen=True)
class BudgetBurn:
    """One day's budget burn per group at ``as_of``: figures per group and the cumulative spend per hour."""

    day: dt.date
    as_of: dt.datetime
    by: str | None
    alert_share: float
    rate_hours: float
    groups: pl.DataFrame  # group, budget, spent, burn, rate_per_hour, projected_day_spend, projected_exhaustion,
    #                       exhausted_at, alert_at, status, reason_codes
    hourly: pl.DataFrame  # group, ts (hour end, or as_of), spent (since 00:00), budget, burn
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pl.DataFrame:
        return self.groups

    def sentences(self) -> list[str]:
        """E.g. "ad_copy: $48.20 of $60.00 spent by 18:00 UTC (80%); at $4.10/h it runs out at 20:56 UTC"."""
        out = []
        for r in self.groups.iter_rows(named=True):
            text = (f"{r['group']}: {format_value(r['spent'], 'usd')} of {format_value(r['budget'], 'usd')} spent by "
                    f"{self.as_of:%H:%M} UTC ({format_value(r['burn'], 'rate')})")
            if r["exhausted_at"] is not None:
                text += f"; the budget ran out at {r['exhausted_at']:%H:%M} UTC"
            elif r["projected_exhaustion"] is not None:
                text += (f"; at {format_value(r['rate_per_hour'], 'usd')}/h it runs out at "
                         f"{r['projected_exhaustion']:%H:%M} UTC")
            elif self.as_of < _midnight(self.day) + DAY:
                text += f"; at {format_value(r['rate_per_hour'], 'usd')}/h the day ends at " \
                        f"{format_value(r['projected_day_spend'], 'usd')}"
            if r["alert_at"] is not None:
                text += f" (the {format_value(self.alert_share, 'rate')} alert fired at {r['alert_at']:%H:%M} UTC)"
            out.append(text)
        return out

    def to_dict(self) -> dict:
        return jsonable({"day": self.day, "as_of": self.as_of, "by": self.by, "alert_share": self.alert_share,
                         "rate_hours": self.rate_hours, "groups": self.groups, "hourly": self.hourly,
                         "summary": self.sentences(), "notes": list(self.notes)})

    def to_figure(self, group: str | None = None):
        from driftdesk.viz.budget import burn_figure

        return burn_figure(self, group)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{s}</li>" for s in self.sentences())
        return f"<h4>Budget burn on {self.day} as of {self.as_of:%H:%M} UTC</h4><ul>{items}</ul>" + \
            self.groups._repr_html_()


def as_of_hour(choice: str) -> int | None:
    """The hour of an ``AS_OF_CHOICES`` entry (None for "latest")."""
    if choice not in AS_OF_CHOICES:
        raise DriftdeskError(f"budget: read the burn at one of {', '.join(AS_OF_CHOICES[:3])} ... 24:00, got {choice!r}")
    return None if choice == "latest" else int(choice[:2])


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _as_of(lf: pl.LazyFrame, day: dt.date, as_of: dt.datetime | None) -> dt.datetime:
    start, end = _midnight(day), _midnight(day) + DAY
    if as_of is None:
        last = lf.select(pl.col("ts").max()).collect().item()
        if last is None:
            return end
        hour_end = last.replace(minute=0, second=0, microsecond=0) + HOUR
        return min(end, hour_end)
    if not start < as_of <= end:
        raise DriftdeskError(f"budget: as_of {as_of:%Y-%m-%d %H:%M} is not within {day} (after 00:00, up to 24:00 UTC)")
    return as_of


def budget_burn(calls: pl.DataFrame | pl.LazyFrame, *, budget: float | Mapping[str, float], day: dt.date,
                by: str | None = None, as_of: dt.datetime | None = None, alert_share: float = 0.8,
                rate_hours: float = 3.0, cost: str = "cost") -> BudgetBurn:
    """The day's budget burn per ``by`` group (see the module docstring); ``as_of`` defaults to the end of the day,
    or the hour end after the day's last call when the data stops earlier."""
    if not 0 < alert_share <= 1:
        raise DriftdeskError(f"budget: the alert share must be in (0, 1], got {alert_share}")
    if not rate_hours > 0:
        raise DriftdeskError(f"budget: rate_hours must be positive, got {rate_hours}")
    group_cols = by_columns(by, calls)
    columns = calls.collect_schema().names()
    missing = [c for c in ("ts", cost, *group_cols) if c not in columns]
    if missing or len(group_cols) > 1:
        raise DriftdeskError(f"budget: unknown column(s) {missing}; columns are {columns}" if missing else
                             "budget: budgets are per one column's values (by one column, e.g. feature)")
    budgets = _budgets(budget)
    if not group_cols and ALL_CALLS not in budgets:
        raise DriftdeskError(f"budget: budgets per value ({', '.join(budgets)}) need by=<the column they are values of>")
    start = _midnight(day)
    group = pl.col(group_cols[0]).cast(pl.String) if group_cols else pl.lit(ALL_CALLS)
    lf = (calls.lazy().filter((pl.col("ts") >= start) & (pl.col("ts") < start + DAY))
          .select(group.alias("group"), "ts", pl.col(cost).cast(pl.Float64).fill_nan(None).alias("cost")))
    as_of = _as_of(lf, day, as_of)
    rows = lf.filter(pl.col("ts") < as_of).collect()
    negative = rows.filter(pl.col("cost") < 0)
    if negative.height:
        raise DriftdeskError(f"budget: {negative.height} call(s) have a negative {cost}, e.g. "
                             f"{negative['cost'].head(3).to_list()}; a cost is never negative")
    unknown = rows["cost"].null_count()
    if rows.height and unknown == rows.height:
        raise DriftdeskError(f"budget: none of the {rows.height:,} calls on {day} has a {cost} (all null), so the burn "
                             f"is unknown, not zero; fill the {cost} column or map another one")
    seen = set(rows["group"].unique().to_list())
    keys = sorted(budgets) if group_cols else [ALL_CALLS]
    notes = [f"no daily budget for {g!r}: left out" for g in sorted(seen - set(budgets)) if group_cols]
    notes += [f"{g!r} made no call on {day}" for g in keys if g not in seen]
    notes += [f"{unknown:,} of {rows.height:,} calls have no {cost}: the burn counts the known costs only"] if unknown else []
    frame = pl.DataFrame({"group": keys, "budget": [budgets.get(k, budgets.get(ALL_CALLS)) for k in keys]})
    hourly = _hourly(rows, frame, start, as_of)
    groups = _figures(rows, frame, hourly, start, as_of, alert_share, rate_hours)
    return BudgetBurn(day, as_of, group_cols[0] if group_cols else None, alert_share, rate_hours, groups, hourly,
                      tuple(notes))


def _hourly(rows: pl.DataFrame, frame: pl.DataFrame, start: dt.datetime, as_of: dt.datetime) -> pl.DataFrame:
    """Cumulative spend since 00:00 at every hour end before ``as_of``, and at ``as_of`` itself."""
    ends = [start + HOUR * k for k in range(1, 25) if start + HOUR * k < as_of] + [as_of]
    grid = frame.join(pl.DataFrame({"ts": ends}, schema={"ts": pl.Datetime("us")}), how="cross")
    bucket = pl.min_horizontal(pl.col("ts").dt.truncate("1h") + HOUR, pl.lit(as_of).cast(pl.Datetime("us")))
    sums = rows.group_by("group", bucket.cast(pl.Datetime("us")).alias("ts")).agg(pl.col("cost").sum().alias("c"))
    return (grid.join(sums, on=["group", "ts"], how="left").with_columns(pl.col("c").fill_null(0.0))
            .sort("group", "ts")
            .with_columns(pl.col("c").cum_sum().over("group").alias("spent"))
            .with_columns((pl.col("spent") / pl.col("budget")).alias("burn"))
            .select("group", "ts", "spent", "budget", "burn"))


def _figures(rows: pl.DataFrame, frame: pl.DataFrame, hourly: pl.DataFrame, start: dt.datetime, as_of: dt.datetime,
             alert_share: float, rate_hours: float) -> pl.DataFrame:
    day_end = start + DAY
    window = min(rate_hours, (as_of - start) / HOUR)
    recent = (rows.filter(pl.col("ts") >= as_of - dt.timedelta(hours=window)).group_by("group")
              .agg((pl.col("cost").sum() / window).alias("rate_per_hour")))
    spent = hourly.filter(pl.col("ts") == as_of).select("group", "spent")
    exhausted = (rows.sort("ts").join(frame, on="group")
                 .with_columns(pl.col("cost").fill_null(0.0).cum_sum().over("group").alias("_cum"))
                 .filter(pl.col("_cum") >= pl.col("budget")).group_by("group")
                 .agg(pl.col("ts").min().alias("exhausted_at")))
    whole_hours = (pl.col("ts") - pl.lit(start)).dt.total_minutes() % 60 == 0
    alert = (hourly.filter(whole_hours & (pl.col("ts") < day_end) & (pl.col("burn") > alert_share))
             .group_by("group").agg(pl.col("ts").min().alias("alert_at")))
    out = (frame.join(spent, on="group", how="left").join(recent, on="group", how="left")
           .join(exhausted, on="group", how="left").join(alert, on="group", how="left")
           .with_columns(pl.col("spent", "rate_per_hour").fill_null(0.0)))
    hours_left = (day_end - as_of) / HOUR
    to_go = (pl.col("budget") - pl.col("spent")) / pl.col("rate_per_hour")
    out = out.with_columns(
        (pl.col("spent") / pl.col("budget")).alias("burn"),
        (pl.col("spent") + pl.col("rate_per_hour") * hours_left).alias("projected_day_spend"),
        pl.when((pl.col("spent") < pl.col("budget")) & (pl.col("rate_per_hour") > 0) & (to_go <= hours_left))
        .then(pl.lit(as_of) + pl.duration(microseconds=(to_go * 3.6e9).round(0).cast(pl.Int64)))
        .alias("projected_exhaustion"),
    )
    codes = pl.concat_list(
        pl.when(pl.col("burn") >= 1).then(pl.lit(["over_budget"])).otherwise(pl.lit([], dtype=pl.List(pl.String))),
        pl.when(pl.col("burn") > alert_share).then(pl.lit(["past_alert_share"]))
        .otherwise(pl.lit([], dtype=pl.List(pl.String))),
        pl.when(pl.col("projected_exhaustion").is_not_null()).then(pl.lit(["projected_to_run_out"]))
        .otherwise(pl.lit([], dtype=pl.List(pl.String))))
    status = (pl.when(pl.col("burn") >= 1).then(pl.lit(ALERT))
              .when((pl.col("burn") > alert_share) | pl.col("projected_exhaustion").is_not_null()).then(pl.lit(WARN))
              .otherwise(pl.lit(OK)))
    return out.with_columns(status.alias("status"), codes.alias("reason_codes")).select(
        "group", "budget", "spent", "burn", "rate_per_hour", "projected_day_spend",
        pl.col("projected_exhaustion").cast(pl.Datetime("us")), pl.col("exhausted_at").cast(pl.Datetime("us")),
        pl.col("alert_at").cast(pl.Datetime("us")), "status", "reason_codes")


__all__ = ["ALL_CALLS", "AS_OF_CHOICES", "REASONS", "BudgetBurn", "as_of_hour", "budget_burn"]
