"""The `driftdesk` command: the library's computations as JSON (or tables), and gates that exit non-zero.

Exit codes: 0 success, 1 a gate failed, 2 bad input (one line on stderr). JSON keys only ever grow.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from driftdesk.errors import DriftdeskError
from driftdesk.jsonsafe import jsonable

EXIT_OK, EXIT_GATE_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as exit 2 with one line, like every other bad input."""

    def error(self, message: str) -> None:  # noqa: D401
        self.exit(EXIT_BAD_INPUT, f"driftdesk: {message}\n")


def emit(doc: dict, fmt: str, table: str | None = None) -> None:
    """Print a result: strict JSON (no NaN) or a human table."""
    if fmt == "json":
        print(json.dumps(jsonable(doc), indent=2, allow_nan=False))
    else:
        print(table if table is not None else json.dumps(jsonable(doc), indent=2, allow_nan=False))


def _format_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("json", "table"), default="table", help="table for people, json for machines")


def _deprecated(note: str) -> None:
    """One line on stderr for an old option or value that still works (stdout stays data)."""
    print(f"driftdesk: {note}", file=sys.stderr)


class _RenamedOption(argparse.Action):
    """An old option name kept as an alias of its new one: stores into the new option and says so on stderr."""

    def __init__(self, option_strings, dest, *, new: str, **kwargs):
        self.new = new
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        _deprecated(f"{option_string} is deprecated; use {self.new}")
        setattr(namespace, self.dest, values)


def _status_word(text: str) -> str:
    """A status typed on the command line; an old spelling (drift, fail, no_data) is read as today's word."""
    from driftdesk.status import canonical

    word, note = canonical(text)
    if note:
        _deprecated(note)
    return word


def _split_cols(text: str | list[str] | None) -> list[str]:
    """Column names from comma- and/or space-separated option values: the CLI splits, the library never does."""
    parts = [text] if isinstance(text, str) else list(text or [])
    return [c.strip() for part in parts for c in part.split(",") if c.strip()]


def _by_arg(p: argparse.ArgumentParser, help_text: str, *, required: bool = False, several: bool = True) -> None:
    """``--by`` the same way in every command: column names, space or comma separated (drift takes one)."""
    p.add_argument("--by", nargs="+", required=required, metavar="COL",
                   help=f"{help_text} (space or comma separated, e.g. --by geo,device)" if several else help_text)


# --------------------------------------------------------------------------- commands


def cmd_sample(args: argparse.Namespace) -> int:
    from driftdesk.sample import write_sample

    written = write_sample(Path(args.out), seed=args.seed, days=args.days, scale=args.scale)
    doc = {"out": str(args.out), "files": [{"path": str(p), "bytes": p.stat().st_size} for p in written]}
    emit(doc, args.format, "\n".join(f"{p}  {p.stat().st_size:,} bytes" for p in written))
    return EXIT_OK


def cmd_app(args: argparse.Namespace) -> int:
    from driftdesk.paths import app_script, sample_data_dir

    script = app_script()
    if not script.exists():
        raise DriftdeskError(f"cannot find the app's entry script at {script}: reinstall driftdesk")
    env = dict(os.environ)
    if args.data:
        folder = Path(args.data).expanduser().resolve()
        if not folder.is_dir():
            raise DriftdeskError(f"{args.data}: no such folder (--data takes a folder of table files, e.g. kpis.parquet)")
        env["DRIFTDESK_DATA"] = str(folder)
    elif not env.get("DRIFTDESK_DATA"):
        print(f"driftdesk: showing the sample data in {sample_data_dir()} (--data DIR shows your own folder)", flush=True)
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(args.port),
           "--server.headless", "true" if args.headless else "false", "--browser.gatherUsageStats", "false"]
    return subprocess.call(cmd, env=env)


def cmd_overview(args: argparse.Namespace) -> int:
    from driftdesk.contract import load_dataset
    from driftdesk.overview import overview

    result = overview(load_dataset(args.data), day=args.day, span_days=args.span)
    table = f"{result.day.isoformat()} vs the same hours a day and a week earlier\n{result.layers}"
    emit(result.to_dict(), args.format, table)
    return EXIT_OK


def cmd_llm(args: argparse.Namespace) -> int:
    from driftdesk.contract import load_table
    from driftdesk.llm import compare_calls
    from driftdesk.windows import Window

    calls = load_table(args.input, "llm_calls").frame
    baseline = Window.parse(args.baseline, "baseline") if args.baseline else None
    current = Window.parse(args.current, "current") if args.current else None
    result = compare_calls(calls, by=_split_cols(args.by), baseline=baseline, current=current)
    emit(result.to_dict(), args.format, str(result.groups))
    return EXIT_OK


def cmd_calibration(args: argparse.Namespace) -> int:
    from driftdesk.calibration import calibration_by_segment, calibration_curve
    from driftdesk.io import scan_table

    frame = scan_table(args.input)
    result = calibration_curve(frame, score=args.score, label=args.label, bins=args.bins, strategy=args.strategy,
                               ts=args.ts, label_delay=args.label_delay, source=str(args.input))
    doc = result.to_dict()
    by = _split_cols(args.by)
    if by:
        doc["segments"] = calibration_by_segment(frame, by=by, score=args.score, label=args.label, edges=result.edges,
                                                 ts=args.ts, label_delay=args.label_delay, source=str(args.input))
    m = result.metrics
    lines = [f"ECE {_num(m['ece'])}  MCE {_num(m['mce'])}  Brier {_num(m['brier'])}  n={m['n']:,} "
             f"(excluded: {doc['n_unlabeled']} unlabelled, {doc['n_immature']} immature)",
             f"{'lower':>7} {'upper':>7} {'count':>9} {'mean_score':>10} {'observed':>9} {'ci_low':>7} {'ci_high':>7}"]
    for b in doc["bins"]:
        lines.append(f"{b['lower']:>7.3f} {b['upper']:>7.3f} {b['count']:>9,} {_num(b['mean_score']):>10} "
                     f"{_num(b['observed_rate']):>9} {_num(b['ci_low']):>7} {_num(b['ci_high']):>7}")
    if by:
        lines.append(f"{' '.join(by):<24} {'n':>9} {'ece':>7} {'mce':>7} {'brier':>7}")
        lines += [f"{' '.join(str(r[c]) for c in by):<24} {r['n']:>9,} {_num(r['ece']):>7} {_num(r['mce']):>7} "
                  f"{_num(r['brier']):>7}" for r in doc["segments"].iter_rows(named=True)]
    emit(doc, args.format, "\n".join(lines))
    return EXIT_OK


def cmd_impact(args: argparse.Namespace) -> int:
    from driftdesk.business import segment_impact
    from driftdesk.contract import load_table

    mapping = {"ts": args.ts} if args.ts != "ts" else None
    by = _split_cols(args.by)
    if not by:
        raise DriftdeskError("--by needs at least one segment column, e.g. --by geo or --by geo,device")
    table = load_table(args.input, "kpis", mapping=mapping)
    result = segment_impact(table.frame, baseline=args.baseline, current=args.current, by=by, metric=args.metric,
                            min_conversions=args.min_conversions, source=str(args.input))
    doc = result.to_dict()
    t = doc["total"]
    lines = [result.summary,
             f"total {args.metric}: baseline {_num(t['baseline'])}  current {_num(t['current'])}  change {_num(t['change'])}"
             + (f"  ({t['note']})" if t["note"] else ""),
             f"{' '.join(by):<24} {'baseline':>10} {'current':>10} {'change':>10} {'mix':>10} {'rate':>10}  note"]
    for sg in doc["segments"]:
        name = " ".join(str(sg[c]) for c in by)
        lines.append(f"{name:<24} {_num(sg['baseline']):>10} {_num(sg['current']):>10} {_num(sg['change']):>10} "
                     f"{_num(sg['mix_effect']):>10} {_num(sg['rate_effect']):>10}  {sg['note'] or ''}")
    emit(doc, args.format, "\n".join(lines))
    return EXIT_OK


def cmd_drift(args: argparse.Namespace) -> int:
    from driftdesk.drift import Thresholds, compare_windows
    from driftdesk.io import scan_table
    from driftdesk.status import FLAGGED, rank

    baseline, current = scan_table(args.baseline), scan_table(args.current)
    columns = _split_cols(args.columns)
    by = _split_cols(args.by)
    thresholds = Thresholds(min_rows=args.min_rows)
    result = compare_windows(baseline, current, columns=columns or None, by=by or None, thresholds=thresholds)
    doc = result.to_dict()
    lines = [f"drift: {doc['status']}",
             f"{'column':<20} {'kind':<11} {'status':<15} {'psi':>7} {'ks':>7} {'ks_p':>8} {'w/sd':>7} {'js':>7} "
             f"{'chi2_p':>8} {'null base→cur':>15}  why"]
    for c in doc["columns"]:
        nulls = f"{_pct(c['null_rate_baseline'])}→{_pct(c['null_rate_current'])}"
        lines.append(f"{c['column'][:20]:<20} {c['kind']:<11} {c['status']:<15} {_stat(c['psi']):>7} "
                     f"{_stat(c['ks']):>7} {_pval(c['ks_pvalue']):>8} {_stat(c['wasserstein_norm']):>7} "
                     f"{_stat(c['js']):>7} {_pval(c['chi2_pvalue']):>8} {nulls:>15}  {c['reasons']}")
    for sg in doc.get("segments", []):
        if sg["status"] in FLAGGED:
            lines.append(f"  segment {result.by}={sg[result.by]}: {sg['column']} {sg['status']} ({sg['reasons']})")
    emit(doc, args.format, "\n".join(lines))
    if args.fail_on and rank(doc["status"]) >= rank(args.fail_on):
        return EXIT_GATE_FAILED
    return EXIT_OK


def cmd_seasonality(args: argparse.Namespace) -> int:
    from driftdesk.io import read_table
    from driftdesk.seasonality import detect

    frame = read_table(args.input)
    by = _split_cols(args.by)
    calendar = read_table(args.calendar) if args.calendar else None
    result = detect(frame, ts=args.ts, value=args.value, by=by or None, periods=args.period or None,
                    causal=args.causal, calendar=calendar, source=str(args.input))
    verdicts = result.verdicts.to_dicts()
    unusable = [v for v in verdicts if v["status"] in ("empty", "too_short")]
    if verdicts and len(unusable) == len(verdicts):
        raise DriftdeskError(f"{args.input}: column {args.value!r}: {unusable[0]['verdict']}")
    doc = result.to_dict()
    mode = "causal" if args.causal else "batch"
    lines = [f"seasonality ({mode}): {len(verdicts)} series, {len(doc['events'])} events"]
    for v in verdicts:
        name = ", ".join(f"{c}={v[c]}" for c in result.by) or args.value
        lines.append(f"  {name}: {v['status']}: {v['verdict']}")
    if doc["events"]:
        lines.append(f"{'start':<22} {'end':<22} {'kind':<13} {'dir':<5} {'magnitude':>9}  series")
        for e in doc["events"]:
            mag = f"{e['magnitude'] * 100:+.1f}%" if e["magnitude"] is not None else "-"
            name = ", ".join(f"{c}={e[c]}" for c in result.by)
            lines.append(f"{e['start']:<22} {e['end']:<22} {e['kind']:<13} {e['direction'] or '-':<5} {mag:>9}  {name}")
    emit(doc, args.format, "\n".join(lines))
    return EXIT_OK


def cmd_gates_backtest(args: argparse.Namespace) -> int:
    from driftdesk.gates import backtest_policy, load_policy
    from driftdesk.gates.backtest import load_history

    policy = load_policy(args.policy)
    ds, incidents = load_history(args.data)
    result = backtest_policy(ds, policy, incidents=incidents, grace_hours=args.grace_hours)
    doc = result.to_dict()
    lines = [f"backtest of {policy.name} on {doc['span']['start']} .. {doc['span']['end']} "
             f"({doc['span']['weeks']:.1f} weeks, grace {result.grace_hours:g} h)",
             f"{'policy':<28} {'alerts':>6} {'per week':>9} {'precision':>9} {'recall':>7} {'median delay h':>15}"]
    for name, s in (("candidate: " + policy.name, result.score), *result.references.items()):
        lines.append(f"{name[:28]:<28} {s.alerts:>6} {s.alerts_per_week:>9.2f} {_num(s.precision, 3):>9} "
                     f"{_num(s.recall, 3):>7} {_num(s.median_delay_hours, 1):>15}")
    lines += [f"  {k}: {v}" for k, v in result.score.reasons.items()]
    lines.append(f"{'incident':<10} {'start':<20} {'caught':<7} {'delay h':>8}  by")
    for inc in doc["incidents"]:
        lines.append(f"{inc['incident_id'][:10]:<10} {inc['start']:<20} {'yes' if inc['caught'] else 'NO':<7} "
                     f"{_num(inc['delay_hours'], 1):>8}  {inc['caught_by'] or ''}")
    lines += [f"note: {n}" for n in result.notes]
    emit(doc, args.format, "\n".join(lines))
    return EXIT_OK


def cmd_gates_check(args: argparse.Namespace) -> int:
    from driftdesk.gates import check_release, load_policy

    result = check_release(load_policy(args.policy), baseline=args.baseline, candidate=args.candidate)
    doc = result.to_dict()
    lines = [f"release gate {result.policy.name}: {'PASSED' if result.passed else 'FAILED'}",
             f"{'gate':<24} {'status':<20} {'value':>10} {'threshold':>10}  action / segment / reason"]
    for g in doc["gates"]:
        lines.append(f"{g['name'][:24]:<24} {g['status']:<20} {_num(g['value'], 4):>10} {g['threshold']:>10.4g}  "
                     f"{g['action']} {g['segment'] or ''} {g['reason'] or ''}")
    emit(doc, args.format, "\n".join(lines))
    return EXIT_OK if result.passed else EXIT_GATE_FAILED


def _pct(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def _stat(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _pval(value) -> str:
    return "-" if value is None else f"{value:.1e}"


def _num(value, digits: int = 4) -> str:
    """A number for a human table; undefined values say so instead of printing NaN or inf."""
    return "undefined" if value is None else f"{value:.{digits}f}"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="driftdesk", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("sample", help="write the seeded sample tables")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--days", type=int, default=91)
    p.add_argument("--scale", type=int, default=1, help="multiply row counts, for benchmarks")
    _format_arg(p)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("app", help="start the Streamlit app")
    p.add_argument("--data", help="a folder of contract tables (default: the sample data)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--headless", action="store_true", help="do not open a browser")
    _format_arg(p)
    p.set_defaults(func=cmd_app)

    p = sub.add_parser("overview", help="per layer, the status of a day against the same hours a day and a week earlier")
    p.add_argument("--data", required=True, help="a folder of contract tables (kpis.parquet, decisions.csv, ...)")
    p.add_argument("--day", help="YYYY-MM-DD (default: the latest whole day of data)")
    p.add_argument("--span", type=int, default=28, help="days of releases and incidents to list before the day")
    _format_arg(p)
    p.set_defaults(func=cmd_overview)

    p = sub.add_parser("llm", help="LLM quality, latency and cost per group")
    p.add_argument("--input", required=True, help="llm_calls table (parquet, csv or arrow)")
    _by_arg(p, "group columns (e.g. prompt_version model)")
    p.add_argument("--baseline", help="baseline window START/END (ISO 8601, UTC)")
    p.add_argument("--current", help="current window START/END (ISO 8601, UTC)")
    _format_arg(p)
    p.set_defaults(func=cmd_llm)

    p = sub.add_parser("calibration", help="reliability curve, ECE, MCE and Brier score")
    p.add_argument("--input", required=True, help="scored rows (parquet, csv or arrow)")
    p.add_argument("--score", required=True, help="predicted probability column")
    p.add_argument("--label", required=True, help="outcome column (0/1; null = not yet known, excluded)")
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--strategy", choices=("uniform", "quantile"), default="uniform")
    p.add_argument("--ts", default="ts", help="timestamp column (only used with --label-delay)")
    p.add_argument("--label-delay", help="count only labels older than this before the newest row, e.g. 3d or 36h")
    _by_arg(p, "also report ECE, MCE and Brier per segment of these columns")
    _format_arg(p)
    p.set_defaults(func=cmd_calibration)

    p = sub.add_parser("impact", help="which segment moved CPA / ROAS / CR: mix vs rate")
    p.add_argument("--input", required=True, help="kpis table (parquet, csv or arrow)")
    p.add_argument("--baseline", required=True, help="baseline window START/END (ISO 8601, UTC)")
    p.add_argument("--current", required=True, help="current window START/END (ISO 8601, UTC)")
    _by_arg(p, "segment columns", required=True)
    p.add_argument("--metric", choices=("cpa", "roas", "cr"), default="cpa")
    p.add_argument("--ts", default="ts", help="timestamp column")
    p.add_argument("--min-conversions", type=float, default=30, help="below this a segment is flagged 'too few conversions'")
    _format_arg(p)
    p.set_defaults(func=cmd_impact)

    p = sub.add_parser("drift", help="drift table: PSI, KS, Wasserstein, JS, chi-squared, null rates per column")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--baseline", help="baseline rows (parquet, csv or arrow)")
    which.add_argument("--reference", dest="baseline", action=_RenamedOption, new="--baseline")
    p.add_argument("--current", required=True, help="current rows (parquet, csv or arrow)")
    p.add_argument("--columns", nargs="+", help="columns to compare (space or comma separated; default: all)")
    _by_arg(p, "also compare within each value of this segment column", several=False)
    p.add_argument("--min-rows", type=int, default=100, help="below this many rows a verdict is not_enough_data")
    p.add_argument("--fail-on", type=_status_word, choices=("warn", "alert"),
                   help="exit 1 when the worst status reaches this (ok < warn < alert)")
    _format_arg(p)
    p.set_defaults(func=cmd_drift)

    p = sub.add_parser("seasonality", help="STL decomposition, drift vs anomaly flags and a verdict per series")
    p.add_argument("--input", required=True, help="rows with a timestamp and a value (parquet, csv or arrow)")
    p.add_argument("--ts", required=True, help="timestamp column (UTC, or ISO 8601 with an offset)")
    p.add_argument("--value", required=True, help="the metric column")
    p.add_argument("--period", type=int, nargs="+", help="seasonal periods in steps (default: from the interval; hourly 24 168)")
    _by_arg(p, "one series per value of these columns")
    p.add_argument("--causal", action="store_true", help="each flag uses only earlier data (for gates and backtests)")
    p.add_argument("--calendar", help="holidays / promotions (a file with a date column, optional segment): not drift")
    _format_arg(p)
    p.set_defaults(func=cmd_seasonality)

    p = sub.add_parser("gates", help="gate policies: simulate on history, or check a release")
    gates = p.add_subparsers(dest="gates_command", required=True, parser_class=_Parser)
    p = gates.add_parser("backtest", help="replay a policy on history: alerts, incidents caught, precision, recall")
    p.add_argument("--policy", required=True, help="policy file (TOML)")
    p.add_argument("--data", required=True, help="folder of contract tables, with incidents.csv as the incident log")
    p.add_argument("--grace-hours", type=float, help="an alert up to this long after an incident ends still counts "
                   "(default: the policy's grace)")
    _format_arg(p)
    p.set_defaults(func=cmd_gates_backtest)
    p = gates.add_parser("check", help="a release gate: exit 1 when a gate fails on the candidate vs the baseline")
    p.add_argument("--policy", required=True, help="policy file (TOML)")
    p.add_argument("--baseline", required=True, help="baseline table file or folder")
    p.add_argument("--candidate", required=True, help="candidate table file or folder")
    _format_arg(p)
    p.set_defaults(func=cmd_gates_check)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _log_progress_to_stderr()
    try:
        return int(args.func(args) or 0)
    except DriftdeskError as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        print(f"driftdesk: {reason}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def _log_progress_to_stderr() -> None:
    """The library's notes on slow one-time work (building an STL operator) go to stderr, stdout stays data."""
    import logging

    logger = logging.getLogger("driftdesk")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("driftdesk: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


if __name__ == "__main__":
    sys.exit(main())
