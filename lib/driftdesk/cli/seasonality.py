"""``driftdesk seasonality``: STL decomposition, anomaly and drift flags, and a verdict per series."""

from __future__ import annotations

import argparse
import sys

from driftdesk.cli.common import (
    EXIT_OK,
    by_arg,
    emit,
    engine_arg,
    format_arg,
    holidays_arg,
    load_folder,
    pct,
    source_args,
    split_cols,
)
from driftdesk.errors import DriftdeskError


def _series_input(args: argparse.Namespace):
    """(frame, ts, value, by, source, calendar, thin, counts): a file's rows as they are (``--input``), or a folder's
    table turned into a metric series with the registry, as the app does (``--data DIR --table kpis --metric cpa
    [--by geo]``); ``thin`` (``LowVolume`` or None) says how many points had too little volume behind them to be
    read and were left out; ``counts`` is ``--counts``, except that a registry metric that cannot count events (a
    ratio, a mean, a quantile) is never modelled as counts under "auto"."""
    counts = {"auto": "auto", "yes": True, "no": False}[args.counts]
    by = split_cols(args.by)
    if args.data:
        if not args.metric:
            raise DriftdeskError("--data reads a table of rows: name the metric to follow with --metric "
                                 "(cr, cpa, roas, ctr, cpc, spend, conversions, ...)")
        from driftdesk.calendars import effective_calendar
        from driftdesk.seasonality import metric_series
        from driftdesk.seasonality.series import low_volume, series_metric

        dataset = load_folder(args, scan=True)
        table = dataset.get(args.table)
        if table is None:
            raise DriftdeskError(f"{args.data}: no {args.table} table in this folder (tables found: "
                                 f"{', '.join(sorted(dataset.tables)) or 'none'})")
        every = args.every or "1h"
        series = metric_series(table.frame, args.metric, ts="ts", by=by or None, every=every)
        if counts == "auto" and not series_metric(table.frame, args.metric).may_count_events:
            counts = False
        # the folder's calendar (its table, public holidays, retail events) unless --calendar names a file
        calendar = _calendar_file(args) or effective_calendar(dataset, holidays=args.holidays).for_series(by)

        thin = low_volume(table.frame, args.metric, by=by or None, every=every)
        return series, "ts", "value", by, f"{table.source} ({args.metric} per {every})", calendar, thin, counts
    if args.engine == "spark":
        raise DriftdeskError("--engine spark reduces a folder's table of rows (--data DIR --metric NAME); --input "
                             "FILE is read as a series as it is, on this machine")
    if args.metric:
        raise DriftdeskError("--metric builds a series from a folder's table (--data DIR --table kpis); with "
                             "--input FILE name the value column with --value")
    if not args.ts or not args.value:
        raise DriftdeskError("--input FILE needs --ts COL and --value COL")
    from driftdesk.io import read_table

    return read_table(args.input), args.ts, args.value, by, str(args.input), _calendar_file(args), None, counts


def _calendar_file(args: argparse.Namespace):
    """``--calendar``'s rows, with its dates checked here: the detector reads a date it cannot parse as no day, so
    a file of 05/03/2026 dates would mark nothing, silently."""
    import polars as pl

    from driftdesk.io import read_table

    if not args.calendar:
        return None
    frame = read_table(args.calendar)
    if "date" not in frame.columns:
        raise DriftdeskError(f"{args.calendar}: a calendar needs a 'date' column (YYYY-MM-DD, one row per day, an "
                             f"optional segment such as geo=US); it has {', '.join(frame.columns)}")
    if frame.schema["date"] == pl.String:
        text = pl.col("date").str.strip_chars()
        bad = frame.with_row_index("row", offset=1).filter(
            (text != "") & text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).is_null())
        if bad.height:
            rows = "; ".join(f"row {r}: {v!r}" for r, v in bad.select("row", "date").head(3).iter_rows())
            raise DriftdeskError(f"{args.calendar}: column 'date': {bad.height} row{'s' if bad.height != 1 else ''} "
                                 f"not a date as YYYY-MM-DD, e.g. {rows}")
    elif not (frame.schema["date"] == pl.Date or isinstance(frame.schema["date"], pl.Datetime)):
        raise DriftdeskError(f"{args.calendar}: column 'date' must hold dates (YYYY-MM-DD), found "
                             f"{frame.schema['date']}")
    return frame


def cmd_seasonality(args: argparse.Namespace) -> int:
    from driftdesk.seasonality import DetectConfig, detect
    from driftdesk.seasonality.verdicts import shown_status

    frame, ts, value, by, source, calendar, thin, counts = _series_input(args)
    result = detect(frame, ts=ts, value=value, by=by or None, periods=args.period or None,
                    causal=args.causal, calendar=calendar, source=source, duplicates=args.duplicates,
                    strict=args.strict, config=DetectConfig(counts=counts))
    for note in result.notes:  # what was combined or regridded, on stderr (stdout stays data)
        print(f"driftdesk: {note}", file=sys.stderr)
    verdicts = result.verdicts.to_dicts()
    unusable = [v for v in verdicts if v["status"] in ("empty", "too_short")]
    # most points left out for too little volume: what is left says little either way (the app's headline says so)
    advice = (f"{thin.sentence} Try a longer step (--every 1d) or fewer segments, so each point has enough "
              f"{thin.column} behind it." if thin is not None and thin.mostly else "")
    if verdicts and len(unusable) == len(verdicts):
        what = f"metric {args.metric!r}" if args.data else f"column {value!r}"  # the name the user gave
        raise DriftdeskError(f"{source}: {what}: {unusable[0]['verdict']}" + (f". {advice}" if advice else ""))
    if advice:
        print(f"driftdesk: {advice}", file=sys.stderr)
    doc = {**result.to_dict(), "low_volume": thin.sentence if thin is not None else None}
    mode = "causal" if args.causal else "batch"
    lines = [f"seasonality ({mode}): {len(verdicts)} series, {len(doc['events'])} events"]
    # the status as it reads beside its sentence (JSON keeps the status: a series without a clear pattern is
    # "seasonal" there, "no clear pattern" here)
    for v in result.verdicts.with_columns(shown_status()).to_dicts():
        name = ", ".join(f"{c}={v[c]}" for c in result.by) or args.metric or value
        lines.append(f"  {name}: not enough data. {thin.sentence}" if advice and not result.by else  # one series
                     f"  {name}: {v['status']}: {v['verdict']}")
    if doc["events"]:
        lines.append(f"{'start':<22} {'end':<22} {'kind':<13} {'dir':<5} {'magnitude':>9}  series")
        for e in doc["events"]:
            mag = pct(e["magnitude"])
            mag = f"+{mag}" if e["magnitude"] is not None and e["magnitude"] > 0 else mag
            name = ", ".join(f"{c}={e[c]}" for c in result.by)
            lines.append(f"{e['start']:<22} {e['end']:<22} {e['kind']:<13} {e['direction'] or '-':<5} {mag:>9}  {name}")
    emit(doc, args.format, "\n".join(lines), money=True)
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("seasonality", help="STL decomposition, drift vs anomaly flags and a verdict per series")
    source_args(p, table="kpis", what="rows with a timestamp and a value")
    p.add_argument("--ts", help="with --input: the timestamp column (UTC, or ISO 8601 with an offset)")
    p.add_argument("--value", help="with --input: the metric column")
    p.add_argument("--metric", help="with --data: the metric built from the table's rows per hour and segment, as "
                   "the app does (cr, cpa, roas, ctr, cpc, spend, conversions, or any name the registry knows)")
    p.add_argument("--every", help="with --metric: the time bucket (default 1h; e.g. 1d)")
    p.add_argument("--duplicates", choices=("mean", "sum", "first", "last"), default="mean",
                   help="rows that repeat a timestamp (a daylight-saving hour, a double export) are combined by "
                        "this rule, and said on stderr (default: mean)")
    p.add_argument("--strict", action="store_true", help="refuse repeated timestamps and irregular spacing "
                   "instead of combining and regridding them")
    p.add_argument("--counts", choices=("auto", "yes", "no"), default="auto",
                   help="whether the values are counts of events per step, whose noise grows as the square root "
                        "of the level (default auto: non-negative whole numbers over the warm-up; say no for a "
                        "measurement in whole units, such as latency in milliseconds)")
    holidays_arg(p)
    p.add_argument("--period", type=int, nargs="+", help="seasonal periods in steps (default: from the interval; hourly 24 168)")
    by_arg(p, "one series per value of these columns")
    p.add_argument("--causal", action="store_true", help="each flag uses only earlier data (for gates and backtests)")
    p.add_argument("--calendar", help="holidays / promotions (a file with a date column, optional segment): not drift")
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_seasonality, money=True)
