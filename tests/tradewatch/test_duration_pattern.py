"""duration_pattern: the regex an API documents is exactly the set of bounded durations it accepts."""

from __future__ import annotations

import re

import pytest

from tradewatch.duration import duration_pattern, parse_duration

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@pytest.mark.parametrize("low,high", [(1, 30 * 86400), (60, 86400), (60, 90 * 86400), (7, 7), (59, 61)])
def test_pattern_matches_exactly_the_durations_in_range(low, high):
    rx = re.compile(duration_pattern(low, high))
    for unit, size in UNITS.items():
        edges = {b + d for b in (low // size, high // size) for d in range(-3, 4) if b + d >= 0}
        for n in sorted(set(range(1200)) | edges | set(range(0, high // size + 50, 997))):
            text = f"{n}{unit}"
            assert bool(rx.match(text)) == (n > 0 and low <= parse_duration(text) <= high), text
            assert not rx.match(f"0{n}{unit}")  # no leading zeros


def test_pattern_refuses_other_spellings():
    rx = re.compile(duration_pattern(1, 86400))
    for text in ("", ",", "1h30m", "1.5h", "3600", "1H", " 1h", "1h ", "1w", "-1h"):
        assert not rx.match(text), text
