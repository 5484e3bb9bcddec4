"""``driftdesk drift``: per column, PSI, KS, Wasserstein, JS, chi-squared and null rates of two windows, with verdicts."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import (
    EXIT_GATE_FAILED,
    EXIT_OK,
    RenamedOption,
    by_arg,
    emit,
    engine_arg,
    format_arg,
    pct,
    pval,
    split_cols,
    stat,
    status_word,
)


def _windows(args: argparse.Namespace):
    """The two frames and the default weight: two files (rows), or two windows (START/END) of a folder's table
    (a kpis table's rows count by their impressions)."""
    from driftdesk.io import scan_table

    if args.engine == "spark":
        from driftdesk.engine import spark
        from driftdesk.errors import DriftdeskError

        if args.data:
            raise DriftdeskError("--engine spark reads --baseline and --current as Parquet files or folders, not --data")
        return spark.read_parquet(args.baseline), spark.read_parquet(args.current), None
    if not args.data:
        baseline, current = scan_table(args.baseline), scan_table(args.current)
        times = _text_times(baseline, keep=split_cols(args.columns)) & _text_times(current, keep=())
        baseline, current = _as_times(baseline, times), _as_times(current, times)
        return (_without_values_as_null(baseline, other=current), _without_values_as_null(current, other=baseline),
                None)
    from driftdesk import engine
    from driftdesk.cli.common import load_folder
    from driftdesk.errors import DriftdeskError
    from driftdesk.windows import Window, rows_in_window

    table = load_folder(args, scan=True, tables=[args.table]).get(args.table)  # a row table past the memory budget is scanned
    if table is None:
        raise DriftdeskError(f"{args.data}: no {args.table} table in this folder")
    from driftdesk.cli.common import own_names

    own_names(args, table)
    from driftdesk.drift.view import TRAFFIC_WEIGHTS

    lf = engine.lazy(table.frame)
    columns = engine.schema(table.frame)
    weight = next((c for c in TRAFFIC_WEIGHTS if c in columns), None) if args.table == "kpis" else None
    return (*(rows_in_window(lf, Window.parse(text, label), name=label, source=table.source)
              for text, label in ((args.baseline, "baseline"), (args.current, "current"))), weight)


def _text_times(lf, *, keep, rows: int = 1000) -> set[str]:
    """The text columns of a file whose first ``rows`` values are all timestamps (a CSV's time column), except those
    named in ``keep``: they are times, not categories, and are left out of the comparison as a Parquet file's
    datetime columns are (otherwise every new hour would be a new category)."""
    import polars as pl

    from driftdesk.timestamps import parse_text_timestamps

    text = [c for c, t in lf.collect_schema().items() if t == pl.String and c not in keep]
    if not text:
        return set()
    checks = []
    for c in text:
        parsed, _, blank = parse_text_timestamps(c)
        checks.append(((parsed.is_not_null() | blank).all() & (~blank).any()).alias(c))
    found = lf.head(rows).select(checks).collect().row(0, named=True)
    return {c for c, ok in found.items() if ok}


def _without_values_as_null(lf, *, other):
    """``lf`` with its text columns that hold no value typed as null where ``other`` types them otherwise: a CSV
    reader types a column without values (a header-only export, a column left empty) as text, and no value is no
    evidence of a type, so the comparison reads missing values (a null rate, too few rows), not a type change."""
    import polars as pl

    theirs = other.collect_schema()
    text = [c for c, t in lf.collect_schema().items() if t == pl.String and c in theirs and theirs[c] != pl.String]
    if not text:
        return lf
    filled = lf.select(pl.col(text).is_not_null().any()).collect().row(0, named=True)
    empty = [c for c, any_value in filled.items() if not any_value]
    return lf.with_columns(pl.lit(None, dtype=pl.Null).alias(c) for c in empty) if empty else lf


def _as_times(lf, times: set[str]):
    from driftdesk.timestamps import parse_text_timestamps

    return lf.with_columns(parse_text_timestamps(c)[0].alias(c) for c in sorted(times)) if times else lf


def cmd_drift(args: argparse.Namespace) -> int:
    from driftdesk.drift import Thresholds, compare_windows
    from driftdesk.errors import DriftdeskError
    from driftdesk.status import FLAGGED, rank

    baseline, current, default_weight = _windows(args)
    by = split_cols(args.by)
    weight = default_weight if args.weight is None else (None if args.weight == "rows" else args.weight)
    try:
        result = compare_windows(baseline, current, columns=split_cols(args.columns) or None, by=by or None,
                                 thresholds=Thresholds(min_rows=args.min_rows), weight=weight,
                                 sample=args.sample_size)
    except DriftdeskError as exc:
        if args.data:  # the folder's windows are named by the table's source already
            raise
        # two files: the comparison speaks of the baseline and current windows, the reader needs the files
        raise DriftdeskError(f"--baseline {args.baseline}, --current {args.current}: {exc}") from exc
    doc = result.to_dict()
    lines = [f"drift: {doc['status']}" + (f" ({result.weighting.description})" if weight else ""),
             f"{'column':<20} {'kind':<11} {'status':<15} {'psi':>7} {'ks':>7} {'ks_p':>8} {'w/sd':>7} {'js':>7} "
             f"{'chi2_p':>8} {'null base→cur':>15}  why"]
    for c in doc["columns"]:
        nulls = f"{pct(c['null_rate_baseline'])}→{pct(c['null_rate_current'])}"
        lines.append(f"{c['column'][:20]:<20} {c['kind']:<11} {c['status']:<15} {stat(c['psi']):>7} "
                     f"{stat(c['ks']):>7} {pval(c['ks_pvalue']):>8} {stat(c['wasserstein_norm']):>7} "
                     f"{stat(c['js']):>7} {pval(c['chi2_pvalue']):>8} {nulls:>15}  {c['reasons']}")
    for sg in doc.get("segments", []):
        if sg["status"] in FLAGGED:
            lines.append(f"  segment {result.by}={sg[result.by]}: {sg['column']} {sg['status']} ({sg['reasons']})")
    emit(doc, args.format, "\n".join(lines))
    if args.fail_on and rank(doc["status"]) >= rank(args.fail_on):
        return EXIT_GATE_FAILED
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("drift", help="drift table: PSI, KS, Wasserstein, JS, chi-squared, null rates per column")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--baseline", help="baseline rows (parquet, csv or arrow); with --data, a window START/END")
    which.add_argument("--reference", dest="baseline", action=RenamedOption, new="--baseline")
    p.add_argument("--current", required=True, help="current rows (parquet, csv or arrow); with --data, a window START/END")
    p.add_argument("--data", metavar="DIR", help="a folder of tables: compare two windows of its --table, read "
                   "through its mapping and the data contract as the app reads it")
    p.add_argument("--table", default="decisions", help="with --data: the table to compare (default: decisions)")
    p.add_argument("--columns", nargs="+", help="columns to compare (space or comma separated; default: all)")
    by_arg(p, "also compare within each value of this segment column", several=False)
    p.add_argument("--min-rows", type=int, default=100, help="below this many rows a verdict is not_enough_data")
    p.add_argument("--weight", metavar="COL", help="count each row by this column (traffic: impressions, clicks, "
                   "spend) instead of once; 'rows' counts rows. Default: impressions for --data with --table kpis "
                   "(its rows are hour x segment aggregates), rows otherwise")
    engine_arg(p)
    p.add_argument("--sample-size", choices=("weight_sum", "kish"), help="what the tests count when weighted: "
                   "weight_sum (the weight counts units, as impressions or clicks; the default for those) or kish "
                   "(rows, discounted for unequal weights; the default for other weights such as spend)")
    p.add_argument("--fail-on", type=status_word, choices=("warn", "alert"),
                   help="exit 1 when the worst status reaches this (ok < warn < alert)")
    format_arg(p)
    p.set_defaults(func=cmd_drift)
