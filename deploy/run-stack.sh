#!/usr/bin/env bash
# The whole TradeWatch stack on 127.0.0.1, no Docker:
#   bash deploy/run-stack.sh [--demo] [--config FILE] [--<part>-port PORT ...]   start (foreground)
#   bash deploy/run-stack.sh status                                             which parts are up
#   bash deploy/run-stack.sh stop                                               stop a running stack
#   bash deploy/run-stack.sh reload                                             apply .env / config changes
#   bash deploy/run-stack.sh test-email                                         the bridge sends a test email
# Installs Prometheus and Alertmanager (Debian packages) when missing and the project into .venv,
# then hands over to the Python supervisor (tradewatch/stack.py). Data lives under var/stack/.
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do  # --help anywhere only shows the help: it never installs or starts anything
    if [ "$arg" = -h ] || [ "$arg" = --help ]; then
        [ -x .venv/bin/python ] && exec .venv/bin/python -m tradewatch.stack "$@"
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0
    fi
done

case "${1:-}" in
    status|stop|reload|test-email)
        if [ ! -x .venv/bin/python ]; then
            echo "TradeWatch is not installed here yet (no .venv): nothing is running." >&2
            exit 3
        fi
        exec .venv/bin/python -m tradewatch.stack "$@" ;;
esac

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "TradeWatch needs Python 3.11 or newer as python3 (found: $(python3 --version 2>&1 || echo none))." >&2
    exit 1
fi

. deploy/lib/system-packages.sh
have_binaries() {
    command -v prometheus >/dev/null 2>&1 &&
        { command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1; }
}
if command -v dpkg-query >/dev/null 2>&1; then
    # Debian/Ubuntu: the packages (python3-venv because Debian's python3 lacks ensurepip without it)
    ensure_debian_packages prometheus prometheus-alertmanager python3-venv
elif ! have_binaries; then
    echo "TradeWatch needs Prometheus and Alertmanager on PATH (programs 'prometheus' and" >&2
    echo "'alertmanager'). This is not a Debian system, so install them yourself, e.g. from" >&2
    echo "https://prometheus.io/download/, then run this again." >&2
    exit 1
fi
# Reuse the venv when the project's dependencies have not changed since it was installed (a
# second start needs no network); pip runs again after pyproject.toml changes.
stamp=.venv/.run-stack-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -x .venv/bin/tradewatch-bridge ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing TradeWatch into .venv ..." >&2
    ensure_venv .venv bridge
    echo "$want" > "$stamp"
fi
exec .venv/bin/python -m tradewatch.stack up "$@"
