"""Nothing driftdesk starts outlives the command or library call that started it: a long seasonality run
stopped by a normal return, an exception, SIGINT, SIGTERM or SIGKILL leaves no descendant process behind and no
half-written cache entry (the STL operators are built in the calling thread and kept in memory only)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import psutil
import pytest

from driftdesk.paths import sample_data_dir  # noqa: F401  (the package must import before the subprocesses run it)

LIB = Path(__file__).resolve().parents[3] / "lib"
pytestmark = pytest.mark.slow  # each test runs the CLI in a process of its own for seconds


@pytest.fixture(scope="module")
def long_input(tmp_path_factory) -> Path:
    """Enough hourly series that a causal run takes many seconds."""
    rng = np.random.default_rng(0)
    m, hours = 600, 24 * 7 * 10
    t = np.arange(hours)
    base = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 24))
    values = base[None, :] * np.exp(rng.normal(0, 0.03, (m, hours)))
    ts = [dt.datetime(2026, 1, 5) + dt.timedelta(hours=int(h)) for h in t]
    frame = pl.DataFrame({"series": np.repeat(np.arange(m), hours), "ts": ts * m, "value": values.ravel()})
    path = tmp_path_factory.mktemp("long") / "long.parquet"
    frame.write_parquet(path)
    return path


def _env(cache: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(LIB), "XDG_CACHE_HOME": str(cache), "DRIFTDESK_HOME": str(cache / "home")}


def _start(args: list[str], cache: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], env=_env(cache), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)


def _descendants_seen(proc: subprocess.Popen, seconds: float) -> set[int]:
    """Every descendant of ``proc`` seen while it runs for ``seconds`` (polled)."""
    seen: set[int] = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end and proc.poll() is None:
        try:
            seen |= {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    return seen


def _alive(pids: set[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def _alive_after(pids, seconds: float, group_of: int | None = None) -> list[int]:
    """The processes of ``pids`` (and of the process group ``group_of``) still alive once ``seconds`` have passed,
    polled so that a run which cleans up at once does not wait out the whole grace period."""
    end = time.monotonic() + seconds
    while True:
        alive = _alive(set(pids) | _group(group_of))
        if not alive or time.monotonic() >= end:
            return alive
        time.sleep(0.1)


def _group(pgid: int | None) -> set[int]:
    """The processes in the process group ``pgid`` (the command's own session, started with start_new_session)."""
    if pgid is None:
        return set()
    out = set()
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid:
                out.add(p.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return out


def _partial_cache_entries(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file() and (".tmp" in p.name or p.stat().st_size == 0)]


SEASONALITY = ["-m", "driftdesk.cli", "seasonality", "--ts", "ts", "--value", "value", "--by", "series", "--causal",
               "--format", "json"]


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_a_stopped_command_leaves_no_process_and_no_partial_cache(long_input, tmp_path, how):
    proc = _start([*SEASONALITY, "--input", str(long_input)], tmp_path)
    seen = _descendants_seen(proc, 4.0)
    assert proc.poll() is None, "the run should still be going when it is stopped"
    os.kill(proc.pid, getattr(signal, how))
    proc.wait(timeout=30)
    assert proc.returncode != 0
    # the group the command started in (start_new_session): anything left in it was started by it
    assert not _alive_after(seen, 5.0, group_of=proc.pid)
    assert not _partial_cache_entries(tmp_path)


def test_a_library_call_killed_midway_leaves_nothing(long_input, tmp_path):
    code = ("import polars as pl\nfrom driftdesk.seasonality import causal_flags\n"
            f"causal_flags(pl.read_parquet({str(long_input)!r}), by='series')\n")
    proc = _start(["-c", code], tmp_path)
    seen = _descendants_seen(proc, 4.0)
    assert proc.poll() is None
    proc.kill()
    proc.wait(timeout=30)
    assert not _alive_after(seen, 5.0)
    assert not _partial_cache_entries(tmp_path)


@pytest.mark.parametrize("ok", [True, False])
def test_a_finished_or_failed_command_leaves_nothing(tmp_path, ok):
    rows = 24 * 7 * 3
    ts = [dt.datetime(2026, 1, 5) + dt.timedelta(hours=h) for h in range(rows)]
    value = 100 + 10 * np.sin(np.arange(rows) * 2 * np.pi / 24) + np.random.default_rng(1).normal(0, 1, rows)
    path = tmp_path / "one.csv"
    pl.DataFrame({"ts": ts, "value": value}).write_csv(path)
    args = [*SEASONALITY[:-5], "--format", "json", "--input", str(path)]
    if not ok:
        args[args.index("--value") + 1] = "no_such_column"
    proc = _start(args, tmp_path)
    seen = _descendants_seen(proc, 120.0)
    proc.wait(timeout=120)
    assert proc.returncode == (0 if ok else 2), proc.stderr.read().decode()[-500:]
    assert not _alive_after(seen, 1.0)
    assert not _partial_cache_entries(tmp_path)
