"""The control and status API (DESIGN.md section 7) under /api/monitoring, and one-click ack links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template_string, request

from alert_bridge.alerts import pause
from alert_bridge.alerts.board import board, heartbeat
from alert_bridge.alerts.escalation import SEVERITIES
from alert_bridge.alerts.ingest import WATCHDOG, WATCHDOG_STATE
from alert_bridge.notify.context import alert_dict, iso_time
from alert_bridge.sources import host_metrics
from alert_bridge.store import alerts, jobs, outbox, pauses
from alert_bridge.web.auth import actor, require_read, require_write
from alert_bridge.web.errors import ApiError
from alert_bridge.web.runtime import bridge
from alert_bridge.web.signing import read_ack_token
from tradewatch.duration import parse_duration

bp = Blueprint("api", __name__)

MAX_PAUSE_SECONDS = 30 * 86400
MAX_COMMENT = 1000


def _json_body() -> dict[str, Any]:
    """The request's JSON object; an empty body is {}; anything else is a 400."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    data = request.get_json(silent=True, force=True)
    if not isinstance(data, dict):
        raise ApiError(400, "body must be a JSON object", None)
    return data


def _str_field(data: dict[str, Any], name: str, default: str = "", limit: int = MAX_COMMENT) -> str:
    value = data.get(name, default)
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string", {"field": name})
    if len(value) > limit:
        raise ApiError(400, f"{name} is too long", {"field": name, "max_length": limit})
    return value


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
@require_read
def list_alerts() -> Any:
    b = bridge()
    severity = request.args.get("severity") or None
    status = request.args.get("status") or None
    if severity is not None and severity not in SEVERITIES:
        raise ApiError(400, "unknown severity", {"field": "severity", "allowed": list(SEVERITIES)})
    if status is not None and status not in ("firing", "resolved"):
        raise ApiError(400, "unknown status", {"field": "status", "allowed": ["firing", "resolved"]})
    try:
        hours = float(request.args.get("hours", 24))
        limit = int(request.args.get("limit", 200))
    except ValueError:
        raise ApiError(400, "hours and limit must be numbers", None) from None
    if not (0 < hours <= 24 * 365) or not (1 <= limit <= 1000):
        raise ApiError(400, "out of range", {"hours": "0 < hours <= 8760", "limit": "1..1000"})
    now = b.clock()
    conn = b.db.connection()
    rows = alerts.listing(conn, severity=severity, status=status, since=now - hours * 3600, limit=limit)
    watchdog = jobs.get_state(conn, WATCHDOG_STATE)
    firing = alerts.listing(conn, severity=None, status="firing", since=0, limit=1000)
    active = board([_alert_out(r) for r in firing])
    beat = heartbeat(float(watchdog) if watchdog else None, now, b.config.bridge.watchdog_timeout)
    return jsonify(
        {
            "alerts": [_alert_out(r) for r in rows],
            "active": active.alerts,
            "counts": {s: active.counts.get(s, 0) for s in SEVERITIES},
            "banner": active.banner,
            "unacknowledged": active.unacknowledged,
            "paused": _pause_out(pauses.to_dict(pauses.active(conn, now))),
            "watchdog_last_seen": iso_time(float(watchdog)) if watchdog else None,
            "heartbeat": {"last_seen": iso_time(beat.last_seen), "healthy": beat.healthy,
                          "detail": beat.detail},
            "generated_at": iso_time(now),
        }
    )


@bp.post("/api/monitoring/alerts/<int:alert_id>/ack")
@require_write
def ack(alert_id: int) -> Any:
    b = bridge()
    comment = _str_field(_json_body(), "comment")
    with b.db.transaction() as conn:
        row = alerts.get(conn, alert_id)
        if row is not None and row["alertname"] == WATCHDOG:
            raise ApiError(409, "the Watchdog heartbeat cannot be acknowledged",
                           "it always fires while the pipeline works; /health and the dashboard show it")
        if not alerts.ack(conn, alert_id, b.clock(), actor(), comment):
            raise ApiError(404, "no such alert", {"id": alert_id})
        row = alerts.get(conn, alert_id)
    return jsonify({"acknowledged": True, "alert": _alert_out(row)})


@bp.post("/api/monitoring/stop")
@require_write
def stop() -> Any:
    b = bridge()
    data = _json_body()
    duration = data.get("duration", "1h")
    if not isinstance(duration, str | int | float) or isinstance(duration, bool):
        raise ApiError(400, "duration must be a string such as 2h or 30m", {"field": "duration"})
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise ApiError(400, "invalid duration", {"field": "duration", "problem": str(exc)}) from None
    if not (0 < seconds <= MAX_PAUSE_SECONDS):
        raise ApiError(
            400, "duration out of range", {"field": "duration", "allowed": "more than 0s, at most 30d"}
        )
    include = data.get("include_emergencies", False)
    if not isinstance(include, bool):
        raise ApiError(400, "include_emergencies must be true or false", {"field": "include_emergencies"})
    comment = _str_field(data, "comment")
    p = pause.start(
        b.config,
        b.db,
        now=b.clock(),
        seconds=seconds,
        comment=comment,
        include_emergencies=include,
        created_by=actor(),
    )
    return jsonify({"paused": _pause_out(p)})


@bp.post("/api/monitoring/start")
@require_write
def start() -> Any:
    b = bridge()
    result = pause.finish(b.config, b.db, now=b.clock(), expired_only=False)
    if result.notification_id is not None and b.sender is not None:
        b.sender.wake()
    return jsonify(
        {
            "resumed": bool(result.ended),
            "held_alerts": result.held,
            "summary_notification": result.notification_id,
            "silence_errors": result.silence_errors,
        }
    )


@bp.get("/api/monitoring/metrics")
@require_read
def current_metrics() -> Any:
    cfg = bridge().config.bridge
    try:
        return jsonify(host_metrics.current(cfg.prometheus_url, cfg.exporter_url))
    except LookupError as exc:
        raise ApiError(503, "no metrics source reachable", exc.args[0]) from None


@bp.post("/api/monitoring/send-test-email")
@require_write
def send_test_email() -> Any:
    b = bridge()
    note = _str_field(_json_body(), "note", "Test email from TradeWatch")
    if b.sender is None:
        raise ApiError(503, "email sender not available", "alert_bridge.notify is not installed")
    now = b.clock()
    with b.db.transaction() as conn:
        nid = outbox.enqueue(
            conn, "test", b.config.email.to, {"requested_at": iso_time(now), "note": note}, now=now
        )
    result = b.sender.deliver_now(nid)
    body = {
        "id": nid,
        "status": result.status,
        "error": result.error,
        "message_id": result.message_id,
        "recipients": b.config.email.to,
    }
    if result.status != "sent":
        raise ApiError(502, "test email not delivered", body)
    return jsonify(body)


_ACK_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Acknowledge alert</title></head><body style="font-family:sans-serif;max-width:40em;margin:2em auto">
{% if done %}<h1>Acknowledged</h1><p>{{ alert.alertname }} on {{ alert.instance }} is acknowledged;
emergency repeats stop.</p>
{% else %}<h1>Acknowledge {{ alert.alertname }}?</h1>
<p>{{ alert.severity }} on {{ alert.instance }}, {{ alert.status }} since {{ alert.starts_at }}.</p>
<form method="post"><button type="submit">Acknowledge</button></form>{% endif %}
</body></html>"""


@bp.route("/ack/<token>", methods=["GET", "POST"])
def ack_link(token: str) -> Any:
    """One-click acknowledge from an email: the signed token is the credential. GET only shows a
    confirmation page (mail scanners follow links); the button POSTs."""
    b = bridge()
    alert_id = read_ack_token(b.key, token)
    if alert_id is None:
        raise ApiError(404, "unknown or invalid acknowledge link", None)
    conn = b.db.connection()
    row = alerts.get(conn, alert_id)
    if row is None:
        raise ApiError(404, "no such alert", {"id": alert_id})
    done = False
    if request.method == "POST":
        with b.db.transaction() as tx:
            alerts.ack(tx, alert_id, b.clock(), "email-link", "")
        done = True
    return render_template_string(_ACK_PAGE, alert=alert_dict(row), done=done)
