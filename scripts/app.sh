#!/usr/bin/env bash
# Start the app on the sample data (or on a folder given as --data DIR); open http://localhost:8501.
# Headless: no first-run e-mail prompt and no attempt to open a browser on a machine without a display.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_env.sh
ensure_venv
export DO_NOT_TRACK=true MLFLOW_DISABLE_TELEMETRY=true
exec .venv/bin/driftdesk app --headless "$@"
