"""How fast does the Gates page answer? Server time per interaction, driven through Streamlit's AppTest.

Two policies on the sample: its own (eight replayable gates, seven release checks; the first gate is tuned), and
the same with the README's `seasonality_flag:cpa` gate per geo added through a link (that gate is tuned: its
series comes from the seasonality module's causal mode, seconds of work). The interactions a data scientist
repeats while tuning: change the gate's threshold and apply (a new value each time, so no cached view can
answer), change its breaches in a row and apply, pick another gate and come back. Each interaction is one full
script run (`AppTest.run`), the server time a browser waits for. Printed per interaction: p50 and p95 over the
repeats, and the ratio to the page's own library call with nothing cached (``gates_view`` on the loaded data:
every gate's series from rows, the backtest and the sweep).

"Warm" means the process has served the page once (data loaded, first view drawn); "first" is that first
render with a cold page cache.

    .venv/bin/python benchmarks/bench_gates_page.py --repeats 3   # quick check
    .venv/bin/python benchmarks/bench_gates_page.py               # the figures in BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PAGE = "app_pages/gates.py"


def _widget(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _timed(at) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError([e.value for e in at.exception])
    return elapsed


def library_call(*, with_seasonal_gate: bool) -> float:
    """The page's library call with nothing cached: replay the policy on the loaded sample, sweep the edited gate."""
    from driftdesk.contract import load_dataset
    from driftdesk.gates.view import gates_view
    from driftdesk.paths import sample_data_dir

    ds = load_dataset(sample_data_dir())
    policy = _sample_policy(with_seasonal_gate)
    t0 = time.perf_counter()
    gates_view(ds, policy, gate=SEASONAL_GATE["name"] if with_seasonal_gate else policy.gates[0].name)
    return time.perf_counter() - t0


SEASONAL_GATE = {"name": "cpa_flags_by_geo", "metric": "seasonality_flag:cpa", "by": ["geo"], "threshold": 0.5,
                 "window": "1h", "consecutive": 6, "action": "notify"}


def _sample_policy(with_seasonal_gate: bool):
    from driftdesk.gates.policy import load_policy, parse_gate
    from driftdesk.paths import sample_data_dir

    policy = load_policy(sample_data_dir() / "policy.toml")
    return policy.with_gate(parse_gate(SEASONAL_GATE)) if with_seasonal_gate else policy


def run(repeats: int, *, with_seasonal_gate: bool) -> dict[str, list[float]]:
    """Open the page (on the sample's policy, or on a link to it with the seasonal gate added) and tune one gate."""
    from streamlit.testing.v1 import AppTest

    from driftdesk.gates.policy import encode_policy

    policy = _sample_policy(with_seasonal_gate)
    edited = SEASONAL_GATE["name"] if with_seasonal_gate else policy.gates[0].name
    at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=300)
    at.run()
    if with_seasonal_gate:
        at.query_params["policy"] = encode_policy(policy)
    at.query_params["gate"] = edited
    at.switch_page(PAGE)
    times: dict[str, list[float]] = {"first render (cold page cache)": [_timed(at)]}
    rng = np.random.default_rng(3)
    for name in ("threshold changed, applied", "consecutive changed, applied", "another gate picked, and back"):
        times[name] = []
    for i in range(repeats):
        threshold = _widget(at.number_input, "Threshold")
        threshold.set_value(round(threshold.value * (0.8 + 0.4 * rng.random()), 4))
        _button(at, "Apply to the proposal").click()
        times["threshold changed, applied"].append(_timed(at))
        _widget(at.number_input, "Consecutive breaches").set_value(1 + (i % 6))
        _button(at, "Apply to the proposal").click()
        times["consecutive changed, applied"].append(_timed(at))
        _widget(at.selectbox, "Gate to edit and sweep").set_value("cpa_by_geo")
        elapsed = _timed(at)
        _widget(at.selectbox, "Gate to edit and sweep").set_value(edited)
        times["another gate picked, and back"].append((elapsed + _timed(at)) / 2)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="repeats of each interaction (default 10)")
    args = parser.parse_args()
    os.environ.setdefault("DRIFTDESK_HOME", tempfile.mkdtemp(prefix="bench-gates-page-"))
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{os.environ['DRIFTDESK_HOME']}/mlflow.db")
    for key in ("DO_NOT_TRACK", "MLFLOW_DISABLE_TELEMETRY"):
        os.environ.setdefault(key, "true")
    sys.path.insert(0, str(ROOT / "app"))
    for seasonal in (False, True):
        lib = library_call(with_seasonal_gate=seasonal)
        times = run(args.repeats, with_seasonal_gate=seasonal)
        what = "the sample's policy" + (f" + {SEASONAL_GATE['metric']} by geo, edited" if seasonal else ", first gate edited")
        print(f"\n{what}: library call with nothing cached (gates_view) {lib * 1000:,.0f} ms")
        print(f"{'interaction':<42} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'p50 / library call':>19}")
        for name, values in times.items():
            v = np.array(values) * 1000
            p50, p95 = np.percentile(v, 50), np.percentile(v, 95)
            print(f"{name:<42} {v.size:>3} {p50:>8,.0f} {p95:>8,.0f} {p50 / (lib * 1000):>18.2f}x")


if __name__ == "__main__":
    main()
