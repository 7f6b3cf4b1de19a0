"""The shared words: severities, categories, the Watchdog, and duration text for people."""

from __future__ import annotations

import pytest

from tradewatch import vocabulary as vocab
from tradewatch.duration import human_duration
from tradewatch.rules.specs import ALERTS


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (45.4, "45s"), (60, "1m"), (61, "1m 1s"), (382, "6m 22s"), (3600, "1h"), (3725, "1h 2m"),
    (86400 * 2 + 3600 * 4 + 59, "2d 4h"), (-5, "0s"), (None, "\u2014"), (float("inf"), "\u2014"),
])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_severity_order_is_most_urgent_first():
    assert vocab.SEVERITY_ORDER[0] == "emergency" and vocab.SEVERITY_ORDER[-1] == "info"
    assert sorted(["info", "bogus", "critical"], key=vocab.severity_rank) == ["critical", "info", "bogus"]
    assert set(vocab.URGENT_SEVERITIES) <= set(vocab.SEVERITIES)


def test_every_rule_speaks_the_vocabulary():
    """The renderer's categories, severities and the Watchdog's name are the shared ones."""
    for spec in ALERTS:
        assert spec.category in vocab.CATEGORIES, spec.name
        assert spec.severity is None or spec.severity in vocab.SEVERITIES, spec.name
    assert vocab.WATCHDOG_ALERT in {spec.name for spec in ALERTS}


def test_every_per_severity_table_covers_every_severity():
    """Colours, weights and the docs' words are per medium, but none may miss a severity."""
    from alert_bridge.notify.view import SEVERITY_COLOURS as EMAIL
    from alert_bridge.reports.health_score import SEVERITY_WEIGHT
    from dashboards.grafana import SEVERITY_COLOURS as GRAFANA
    from tradewatch.rules.docs import BRIDGE_ACTION

    for table in (EMAIL, GRAFANA, SEVERITY_WEIGHT, BRIDGE_ACTION):
        assert set(vocab.SEVERITIES) <= set(table)
