"""How often identical arms are rolled back, and how soon a real regression is, under each ``correction`` of the
rollout judge: ``overlap`` (each gate's looks held together, correlated by the hours their windows share),
``bonferroni`` (the error rate split across looks) and ``none`` (95% at every look).

The rollouts are those of ``tests/lib/rollout/test_multiplicity.py``: two arms scored by one calibrated model, two
geos, the default rollout policy; A/A over 4 days (2,000 rows a day) and 4 weeks (1,000 a day), and a candidate
whose outcomes are 30% below its scores (calibration off by 30%, beyond the gate's 20%) over 4 days.

    .venv/bin/python benchmarks/bench_rollout_looks.py                 # 40 A/A rollouts of each, 20 regressions
    .venv/bin/python benchmarks/bench_rollout_looks.py --runs 10 --skip-weeks
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lib" / "rollout"))

from test_multiplicity import T0, arms  # noqa: E402

from driftdesk.rollout import judge_rollout  # noqa: E402


def decisions(correction: str, seeds: range, **kw) -> list:
    return [judge_rollout(arms(seed, **kw), control="m1", candidate="m2", segments=["geo"], decision_only=True,
                          correction=correction) for seed in seeds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--regressions", type=int, default=20)
    parser.add_argument("--skip-weeks", action="store_true")
    parser.add_argument("--corrections", nargs="+", default=["overlap", "bonferroni"])
    args = parser.parse_args()
    for correction in args.corrections:
        t = time.perf_counter()
        aa = decisions(correction, range(args.runs))
        line = f"{correction:10s} A/A 4 days: {sum(r.decision == 'rollback' for r in aa)}/{args.runs} rolled back"
        if not args.skip_weeks:
            weeks = decisions(correction, range(args.runs), days=28, per_day=1000)
            line += f"; 4 weeks: {sum(r.decision == 'rollback' for r in weeks)}/{args.runs}"
        bad = decisions(correction, range(args.regressions), shift=-0.3)
        caught = [r for r in bad if r.decision == "rollback"]
        hours = [(r.decided_at - T0).total_seconds() / 3600 for r in caught]
        line += (f"; 30% regression: {len(caught)}/{args.regressions} rolled back after "
                 f"{sum(hours) / max(len(hours), 1):.1f} h on average ({time.perf_counter() - t:.0f} s)")
        print(line, flush=True)


if __name__ == "__main__":
    main()
