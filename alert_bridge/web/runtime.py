"""What the app's views share: config, database, metrics, the sender and the signing key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from alert_bridge.sources.scrapes import ScrapeMemory
from alert_bridge.store.database import Database
from alert_bridge.web.metrics import BridgeMetrics
from tradewatch.config import Config


@dataclass
class Bridge:
    config: Config
    db: Database
    metrics: BridgeMetrics
    key: str
    clock: Callable[[], float]
    sender: Any = None  # alert_bridge.notify.sender.OutboxSender, when available
    workers: Any = None  # alert_bridge.jobs.workers.Workers, when started
    scrapes: ScrapeMemory = field(default_factory=ScrapeMemory)  # the exporter fallback's recent scrapes
    extra: dict[str, Any] = field(default_factory=dict)
    started: float | None = None  # when this bridge started (alerts.board.heartbeat's grace)


def bridge() -> Bridge:
    return current_app.extensions["tradewatch"]
