"""The bridge's live dashboard (`GET /`): server-rendered page, static JS refresh, its read APIs,
Alertmanager's silences and the alert history page."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Register the blueprint (called by create_app); its routes document themselves (web.contract)."""
    from . import history, silences
    from .views import bp

    app.register_blueprint(bp)
    app.register_blueprint(silences.bp)  # Alertmanager's silences: list and expire
    app.register_blueprint(history.bp)  # GET /history and its JSON
