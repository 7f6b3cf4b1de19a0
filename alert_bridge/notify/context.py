"""The JSON context the bridge writes into outbox rows (rendered by alert_bridge/notify/)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from alert_bridge.web.signing import ack_url
from tradewatch.config import Config


def iso_time(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def alert_dict(row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
    """An alert as the contract's notification context describes it."""
    r = dict(row)
    labels = r["labels"] if isinstance(r["labels"], dict) else json.loads(r["labels"])
    annotations = r["annotations"] if isinstance(r["annotations"], dict) else json.loads(r["annotations"])
    return {
        "id": r["id"],
        "fingerprint": r["fingerprint"],
        "alertname": r["alertname"],
        "status": r["status"],
        "severity": r["severity"],
        "category": r["category"],
        "instance": r["instance"],
        "labels": labels,
        "annotations": annotations,
        "starts_at": r["starts_at"],
        "ends_at": r["ends_at"],
        "generator_url": r["generator_url"],
    }


def dashboard_url(config: Config) -> str:
    """The dashboard's address for links in notifications ('' without `bridge.external_url`)."""
    external = config.bridge.external_url
    return f"{external}/" if external else ""


def alert_context(
    row: sqlite3.Row | dict[str, Any], config: Config, key: str, *, repeat: int = 0, status: str | None = None
) -> dict[str, Any]:
    alert = alert_dict(row)
    if status:
        alert["status"] = status
    external = config.bridge.link_url
    return {
        "alert": alert,
        "severity_assumed": bool(dict(row)["severity_assumed"]),
        "repeat": repeat,
        "ack_url": ack_url(external, key, alert["id"]),
        "dashboard_url": dashboard_url(config),
    }
