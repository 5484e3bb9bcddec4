"""Shared test set-up: no telemetry, project state and MLflow store in a temporary folder, the sample data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# The same generated examples on every run (hypothesis' derandomize): a suite that passes on one machine passes on
# a clean one. HYPOTHESIS_PROFILE=explore draws new examples each run, to look for new failures. No deadline: an
# example is judged on what it returns, not on how fast a busy machine ran it (speed is the benchmarks' job).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")

ROOT = Path(__file__).resolve().parents[1]


# Under pytest-xdist's --dist loadscope (what scripts/test.sh runs) each worker takes whole modules, so a module's
# fixtures are built once; these folders go to one worker as a whole: the browser tests share one served app and one
# Chromium (the app's page cache warms up as they go), the Spark tests one JVM.
ONE_WORKER_FOLDERS = ("tests/browser/", "tests/lib/engine/on_spark/")


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FoldersAndModules(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((f for f in ONE_WORKER_FOLDERS if nodeid.startswith(f)), nodeid.split("::", 1)[0])

    return FoldersAndModules(config, log)


@pytest.fixture(scope="session", autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory):
    """DRIFTDESK_HOME (uploads, policies) and one MLflow SQLite store per test session, never the developer's; the
    app may read the test session's temporary folders (DRIFTDESK_DATA_ROOTS), where the tests write their data."""
    home = tmp_path_factory.mktemp("driftdesk-home")
    saved = {k: os.environ.get(k) for k in ("DRIFTDESK_HOME", "MLFLOW_TRACKING_URI", "DRIFTDESK_DATA",
                                            "DRIFTDESK_DATA_ROOTS")}
    os.environ["DRIFTDESK_HOME"] = str(home)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{home / 'mlflow.db'}"
    os.environ["DRIFTDESK_DATA_ROOTS"] = str(tmp_path_factory.getbasetemp())
    os.environ.pop("DRIFTDESK_DATA", None)
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled sample_data folder (written by `driftdesk sample --out sample_data`)."""
    from driftdesk.paths import sample_data_dir

    folder = sample_data_dir()
    if not (folder / "kpis.parquet").exists():
        pytest.fail(f"{folder} has no sample tables: run `driftdesk sample --out {folder}`")
    return folder


@pytest.fixture(scope="session")
def sample_dataset(sample_dir: Path):
    """The sample data, loaded and validated once per session."""
    from driftdesk.contract import load_dataset

    return load_dataset(sample_dir)


@dataclass(frozen=True)
class HostileData:
    """A data folder whose segment and service names are HTML and markdown (``values``); ``html`` leads a layer."""

    folder: Path
    html: str
    markdown: str
    directive: str

    @property
    def values(self) -> tuple[str, ...]:
        return self.html, self.markdown, self.directive


@pytest.fixture(scope="session")
def hostile_data(tmp_path_factory: pytest.TempPathFactory) -> HostileData:
    """Three weeks of kpis, service, decisions and LLM calls, releases, an incident log and a policy, whose segment
    values, service, model and version names, release notes and incident ids are the hostile ``values``; the
    segment and service named ``html`` move on the last day."""
    import datetime as dt

    import numpy as np
    import polars as pl

    data = HostileData(tmp_path_factory.mktemp("hostile"), "<img src=x onerror=alert(1)>",
                       "**bold** [link](http://x)", ":red[red] $x$")
    start, days = dt.datetime(2026, 9, 1), 22
    last_day = start + dt.timedelta(days=days - 1)
    ts = pl.datetime_range(start, start + dt.timedelta(days=days), "1h", closed="left", eager=True)
    moved = pl.col("ts") >= last_day
    kpis = pl.concat([pl.DataFrame({"ts": ts}).with_columns(
        geo=pl.lit(name), clicks=pl.lit(100.0), conversions=pl.lit(conv), spend=pl.lit(50.0),
        impressions=pl.lit(1000.0), revenue=pl.lit(120.0)) for name, conv in zip(data.values, (4.0, 2.0, 3.0))])
    kpis = kpis.with_columns(pl.when(moved & (pl.col("geo") == data.html)).then(pl.col("conversions") / 4)
                             .otherwise(pl.col("conversions")).alias("conversions"))
    kpis.write_parquet(data.folder / "kpis.parquet")
    rng = np.random.default_rng(0)
    service = pl.concat([pl.DataFrame({"ts": ts, "service": name, "requests": 1000.0, "latency_p99_ms": 200.0,
                                       "errors": rng.poisson(5, ts.len()).astype(float)}) for name in data.values])
    service = service.with_columns(pl.when(moved & (pl.col("service") == data.html)).then(5000.0)
                                   .otherwise(pl.col("latency_p99_ms")).alias("latency_p99_ms"))
    service.write_parquet(data.folder / "service.parquet")
    _hostile_events(data, ts, rng)
    return data


def _hostile_events(data: HostileData, ts, rng) -> None:
    """Decisions and LLM calls whose versions are the hostile values, releases and incidents that name them, and a
    policy whose gate is split by the hostile segments (so Rollouts, LLM, Incidents and Gates show them)."""
    import polars as pl

    n = ts.len()
    versions = ["v1", data.html]
    pl.DataFrame({"ts": ts, "geo": [data.values[i % 3] for i in range(n)], "score": rng.uniform(0.05, 0.5, n),
                  "label": rng.integers(0, 2, n), "spend": rng.uniform(0.1, 1.0, n),
                  "model_version": [versions[i % 2] for i in range(n)]}
                 ).write_parquet(data.folder / "decisions.parquet")
    pl.DataFrame({"ts": ts, "model": [data.values[i % 3] for i in range(n)], "prompt_version": data.markdown,
                  "latency_ms": rng.gamma(4, 100, n), "output_tokens": rng.poisson(200, n).astype(float),
                  "cost": 0.002, "validator_ok": rng.uniform(size=n) > 0.05}).write_parquet(data.folder / "llm_calls.parquet")
    pl.DataFrame({"ts": ["2026-09-05T00:00:00Z", "2026-09-15T00:00:00Z"],
                  "release_id": [f"model-{data.markdown}", f"model-{data.html}"], "component": ["model", "model"],
                  "version": ["v1", data.html], "note": [data.directive, data.markdown]}
                 ).write_csv(data.folder / "releases.csv")
    pl.DataFrame({"incident_id": [data.html], "start": ["2026-09-21T00:00:00Z"], "end": ["2026-09-21T12:00:00Z"],
                  "layer": ["business"], "severity": ["P2"], "segment": [f"geo={data.html}"],
                  "cause": [data.markdown]}).write_csv(data.folder / "incidents.csv")
    (data.folder / "policy.toml").write_text('[policy]\nname = "hostile"\n\n[[gate]]\nname = "cpa_by_geo"\n'
                                             'metric = "cpa"\nby = ["geo"]\ncomparison = "day_over_day"\n'
                                             'threshold = 0.5\n', encoding="utf-8")
