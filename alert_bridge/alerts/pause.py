"""Pausing and resuming notifications: the bridge's own mute plus an Alertmanager silence.

When a pause ends (resumed by hand or expired) the critical alerts held meanwhile go out in one
`pause_summary` email (and message on each channel a held alert matches).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from alert_bridge.alerts.alertmanager import AlertmanagerClient, AlertmanagerUnavailable, pause_matchers
from alert_bridge.notify import fanout
from alert_bridge.notify.context import alert_dict, dashboard_url, iso_time
from alert_bridge.store import alerts, outbox, pauses
from alert_bridge.store.database import Database
from tradewatch.config import Config

log = logging.getLogger("alert_bridge.alerts.pause")


@dataclass
class Resumed:
    ended: list[int]
    held: int
    notification_id: int | None
    silence_errors: list[str]


def _client(config: Config) -> AlertmanagerClient | None:
    url = config.bridge.alertmanager_url
    return AlertmanagerClient(url) if url else None


def start(
    config: Config,
    db: Database,
    *,
    now: float,
    seconds: float,
    comment: str,
    include_emergencies: bool,
    created_by: str,
) -> dict[str, Any]:
    """Start (or replace) the pause; returns it with its silence id or the silence error."""
    with db.transaction() as conn:
        previous = pauses.open_pauses(conn)
        for p in previous:
            pauses.end(conn, p["id"], now)
        pause_id = pauses.start(
            conn,
            now=now,
            until=now + seconds,
            comment=comment,
            include_emergencies=include_emergencies,
            created_by=created_by,
        )
    client = _client(config)
    if client is not None:
        for p in previous:
            _expire(client, p["silence_id"])
        silence_id, error = None, None
        try:
            silence_id = client.create_silence(
                pause_matchers(include_emergencies),
                now,
                now + seconds,
                "tradewatch",
                comment,
            )
        except AlertmanagerUnavailable as exc:
            error = str(exc)
            log.warning("pause %s: no Alertmanager silence: %s", pause_id, error)
        with db.transaction() as conn:
            pauses.set_silence(conn, pause_id, silence_id, error)
    log.info("notifications paused until %s (%s)", iso_time(now + seconds), comment)
    with db.transaction() as conn:
        return pauses.to_dict(pauses.active(conn, now)) or {}


def _expire(client: AlertmanagerClient, silence_id: str | None) -> str | None:
    if not silence_id:
        return None
    try:
        client.expire_silence(silence_id)
    except AlertmanagerUnavailable as exc:
        log.warning("could not expire silence %s: %s", silence_id, exc)
        return str(exc)
    return None


def finish(config: Config, db: Database, *, now: float, expired_only: bool) -> Resumed:
    """End the open pause(s) (all of them, or only those past their end) and send the summary."""
    with db.transaction() as conn:
        rows = pauses.expired(conn, now) if expired_only else pauses.open_pauses(conn)
        if not rows:
            return Resumed([], 0, None, [])
        for p in rows:
            pauses.end(conn, p["id"], now)
        still_paused = pauses.active(conn, now) is not None
        held = [] if still_paused else alerts.take_held(conn)
        nid = None
        if held:
            first = rows[0]
            context = {
                "paused_at": iso_time(first["started_at"]),
                "resumed_at": iso_time(now),
                "comment": rows[-1]["comment"],
                "held": [alert_dict(r) for r in held],
                "dashboard_url": dashboard_url(config),
            }
            nid = outbox.enqueue(
                conn,
                "pause_summary",
                config.email.to,
                context,
                dedup_key=f"pause_summary:{rows[-1]['id']}",
                now=now,
            )
            fanout.enqueue_channels(conn, config, "pause_summary", context,
                                    dedup_key=f"pause_summary:{rows[-1]['id']}", now=now)
            for r in held:  # told through the summary: their resolve is worth an email
                if r["severity"] != "emergency":  # an emergency is re-sent by its repeat job now
                    alerts.mark_notified(conn, r["id"], now)
    errors: list[str] = []
    client = _client(config)
    if client is not None and not expired_only:
        for p in rows:
            err = _expire(client, p["silence_id"])
            if err:
                errors.append(err)
    log.info("notifications resumed; %d held alert(s) summarised", len(held))
    return Resumed([p["id"] for p in rows], len(held), nid, errors)
