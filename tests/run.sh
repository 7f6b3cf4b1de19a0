#!/usr/bin/env bash
# Install everything the tests need and run every test:
#   Debian's prometheus, alertmanager, node_exporter, chromium, postgresql and nginx; a .venv with
#   the project and its `test` extra; .venv-synapse (a Matrix homeserver); then ruff and pytest.
#   Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/system-packages.sh
ensure_debian_packages python3-venv prometheus prometheus-alertmanager prometheus-node-exporter chromium postgresql nginx
ensure_venv .venv test,postgres
# A real Matrix homeserver for the push-channel tests (tests/support/synapse.py), in a venv of
# its own so its pins never meet the project's; about 20 s from PyPI.
if [ ! -x .venv-synapse/bin/register_new_matrix_user ]; then
    python3 -m venv .venv-synapse
    .venv-synapse/bin/python -m pip install --quiet --disable-pip-version-check 'matrix-synapse>=1.100,<2' \
        2> >(grep -v "^WARNING: Location" >&2)
fi
echo "== ruff"
.venv/bin/ruff check .
echo "== pytest"
# Four workers, each taking whole files (a file's fixtures start once): the tests mostly wait on
# real Prometheus, Alertmanager, SMTP and browsers, so four overlap well even on two cores.
# TRADEWATCH_TEST_WORKERS=0 runs them in this one process.
exec .venv/bin/python -m pytest -n "${TRADEWATCH_TEST_WORKERS:-4}" --dist loadfile "$@"
