"""What a background job gets: config, database, signing key, the sender and the time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alert_bridge.store.database import Database
from tradewatch.config import Config


@dataclass(frozen=True)
class JobContext:
    config: Config
    db: Database
    key: str
    now: float
    sender: Any = None
    started: float | None = None  # when these workers started (the bridge's own downtime is no outage)
