"""The live dashboard: `GET /` (server-rendered first paint; static JS refreshes it) and the two
read endpoints it needs besides the core API: sparklines and recent notifications.

Reading follows auth.check_read (loopback, a session, the token, or `bridge.read_open`);
every action goes through the core API with the session's X-CSRF-Token. The page carries a
strict Content-Security-Policy: no inline script or style, config travels in data- attributes.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from alert_bridge.alerts import pause
from alert_bridge.alerts.board import board, heartbeat
from alert_bridge.alerts.ingest import WATCHDOG_STATE
from alert_bridge.notify.context import alert_dict, iso_time
from alert_bridge.notify.view import subject_for
from alert_bridge.sources import trading
from alert_bridge.store import alerts, jobs, outbox, pauses
from alert_bridge.web import models as m
from alert_bridge.web.auth import check_read, csrf_token, is_loopback, session_active
from alert_bridge.web.channels import channel_list
from alert_bridge.web.contract import HTML, Auth, contract
from alert_bridge.web.errors import ApiError
from alert_bridge.web.pages import secure_page
from alert_bridge.web.runtime import bridge
from tradewatch.duration import parse_duration
from tradewatch.vocabulary import SEVERITY_ORDER, URGENT_SEVERITIES, severity_rank

from . import silences, sparklines
from .levels import level_of, page_levels

bp = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/dashboard/static",
)

NOTIFICATION_LIMIT = 20
DEFAULT_WINDOW = 3600.0


def _window(text: str | None) -> float:
    return DEFAULT_WINDOW if text is None else float(parse_duration(text))


def notification_out(row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row for people: no context body, no raw message, recipients counted."""
    ctx = row.get("context") or {}
    subject = subject_for(str(row["kind"]), ctx if isinstance(ctx, dict) else {})
    if row.get("channel") and row["kind"] == "test":
        subject = "[TEST] TradeWatch channel test"
    return {
        "id": row["id"],
        "kind": row["kind"],
        "channel": row.get("channel"),
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
        d["held"] = dict(r)["held_at"] is not None
        out.append(d)
    out.sort(key=lambda a: severity_rank(a["severity"]))
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


def _health(firing: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The stored score (refreshed every few minutes), capped by what fires now, held alerts too."""
    try:
        from alert_bridge.reports import health_score as hs
        from alert_bridge.reports import send
    except ImportError:
        return None
    state = send.load_health_state(bridge().db)
    score = state.get("score") if state else None
    if not score:
        return None
    loads = [hs.AlertLoad(a["alertname"], a["severity"], 0.0, a.get("instance") or None, ongoing=True,
                          held=bool(a.get("held_by"))) for a in firing]
    return hs.capped_now(score, loads)


@bp.after_request
def _headers(resp: Response) -> Response:
    if request.endpoint == "dashboard.page":
        secure_page(resp)
    return resp


@bp.get("/")
@contract(summary="The live dashboard", auth=Auth.READ, query=m.WindowQuery, guarded=False,
          replies={200: HTML, 401: HTML}, errors=(503,),
          description="401 answers the login page (HTML) when reading needs a login.")
def page(query: m.WindowQuery) -> Any:
    b = bridge()
    auth = _auth_state()
    try:
        check_read()
    except ApiError as exc:
        if exc.status != 401:
            raise
        return render_template("dashboard/login.html", auth=auth), 401
    window = _window(query.window)
    now = b.clock()
    conn = b.db.connection()
    paused = pauses.to_dict(pauses.active(conn, now))
    held, held_error = pause.held_view(b.config, paused)
    active = board(_firing(conn) + held)
    watchdog = jobs.get_state(conn, WATCHDOG_STATE)
    beat = heartbeat(float(watchdog) if watchdog else None, now, b.config.bridge.watchdog_timeout, b.started)
    try:
        metrics = sparklines.collect(b.config.bridge.prometheus_url, b.config.bridge.exporter_url,
                                     window=window, timeout=2.0, scrapes=b.scrapes)
        metrics_error = None
    except LookupError as exc:
        metrics, metrics_error = {"hosts": {}, "source": None}, exc.args[0]
    bots, bots_error = _trading(window, now, timeout=2.0, firing=active.alerts)
    try:
        silence_list, silences_error = [], None
        if b.config.bridge.alertmanager_url:
            silence_list = silences.listing()
        else:
            silences_error = "No Alertmanager configured (bridge.alertmanager_url)."
    except ApiError as exc:
        silence_list, silences_error = [], f"Cannot list silences: {exc.error}: {exc.detail}"
    return render_template(
        "dashboard/page.html",
        silences=silence_list,
        silences_error=silences_error,
        auth=auth,
        refresh_seconds=b.config.dashboard.refresh_seconds,
        window=window,
        alerts=active.alerts,
        counts={s: active.counts.get(s, 0) for s in SEVERITY_ORDER},
        banner=active.banner,
        urgent=active.unacknowledged > 0,
        heartbeat=beat,
        paused=paused,
        held=active.held,
        held_error=held_error,
        notifications=[notification_out(r) for r in outbox.recent(conn, NOTIFICATION_LIMIT)],
        channels=channel_list(b.config, conn),
        health=_health(active.alerts + active.held),
        metrics=metrics,
        metrics_error=metrics_error,
        trading=bots,
        trading_error=bots_error,
        levels=page_levels(b.config.thresholds),
        level_of=level_of,
        generated_at=iso_time(now),
        iso_time=iso_time,
        severity_order=SEVERITY_ORDER,
        urgent_severities=URGENT_SEVERITIES,
        external_url_problem=getattr(b.extra.get("external_url"), "problem", ""),
    )


@bp.get("/api/monitoring/sparklines")
@contract(summary="Per-host CPU, memory, filesystem and network series for sparklines", auth=Auth.READ,
          query=m.WindowQuery, replies={200: m.Sparklines}, errors=(503,),
          description="Prometheus range queries, 120 points per series; one current point from the "
          "exporter when Prometheus is unavailable. 503: neither answered.")
def sparkline_data(query: m.WindowQuery) -> Any:
    b = bridge()
    cfg = b.config.bridge
    try:
        data = sparklines.collect(cfg.prometheus_url, cfg.exporter_url, window=_window(query.window),
                                  now=b.clock(), scrapes=b.scrapes)
    except LookupError as exc:
        raise ApiError(503, "no metrics source reachable", exc.args[0]) from None
    data["generated_at"] = iso_time(data["generated_at"])
    return m.Sparklines.model_validate(data).model_dump(mode="json")


def _trading(window: float, now: float, *, timeout: float, firing: list[dict[str, Any]] | None = None
             ) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The trading cards (and None), or an empty section and the errors per source."""
    b = bridge()
    cfg = b.config
    seen = _bots_seen(b.db.connection())
    try:
        data = trading.collect(cfg.bridge.prometheus_url, cfg.bridge.metrics_targets(), cfg.thresholds,
                               timezone=cfg.report.timezone, window=window, now=now, timeout=timeout,
                               scrapes=b.scrapes, seen=seen)
    except LookupError as exc:
        # no source answered: the bots the bridge knows are not "not found", they are unreachable
        bots = trading.absent_cards([], seen, {}, set())
        return {"bots": bots, "source": None, "generated_at": now}, exc.args[0]
    remembered = trading.remember(seen, data["bots"], now)
    if _memory_changed(seen, remembered):
        with b.db.transaction() as conn:
            jobs.set_state(conn, BOTS_SEEN_STATE, json.dumps(remembered))
    if firing is None:
        firing = board(_firing(b.db.connection())).alerts
    trading.attach_alerts(data["bots"], firing)
    return data, None


BOTS_SEEN_STATE = "trading_bots_seen"
BOTS_SEEN_RESOLUTION = 60.0  # last_seen is written at most this often per bot (a write per refresh is waste)


def _bots_seen(conn: Any) -> dict[str, dict[str, Any]]:
    """The bots the bridge has seen (trading.remember), so a frozen one is "down", not "not found"."""
    try:
        seen = json.loads(jobs.get_state(conn, BOTS_SEEN_STATE) or "{}")
    except ValueError:
        return {}
    return seen if isinstance(seen, dict) else {}


def _memory_changed(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> bool:
    if old.keys() != new.keys():
        return True
    return any(float(new[k]["last_seen"]) - float(old[k].get("last_seen", 0)) >= BOTS_SEEN_RESOLUTION
               for k in new)


@bp.get("/api/monitoring/trading")
@contract(summary="Per-bot trading figures for the dashboard's trading cards", auth=Auth.READ,
          query=m.WindowQuery, replies={200: m.TradingBots}, errors=(503,),
          description="One entry per bot (a scrape target exporting trading_*, per `bot` label): "
          "realized P&L (today and since start) and equity with sparkline points, open positions, "
          "orders per minute by status, rejection ratio, exchange-API p95 and error ratio (per "
          "exchange when labelled), heartbeat and last-trade age, with the level of the configured "
          "threshold each value is above, and the bot's active alerts. A bot seen before that exports "
          "nothing now is listed with status down, down_since (when last seen) and down_reason. "
          "From Prometheus (recording "
          "rules, else the PromQL they record); from the exporter's and bridge.bot_urls' /metrics "
          "when Prometheus is not configured or down. 503: no source answered.")
def trading_data(query: m.WindowQuery) -> Any:
    b = bridge()
    now = b.clock()
    data, errors = _trading(_window(query.window), now, timeout=3.0)
    if errors is not None:
        raise ApiError(503, "no metrics source reachable", errors)
    data["generated_at_epoch"] = data["generated_at"]
    data["generated_at"] = iso_time(data["generated_at"])
    return m.TradingBots.model_validate(data).model_dump(mode="json")


@bp.get("/api/monitoring/notifications")
@contract(summary="Recent outbox rows (kind, status, attempts, last error; no message bodies) and stats",
          auth=Auth.READ, query=m.NotificationsQuery, replies={200: m.NotificationList}, errors=(503,))
def notifications(query: m.NotificationsQuery) -> Any:
    b = bridge()
    conn = b.db.connection()
    return m.NotificationList(
        notifications=[notification_out(r) for r in outbox.recent(conn, query.limit)],
        stats=_stats(outbox.stats(conn, b.clock())),
    ).model_dump(mode="json")


def _stats(s: dict[str, Any]) -> dict[str, Any]:
    return {k: (iso_time(v) if k.endswith("_at") and isinstance(v, int | float) else v) for k, v in s.items()}
