"""The control and status API (DESIGN.md section 7) under /api/monitoring, and one-click ack links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from alert_bridge.alerts import pause
from alert_bridge.alerts.board import board, heartbeat
from alert_bridge.alerts.ingest import WATCHDOG_STATE
from alert_bridge.notify.context import alert_dict, iso_time
from alert_bridge.notify.view import distinguishing_label, host_of
from alert_bridge.sources import host_metrics
from alert_bridge.store import alerts, jobs, outbox, pauses
from alert_bridge.web import models as m
from alert_bridge.web.auth import actor
from alert_bridge.web.contract import HTML, Auth, contract
from alert_bridge.web.errors import ApiError
from alert_bridge.web.pages import html_page, human_time
from alert_bridge.web.runtime import bridge
from alert_bridge.web.signing import read_ack_token
from tradewatch.duration import parse_duration
from tradewatch.vocabulary import SEVERITIES, WATCHDOG_ALERT

bp = Blueprint("api", __name__)

def _alert_out(row: Any) -> dict[str, Any]:
    d = alert_dict(row)
    r = dict(row)
    d.update(
        {
            "severity_assumed": bool(r["severity_assumed"]),
            "first_seen": iso_time(r["first_seen"]),
            "last_seen": iso_time(r["last_seen"]),
            "resolved_at": iso_time(r["resolved_at"]),
            "acked_at": iso_time(r["acked_at"]),
            "last_notified_at": iso_time(r["last_notified_at"]),
            "notify_count": r["notify_count"],
            "held": r["held_at"] is not None,
        }
    )
    return d


def held_out(a: dict[str, Any]) -> dict[str, Any]:
    """A board row from Alertmanager's silence, as the HeldAlert model has it."""
    keys = ("fingerprint", "alertname", "status", "severity", "category", "instance", "labels",
            "annotations", "starts_at", "held_by")
    return {k: a[k] for k in keys}


def _pause_out(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "id": p["id"],
        "started_at": iso_time(p["started_at"]),
        "until": iso_time(p["until"]),
        "comment": p["comment"],
        "include_emergencies": p["include_emergencies"],
        "silence_id": p["silence_id"],
        "silence_error": p["silence_error"],
    }


@bp.get("/api/monitoring/alerts")
@contract(summary="Active and recent alerts, firing counts by severity, pause state", auth=Auth.READ,
          query=m.AlertsQuery, replies={200: m.AlertList}, errors=(503,))
def list_alerts(query: m.AlertsQuery) -> Any:
    b = bridge()
    now = b.clock()
    conn = b.db.connection()
    rows = alerts.listing(conn, severity=query.severity, status=query.status,
                          since=now - query.hours * 3600, limit=query.limit)
    watchdog = jobs.get_state(conn, WATCHDOG_STATE)
    firing = alerts.listing(conn, severity=None, status="firing", since=0, limit=1000)
    paused = pauses.to_dict(pauses.active(conn, now))
    held, held_error = pause.held_view(b.config, paused)
    active = board([_alert_out(r) for r in firing] + held)
    beat = heartbeat(float(watchdog) if watchdog else None, now, b.config.bridge.watchdog_timeout, b.started)
    return m.AlertList(
        alerts=[_alert_out(r) for r in rows],
        active=active.alerts,
        counts={s: active.counts.get(s, 0) for s in SEVERITIES},
        banner=active.banner,
        unacknowledged=active.unacknowledged,
        paused=_pause_out(paused),
        held=[held_out(a) for a in active.held],
        held_error=held_error,
        watchdog_last_seen=iso_time(float(watchdog)) if watchdog else None,
        heartbeat=m.Heartbeat(last_seen=iso_time(beat.last_seen), healthy=beat.healthy, detail=beat.detail),
        generated_at=iso_time(now),
    ).model_dump(mode="json")


@bp.post("/api/monitoring/alerts/<int:alert_id>/ack")
@contract(summary="Acknowledge an alert (stops emergency repeats)", auth=Auth.WRITE, path=m.AlertPath,
          body=m.AckRequest, replies={200: m.AckResult}, errors=(404, 409, 503))
def ack(alert_id: int, body: m.AckRequest) -> Any:
    b = bridge()
    with b.db.transaction() as conn:
        row = alerts.get(conn, alert_id)
        if row is not None and row["alertname"] == WATCHDOG_ALERT:
            raise ApiError(409, "the Watchdog heartbeat cannot be acknowledged",
                           "it always fires while the pipeline works; /health and the dashboard show it")
        if not alerts.ack(conn, alert_id, b.clock(), actor(), body.comment):
            raise ApiError(404, "no such alert", {"id": alert_id})
        row = alerts.get(conn, alert_id)
    return m.AckResult(acknowledged=True, alert=_alert_out(row)).model_dump(mode="json")


@bp.post("/api/monitoring/stop")
@contract(summary="Pause notifications (bridge mute + Alertmanager silence when configured)",
          auth=Auth.WRITE, body=m.StopRequest, replies={200: m.StopResult}, errors=(503,))
def stop(body: m.StopRequest) -> Any:
    b = bridge()
    p = pause.start(
        b.config,
        b.db,
        now=b.clock(),
        seconds=parse_duration(body.duration),
        comment=body.comment,
        include_emergencies=body.include_emergencies,
        created_by=actor(),
    )
    return m.StopResult(paused=_pause_out(p)).model_dump(mode="json")


@bp.post("/api/monitoring/start")
@contract(summary="Resume notifications; held critical alerts go out in one summary email",
          auth=Auth.WRITE, replies={200: m.StartResult}, errors=(503,))
def start() -> Any:
    b = bridge()
    result = pause.finish(b.config, b.db, now=b.clock(), expired_only=False)
    if result.notification_id is not None and b.sender is not None:
        b.sender.wake()
    return m.StartResult(
        resumed=bool(result.ended),
        held_alerts=result.held,
        summary_notification=result.notification_id,
        silence_errors=result.silence_errors,
    ).model_dump(mode="json")


@bp.get("/api/monitoring/metrics")
@contract(summary="Current host metrics from Prometheus, falling back to scraping the exporter",
          auth=Auth.READ, replies={200: m.HostMetrics}, errors=(503,))
def current_metrics() -> Any:
    b = bridge()
    cfg = b.config.bridge
    try:
        current = host_metrics.current(cfg.prometheus_url, cfg.exporter_url, scrapes=b.scrapes)
    except LookupError as exc:
        raise ApiError(503, "no metrics source reachable", exc.args[0]) from None
    return m.HostMetrics(**current).model_dump(mode="json")


@bp.post("/api/monitoring/send-test-email")
@contract(summary="Queue a test email and deliver it now; answers with the delivery result",
          auth=Auth.WRITE, body=m.TestEmailRequest, replies={200: m.TestEmailResult}, errors=(502, 503),
          description="502: not delivered; the detail is the delivery result with the SMTP error.")
def send_test_email(body: m.TestEmailRequest) -> Any:
    b = bridge()
    note = body.note
    if b.sender is None:
        raise ApiError(503, "email sender not available", "alert_bridge.notify is not installed")
    now = b.clock()
    with b.db.transaction() as conn:
        nid = outbox.enqueue(
            conn, "test", b.config.email.to, {"requested_at": iso_time(now), "note": note}, now=now
        )
    result = b.sender.deliver_now(nid)
    out = m.TestEmailResult(
        id=nid, status=result.status, error=result.error, message_id=result.message_id,
        recipients=b.config.email.to,
    ).model_dump(mode="json")
    if result.status != "sent":
        raise ApiError(502, "test email not delivered", out)
    return out


def _linked_alert(token: str) -> tuple[int, Any]:
    b = bridge()
    alert_id = read_ack_token(b.key, token)
    if alert_id is None:
        raise ApiError(404, "unknown or invalid acknowledge link", None)
    row = alerts.get(b.db.connection(), alert_id)
    if row is None:
        raise ApiError(404, "no such alert", {"id": alert_id})
    return alert_id, row


def _ack_page(row: Any, *, done: bool) -> Any:
    """The acknowledge page: what the alert is and when, in words, styled like the dashboard."""
    r, now = dict(row), bridge().clock()
    alert = alert_dict(row)
    annotations = alert["annotations"]
    host = host_of(alert)
    return html_page(
        "dashboard/ack.html", alert=alert, done=done, subject=distinguishing_label(alert),
        host=host, address=alert["instance"] if alert["instance"] != host else "",
        summary=annotations.get("summary") or annotations.get("description") or "",
        started=human_time(r["starts_at_epoch"], now),
        resolved=human_time(r["resolved_at"], now) if r["resolved_at"] is not None else "",
        acked_at=human_time(r["acked_at"], now) if r["acked_at"] is not None else "",
    )


@bp.get("/ack/<token>")
@contract(summary="One-click acknowledge link from an email: a confirmation page", auth=Auth.LINK,
          path=m.LinkPath, replies={200: HTML}, errors=(404, 503),
          description="GET only shows the page (mail scanners follow links); its button POSTs. "
                      "The page says what the alert is, when it started and whether it is acknowledged.")
def ack_link(token: str) -> Any:
    _, row = _linked_alert(token)
    return _ack_page(row, done=False)


@bp.post("/ack/<token>")
@contract(summary="Acknowledge through the signed link", auth=Auth.LINK, path=m.LinkPath,
          replies={200: HTML}, errors=(404, 503),
          description="Answers the page again, saying when the alert was acknowledged.")
def ack_link_confirm(token: str) -> Any:
    alert_id, _ = _linked_alert(token)
    b = bridge()
    with b.db.transaction() as tx:
        alerts.ack(tx, alert_id, b.clock(), "email-link", "")
        row = alerts.get(tx, alert_id)
    return _ack_page(row, done=True)
