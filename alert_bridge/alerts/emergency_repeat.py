"""The periodic job that re-sends firing, unacknowledged emergencies every N minutes."""

from __future__ import annotations

import logging

from alert_bridge.alerts import escalation
from alert_bridge.alerts.escalation import Action
from alert_bridge.jobs.context import JobContext
from alert_bridge.notify import fanout
from alert_bridge.notify.context import alert_context
from alert_bridge.store import alerts, outbox, pauses

log = logging.getLogger("alert_bridge.alerts.emergency_repeat")


def run(ctx: JobContext) -> int:
    """Enqueue the due re-notifications; returns how many were queued."""
    cfg, now = ctx.config, ctx.now
    repeat_seconds = cfg.escalation.emergency_repeat_minutes * 60
    queued = 0
    with ctx.db.transaction() as conn:
        pause_row = pauses.active(conn, now)
        pause = escalation.Pause(bool(pause_row["include_emergencies"])) if pause_row else None
        for row in alerts.due_emergencies(conn, now - repeat_seconds):
            decision = escalation.decide(
                row["severity"],
                row["status"],
                trigger="tick",
                pause=pause,
                acked=row["acked_at"] is not None,
                last_notified_at=row["last_notified_at"],
                now=now,
                repeat_seconds=repeat_seconds,
            )
            if decision.action is Action.HOLD:
                alerts.mark_held(conn, row["id"], now)
                continue
            if decision.action is not Action.EMAIL:
                continue
            n = row["notify_count"]
            context = alert_context(row, cfg, ctx.key, repeat=n)
            # a held emergency's first email may be this reminder: no thread root was sent then
            root = f"firing:{row['fingerprint']}:{row['starts_at']}"
            context["thread_root_sent"] = outbox.queued(conn, root)
            key = f"emergency_repeat:{row['fingerprint']}:{row['starts_at']}:{n}"
            nid = outbox.enqueue(
                conn,
                "emergency_repeat",
                escalation.recipients(cfg.email.to, cfg.email.escalation_to, True),
                context,
                alert_id=row["id"],
                dedup_key=key,
                now=now,
            )
            # every channel that took the emergency gets the reminder too, until ack or resolve
            sent = fanout.enqueue_channels(conn, cfg, "emergency_repeat", context, dedup_key=key, now=now,
                                           alert_id=row["id"], severity=row["severity"],
                                           category=row["category"])
            alerts.mark_notified(conn, row["id"], now)
            if nid is not None or sent:
                queued += 1
                log.info("emergency %s on %s: repeat %d queued", row["alertname"], row["instance"], n)
    return queued
