"""The bridge's app factory: `create_app(config)` builds the Flask app (tutorial style)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask

from alert_bridge.store.database import Database
from alert_bridge.web import errors
from alert_bridge.web.json_provider import StrictJSONProvider
from alert_bridge.web.metrics import BridgeMetrics
from alert_bridge.web.proxy import TrustedProxies, strict_transport
from alert_bridge.web.runtime import Bridge
from alert_bridge.web.signing import secret_key
from tradewatch.config import Config

log = logging.getLogger("alert_bridge.web.app")


def make_sender(config: Config, db: Database, clock: Callable[[], float]) -> Any:
    """The email engineer's OutboxSender, or None while that part is not installed."""
    try:
        from alert_bridge.notify.sender import OutboxSender
    except ImportError as exc:
        log.warning("email sender unavailable (%s): notifications stay queued in the outbox", exc)
        return None
    return OutboxSender(config, db, clock=clock)


def create_app(
    config: Config,
    *,
    start_workers: bool = False,
    db: Database | None = None,
    sender: Any = None,
    clock: Callable[[], float] = time.time,
) -> Flask:
    """Build the bridge. Background workers run only when `start_workers` (the CLI does that)."""
    app = Flask("alert_bridge")
    app.json = StrictJSONProvider(app)
    db = db or Database(config.bridge.database, busy_timeout_ms=int(config.bridge.busy_timeout * 1000))
    db.migrate()
    key = secret_key(db)
    if sender is None:
        sender = make_sender(config, db, clock)
    app.secret_key = key
    app.config.update(
        MAX_CONTENT_LENGTH=config.bridge.max_body_bytes,
        SESSION_COOKIE_NAME="tradewatch_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=config.bridge.external_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=config.bridge.session_lifetime),
    )
    state = Bridge(
        config=config, db=db, metrics=BridgeMetrics(db, clock, [c.name for c in config.channels]), key=key,
        clock=clock, sender=sender,
    )
    app.extensions["tradewatch"] = state

    errors.register(app)
    app.wsgi_app = TrustedProxies(app.wsgi_app, config.security.trusted_proxies)  # type: ignore[method-assign]
    app.after_request(strict_transport)
    from alert_bridge.alerts import webhook
    from alert_bridge.web import api, auth, channels, openapi, status

    app.register_blueprint(auth.bp)
    app.register_blueprint(webhook.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(channels.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(openapi.bp)

    from alert_bridge.web import reports as reports_blueprint

    reports_blueprint.install(app)  # daily report, health score, its gauge and scheduler job

    from alert_bridge.web import dashboard

    dashboard.install(app)  # GET / (live dashboard), sparklines and recent notifications

    if start_workers:
        from alert_bridge.jobs.workers import Workers

        state.workers = Workers(config, db, sender=sender, clock=clock)
        state.workers.start()
    return app
