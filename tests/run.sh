#!/usr/bin/env bash
# Install everything the tests need and run every test:
#   Debian's prometheus, alertmanager, node_exporter, chromium, postgresql and nginx; a .venv with
#   the project and its `test` extra; then ruff and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/system-packages.sh
ensure_debian_packages python3-venv prometheus prometheus-alertmanager prometheus-node-exporter chromium postgresql nginx
ensure_venv .venv test,postgres
echo "== ruff"
.venv/bin/ruff check .
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
