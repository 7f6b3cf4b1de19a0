"""The bridge's app factory: `create_app(config)` builds the Flask app (tutorial style).

Every blueprint is registered here, and nowhere else; the background jobs come from
alert_bridge.jobs.schedule.build_jobs, shared with the worker process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask

from alert_bridge.alerts import webhook
from alert_bridge.jobs.schedule import build_jobs
from alert_bridge.jobs.workers import Workers
from alert_bridge.notify.sender import OutboxSender
from alert_bridge.store.database import Database
from alert_bridge.web import api, auth, channels, errors, openapi, reports, status
from alert_bridge.web.dashboard import history, silences
from alert_bridge.web.dashboard import views as dashboard_views
from alert_bridge.web.json_provider import StrictJSONProvider
from alert_bridge.web.metrics import BridgeMetrics
from alert_bridge.web.proxy import TrustedProxies, strict_transport
from alert_bridge.web.runtime import Bridge
from alert_bridge.web.signing import secret_key
from tradewatch.config import Config


def create_app(
    config: Config,
    *,
    start_workers: bool = False,
    db: Database | None = None,
    sender: Any = None,
    clock: Callable[[], float] = time.time,
) -> Flask:
    """Build the bridge. Background workers run only when `start_workers` (the CLI does that)."""
    from tradewatch import external_url as ext

    external = ext.resolve(config.bridge.external_url, config.bridge.listen)
    config = config.model_copy(
        update={"bridge": config.bridge.model_copy(update={"external_url": external.url})})
    app = Flask("alert_bridge")
    app.json = StrictJSONProvider(app)
    db = db or Database.for_config(config)
    db.migrate()
    key = secret_key(db)
    if sender is None:
        sender = OutboxSender(config, db, clock=clock)
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
        clock=clock, sender=sender, started=clock(),
    )
    state.extra["external_url"] = external
    app.extensions["tradewatch"] = state

    errors.register(app)
    app.wsgi_app = TrustedProxies(app.wsgi_app, config.security.trusted_proxies)  # type: ignore[method-assign]
    app.after_request(strict_transport)
    for blueprint in (auth.bp, webhook.bp, api.bp, status.bp, openapi.bp, reports.bp, dashboard_views.bp,
                      silences.bp, history.bp, channels.bp):
        app.register_blueprint(blueprint)

    if start_workers:
        state.workers = Workers(config, db, build_jobs(config), sender=sender, clock=clock)
        state.workers.start()
    return app
