"""`GET /health` (readiness with detail) and `GET /metrics` (Prometheus exposition)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from alert_bridge.alerts.alertmanager import AlertmanagerClient
from alert_bridge.jobs.workers import LEASE_NAME, SENDER_HEARTBEAT, sender_stale_after
from alert_bridge.sources.prometheus import PrometheusAPI
from alert_bridge.store import jobs
from alert_bridge.store.database import MIN_FREE_BYTES
from alert_bridge.web.contract import TEXT, Auth, contract
from alert_bridge.web.models import Health
from alert_bridge.web.runtime import bridge

bp = Blueprint("status", __name__)


def _database() -> dict[str, Any]:
    """Writable, and room for a webhook: a tiny probe row can fit where a webhook cannot."""
    b = bridge()
    try:
        with b.db.transaction() as conn:
            jobs.set_state(conn, "health_probe", repr(b.clock()))
    except Exception as exc:
        why = " (its filesystem is mounted read-only)" if b.db.on_read_only_filesystem() else ""
        return {"ok": False, "detail": f"not writable: {exc}{why}"}
    free = b.db.free_bytes()
    if free is not None and free < MIN_FREE_BYTES:
        return {"ok": False, "detail": f"disk nearly full: {free} bytes free where the database lives "
                                       f"(under {MIN_FREE_BYTES}): webhooks may get 503"}
    return {"ok": True, "detail": "writable"}


def _workers() -> tuple[dict[str, Any], dict[str, Any]]:
    b = bridge()
    now = b.clock()
    try:
        conn = b.db.connection()
        holder = jobs.lease_holder(conn, LEASE_NAME, now)
        beat = jobs.get_state(conn, SENDER_HEARTBEAT)
    except Exception as exc:
        err = {"ok": False, "detail": f"store not readable: {exc}"}
        return err, err
    workers = (
        {"ok": True, "detail": f"background jobs run by {holder}"}
        if holder
        else {"ok": False, "detail": "no process holds the worker lease: background jobs are not running"}
    )
    if beat is None:
        sender = {"ok": False, "detail": "the outbox sender loop has never reported"}
    else:
        age = now - float(beat)
        ok = age <= sender_stale_after(b.config)
        sender = {"ok": ok, "detail": f"sender loop last reported {age:.0f}s ago"}
    return workers, sender


@bp.get("/health")
@contract(summary="Readiness with detail: database writable, workers and sender alive, "
          "Prometheus and Alertmanager reachable when configured; `external_url` carries a warning "
          "(never a failure) while links in emails would point to this machine's loopback",
          auth=Auth.OPEN,
          replies={200: Health, 503: Health})
def health() -> Any:
    b = bridge()
    cfg = b.config.bridge
    checks: dict[str, Any] = {"database": _database()}
    checks["workers"], checks["sender"] = _workers()
    if cfg.prometheus_url:
        ok = PrometheusAPI(cfg.prometheus_url, timeout=2).ready()
        checks["prometheus"] = {"ok": ok, "detail": cfg.prometheus_url + (" ready" if ok else " unreachable")}
    if cfg.alertmanager_url:
        ok = AlertmanagerClient(cfg.alertmanager_url, timeout=2).ready()
        checks["alertmanager"] = {
            "ok": ok,
            "detail": cfg.alertmanager_url + (" ready" if ok else " unreachable"),
        }
    healthy = all(c["ok"] for c in checks.values())
    external = b.extra.get("external_url")
    if external is not None:  # a warning, never a readiness failure
        checks["external_url"] = {"ok": True, "detail": external.url,
                                  **({"warning": external.problem} if external.problem else {})}
    out = Health.model_validate({"status": "ok" if healthy else "unhealthy", "checks": checks})
    return out.model_dump(exclude_none=True), 200 if healthy else 503


@bp.get("/metrics")
@contract(summary="Prometheus metrics of the bridge (text exposition format)", auth=Auth.OPEN,
          replies={200: TEXT})
def metrics() -> Response:
    return Response(generate_latest(bridge().metrics.registry), mimetype=CONTENT_TYPE_LATEST)
