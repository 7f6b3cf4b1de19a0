# Sourced by deploy/run-stack.sh and tests/run.sh: install missing Debian packages.
# ensure_debian_packages PKG... installs the ones not yet installed, as root or through sudo,
# and says clearly what is needed when neither is possible.

ensure_debian_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "TradeWatch needs these Debian packages (or the same programs on PATH): ${missing[*]}" >&2
        echo "This is not a Debian/Ubuntu system: install Prometheus and Alertmanager yourself." >&2
        return 1
    fi
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            echo "Installing ${missing[*]} needs root: run 'apt-get install ${missing[*]}' as root." >&2
            return 1
        fi
    fi
    echo "Installing Debian packages: ${missing[*]}" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    # Debian's packages start their services; ours run their own instances on their own ports.
    for pkg in "${missing[@]}"; do
        case "$pkg" in
            prometheus|prometheus-alertmanager|prometheus-node-exporter|nginx)
                $sudo systemctl disable --now "$pkg" >/dev/null 2>&1 || true ;;
        esac
    done
}

ensure_venv() {
    # ensure_venv DIR EXTRAS: a virtual environment with this project installed (editable), with
    # the comma-separated extras (bridge: the alert bridge; test: everything the tests need).
    local venv="$1" extras="${2:-}"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    # The distribution was called "tradewatch" (a name taken on PyPI): drop that install so that
    # one distribution owns the packages.
    if "$venv/bin/python" -m pip show --quiet tradewatch >/dev/null 2>&1; then
        "$venv/bin/python" -m pip uninstall --quiet --yes tradewatch >/dev/null 2>&1
    fi
    local spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec" 2> >(grep -v "^WARNING: Location" >&2)
}
