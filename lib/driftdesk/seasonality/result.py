"""Result objects of the seasonality module: one shape for the app, the notebooks and the CLI."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import polars as pl

from driftdesk.jsonsafe import jsonable

POINT_COLUMNS = ("ts", "value", "trend", "seasonal", "resid", "score", "flag", "calendar")
EVENT_COLUMNS = ("start", "end", "kind", "direction", "magnitude", "magnitude_abs", "detected_at", "score")
VERDICT_COLUMNS = ("status", "verdict", "periods", "step_seconds", "n_points", "model_step_seconds", "duplicate_rows",
                   "regridded", "alerts", "episodes", "suppressed_alerts", "live_from", "seasonal_strength")
# a split column keys every row of the result, so it cannot share a name with one of the result's own columns
RESULT_COLUMNS = frozenset(POINT_COLUMNS + EVENT_COLUMNS + VERDICT_COLUMNS)


@dataclass(frozen=True)
class Decomposition:
    """One series split into trend + seasonal (one column per period) + residual, on its regular grid."""

    frame: pl.DataFrame  # ts, observed, trend, seasonal, seasonal_<period>..., resid
    periods: tuple[int, ...]
    robust: bool = False

    def to_frame(self) -> pl.DataFrame:
        return self.frame

    def to_dict(self) -> dict:
        return jsonable({"periods": list(self.periods), "robust": self.robust, "points": self.frame})

    def to_figure(self):
        from driftdesk.viz.seasonality import decomposition_figure

        return decomposition_figure(self.frame, title=f"STL, periods {', '.join(map(str, self.periods))}")

    def _repr_html_(self) -> str:
        return f"<p><b>Decomposition</b> periods {self.periods}, {self.frame.height} steps</p>" + self.frame.head(10)._repr_html_()


def _key_filter(by: tuple[str, ...], key: dict) -> pl.Expr:
    unknown = [k for k in key if k not in by]
    if unknown:
        raise KeyError(f"not a series column: {', '.join(unknown)} (series are split by {', '.join(by) or 'nothing'})")
    expr = pl.lit(True)
    for k, v in key.items():
        expr = expr & (pl.col(k) == v)
    return expr


@dataclass(frozen=True)
class SeasonalityResult:
    """Per-point flags, events and a verdict for every series (split by ``by``)."""

    points: pl.DataFrame  # by..., ts, value, trend, seasonal, resid, score, flag, calendar
    events: pl.DataFrame  # by..., start, end, kind, direction, magnitude, magnitude_abs, detected_at, score
    verdicts: pl.DataFrame  # by..., status, verdict, periods, step_seconds, n_points
    by: tuple[str, ...] = ()
    causal: bool = False
    config: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what preparing the input took: rows combined, series regridded

    def to_frame(self) -> pl.DataFrame:
        return self.points

    def series(self, **key) -> SeasonalityResult:
        """The result for one series, e.g. ``result.series(geo="DE")``."""
        if not key:
            return self
        return SeasonalityResult(self.points.filter(_key_filter(self.by, key)), self.events.filter(_key_filter(self.by, key)),
                                 self.verdicts.filter(_key_filter(self.by, key)), self.by, self.causal, self.config,
                                 self.notes)

    def verdict(self, **key) -> str:
        """The plain-words verdict of one series (the only one when there is no ``by``)."""
        rows = self.series(**key).verdicts
        if rows.height != 1:
            raise KeyError(f"{rows.height} series match {key or 'no key'}; name one with the columns {', '.join(self.by)}")
        return str(rows["verdict"][0])

    def to_dict(self) -> dict:
        """What the CLI prints: mode, points, events, verdicts (JSON-safe)."""
        return jsonable({
            "mode": "causal" if self.causal else "batch",
            "by": list(self.by),
            "points": self.points,
            "events": self.events,
            "verdicts": self.verdicts,
            "config": self.config,
            "notes": list(self.notes),
        })

    def to_figure(self, **key):
        from driftdesk.viz.seasonality import seasonality_figure

        return seasonality_figure(self.series(**key))

    def _repr_html_(self) -> str:
        from driftdesk.seasonality.verdicts import shown_status

        rows = "".join(
            f"<tr><td>{html.escape(' / '.join(str(r[c]) for c in self.by) or 'series')}</td>"
            f"<td>{html.escape(str(r['status']))}</td><td>{html.escape(str(r['verdict']))}</td></tr>"
            for r in self.verdicts.head(50).with_columns(shown_status()).to_dicts()
        )
        mode = "causal" if self.causal else "batch"
        return (f"<p><b>Seasonality</b> ({mode}): {self.verdicts.height} series, {self.events.height} events</p>"
                f"<table><tr><th>series</th><th>status</th><th>verdict</th></tr>{rows}</table>")
