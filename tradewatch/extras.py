"""The distribution's optional parts: which extra brings which modules, and the message that
names the extra to install when one is missing.

The base install (`pip install tradewatch-monitor`) is what the exporter and `exporter.trading`
need, so a trading bot that imports the instrumentation does not pull in Flask or matplotlib. The
bridge (`alert_bridge`, and the `tradewatch` commands that use it) needs the `bridge` extra;
`all` is every extra. pyproject.toml lists the requirements; tests check the two lists agree.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec

DISTRIBUTION = "tradewatch-monitor"

# extra -> the import names its requirements provide (in pyproject.toml's order)
EXTRAS: dict[str, tuple[str, ...]] = {
    "bridge": ("flask", "jinja2", "waitress", "css_inline", "requests", "matplotlib", "offapi", "apprise"),
    "postgres": ("psycopg",),
}


class MissingExtra(ImportError):
    """An optional part is used without its extra installed; the message says what to install."""


def missing(extra: str) -> list[str]:
    """The extra's modules that cannot be imported here."""
    return [name for name in EXTRAS[extra] if find_spec(name) is None]


def install_hint(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def require(extra: str, what: str) -> None:
    """Raise MissingExtra naming `what` needs, the extra and the pip command, when it is absent."""
    absent = missing(extra)
    if absent:
        raise MissingExtra(
            f"{what} needs the '{extra}' extra, which is not installed (missing: {', '.join(absent)}); "
            f"install it with: {install_hint(extra)}",
            name=absent[0],
        )


def bridge_main() -> int:
    """`tradewatch-bridge`: one clear line and exit status 2 instead of a traceback without the extra."""
    try:
        from alert_bridge.cli import main
    except MissingExtra as exc:
        print(f"tradewatch-bridge: {exc}", file=sys.stderr)
        return 2
    return main()
