"""`POST /api/monitoring/webhook`: Alertmanager's webhook, answered 2xx only after commit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.exceptions import RequestEntityTooLarge

from alert_bridge.alerts.ingest import ingest
from alert_bridge.alerts.payload import PayloadError, WebhookPayload, parse_webhook
from alert_bridge.store.database import StoreUnavailable
from alert_bridge.web.auth import check_bearer_or_loopback
from alert_bridge.web.contract import Auth, contract
from alert_bridge.web.errors import ApiError
from alert_bridge.web.models import WebhookResult
from alert_bridge.web.runtime import bridge

bp = Blueprint("webhook", __name__)


@bp.post("/api/monitoring/webhook")
@contract(
    summary="Alertmanager webhook (version 4); 2xx only after every alert is committed",
    auth=Auth.WEBHOOK, body=WebhookPayload, body_required=True, replies={200: WebhookResult}, errors=(503,),
    guarded=False, parsed=False,  # counted per outcome below; errors name the field (alerts[2].startsAt)
    description="Unknown fields are accepted and ignored (Alertmanager may grow). 503 with Retry-After "
    "while the store is busy or full: Alertmanager retries.",
)
def receive() -> Any:
    b = bridge()
    count = b.metrics.webhooks
    try:
        check_bearer_or_loopback()
    except ApiError:
        count.labels("unauthorized").inc()
        raise
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        count.labels("too_large").inc()
        raise
    try:
        payload = parse_webhook(body)
    except PayloadError as exc:
        count.labels("invalid").inc()
        raise ApiError(
            400, "invalid webhook payload", {"message": str(exc), "problems": exc.problems}
        ) from None
    try:
        result = ingest(b.db, b.config, payload, body, now=b.clock(), key=b.key)
    except StoreUnavailable:
        count.labels("unavailable").inc()
        raise
    count.labels("accepted" if result.new or not result.received else "duplicate").inc()
    for severity, status in result.counted:
        b.metrics.alerts.labels(severity, status).inc()
    if result.notifications and b.sender is not None:
        b.sender.wake()
    return WebhookResult(
        status="accepted",
        alerts=result.received,
        new=result.new,
        duplicates=result.duplicates,
        notifications=result.notifications,
    ).model_dump(mode="json")
