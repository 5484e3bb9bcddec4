"""Benchmark: how long every page of the app takes to answer, on the sample, driven through its own controls.

    .venv/bin/python benchmarks/bench_pages.py                     # every page, 5 values per control
    .venv/bin/python benchmarks/bench_pages.py --pages impact llm --repeat 3

The app runs in this process through Streamlit's AppTest (the entry script, navigation, sidebar and the page), so
a run's time is the server's time to answer: reading the controls, the cached library call, rendering. The data is
loaded once (a warm process). For each page it prints:

  * first render: the page opened from a link with its view caches empty (the dataset and the sidebar's
    per-dataset summary stay loaded, as after any earlier page);
  * per control: p50 / p95 over runs that each set the control to a value not asked for before (so every run
    computes its view instead of reading it from the cache, what a user feels on a first click);
  * the ratio of the interaction's p50 to the page's own library call (the view function called directly on the
    same dataset, p50 over the same number of distinct calls): the cost of the page around its computation.

The Data page and the Gates page are opened only (the Gates page's tuning loop has its own benchmark,
bench_gates_page.py).

Runs on a shared machine vary: the load average at the start and the end is printed beside the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app" / "streamlit_app.py")
SIDEBAR_CACHES = ("_summary", "_calendar")  # per-dataset aggregates the sidebar computes once


@dataclass(frozen=True)
class Control:
    """One control of a page: its widget kind and key, and the distinct values a run sets it to, in order."""

    kind: str  # date_input | selectbox | multiselect | number_input | tabs
    key: str
    values: Sequence[object]
    label: str | None = None  # the row's name when not the key (a second set of values for one control)


@dataclass(frozen=True)
class PageBench:
    name: str
    script: str
    query: dict[str, str]
    controls: tuple[Control, ...]
    library: Callable[[object, int], object]  # (dataset, i) -> the page's view, the i-th distinct call
    notes: list[str] = field(default_factory=list)


def _days(start: dt.date, n: int, step: int = 1) -> list[dt.date]:
    return [start - dt.timedelta(days=step * i) for i in range(n)]


def pages(n: int) -> list[PageBench]:
    from driftdesk.business import impact_view
    from driftdesk.calibration import calibration_view
    from driftdesk.drift.view import drift_view
    from driftdesk.incidents import incident_view
    from driftdesk.llm import llm_view
    from driftdesk.overview import overview
    from driftdesk.rollout import rollout_view

    d0 = dt.date(2026, 10, 20)
    days = _days(d0, n)
    return [
        PageBench("overview", "app_pages/overview.py", {}, (
            Control("date_input", "day", days),
            Control("selectbox", "span", [7, 14, 91, 28][:n]),
            Control("selectbox", "known_good", ["last_release", "none"][:n]),
        ), lambda ds, i: overview(ds, day=days[i], span_days=28)),
        PageBench("drift", "app_pages/drift.py", {}, (
            Control("date_input", "day", days),
            Control("selectbox", "column", ["ctr_7d", "score", "session_depth", "geo", "browser", "page_speed_ms"][:n]),
            Control("selectbox", "by", ["geo", "device", "source", "(none)"][:n]),
            Control("selectbox", "statistic", ["psi", "js", "ks", "null_rate_change", "effect"][:n]),
            # days whose two weeks of history are all beyond the days kept (the first view keeps four weeks)
            Control("date_input", "day", _days(dt.date(2026, 10, 1), n, step=15), label="far day"),
        ), lambda ds, i: drift_view(ds, table="decisions", day=days[i], vs=("day_over_day", "week_over_week"),
                                    custom=None, by=None)),
        PageBench("calibration", "app_pages/calibration.py", {}, (
            Control("date_input", "end", days),
            Control("selectbox", "days", [1, 3, 5, 14, 28][:n]),
            Control("selectbox", "by", ["geo", "device", "source", "release_id", "(none)"][:n]),
            Control("selectbox", "bins", [5, 15, 20][:n]),
        ), lambda ds, i: calibration_view(ds, end=days[i], days=7, vs="week_over_week", by="model_version")),
        PageBench("impact", "app_pages/impact.py", {}, (
            Control("date_input", "end", days),
            Control("selectbox", "metric", ["roas", "cr", "cpa"][:n]),
            Control("selectbox", "days", [1, 3, 5, 14, 28][:n]),
            Control("multiselect", "by", [["device"], ["source"], ["geo", "device"], ["device", "source"]][:n]),
        ), lambda ds, i: impact_view(ds, end=days[i], days=7, vs="week_over_week", by=["geo"], metric="cpa")),
        PageBench("seasonality", "app_pages/seasonality.py", {}, (
            Control("date_input", "day", days),
            Control("selectbox", "segment", ["geo=DE", "geo=US", "device=tablet", "source=search", "geo=BR"][:n]),
            Control("selectbox", "metric", ["cpa", "cr", "spend", "conversions", "roas"][:n]),
        ), lambda ds, i: seasonality_page_call(ds, ["cpa", "cr", "spend", "conversions", "roas"][i % 5], days[i])),
        PageBench("llm", "app_pages/llm.py", {}, (
            Control("date_input", "end", days),
            Control("selectbox", "by", ["prompt_version", "index_version", "feature", "model"][:n]),
            Control("selectbox", "metric", ["cost_per_call", "latency_p95_ms", "refusal_rate", "judge_score_mean",
                                            "validator_failure_rate"][:n]),
        ), lambda ds, i: llm_view(ds, by="model", end_day=days[i], days=7, budget_per_day=None)),
        PageBench("data", "app_pages/data.py", {}, (), lambda ds, i: None),
        PageBench("gates", "app_pages/gates.py", {}, (), lambda ds, i: None),  # its controls: bench_gates_page.py
        PageBench("rollouts", "app_pages/rollouts.py", {}, (
            Control("multiselect", "by", [["geo"], ["device"], ["geo", "device"], ["source"], []][:n]),
        ), lambda ds, i: rollout_view(ds, control="v1.9", candidate="v2.0", by=[None, ["geo"], ["device"],
                                                                                 ["geo", "device"], ["source"]][i % 5])),
        PageBench("incidents", "app_pages/incidents.py", {}, (
            Control("selectbox", "incident", ["INC-c", "INC-b", "INC-a", "INC-e2", "INC-f"][:n]),
        ), lambda ds, i: incident_view(ds, ["INC-d", "INC-c", "INC-b", "INC-a", "INC-e2"][i % 5])),
    ]


_PER_DATASET: dict[tuple[int, str], object] = {}


def per_dataset(dataset, what: str):
    """What the app keeps per data version rather than per view, read once: the dataset's calendar (the sidebar's),
    every metric's hourly series of the kpis table and their causal scans (the Seasonality page's, read and run on
    its first render)."""
    from driftdesk.calendars import effective_calendar
    from driftdesk.seasonality.view import every_metric_scans, split_series

    if (id(dataset), what) not in _PER_DATASET:
        if what == "calendar":
            kept = effective_calendar(dataset)
        elif what == "series":
            kept = split_series(dataset, table="kpis")
        else:
            kept = every_metric_scans(dataset, table="kpis", series=per_dataset(dataset, "series"),
                                      calendar=per_dataset(dataset, "calendar"))
        _PER_DATASET[id(dataset), what] = kept
    return _PER_DATASET[id(dataset), what]


def seasonality_page_call(dataset, metric: str, day: dt.date):
    """What the Seasonality page computes for a metric: every series decomposed at once, all traffic's view (the
    calendar, the metrics' hourly series and their causal scans are kept per data version, as the page keeps
    them)."""
    from driftdesk.seasonality.view import every_series_decomposition, seasonality_view, series_of

    calendar = per_dataset(dataset, "calendar")
    every = every_series_decomposition(dataset, table="kpis", metric=metric, calendar=calendar,
                                       series=per_dataset(dataset, "series"), scans=per_dataset(dataset, "scans"))
    return seasonality_view(dataset, table="kpis", metric=metric, day=day,
                            decomposed=series_of(dataset, every, None, calendar))


def clear_view_caches() -> None:
    """Empty every cached view of ui/loaders.py, keeping the dataset and the sidebar's per-dataset summary."""
    from streamlit.runtime.caching.cache_utils import CachedFunc

    from ui import loaders

    for name, fn in vars(loaders).items():
        if isinstance(fn, CachedFunc) and name not in (*SIDEBAR_CACHES, "_load"):
            fn.clear()


def timed_run(at) -> float:
    t = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t
    if at.exception:
        raise RuntimeError(f"the page raised: {[e.value for e in at.exception]}")
    return elapsed


def widget(at, control: Control):
    return getattr(at, control.kind)(key=control.key)


def bench_page(page: PageBench, dataset, repeat: int) -> list[tuple[str, list[float]]]:
    from streamlit.testing.v1 import AppTest

    clear_view_caches()
    at = AppTest.from_file(APP, default_timeout=600)
    at.query_params["data"] = "sample"
    for k, v in page.query.items():
        at.query_params[k] = v
    at.switch_page(page.script)
    rows = [("first render", [timed_run(at)])]
    for control in page.controls:
        times = []
        for value in control.values[:repeat]:
            widget(at, control).set_value(value)
            times.append(timed_run(at))
        rows.append((control.label or control.key, times))
    return rows


def library_times(page: PageBench, dataset, repeat: int) -> list[float]:
    out = []
    for i in range(repeat):
        t = time.perf_counter()
        page.library(dataset, i)
        out.append(time.perf_counter() - t)
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", nargs="*", help="page names (default: all)")
    parser.add_argument("--repeat", type=int, default=5, help="distinct values per control (default 5)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    sys.path[:0] = [str(ROOT / "lib"), str(ROOT / "app")]

    from streamlit.logger import set_log_level

    from driftdesk.contract import load_dataset
    from driftdesk.paths import sample_data_dir

    set_log_level("error")  # AppTest's notes about running without a server

    load0 = os.getloadavg()[0]
    dataset = load_dataset(sample_data_dir())
    chosen = [b for b in pages(args.repeat) if not args.pages or b.name in args.pages]
    if any(b.name == "seasonality" for b in chosen):
        for what in ("calendar", "series", "scans"):  # kept per data version, as the app keeps them
            per_dataset(dataset, what)
    # warm the process: imports, the cached dataset, the sidebar (what any earlier page did)
    warm = chosen[0]
    from streamlit.testing.v1 import AppTest

    AppTest.from_file(APP, default_timeout=600).switch_page(warm.script).run()
    print(f"{'page':12s} {'interaction':14s} {'runs':>4s} {'p50 ms':>8s} {'p95 ms':>8s} {'x library':>9s}")
    for page in chosen:
        lib = library_times(page, dataset, max(1, min(args.repeat, 5)))
        lib_p50 = statistics.median(lib) if page.controls else None
        for what, times in bench_page(page, dataset, args.repeat):
            ratio = f"{p(times, 0.5) / lib_p50:9.1f}" if lib_p50 else f"{'-':>9s}"
            print(f"{page.name:12s} {what:14s} {len(times):4d} {1000 * p(times, 0.5):8.0f} {1000 * p(times, 0.95):8.0f} "
                  f"{ratio}", flush=True)
        if lib_p50:
            print(f"{page.name:12s} {'(library)':14s} {len(lib):4d} {1000 * lib_p50:8.0f} {1000 * p(lib, 0.95):8.0f}",
                  flush=True)
    print(f"load average: {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at the end ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
