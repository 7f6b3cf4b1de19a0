"""Which severity a dashboard value is at, by the configured thresholds (the same levels the
alert rules use), so a filesystem at 98 % reads as an emergency on the page before, and while,
the alert fires.

The page gets the levels as data (`page_levels`) so the refreshing script colours values the
way the first paint did; `level_of` is the rule both follow: the most severe level the value is
above (the rules compare with `>`).
"""

from __future__ import annotations

from tradewatch.config import Thresholds

# dashboard metric key -> Thresholds field (percent levels; the page's values are 0..1 ratios)
METRIC_THRESHOLDS = {"cpu": "cpu_percent", "memory": "memory_percent", "filesystem": "disk_percent"}

Levels = list[tuple[str, float]]  # (severity, percent), lowest severity first


def page_levels(thresholds: Thresholds) -> dict[str, Levels]:
    """{metric key: [(severity, percent), ...]} for the metrics that have thresholds."""
    return {key: getattr(thresholds, field).items() for key, field in METRIC_THRESHOLDS.items()}


def level_of(ratio: float | None, levels: Levels) -> str | None:
    """The most severe level `ratio` (0..1) is above, or None (no value, or below every level)."""
    if ratio is None:
        return None
    found = None
    for severity, percent in levels:
        if ratio * 100 > percent:
            found = severity
    return found
