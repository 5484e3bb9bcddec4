#!/usr/bin/env bash
# The whole test suite on a fresh machine: a venv with the project and its test extras (PySpark among them), a
# Java runtime for Spark's tests and Debian's Chromium for the browser test, then pytest on one worker per core
# (pytest-xdist; a module's tests, the browser tests and the Spark tests each stay on one worker, see
# tests/conftest.py). Extra arguments go to pytest (e.g. -m 'not browser and not spark', or -n 0 for one process).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_env.sh
ensure_venv test
ensure_java
ensure_chromium
export DO_NOT_TRACK=true MLFLOW_DISABLE_TELEMETRY=true STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
exec .venv/bin/python -m pytest --numprocesses auto --maxprocesses 4 --dist loadscope "$@"
