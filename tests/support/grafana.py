"""What Grafana does to a query before Prometheus sees it: dashboard and built-in variables
(`$var`, `${var}`, `${var:format}`) replaced by their values."""

from __future__ import annotations

import re

_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


def substitute(expr: str, values: dict[str, str]) -> str:
    """`expr` with every variable replaced; a variable without a value is an error, not left in."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in values:
            raise ValueError(f"no value for ${name} in {expr}")
        return values[name]

    return _VARIABLE.sub(repl, expr)
