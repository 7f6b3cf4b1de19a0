"""Queue a notification for the push channels that want it, in the caller's transaction.

Callers (webhook ingest, emergency repeats, the Watchdog, the pause summary, the daily report,
tests) already queue the email in a transaction; calling this in the same one makes the channel
rows as durable as the email: committed before the webhook's 2xx, sent by the outbox sender.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from alert_bridge.notify import routing
from alert_bridge.notify.context import dashboard_url
from alert_bridge.notify.push_message import held_filters
from alert_bridge.store import outbox
from tradewatch.config import Config


def enqueue_channels(
    conn: sqlite3.Connection,
    config: Config,
    kind: str,
    context: dict[str, Any],
    *,
    dedup_key: str | None,
    now: float,
    alert_id: int | None = None,
    severity: str = "",
    category: str = "",
    only: str | None = None,
) -> list[int]:
    """One outbox row per matching channel (only `only`, when given); returns the new row ids.

    `dedup_key` is the email's key: each channel's row gets its own derived from it, so a
    repeated webhook queues nothing twice for any channel.
    """
    held = held_filters(context) if kind == "pause_summary" else ()
    ids = []
    for channel in routing.channels_for(config.channels, kind, severity=severity, category=category,
                                        held=held):
        if only is not None and channel.name != only:
            continue
        nid = outbox.enqueue(conn, kind, [], context, alert_id=alert_id,
                             dedup_key=routing.dedup_key(channel.name, dedup_key), now=now,
                             channel=channel.name)
        if nid is not None:
            ids.append(nid)
    return ids


def enqueue_tests(conn: sqlite3.Connection, config: Config, *, now: float, only: str | None = None,
                  note: str = "") -> dict[str, int]:
    """A test message for every channel (or only `only`): {channel name: outbox row id}."""
    context = {"requested_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"), "note": note,
               "dashboard_url": dashboard_url(config)}
    names = [c.name for c in config.channels if only is None or c.name == only]
    ids = enqueue_channels(conn, config, "test", context, dedup_key=None, now=now, only=only)
    return dict(zip(names, ids, strict=True))
