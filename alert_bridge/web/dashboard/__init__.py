"""The bridge's live dashboard (`GET /`): server-rendered page, static JS refresh, two read APIs."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Register the blueprint (called by create_app); its routes document themselves (web.contract)."""
    from .views import bp

    app.register_blueprint(bp)
