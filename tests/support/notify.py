"""Test helpers for the email area: notification contexts as the bridge core writes them."""

from __future__ import annotations

import copy
from typing import Any

from tradewatch.config import Config, parse_config

BASE_ALERT: dict[str, Any] = {
    "id": 7,
    "fingerprint": "3f2c9a1b4d5e6f70",
    "alertname": "HighCpuUsage",
    "status": "firing",
    "severity": "critical",
    "category": "system",
    "instance": "web-1:9184",
    "labels": {
        "alertname": "HighCpuUsage",
        "instance": "web-1:9184",
        "severity": "critical",
        "category": "system",
        "job": "node",
    },
    "annotations": {
        "summary": "CPU usage is 97.2% on web-1:9184",
        "description": "CPU usage has been above 95% for 5 minutes.",
        "value": "97.2%",
    },
    "starts_at": "2026-11-25T01:40:00.123456789Z",
    "ends_at": "0001-01-01T00:00:00Z",
    "generator_url": "http://prometheus.example:9090/graph?g0.expr=cpu&g0.tab=1",
}


def alert_context(*, repeat: int = 0, severity_assumed: bool = False, **alert_changes: Any) -> dict[str, Any]:
    """A `firing`/`resolved`/`emergency_repeat` context; keyword arguments replace alert fields."""
    alert = copy.deepcopy(BASE_ALERT)
    for key, value in alert_changes.items():
        if isinstance(value, dict) and isinstance(alert.get(key), dict):
            alert[key] = {**alert[key], **value}
        else:
            alert[key] = value
    return {
        "alert": alert,
        "severity_assumed": severity_assumed,
        "repeat": repeat,
        "ack_url": "http://localhost:8080/api/monitoring/alerts/7/ack?token=abc",
        "dashboard_url": "http://localhost:8080/",
    }


def email_config(**email: Any) -> Config:
    """A config with recipients set; keyword arguments go to the `email` section."""
    section = {"to": ["ops@example.com"], "escalation_to": ["boss@example.com"],
               "from_email": "tradewatch@example.com", **email}
    return parse_config({"email": section}, env={})


def body(msg: Any, subtype: str) -> str:
    part = msg.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()


class FakeClock:
    """A settable time.time() stand-in for backoff and lease tests."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
