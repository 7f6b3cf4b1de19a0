"""The live dashboard: `GET /` (server-rendered first paint; static JS refreshes it) and the two
read endpoints it needs besides the core API: sparklines and recent notifications.

Reading follows auth.check_read (loopback, a session, the token, or `bridge.read_open`);
every action goes through the core API with the session's X-CSRF-Token. The page carries a
strict Content-Security-Policy: no inline script or style, config travels in data- attributes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from alert_bridge.alerts.board import board, heartbeat
from alert_bridge.alerts.escalation import SEVERITIES
from alert_bridge.alerts.ingest import WATCHDOG_STATE
from alert_bridge.notify.context import alert_dict, iso_time
from alert_bridge.notify.view import subject_for
from alert_bridge.store import alerts, jobs, outbox, pauses
from alert_bridge.web.auth import check_read, csrf_token, is_loopback, require_read, session_active
from alert_bridge.web.errors import ApiError
from alert_bridge.web.runtime import bridge
from tradewatch.duration import parse_duration

from . import sparklines

bp = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/dashboard/static",
)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SEVERITY_ORDER = ("emergency", "critical", "warning", "info")
NOTIFICATION_LIMIT = 20
DEFAULT_WINDOW = 3600.0


def _window() -> float:
    raw = request.args.get("window")
    if not raw:
        return DEFAULT_WINDOW
    try:
        seconds = parse_duration(raw)
    except ValueError as exc:
        raise ApiError(400, "window must be a duration such as 1h or 15m", str(exc)) from None
    if not 60 <= seconds <= 86400:
        raise ApiError(400, "window must be between 1m and 24h", {"window": raw[:40]})
    return float(seconds)


def notification_out(row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row for people: no context body, no raw message, recipients counted."""
    ctx = row.get("context") or {}
    subject = subject_for(str(row["kind"]), ctx if isinstance(ctx, dict) else {})
    return {
        "id": row["id"],
        "kind": row["kind"],
        "status": row["status"],
        "subject": subject,
        "recipients": len(row.get("recipients") or []),
        "attempts": row["attempts"],
        "last_error": row["last_error"],
        "created_at": iso_time(row["created_at"]),
        "sent_at": iso_time(row["sent_at"]),
    }


def _firing(conn: Any) -> list[dict[str, Any]]:
    rows = alerts.listing(conn, severity=None, status="firing", since=0, limit=200)
    out = []
    for r in rows:
        d = alert_dict(r)
        d["acked_at"] = iso_time(dict(r)["acked_at"])
        out.append(d)
    out.sort(key=lambda a: (SEVERITY_ORDER.index(a["severity"]) if a["severity"] in SEVERITY_ORDER else 9))
    return out


def _auth_state() -> dict[str, Any]:
    cfg = bridge().config.bridge
    logged_in = session_active()
    return {
        "logged_in": logged_in,
        "can_login": bool(cfg.api_token or cfg.dashboard_password),
        # no token configured: a same-site loopback browser may act without logging in
        "loopback_write": not cfg.api_token and is_loopback(request.remote_addr),
        "csrf": csrf_token() if logged_in else "",
    }


def _health() -> dict[str, Any] | None:
    try:
        from alert_bridge.reports import send
    except ImportError:
        return None
    state = send.load_health_state(bridge().db)
    return state.get("score") if state else None


@bp.after_request
def _headers(resp: Response) -> Response:
    if request.endpoint == "dashboard.page":
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/")
def page() -> Any:
    b = bridge()
    auth = _auth_state()
    try:
        check_read()
    except ApiError as exc:
        if exc.status != 401:
            raise
        return render_template("dashboard/login.html", auth=auth), 401
    window = _window()
    now = b.clock()
    conn = b.db.connection()
    active = board(_firing(conn))
    watchdog = jobs.get_state(conn, WATCHDOG_STATE)
    beat = heartbeat(float(watchdog) if watchdog else None, now, b.config.bridge.watchdog_timeout)
    try:
        metrics = sparklines.collect(b.config.bridge.prometheus_url, b.config.bridge.exporter_url,
                                     window=window, timeout=2.0)
        metrics_error = None
    except LookupError as exc:
        metrics, metrics_error = {"hosts": {}, "source": None}, exc.args[0]
    return render_template(
        "dashboard/page.html",
        auth=auth,
        refresh_seconds=b.config.dashboard.refresh_seconds,
        window=window,
        alerts=active.alerts,
        counts={s: active.counts.get(s, 0) for s in SEVERITY_ORDER},
        banner=active.banner,
        urgent=active.unacknowledged > 0,
        heartbeat=beat,
        paused=pauses.to_dict(pauses.active(conn, now)),
        notifications=[notification_out(r) for r in outbox.recent(conn, NOTIFICATION_LIMIT)],
        health=_health(),
        metrics=metrics,
        metrics_error=metrics_error,
        generated_at=iso_time(now),
        iso_time=iso_time,
        severities=SEVERITIES,
    )


@bp.get("/api/monitoring/sparklines")
@require_read
def sparkline_data() -> Any:
    b = bridge()
    cfg = b.config.bridge
    try:
        data = sparklines.collect(cfg.prometheus_url, cfg.exporter_url, window=_window(), now=b.clock())
    except LookupError as exc:
        raise ApiError(503, "no metrics source reachable", exc.args[0]) from None
    data["generated_at"] = iso_time(data["generated_at"])
    return jsonify(data)


@bp.get("/api/monitoring/notifications")
@require_read
def notifications() -> Any:
    try:
        limit = int(request.args.get("limit", NOTIFICATION_LIMIT))
    except ValueError:
        raise ApiError(400, "limit must be a number", {"field": "limit"}) from None
    if not 1 <= limit <= 200:
        raise ApiError(400, "limit out of range", {"field": "limit", "allowed": "1..200"})
    b = bridge()
    conn = b.db.connection()
    return jsonify(
        {
            "notifications": [notification_out(r) for r in outbox.recent(conn, limit)],
            "stats": _stats(outbox.stats(conn, b.clock())),
        }
    )


def _stats(s: dict[str, Any]) -> dict[str, Any]:
    return {k: (iso_time(v) if k.endswith("_at") and isinstance(v, int | float) else v) for k, v in s.items()}
