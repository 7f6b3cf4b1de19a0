"""The bridge's live dashboard (`GET /`): server-rendered page, static JS refresh, two read APIs.

The blueprint is `views.bp` (registered by alert_bridge.web.app.create_app with the others).
"""

from __future__ import annotations

from typing import Any


def _json(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


OPENAPI_PATHS: dict[str, Any] = {
    "/": {
        "get": {
            "summary": "The live dashboard (HTML); a login page (401) when reading needs a login",
            "parameters": [{"name": "window", "in": "query", "schema": {"type": "string", "example": "1h"}}],
            "responses": {
                "200": _html("Dashboard"),
                "401": _html("Login page"),
                "400": _error("Bad window"),
            },
        }
    },
    "/api/monitoring/sparklines": {
        "get": {
            "summary": "Per-host CPU, memory, filesystem and network series for sparklines "
            "(Prometheus range queries; one current point from the exporter when Prometheus is unavailable)",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "window", "in": "query", "schema": {"type": "string", "example": "1h"},
                 "description": "1m..24h, default 1h; 120 points per series"}
            ],
            "responses": {
                "200": _json("source (prometheus|exporter), window_seconds, step_seconds, hosts, errors"),
                "400": _error("Bad window"),
                "401": _error("Missing or wrong credentials"),
                "503": _error("Neither Prometheus nor the exporter answered"),
            },
        }
    },
    "/api/monitoring/notifications": {
        "get": {
            "summary": "Recent outbox rows (kind, status, attempts, last error; no message bodies) and stats",
            "security": [{"bearer": []}],
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                         "maximum": 200}}],
            "responses": {
                "200": _json("notifications (newest first) and outbox stats"),
                "400": _error("Bad limit"),
                "401": _error("Missing or wrong credentials"),
            },
        }
    },
}

