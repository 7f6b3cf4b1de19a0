"""Prometheus's annotation template functions, re-implemented for the rule unit tests.

`promtool test rules` compares annotations exactly, so the generated tests need the text
Prometheus will produce. Only the small template subset our rules use is supported, and anything
else raises, so a rule author cannot silently use a form the tests cannot predict. The number
formatting follows Prometheus 2.x `template.go` (`%.4g` with SI prefixes).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return f"{v:.4g}"
    if abs(v) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return f"{v:.4g}{prefix}"
    v, prefix = _sub_unit(v)
    return f"{v:.4g}{prefix}"


def _sub_unit(v: float) -> tuple[float, str]:
    """Scale a value below 1 to milli, micro, ... as Prometheus's template functions do."""
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return v, prefix


def humanize_1024(v: float) -> str:
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return f"{v:.4g}"
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix, v = p, v / 1024
    return f"{v:.4g}{prefix}"


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return f"{v:.4g}"
    if v == 0:
        return f"{v:.4g}s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        total = int(v)
        seconds, minutes = total % 60, (total // 60) % 60
        hours, days = (total // 3600) % 24, total // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{v:.4g}s"
    v, prefix = _sub_unit(v)
    return f"{v:.4g}{prefix}s"


def humanize_percentage(v: float) -> str:
    return f"{v * 100:.4g}%"


FUNCTIONS: dict[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanize1024": humanize_1024,
    "humanizeDuration": humanize_duration,
    "humanizePercentage": humanize_percentage,
}

_ACTION = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_PIPE = re.compile(r"^\$value \| (\w+)$")
_PRINTF = re.compile(r'^printf "(%\.\d+f)" \$value$')
_LABEL = re.compile(r"^\$labels\.(\w+)$")
# `{{ with $labels.x }}A{{ else }}B{{ end }}` (else optional, not nested): A with `{{ . }}` as the
# label's value when it is non-empty, else B
_WITH = re.compile(r"\{\{\s*with \$labels\.(\w+)\s*\}\}(.*?)(?:\{\{\s*else\s*\}\}(.*?))?\{\{\s*end\s*\}\}")


def expand(template: str, labels: Mapping[str, str], value: float, dot: str | None = None) -> str:
    """The text Prometheus renders from `template` for an alert with these labels and value
    (`dot`: what `{{ . }}` stands for inside a `with`)."""

    def action(m: re.Match[str]) -> str:
        body = m.group(1)
        if body == "." and dot is not None:
            return dot
        if pm := _PIPE.match(body):
            if pm.group(1) not in FUNCTIONS:
                raise ValueError(f"unsupported template function {pm.group(1)!r} in {template!r}")
            return FUNCTIONS[pm.group(1)](value)
        if pm := _PRINTF.match(body):
            return pm.group(1) % value
        if lm := _LABEL.match(body):
            return labels.get(lm.group(1), "")
        raise ValueError(f"unsupported template action {{{{ {body} }}}} in {template!r}")

    out, at = [], 0
    for m in _WITH.finditer(template):  # each branch expanded on its own: label values stay text
        out.append(_ACTION.sub(action, template[at:m.start()]))
        label = labels.get(m.group(1), "")
        branch = m.group(2) if label else (m.group(3) or "")
        out.append(expand(branch, labels, value, label or None))
        at = m.end()
    out.append(_ACTION.sub(action, template[at:]))
    return "".join(out)
