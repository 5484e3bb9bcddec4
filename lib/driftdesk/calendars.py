"""The calendar a dataset is read with: days that are calendar, not drift, and where each came from.

Three sources, one answer (``effective_calendar(dataset)``), read by the Overview, the seasonality views, the gates
and the timeline:

- **your calendar table** (``calendar.csv``): promotions, paydays, your own holidays. It adds to the days below, and
  a day of it replaces an automatic day on the same date for the same segment (or for everywhere).
- **public holidays** from the ``holidays`` package, for the countries found in a geo / country segment
  (``auto``, the default), for the countries you name (``holidays = ["US", "DE"]`` under ``[calendar]`` in the
  folder's driftdesk.toml, or ``--holidays US,DE``), or none (``"none"``). National holidays only, not regional
  ones. An unknown country code is named in ``notes`` and the other countries still apply.
- **retail events** every marketer plans around: Black Friday (the day after the fourth Thursday of November,
  US Thanksgiving), Cyber Monday (the Monday after it), Singles' Day (11 November), Christmas Day, New Year's Eve,
  and Prime Day on the dates you give (``prime_day = ["2026-07-14", "2026-07-15"]``). ``events = false`` turns
  them off.

Where a day applies. A public holiday is a calendar day for its own country's series (``geo=US``). It counts for
the whole business (all-traffic series, the Overview's volumes, the timeline) only when its country brings at
least ``WHOLE_BUSINESS_SHARE`` (80%) of the traffic (spend in kpis, else rows): a holiday that moves one
country's volume by a third moves the total by a third of that country's share, too little for the Overview's
volume thresholds unless the country is most of the business. A holiday of a country you name that is not in
the data applies everywhere (the data is that country's). Retail events and the days of your calendar table
apply as listed (your table's segmented rows count for the whole business in the Overview, as you listed them).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from driftdesk import engine
from driftdesk.contract import Dataset
from driftdesk.jsonsafe import jsonable
from driftdesk.windows import span

COUNTRY_COLUMNS = ("geo", "country", "country_code", "market", "geo_country", "country_iso", "countrycode")
ACTIVITY = (("kpis", "spend"), ("decisions", None), ("llm_calls", None), ("service", None))
WHOLE_BUSINESS_SHARE = 0.8
ALIASES = {"UK": "GB", "EL": "GR"}
SOURCES = ("calendar table", "public holiday", "retail event")
DAY_SCHEMA = {"date": pl.Datetime("us"), "name": pl.String, "kind": pl.String, "segment": pl.String,
              "source": pl.String, "everywhere": pl.Boolean}


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class CalendarSettings:
    """Which automatic days to add: public holidays ('auto' from the data, 'none', or country codes), retail events,
    and Prime Day's dates."""

    holidays: str | tuple[str, ...] = "auto"
    events: bool = True
    prime_day: tuple[dt.date, ...] = ()

    @classmethod
    def read(cls, section: Mapping) -> tuple[CalendarSettings, tuple[str, ...]]:
        """Settings from a ``[calendar]`` section (or a CLI override), and notes on what could not be read."""
        notes = []
        unknown = sorted(set(section) - {"holidays", "events", "prime_day"})
        if unknown:
            notes.append(f"calendar: unknown setting(s) {', '.join(unknown)} ignored; the settings are holidays, events "
                         "and prime_day")
        holidays = parse_holidays(section.get("holidays", "auto"))
        events = section.get("events", True)
        if not isinstance(events, bool):
            notes.append(f"calendar: events must be true or false, got {events!r}; retail events are added")
            events = True
        days = []
        for value in _as_list(section.get("prime_day", ())):
            try:
                days.append(dt.date.fromisoformat(str(value).strip()[:10]))
            except ValueError:
                notes.append(f"calendar: prime_day {value!r} is not a date (YYYY-MM-DD); left out")
        return cls(holidays, events, tuple(days)), tuple(notes)


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in (p.strip() for p in value.split(",")) if v]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def parse_holidays(value) -> str | tuple[str, ...]:
    """'auto', 'none', or country codes (upper case) from a list or a comma-separated text like 'US,DE'."""
    items = _as_list(value)
    if not items or (len(items) == 1 and str(items[0]).strip().lower() == "auto"):
        return "auto"
    if len(items) == 1 and str(items[0]).strip().lower() in ("none", "no", "off", "false"):
        return "none"
    return tuple(dict.fromkeys(str(i).strip().upper() for i in items if str(i).strip()))


# --------------------------------------------------------------------------- the days themselves


def thanksgiving(year: int) -> dt.date:
    """US Thanksgiving: the fourth Thursday of November."""
    first = dt.date(year, 11, 1)
    return first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)


def retail_events(years: Iterable[int], *, prime_day: Sequence[dt.date] = ()) -> pl.DataFrame:
    """date, name, kind ('promotion') of the retail events in these years, and Prime Day on the given dates."""
    rows = []
    for year in sorted(set(years)):
        black_friday = thanksgiving(year) + dt.timedelta(days=1)
        rows += [(black_friday, "Black Friday"), (black_friday + dt.timedelta(days=3), "Cyber Monday"),
                 (dt.date(year, 11, 11), "Singles' Day"), (dt.date(year, 12, 25), "Christmas Day"),
                 (dt.date(year, 12, 31), "New Year's Eve")]
    rows += [(d, "Prime Day") for d in prime_day]
    return pl.DataFrame({"date": [d for d, _ in rows], "name": [n for _, n in rows]},
                        schema={"date": pl.Date, "name": pl.String}).with_columns(kind=pl.lit("promotion"))


@functools.cache
def supported_countries() -> frozenset[str]:
    import holidays

    return frozenset(holidays.list_supported_countries())


@functools.lru_cache(maxsize=256)
def _country_days(code: str, years: tuple[int, ...]) -> tuple[tuple[dt.date, str], ...]:
    import holidays

    days = holidays.country_holidays(code, years=list(years), language="en_US")
    return tuple(sorted((d, name) for d, name in days.items()))


def country_code(value: str) -> str | None:
    """The holidays package's code for a segment value ('us' -> 'US', 'UK' -> 'GB'), or None if it knows none."""
    code = ALIASES.get(str(value).strip().upper(), str(value).strip().upper())
    return code if len(code) in (2, 3) and code in supported_countries() else None


def public_holidays(codes: Sequence[str], years: Iterable[int]) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """(date, name, country) of the national public holidays of these countries, and the codes it does not know."""
    years_ = tuple(sorted(set(years)))
    frames, unknown = [], []
    for given in codes:
        code = country_code(given)
        if code is None:
            unknown.append(given)
            continue
        days = _country_days(code, years_)
        frames.append(pl.DataFrame({"date": [d for d, _ in days], "name": [n for _, n in days]},
                                   schema={"date": pl.Date, "name": pl.String}).with_columns(country=pl.lit(given)))
    empty = pl.DataFrame(schema={"date": pl.Date, "name": pl.String, "country": pl.String})
    return (pl.concat(frames) if frames else empty), tuple(unknown)


# --------------------------------------------------------------------------- a dataset's calendar


@dataclass(frozen=True)
class Calendar:
    """Every calendar day a dataset is read with, where it came from and where it applies.

    ``days``: date, name, kind, segment ('geo=US', or null for everywhere), source ('calendar table',
    'public holiday', 'retail event'), everywhere (it counts for the whole business).
    """

    days: pl.DataFrame
    settings: CalendarSettings
    country_column: str | None
    countries: tuple[str, ...]  # the countries whose public holidays were added
    notes: tuple[str, ...]

    def for_series(self, columns: Sequence[str] = ()) -> pl.DataFrame:
        """The days for series split or filtered by ``columns`` (date, name, kind, segment: what
        ``seasonality.detect`` reads): the whole business's days, and the holidays of the country column when it is
        one of ``columns`` (each then limited to its own country's series by its segment)."""
        by_column = pl.col("segment").str.extract(r"^\s*([^=]+?)\s*=", 1)
        keep = pl.col("everywhere") | by_column.is_in(list(columns))
        return self.days.filter(keep).select("date", "name", "kind", "segment")

    def whole_business(self) -> dict[dt.date, str]:
        """Date -> name of the days that count for the whole business (the Overview's volumes, the timeline)."""
        rows = self.days.filter(pl.col("everywhere")).group_by("date", maintain_order=True).agg(pl.col("name").first())
        return {d.date(): name for d, name in rows.iter_rows()}

    @property
    def summary(self) -> str:
        """How many days came from where, in a sentence."""
        counts = dict(self.days.group_by(pl.col("source").str.replace(r" \(.*\)$", "")).len().iter_rows())
        parts = []
        if counts.get("calendar table"):
            parts.append(f"{counts['calendar table']} from your calendar table")
        if counts.get("public holiday"):
            where = f" ({self.country_column})" if self.country_column else ""
            parts.append(f"{counts['public holiday']} public holidays of {', '.join(self.countries)}{where}")
        if counts.get("retail event"):
            parts.append(f"{counts['retail event']} retail events")
        total = self.days.height
        head = f"{total} calendar day{'s' if total != 1 else ''}" + (f": {', '.join(parts)}" if parts else "")
        return head + "."

    def to_frame(self) -> pl.DataFrame:
        return self.days

    def to_dict(self) -> dict:
        s = self.settings
        return jsonable({
            "days": self.days, "summary": self.summary, "country_column": self.country_column,
            "countries": list(self.countries), "notes": list(self.notes),
            "settings": {"holidays": s.holidays if isinstance(s.holidays, str) else list(s.holidays),
                         "events": s.events, "prime_day": [d.isoformat() for d in s.prime_day]},
        })

    def _repr_html_(self) -> str:
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        return f"<p><b>{html.escape(self.summary)}</b></p>{notes}" + self.days._repr_html_()


def data_span(dataset: Dataset) -> tuple[dt.date, dt.date] | None:
    """The first and last day the activity tables cover (None when none has rows)."""
    bounds = []
    for name, _ in ACTIVITY:
        table = dataset.get(name)
        if table is not None and "ts" in engine.schema(table.frame):
            bounds += [v for v in span(table.frame, "ts") if v is not None]  # a table without rows has no span
    return (min(bounds).date(), max(bounds).date()) if bounds else None


def country_segments(dataset: Dataset) -> tuple[str | None, dict[str, float]]:
    """The country segment column of the activity tables and each value's share of the traffic (spend, else rows)."""
    for name, weight in ACTIVITY:
        table = dataset.get(name)
        if table is None:
            continue
        column = next((c for c in table.segments if c.strip().lower().replace(" ", "_") in COUNTRY_COLUMNS), None)
        if column is None:
            continue
        weight = weight if weight and weight in engine.schema(table.frame) else None
        if engine.is_spark(table.frame):
            from driftdesk.engine.spark.aggregate import totals

            sums = totals(table.frame, column, weight)
        else:
            w = pl.col(weight).cast(pl.Float64) if weight else pl.lit(1.0)
            sums = engine.lazy(table.frame).group_by(pl.col(column).cast(pl.String)).agg(w.sum().alias("w")).pipe(
                engine.collect)
        shares = sums.with_columns(pl.col("w") / pl.col("w").sum())
        return column, {v: (s or 0.0) for v, s in shares.iter_rows() if v is not None}
    return None, {}


def effective_calendar(dataset: Dataset, *, holidays: str | Sequence[str] | None = None) -> Calendar:
    """The dataset's calendar: its calendar table, public holidays and retail events (see the module docstring).

    Settings come from the folder's driftdesk.toml ``[calendar]`` (``dataset.calendar``); ``holidays`` overrides
    its countries ('auto', 'none', or codes like 'US,DE').
    """
    section = dict(dataset.calendar)
    if holidays is not None:
        section["holidays"] = holidays
    settings, notes = CalendarSettings.read(section)
    notes = list(notes)
    span = data_span(dataset)
    years = range(span[0].year, span[1].year + 1) if span else ()
    column, shares = country_segments(dataset)
    parts = [_user_days(dataset)]
    countries: tuple[str, ...] = ()
    if settings.holidays != "none" and years:
        if settings.holidays == "auto":
            values = sorted(shares)
            known = [v for v in values if country_code(v) is not None]
            other = [v for v in values if country_code(v) is None]
            if other and column:
                notes.append(f"calendar: no public holidays for {column}={', '.join(other[:5])}"
                             f"{' …' if len(other) > 5 else ''} (not ISO country codes)")
            if column is None:
                notes.append("calendar: no geo or country segment, so no public holidays were added; name the countries "
                             "with holidays = [\"US\"] under [calendar] in driftdesk.toml (or --holidays US)")
            codes = known
        else:
            codes = list(settings.holidays)
        days, unknown = public_holidays(codes, years)
        for code in unknown:
            notes.append(f"calendar: unknown country code {code!r} for public holidays: none added for it (codes are "
                         "ISO 3166 like US, DE, GB; the other countries still apply)")
        countries = tuple(c for c in codes if c not in unknown)
        parts.append(_holiday_days(days, column, shares))
    if settings.events and years:
        events = retail_events(years, prime_day=settings.prime_day)
        parts.append(events.select(pl.col("date").cast(pl.Datetime("us")), "name", "kind",
                                   pl.lit(None, pl.String).alias("segment"), pl.lit("retail event").alias("source"),
                                   pl.lit(True).alias("everywhere")))
    days = _without_overridden(pl.concat([p.cast(DAY_SCHEMA) for p in parts]))
    if span:  # the automatic days the data covers; every day of the user's table stays
        inside = pl.col("date").dt.date().is_between(span[0], span[1])
        days = days.filter(inside | (pl.col("source") == "calendar table"))
    return Calendar(days.sort("date", "source", "segment", nulls_last=True), settings, column, countries, tuple(notes))


def _user_days(dataset: Dataset) -> pl.DataFrame:
    table = dataset.get("calendar")
    if table is None or table.frame.height == 0:
        return pl.DataFrame(schema=DAY_SCHEMA)
    f = table.frame.filter(pl.col("date").is_not_null())
    return f.select(pl.col("date").dt.truncate("1d"), "name",
                    (pl.col("kind") if "kind" in f.columns else pl.lit(None, pl.String)).alias("kind"),
                    (pl.col("segment").str.strip_chars().replace("", None) if "segment" in f.columns
                     else pl.lit(None, pl.String)).alias("segment"),
                    pl.lit("calendar table").alias("source"), pl.lit(True).alias("everywhere"))


def _holiday_days(days: pl.DataFrame, column: str | None, shares: Mapping[str, float]) -> pl.DataFrame:
    """Each holiday limited to its country's segment; for the whole business too when that country dominates."""
    in_data = {str(v).strip().upper(): v for v in shares}
    rows = days.with_columns(value=pl.col("country").str.to_uppercase().replace_strict(in_data, default=None))
    share = pl.col("value").replace_strict(dict(shares), default=None, return_dtype=pl.Float64)
    return rows.select(
        pl.col("date").cast(pl.Datetime("us")), "name", pl.lit("holiday").alias("kind"),
        pl.when(pl.col("value").is_not_null() & pl.lit(column is not None))
        .then(pl.lit(f"{column}=") + pl.col("value")).otherwise(None).alias("segment"),
        pl.format("public holiday ({})", pl.col("country")).alias("source"),
        (pl.col("value").is_null() | (share >= WHOLE_BUSINESS_SHARE)).alias("everywhere"),
    )


def _without_overridden(days: pl.DataFrame) -> pl.DataFrame:
    """Automatic days that a day of the user's table replaces: same date, and the same segment or everywhere."""
    user = days.filter(pl.col("source") == "calendar table")
    auto = days.filter(pl.col("source") != "calendar table")
    if user.is_empty() or auto.is_empty():
        return days
    everywhere = user.filter(pl.col("segment").is_null()).select("date").unique()
    same = user.filter(pl.col("segment").is_not_null()).select("date", "segment").unique()
    auto = auto.join(everywhere, on="date", how="anti").join(same, on=["date", "segment"], how="anti")
    return pl.concat([user, auto])
