"""Day-over-day and week-over-week for one series: the same hours of the day before and of the week before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from driftdesk.jsonsafe import jsonable
from driftdesk.windows import Window, day_over_day, week_over_week


@dataclass(frozen=True)
class DayComparison:
    """Hour-aligned values of one day vs the day before and the same weekday a week before."""

    frame: pl.DataFrame  # offset_hours, ts, current, day_over_day, week_over_week
    current: Window
    totals: dict  # current / day_over_day / week_over_week sums (or means for rates), and changes

    def to_frame(self) -> pl.DataFrame:
        return self.frame

    def to_dict(self) -> dict:
        return jsonable({"current": self.current.to_dict(), "totals": self.totals, "hours": self.frame})

    def to_figure(self):
        from driftdesk.viz.seasonality import comparison_figure

        return comparison_figure(self)

    def _repr_html_(self) -> str:
        return self.frame._repr_html_()


def compare_day(series: pl.DataFrame, day: dt.date, *, ts: str = "ts", value: str = "value",
                how: str = "mean", daily: pl.DataFrame | None = None) -> DayComparison:
    """``series`` (ts, value) on ``day`` (UTC) against day-over-day and week-over-week, aligned by hour.
    ``how`` summarises each day from its hours: 'sum' for volumes, 'mean' for rates. ``daily`` (ts at midnight
    UTC, value), when given, is each day's own value instead: the metric over the day's rows, which for a ratio
    (a day's CPA is its spend over its conversions) or a percentile is not the mean of its hours."""
    current = Window.day(day)
    parts = []
    for win in (current, day_over_day(current), week_over_week(current)):
        label = win.label or "current"
        part = series.filter(win.contains(ts)).select(
            ((pl.col(ts) - win.start).dt.total_minutes() / 60).alias("offset_hours"), pl.col(value).alias(label))
        parts.append(part)
    frame = parts[0]
    for part in parts[1:]:
        frame = frame.join(part, on="offset_hours", how="full", coalesce=True)
    frame = frame.sort("offset_hours").with_columns((pl.lit(current.start) + pl.duration(minutes=pl.col("offset_hours") * 60))
                                                    .alias("ts"))
    agg = pl.sum if how == "sum" else pl.mean
    # a day without a value (a gap in the data) has no total: not a sum of 0
    totals = frame.select(pl.when(pl.col(c).count() > 0).then(agg(c)).alias(c)
                          for c in ("current", "day_over_day", "week_over_week")).row(0, named=True)
    if daily is not None:
        days = dict(zip(daily[ts].dt.date().to_list(), daily[value].to_list(), strict=True))
        totals = {(win.label or "current"): days.get(win.start.date())
                  for win in (current, day_over_day(current), week_over_week(current))}
    for k in ("day_over_day", "week_over_week"):
        base = totals[k]
        totals[f"change_vs_{k}"] = (totals["current"] - base) / abs(base) if base not in (None, 0) and totals["current"] is not None else None
    return DayComparison(frame.select("offset_hours", "ts", "current", "day_over_day", "week_over_week"), current, totals)
