"""Webhook ingest: store every alert, its history, its emails and channel messages in one transaction.

Idempotent on (fingerprint, startsAt, status): an Alertmanager repeat or the second member of
an HA pair finds the receipt and changes nothing, so each alert is stored and notified once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from alert_bridge.alerts import escalation
from alert_bridge.alerts.escalation import Action
from alert_bridge.alerts.payload import WebhookAlert, WebhookPayload, iso
from alert_bridge.notify import fanout, routing
from alert_bridge.notify.context import alert_context
from alert_bridge.store import alerts, jobs, outbox, pauses
from alert_bridge.store.database import Database
from tradewatch.config import Config
from tradewatch.vocabulary import WATCHDOG_ALERT, effective_severity

log = logging.getLogger("alert_bridge.alerts.ingest")

WATCHDOG_STATE = "watchdog_last_seen"


@dataclass
class IngestResult:
    received: int = 0
    new: int = 0
    duplicates: int = 0
    notifications: list[int] = field(default_factory=list)
    counted: list[tuple[str, str]] = field(default_factory=list)  # (severity, status) of new ones
    watchdog_seen: bool = False


def record(a: WebhookAlert) -> dict:
    """A webhook alert as an `alerts` row (severity resolved, canonical startsAt)."""
    severity, assumed = effective_severity(a.labels.get("severity"))
    ends = a.ends
    return {
        "fingerprint": a.fingerprint,
        "starts_at": iso(a.startsAt),
        "starts_at_epoch": a.startsAt.timestamp(),
        "alertname": a.labels["alertname"],
        "status": a.status,
        "severity": severity,
        "severity_assumed": assumed,
        "category": a.labels.get("category", ""),
        "instance": a.labels.get("instance", ""),
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "ends_at": iso(ends) if ends else None,
        "generator_url": a.generatorURL,
        "raw": a.model_dump_json(),
    }


def _to_channels(conn: Any, config: Config, kind: str, context: dict, rec: dict, alert_id: int,
                 email_key: str, now: float) -> list[int]:
    return fanout.enqueue_channels(conn, config, kind, context, dedup_key=email_key, now=now,
                                   alert_id=alert_id, severity=rec["severity"], category=rec["category"])


def ingest(
    db: Database, config: Config, payload: WebhookPayload, body: bytes, *, now: float, key: str
) -> IngestResult:
    """Store the payload's alerts and enqueue their emails; raises StoreUnavailable on transient faults."""
    result = IngestResult(received=len(payload.alerts))
    with db.transaction() as conn:
        pause_row = pauses.active(conn, now)
        pause = escalation.Pause(bool(pause_row["include_emergencies"])) if pause_row else None
        payload_id: int | None = None
        for a in payload.alerts:
            rec = record(a)
            is_watchdog = rec["alertname"] == WATCHDOG_ALERT
            if is_watchdog and a.status == "firing":
                jobs.set_state(conn, WATCHDOG_STATE, repr(now))
                result.watchdog_seen = True
            if not alerts.add_receipt(conn, rec["fingerprint"], rec["starts_at"], rec["status"], now):
                result.duplicates += 1
                continue
            result.new += 1
            result.counted.append((rec["severity"], rec["status"]))
            if payload_id is None:
                payload_id = alerts.add_payload(
                    conn, payload.receiver, payload.groupKey, body.decode("utf-8", "replace"), now
                )
            if rec["status"] == "firing":  # held by a silence and stored at resume (alerts.pause)?
                alerts.rekey_coarse_twin(conn, rec["fingerprint"], rec["starts_at"], rec["starts_at_epoch"])
            alert_id = alerts.insert(conn, rec, payload_id=payload_id, now=now)
            if alert_id is not None:
                row: dict = {**rec, "id": alert_id, "acked_at": None}
            else:
                existing = alerts.get_by_key(conn, rec["fingerprint"], rec["starts_at"])
                assert existing is not None
                if existing["status"] == rec["status"] or existing["status"] == "resolved":
                    # Same state again, or a late firing copy (HA peer, retry) after the resolve:
                    # the history already says what happened.
                    alerts.touch(conn, existing["id"], now)
                    continue
                alert_id = existing["id"]
                alerts.transition(conn, alert_id, rec, payload_id=payload_id, now=now)
                row = {**dict(existing), **rec, "id": alert_id}
            if is_watchdog:
                if rec["status"] == "firing":  # one heartbeat: earlier episodes are over
                    alerts.close_other_episodes(
                        conn, WATCHDOG_ALERT, rec["fingerprint"], rec["starts_at"], now
                    )
                continue  # the dead-man's switch is watched by the watchdog job, never emailed
            decision = escalation.decide(
                rec["severity"],
                rec["status"],
                trigger="webhook",
                pause=pause,
                acked=row.get("acked_at") is not None,
                told_firing=row.get("last_notified_at") is not None,
            )
            log.info(
                "alert %s %s severity=%s%s instance=%s -> %s (%s)",
                rec["alertname"],
                rec["status"],
                rec["severity"],
                " (assumed)" if rec["severity_assumed"] else "",
                rec["instance"],
                decision.action,
                decision.reason,
            )
            if decision.action is Action.EMAIL:
                context = alert_context(row, config, key)
                if decision.kind == "resolved":  # thread under the firing email only if one went out
                    context["thread_root_sent"] = outbox.queued(
                        conn, f"firing:{rec['fingerprint']}:{rec['starts_at']}")
                email_key = f"{decision.kind}:{rec['fingerprint']}:{rec['starts_at']}"
                nid = outbox.enqueue(
                    conn,
                    str(decision.kind),
                    escalation.recipients(config.email.to, config.email.escalation_to, decision.escalate),
                    context,
                    alert_id=alert_id,
                    dedup_key=email_key,
                    now=now,
                )
                sent = _to_channels(conn, config, str(decision.kind), context, rec, alert_id, email_key, now)
                if nid is not None:
                    sent.insert(0, nid)
                if sent:
                    result.notifications.extend(sent)
                    alerts.mark_notified(conn, alert_id, now)
            elif decision.action is Action.HOLD:
                alerts.mark_held(conn, alert_id, now)
            else:
                quiet = routing.quiet_alert_kind(rec["severity"], rec["status"], paused=pause is not None,
                                                 told_firing=row.get("last_notified_at") is not None)
                if quiet is not None and config.channels:
                    context = alert_context(row, config, key)
                    email_key = f"{quiet}:{rec['fingerprint']}:{rec['starts_at']}"
                    sent = _to_channels(conn, config, quiet, context, rec, alert_id, email_key, now)
                    if sent:
                        result.notifications.extend(sent)
                        alerts.mark_notified(conn, alert_id, now)
    return result

