"""Pausing and resuming notifications: the bridge's own mute plus an Alertmanager silence.

When a pause ends (resumed by hand or expired) the critical alerts held meanwhile go out in one
`pause_summary` email (and a message on each channel a held alert matches). Held means both:
alerts that reached the bridge and were muted, and alerts the silence kept inside Alertmanager
(which sends nothing while it holds them). The latter are read from Alertmanager
(`held_by_silence`) for the dashboard while paused, and at resume, before the silence is
expired, they are stored as held alerts with their receipt, so the summary lists them and the
webhook Alertmanager sends once the silence is gone is a duplicate instead of a second email.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from alert_bridge.alerts.alertmanager import AlertmanagerClient, AlertmanagerUnavailable, pause_matchers
from alert_bridge.alerts.ingest import record
from alert_bridge.alerts.payload import WebhookAlert
from alert_bridge.notify import fanout
from alert_bridge.notify.context import alert_dict, dashboard_url, iso_time
from alert_bridge.store import alerts, outbox, pauses
from alert_bridge.store.database import Database
from tradewatch.config import Config
from tradewatch.vocabulary import WATCHDOG_ALERT

log = logging.getLogger("alert_bridge.alerts.pause")


@dataclass
class Resumed:
    ended: list[int]
    held: int
    notification_id: int | None
    silence_errors: list[str]


def silenced_by(alerts_json: list[dict[str, Any]], silence_ids: set[str]) -> list[WebhookAlert]:
    """Alertmanager's silenced alerts (GET /api/v2/alerts) that one of `silence_ids` holds, as
    firing webhook alerts (same fingerprint and startsAt as the webhook will carry). Inhibited
    ones are left out (they would not have been sent either); malformed entries are skipped."""
    out = []
    for a in alerts_json:
        status = a.get("status") or {}
        if not set(status.get("silencedBy") or ()) & silence_ids or status.get("inhibitedBy"):
            continue
        try:
            alert = WebhookAlert.model_validate({
                "status": "firing", "labels": a.get("labels") or {},
                "annotations": a.get("annotations") or {},
                "startsAt": a.get("startsAt"), "generatorURL": a.get("generatorURL") or "",
                "fingerprint": a.get("fingerprint"),
            })
        except ValidationError:
            log.warning("skipping a malformed alert from Alertmanager: %.200r", a)
            continue
        if alert.labels["alertname"] != WATCHDOG_ALERT:
            out.append(alert)
    return out


def held_by_silence(config: Config, silence_ids: set[str]) -> list[WebhookAlert]:
    """What the pause's silence holds in Alertmanager now; raises AlertmanagerUnavailable."""
    client = _client(config)
    if client is None or not silence_ids:
        return []
    return silenced_by(client.silenced_alerts(), silence_ids)


def held_view(config: Config, pause: dict[str, Any] | None) -> tuple[list[dict[str, Any]], str | None]:
    """(alert dicts for the dashboard's board, error) for the alerts the active pause's silence holds."""
    if pause is None or not pause.get("silence_id"):
        return [], None
    try:
        held = held_by_silence(config, {str(pause["silence_id"])})
    except AlertmanagerUnavailable as exc:
        return [], f"cannot read the alerts the silence holds: {exc}"
    out = []
    for a in held:
        rec = record(a)
        out.append({
            "id": None, "fingerprint": rec["fingerprint"], "alertname": rec["alertname"], "status": "firing",
            "severity": rec["severity"], "category": rec["category"], "instance": rec["instance"],
            "labels": rec["labels"], "annotations": rec["annotations"], "starts_at": rec["starts_at"],
            "acked_at": None, "held": True, "held_by": "alertmanager",
        })
    return out, None


def _store_held(conn: Any, held: list[WebhookAlert], now: float) -> None:
    """Alerts the silence held, stored as held (with their firing receipt) unless already told."""
    for a in held:
        rec = record(a)
        alerts.add_receipt(conn, rec["fingerprint"], rec["starts_at"], "firing", now)
        alert_id = alerts.insert(conn, rec, payload_id=None, now=now)
        if alert_id is None:
            row = alerts.get_by_key(conn, rec["fingerprint"], rec["starts_at"])
            if row is None or row["status"] != "firing" or row["last_notified_at"] is not None:
                continue
            alert_id = row["id"]
        alerts.mark_held(conn, alert_id, now)


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
    """End the open pause(s) (all of them, or only those past their end) and send the summary,
    which includes the alerts their silences held in Alertmanager (read before expiring them)."""
    with db.transaction() as conn:
        rows = pauses.expired(conn, now) if expired_only else pauses.open_pauses(conn)
    if not rows:
        return Resumed([], 0, None, [])
    errors: list[str] = []
    from_silence: list[WebhookAlert] = []
    try:
        from_silence = held_by_silence(config, {str(p["silence_id"]) for p in rows if p["silence_id"]})
    except AlertmanagerUnavailable as exc:
        errors.append(f"the alerts the silence held could not be read: {exc}")
        log.warning("resume: %s", errors[-1])
    with db.transaction() as conn:
        rows = pauses.expired(conn, now) if expired_only else pauses.open_pauses(conn)
        if not rows:
            return Resumed([], 0, None, errors)
        _store_held(conn, from_silence, now)
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
    client = _client(config)
    if client is not None and not expired_only:
        for p in rows:
            err = _expire(client, p["silence_id"])
            if err:
                errors.append(err)
    log.info("notifications resumed; %d held alert(s) summarised", len(held))
    return Resumed([p["id"] for p in rows], len(held), nid, errors)
