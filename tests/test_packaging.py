"""The wheel is the product: built from this checkout and installed outside it, it carries the library, the app
and the sample, and both `driftdesk gates backtest` and `driftdesk app` run on the sample it carries.

The wheel is installed with ``--no-deps`` into a target folder and run with that folder first on PYTHONPATH, so
its dependencies come from the environment running the tests: no download, and a few seconds instead of a
fresh virtual environment. The build uses this environment's setuptools (``--no-build-isolation``, the test
extra requires a recent enough one), so it also works offline.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "driftdesk"
BUILD_INPUTS = ("pyproject.toml", "README.md", "lib", "app", "sample_data")
# where the wheel puts each top-level folder of the checkout (see [tool.setuptools] in pyproject.toml)
IN_WHEEL = {"lib/driftdesk": "driftdesk", "app": "driftdesk/_app", "sample_data": "driftdesk/sample_data"}
GOLDEN_BACKTEST = ROOT / "tests" / "golden" / "cli" / "gates_backtest.json"
STARTUP_SECONDS = 60


def _python_packages(folder: Path, name: str) -> set[str]:
    return {name + "".join("." + p for p in init.parent.relative_to(folder).parts) for init in folder.rglob("__init__.py")
            if "__pycache__" not in init.parts}


def test_every_library_package_is_listed_for_the_wheel():
    """pyproject.toml lists packages by hand (the app and the sample are mapped in); a new subpackage must be added."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    missing = _python_packages(LIB, "driftdesk") - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"
    assert config["package-dir"] == {"": "lib", "driftdesk._app": "app", "driftdesk.sample_data": "sample_data"}


def _expected_files() -> dict[str, Path]:
    """Wheel member name -> checkout file, for every file the wheel must carry."""
    out = {}
    for folder, target in IN_WHEEL.items():
        base = ROOT / folder
        pattern = "*" if folder == "sample_data" else "*.py"
        for path in base.rglob(pattern):
            if path.is_file() and "__pycache__" not in path.parts:
                out[f"{target}/{path.relative_to(base).as_posix()}"] = path
    for extra in ("py.typed", "gates/default_policy.toml"):
        out[f"driftdesk/{extra}"] = LIB / extra
    return out


def _copy_sources(dest: Path) -> Path:
    """The files a build reads, copied out of the checkout so the build leaves nothing behind in it."""
    dest.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".driftdesk")
    for name in BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    major, minor = (int(x) for x in version("setuptools").split(".")[:2])
    assert (major, minor) >= (77, 0), "the build needs setuptools>=77: install the test extra (pip install -e '.[test]')"
    work = tmp_path_factory.mktemp("wheel")
    src = _copy_sources(work / "src")
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                          "--wheel-dir", str(work / "dist"), "--quiet"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    (built,) = (work / "dist").glob("driftdesk-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    """The wheel installed without its dependencies into a folder of its own."""
    target = wheel.parent.parent / "installed"
    out = subprocess.run([sys.executable, "-m", "pip", "install", str(wheel), "--no-deps", "--no-compile", "--quiet",
                          "--target", str(target)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return target


@pytest.fixture
def outside(tmp_path: Path, installed: Path) -> tuple[Path, dict[str, str]]:
    """A working directory outside the checkout and an environment that finds driftdesk only in the install."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DRIFTDESK_SAMPLE_DATA", "DRIFTDESK_DATA")}
    env.update(PYTHONPATH=str(installed), DRIFTDESK_HOME=str(tmp_path / "home"), DO_NOT_TRACK="true",
               MLFLOW_DISABLE_TELEMETRY="true", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    return cwd, env


@pytest.mark.slow
def test_the_wheel_carries_the_library_the_app_and_the_sample_unchanged(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        expected = _expected_files()
        missing = sorted(set(expected) - names)
        assert not missing, f"not in the wheel: {missing[:10]}"
        for name in (n for n in expected if n.startswith("driftdesk/sample_data/")):
            assert zf.read(name) == expected[name].read_bytes(), name
    assert not [n for n in names if n.startswith(("app/", "ui/", "sample_data/", "tests/"))], "stray top-level folders"


@pytest.mark.slow
def test_installed_cli_backtests_the_packaged_policy_on_the_packaged_sample(installed, outside):
    cwd, env = outside
    package = installed / "driftdesk"
    where = subprocess.run([sys.executable, "-c", "import driftdesk.paths as p; print(p.PACKAGE_DIR); print(p.sample_data_dir())"],
                           cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert where.stdout.split() == [str(package), str(package / "sample_data")], where.stderr
    out = subprocess.run([sys.executable, "-m", "driftdesk.cli", "gates", "backtest", "--policy",
                          str(package / "gates" / "default_policy.toml"), "--data", str(package / "sample_data"),
                          "--format", "json"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    golden = json.loads(GOLDEN_BACKTEST.read_text(encoding="utf-8"))["output"]
    for key in ("precision", "recall", "alerts_per_week", "median_delay_hours"):
        assert doc[key] == pytest.approx(golden[key], rel=1e-9), key
    assert len(doc["alerts"]) == len(golden["alerts"])
    assert [i["caught"] for i in doc["incidents"]] == [i["caught"] for i in golden["incidents"]]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


@pytest.mark.slow
def test_installed_app_runs_on_the_packaged_sample(installed, outside):
    """`driftdesk app` (the installed console script) serves the packaged app, whose default page runs on the sample."""
    cwd, env = outside
    port = _free_port()
    env.update(STREAMLIT_SERVER_ADDRESS="127.0.0.1", STREAMLIT_SERVER_FILE_WATCHER_TYPE="none",
               STREAMLIT_SERVER_SCRIPT_HEALTH_CHECK_ENABLED="true")  # runs the entry script once on request
    log = cwd / "app.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen([str(installed / "bin" / "driftdesk"), "app", "--headless", "--port", str(port)], cwd=cwd,
                                env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/_stcore"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while _get_or_none(f"{url}/health") != (200, "ok"):
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, f"no answer within {STARTUP_SECONDS} s:\n{log.read_text(errors='replace')[-3000:]}"
            time.sleep(0.5)
        status, body = _get(f"{url}/script-health-check")
        assert (status, body) == (200, "ok"), f"{status} {body}\n{log.read_text(errors='replace')[-3000:]}"
    finally:
        _stop_group(proc)
    first_line = log.read_text(errors="replace").splitlines()[0]
    assert str(installed / "driftdesk" / "sample_data") in first_line, first_line


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop the CLI and the streamlit server it started (its own process group, made by start_new_session)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


def _get_or_none(url: str) -> tuple[int, str] | None:
    try:
        return _get(url)
    except OSError:
        return None
