#!/usr/bin/env bash
# Install Fangkong into ./.venv and start the demo: a synthetic 拜泉县 (about 50,000 residents)
# in an embedded SQLite database under ./var/, demo users, the task worker and the web UI.
# Extra arguments go to `fangkong demo` (e.g. --port 8080, --residents 20000, --no-serve).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/fangkong demo "$@"
