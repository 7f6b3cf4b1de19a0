"""Which channels get which notification: severity and category filters, resolved, report, test."""

from __future__ import annotations

import pytest

from alert_bridge.notify import routing
from tradewatch.config import Channel


def ch(name: str = "phone", **kw) -> Channel:
    return Channel(name=name, url="json://127.0.0.1:9/x", **kw)


def names(channels, kind, **filters) -> list[str]:
    return [c.name for c in routing.channels_for(channels, kind, **filters)]


def test_defaults_take_critical_and_emergency_of_every_category() -> None:
    c = ch()
    for sev in ("critical", "emergency"):
        for cat in ("system", "trading", ""):
            assert routing.wants(c, "firing", severity=sev, category=cat)
    assert not routing.wants(c, "firing", severity="warning", category="system")
    assert not routing.wants(c, "firing", severity="info", category="system")


def test_a_warning_is_not_sent_to_a_critical_only_channel_but_to_one_that_lists_it() -> None:
    chans = [ch("crit", severities=["critical"]), ch("all", severities=["warning", "critical", "emergency"])]
    assert names(chans, "firing", severity="warning", category="api") == ["all"]
    assert names(chans, "firing", severity="critical", category="api") == ["crit", "all"]
    assert names(chans, "firing", severity="emergency", category="api") == ["all"]


def test_categories_filter_and_empty_means_all() -> None:
    chans = [ch("trading", categories=["trading"]), ch("any")]
    assert names(chans, "firing", severity="critical", category="trading") == ["trading", "any"]
    assert names(chans, "firing", severity="critical", category="system") == ["any"]
    assert names(chans, "emergency_repeat", severity="emergency", category="system") == ["any"]


def test_resolved_follows_send_resolved() -> None:
    chans = [ch("quiet", send_resolved=False), ch("loud")]
    assert names(chans, "resolved", severity="critical", category="system") == ["loud"]
    assert names(chans, "firing", severity="critical", category="system") == ["quiet", "loud"]


def test_daily_report_only_to_channels_that_ask() -> None:
    chans = [ch("a"), ch("b", daily_report=True)]
    assert names(chans, "report") == ["b"]


def test_test_goes_everywhere_and_watchdog_to_urgent_channels() -> None:
    chans = [ch("a"), ch("warn", severities=["warning"]), ch("emerg", severities=["emergency"])]
    assert names(chans, "test") == ["a", "warn", "emerg"]
    assert names(chans, "watchdog") == ["a", "emerg"]


def test_pause_summary_goes_to_channels_that_would_have_had_a_held_alert() -> None:
    chans = [ch("trading", categories=["trading"]), ch("emerg", severities=["emergency"]), ch("any")]
    held = [("critical", "system")]
    assert names(chans, "pause_summary", held=held) == ["any"]
    assert names(chans, "pause_summary", held=[]) == []
    assert names(chans, "pause_summary", held=[*held, ("critical", "trading")]) == ["trading", "any"]


def test_unknown_kind_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        routing.wants(ch(), "carrier_pigeon")


@pytest.mark.parametrize(("severity", "status", "paused", "told", "kind"), [
    ("warning", "firing", False, False, "firing"),
    ("info", "firing", False, False, "firing"),
    ("warning", "resolved", False, True, "resolved"),
    ("warning", "resolved", False, False, None),  # its firing never went to a channel
    ("warning", "firing", True, False, None),  # a pause mutes them
    ("critical", "firing", False, False, None),  # email's escalation decides urgent ones
    ("emergency", "resolved", False, True, None),
])
def test_quiet_alert_kind(severity: str, status: str, paused: bool, told: bool, kind: str | None) -> None:
    assert routing.quiet_alert_kind(severity, status, paused=paused, told_firing=told) == kind


def test_dedup_keys_are_per_channel_and_keep_the_email_key() -> None:
    key = "firing:abc:2026-12-05T07:00:00Z"
    assert routing.dedup_key("phone", key) != routing.dedup_key("desk", key)
    assert routing.dedup_key("phone", key).startswith(key)
    assert routing.dedup_key("phone", None) is None
