"""Seasonality vs drift: is it drift, or is it just Monday?

STL / MSTL decomposition of metric series per segment (statsmodels, the only importer is ``stl.py``), robust
residual scores (median / MAD), level-shift and trend drift kept apart from one-off anomalies, calendar days
(holidays, promotions) treated as calendar, not drift, and a plain-words verdict per series.

Two modes
---------
* batch (``causal=False``): the whole history is decomposed at once; for exploring (the app page, notebooks).
* causal (``causal=True``): the flag at time t uses only data up to t. Every day the decomposition is refit on a
  trailing four-week window that ends before that day and applied forward; drift is found on those forecast
  residuals by an hourly CUSUM, a mean test (12 / 24 h) and a day-level CUSUM, all corrected for within-day
  correlation, or by a run of anomalies in a row. Strictly positive metrics are modelled on the log scale. The first
  two cycles of the shortest period are warm-up (flags normal, score null); a longer period joins the model once
  two of its cycles are seen, and the drift tests start once every period has. Event sizes are measured after the
  fact over the change's first three days; flags are never revised.
  Cutting off the data after t leaves every flag up to t unchanged (tested). Gates and backtests use this mode.

Flags mark what is abnormal and do not linger: a point is ``anomaly`` (a one-off: robust score beyond
``anomaly_z``), ``drift`` (a level shift or trend change being confirmed; ``drift_hold`` steps from the alarm,
then the detector re-baselines on the new level) or ``normal``. A run of non-normal points is one alert; a run
within ``episode_hours`` of the last one of its kind continues that episode (set back to normal, counted), and at
most ``alert_budget`` new episodes alert per series in any seven days (``episodes``).

Real series as they come: rows that repeat a timestamp are combined (``duplicates=`` mean, sum, first, last),
irregular spacing is regridded at the typical step, calendar months / quarters / years are one step each, data
finer than hourly is modelled on hourly means and scored point by point (``fine``), a series too short for any
period is judged against a robust level; all counted in the verdicts and said in ``result.notes``.
``strict=True`` refuses repeated timestamps and irregular spacing instead.

Public API (frame first, everything else keyword-only)
-----------------------------------------------------
An example on the sample's ``kpis`` and ``calendar`` tables (the README's Seasonality section runs a similar one)::

    from driftdesk.seasonality import metric_series, detect, causal_flags, decompose
    series = metric_series(kpis, "cpa", by=["geo"])          # ts, geo, value: ratios of sums per hour
    result = detect(series, ts="ts", value="value", by=["geo"], causal=True, calendar=calendar)
    # calendar: a frame with `date` (and optional `segment` like 'geo=US'), or a list of dates; `scope={'geo': 'DE'}`
    # names the segment a single series belongs to, so a US holiday is not masked in a DE series
    result.points      # by..., ts, value, trend, seasonal, resid, score, flag (normal/anomaly/drift), calendar
    result.events      # by..., start, end, kind (level_shift/trend_change/anomaly/variance_change/data_break), direction, magnitude
    result.verdicts    # by..., status (seasonal/anomaly/variance_change/drift/data_break/too_short/constant/empty), verdict
    result.verdict(geo="DE")   # 'level shift of +15% from 7 Oct, back by 12 Oct 04:00'
    flags = causal_flags(series, ts="ts", value="value", by=["geo"])   # by..., ts, value, score, flag
    decompose(one_series, ts="ts", value="value", periods=(24, 168))    # Decomposition: trend, seasonal, resid

For a gate metric over many segment series: build one long frame with ``metric_series`` (or your
own ts / segment / value columns) and call ``causal_flags(frame, ts=..., value=..., by=[...])`` once: equal-
length series share one linear STL operator, so a thousand series cost about as much as a few. A flag at t
depends only on rows with ts <= t; an alert starts where a segment's flag leaves ``normal``.
Bad input (an unknown column, text that is not a number or a time; with ``strict=True`` also duplicate timestamps,
irregular spacing or a local-time DST change) raises ``driftdesk.seasonality.SeasonalityError`` (a DriftdeskError:
CLI exit 2); a series that is too short, constant or all null gets a verdict saying so instead of an exception,
so one bad segment never stops a batch.
"""

from driftdesk.seasonality.calendar import CalendarDay, calendar_days
from driftdesk.seasonality.causal import DetectConfig
from driftdesk.seasonality.detect import causal_flags, decompose, detect
from driftdesk.seasonality.grid import SeasonalityError, default_periods
from driftdesk.seasonality.result import Decomposition, SeasonalityResult
from driftdesk.seasonality.series import metric_series, segment_options

score_series = detect

__all__ = [
    "CalendarDay",
    "Decomposition",
    "DetectConfig",
    "SeasonalityError",
    "SeasonalityResult",
    "calendar_days",
    "causal_flags",
    "decompose",
    "default_periods",
    "detect",
    "metric_series",
    "score_series",
    "segment_options",
]
