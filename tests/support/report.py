"""Helpers for the report tests: alerts written into the real store, and a canned Prometheus API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from alert_bridge.store import alerts as store_alerts


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_alert(conn: Any, *, alertname: str, severity: str, instance: str, starts: float,
              ends: float | None = None, summary: str = "", n: int = 0, now: float | None = None,
              labels: dict[str, str] | None = None, description: str = "") -> int:
    """One alert episode as the webhook would have stored it (resolved when `ends` is given)."""
    labels = {"alertname": alertname, "severity": severity, "instance": instance, "category": "system",
              **(labels or {})}
    a = {
        "fingerprint": f"fp{abs(hash((alertname, instance))) % 10**8:08d}{n}",
        "starts_at": iso(starts), "starts_at_epoch": starts, "alertname": alertname,
        "status": "resolved" if ends is not None else "firing", "severity": severity,
        "severity_assumed": False, "category": "system", "instance": instance, "labels": labels,
        "annotations": {"summary": summary, **({"description": description} if description else {})},
        "ends_at": iso(ends) if ends is not None else None,
        "generator_url": "", "raw": json.dumps({"labels": labels}),
    }
    return store_alerts.insert(conn, a, payload_id=None, now=now if now is not None else (ends or starts))


class CannedPrometheus:
    """Stands in for PrometheusAPI in unit tests: answers by substring of the expression."""

    def __init__(self, ranges: dict[str, list[dict[str, Any]]], instants: dict[str, list[dict[str, Any]]]):
        self.ranges, self.instants = ranges, instants
        self.queries: list[str] = []

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        self.queries.append(expr)
        for key, result in self.ranges.items():
            if key in expr:
                return result
        return []

    def query(self, expr: str, time: float | None = None) -> list[dict[str, Any]]:
        self.queries.append(expr)
        for key, result in self.instants.items():
            if key in expr:
                return result
        return []


def series(instance: str, start: float, values: list[float], step: float, **labels: str) -> dict[str, Any]:
    return {"metric": {"instance": instance, **labels},
            "values": [[start + i * step, str(v)] for i, v in enumerate(values)]}
