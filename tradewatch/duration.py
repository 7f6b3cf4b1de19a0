"""Durations: Prometheus syntax (`90s`, `5m`, `1h30m`) to and from seconds, and text for people."""

from __future__ import annotations

import math
import re
from typing import Any

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


def parse_duration(value: Any) -> float:
    """Seconds from `1h30m`, `250ms`, a bare number of seconds, or None-free input."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"duration must not be negative (got {value})")
        return float(value)
    text = str(value).strip()
    if not text:
        raise ValueError("empty duration")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    pos, total = 0, 0.0
    for m in _PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h30m)")
    return total


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for whole milliseconds: 90 -> `1m30s`, 0 -> `0s`."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1)):
        n, ms = divmod(ms, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def human_duration(seconds: float | None) -> str:
    """For people (emails, report, dashboard): `45s`, `6m 22s`, `3h 20m`, `2d 4h`, the two largest
    units; an em dash when unknown. Prometheus syntax (`1h30m`) is format_duration's job."""
    if seconds is None or not math.isfinite(seconds):
        return "\u2014"
    total = max(0, round(seconds))
    if total < 60:
        return f"{total}s"
    parts = []
    for name, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, total = divmod(total, size)
        if n or parts:
            parts.append((n, name))
    return " ".join(f"{n}{name}" for n, name in parts[:2] if n)


_PATTERN_UNITS = (("s", 1), ("m", 60), ("h", 3600), ("d", 86400))


def duration_pattern(min_seconds: int, max_seconds: int) -> str:
    """A regex matching exactly the whole-number durations `<n>s|m|h|d` from min to max seconds.

    An API that takes a bounded duration describes it with this pattern and validates with the
    same one, so the OpenAPI document and the server accept the same strings (no hand-kept range).
    """
    alternatives = []
    for unit, size in _PATTERN_UNITS:
        lo, hi = max(1, -(-min_seconds // size)), max_seconds // size
        if lo <= hi:
            alternatives.append(f"(?:{_integer_range(lo, hi)}){unit}")
    return "^(?:" + "|".join(alternatives) + ")$"


def _integer_range(lo: int, hi: int) -> str:
    """Regex alternatives for the decimal integers lo..hi (lo >= 1, no leading zeros)."""
    out, n = [], lo
    while n <= hi:
        k = 0  # widest block of trailing digits free to vary: n .. n + 10**k - 1
        while n % 10 ** (k + 1) == 0 and n + 10 ** (k + 1) - 1 <= hi:
            k += 1
        step = 10**k
        head = str(n // step)
        first = int(head[-1])
        last = first
        while last < 9 and n + (last - first + 2) * step - 1 <= hi:
            last += 1
        digit = head[-1] if first == last else f"[{first}-{last}]"
        out.append(head[:-1] + digit + ("" if k == 0 else r"\d" if k == 1 else rf"\d{{{k}}}"))
        n += (last - first + 1) * step
    return "|".join(out)
