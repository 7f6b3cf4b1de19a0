"""`GET /api/openapi.json`: the bridge's API described as data (OpenAPI 3.0), kept by hand."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__)

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed request (the detail names the field)",
        401: "Missing or wrong credentials",
        403: "CSRF token missing or cross-site request",
        404: "Not found",
        413: "Body larger than bridge.max_body_bytes",
        429: "Too many failed logins from this address",
        502: "Upstream (SMTP) refused or failed",
        503: "Store or dependency unavailable; retry",
    }
    return {str(c): _json(_ERROR, text[c]) for c in codes}


_ALERT = {
    "type": "object",
    "required": [
        "id",
        "fingerprint",
        "alertname",
        "status",
        "severity",
        "labels",
        "annotations",
        "starts_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "fingerprint": {"type": "string"},
        "alertname": {"type": "string"},
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "severity": {"type": "string", "enum": ["info", "warning", "critical", "emergency"]},
        "severity_assumed": {"type": "boolean"},
        "category": {"type": "string"},
        "instance": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "starts_at": {"type": "string"},
        "ends_at": {"type": "string", "nullable": True},
        "generator_url": {"type": "string"},
        "first_seen": {"type": "string", "nullable": True},
        "last_seen": {"type": "string", "nullable": True},
        "resolved_at": {"type": "string", "nullable": True},
        "acked_at": {"type": "string", "nullable": True},
        "last_notified_at": {"type": "string", "nullable": True},
        "notify_count": {"type": "integer"},
        "held": {"type": "boolean"},
    },
}

_PAUSE = {
    "type": "object",
    "nullable": True,
    "properties": {
        "id": {"type": "integer"},
        "started_at": {"type": "string"},
        "until": {"type": "string"},
        "comment": {"type": "string"},
        "include_emergencies": {"type": "boolean"},
        "silence_id": {"type": "string", "nullable": True},
        "silence_error": {"type": "string", "nullable": True},
    },
}

_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_WEBHOOK_ALERT = {
    "type": "object",
    "required": ["status", "labels", "startsAt", "fingerprint"],
    "properties": {
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "labels": {**_STR_MAP, "required": ["alertname"]},
        "annotations": _STR_MAP,
        "startsAt": {"type": "string", "format": "date-time"},
        "endsAt": {"type": "string", "format": "date-time"},
        "generatorURL": {"type": "string"},
        "fingerprint": {"type": "string", "minLength": 1, "maxLength": 200},
    },
}
_WEBHOOK = {
    "type": "object",
    "required": ["version", "status", "receiver", "alerts"],
    "properties": {
        "version": {"type": "string", "enum": ["4"]},
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "receiver": {"type": "string"},
        "groupKey": {"type": "string"},
        "truncatedAlerts": {"type": "integer"},
        "groupLabels": _STR_MAP,
        "commonLabels": _STR_MAP,
        "commonAnnotations": _STR_MAP,
        "externalURL": {"type": "string"},
        "alerts": {"type": "array", "items": _WEBHOOK_ALERT},
    },
}
_CHECK = {"type": "object", "properties": {"ok": {"type": "boolean"}, "detail": {"type": "string"}}}
_HEALTH = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unhealthy"]},
        "checks": {"type": "object", "additionalProperties": _CHECK},
    },
}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}, {}]


def _body(schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "TradeWatch alert bridge",
        "version": "1",
        "description": "Alertmanager webhook ingest, escalation, email outbox and control API. Errors are "
        '{"error": str, "detail": any}. Mutating endpoints need `Authorization: Bearer <bridge.api_token>` '
        "(or a dashboard session with X-CSRF-Token); without a token only loopback clients are served.",
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "tradewatch_session"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "detail"],
                "properties": {"error": {"type": "string"}, "detail": {}},
            },
            "Alert": _ALERT,
            "Pause": _PAUSE,
            "Webhook": _WEBHOOK,
        },
    },
    "paths": {
        "/health": {
            "get": {
                "summary": "Readiness with detail: database writable, workers and sender alive, "
                "Prometheus and Alertmanager reachable when configured",
                "responses": {"200": _json(_HEALTH, "Healthy"), "503": _json(_HEALTH, "Something is wrong")},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics of the bridge",
                "responses": {
                    "200": {
                        "description": "Text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3 document")},
            }
        },
        "/api/monitoring/webhook": {
            "post": {
                "summary": "Alertmanager webhook (version 4). 2xx only after every alert is committed.",
                "security": _BEARER,
                "requestBody": _body({"$ref": "#/components/schemas/Webhook"}, required=True),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string"},
                                "alerts": {"type": "integer"},
                                "new": {"type": "integer"},
                                "duplicates": {"type": "integer"},
                                "notifications": {"type": "array", "items": {"type": "integer"}},
                            },
                        },
                        "Stored",
                    ),
                    **_errors(400, 401, 413, 503),
                },
            }
        },
        "/api/monitoring/alerts": {
            "get": {
                "summary": "Active and recent alerts, firing counts by severity, pause state",
                "security": _BEARER,
                "parameters": [
                    {
                        "name": "severity",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["info", "warning", "critical", "emergency"]},
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["firing", "resolved"]},
                    },
                    {
                        "name": "hours",
                        "in": "query",
                        "schema": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 8760},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["alerts", "counts", "paused"],
                            "properties": {
                                "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
                                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                                "paused": {"$ref": "#/components/schemas/Pause"},
                                "watchdog_last_seen": {"type": "string", "nullable": True},
                                "generated_at": {"type": "string"},
                            },
                        },
                        "Alerts",
                    ),
                    **_errors(400, 401),
                },
            }
        },
        "/api/monitoring/alerts/{alert_id}/ack": {
            "post": {
                "summary": "Acknowledge an alert (stops emergency repeats)",
                "security": _BEARER,
                "parameters": [
                    {
                        "name": "alert_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0},
                    }
                ],
                "requestBody": _body(
                    {"type": "object", "properties": {"comment": {"type": "string", "maxLength": 1000}}}
                ),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "acknowledged": {"type": "boolean"},
                                "alert": {"$ref": "#/components/schemas/Alert"},
                            },
                        },
                        "Acknowledged",
                    ),
                    **_errors(400, 401, 403, 404, 503),
                },
            }
        },
        "/api/monitoring/stop": {
            "post": {
                "summary": "Pause notifications (bridge mute + Alertmanager silence when configured)",
                "security": _BEARER,
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {
                            "duration": {"type": "string", "example": "2h"},
                            "comment": {"type": "string", "maxLength": 1000},
                            "include_emergencies": {"type": "boolean", "default": False},
                        },
                    }
                ),
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"paused": {"$ref": "#/components/schemas/Pause"}}},
                        "Paused",
                    ),
                    **_errors(400, 401, 403, 503),
                },
            }
        },
        "/api/monitoring/start": {
            "post": {
                "summary": "Resume notifications; held critical alerts go out in one summary email",
                "security": _BEARER,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "resumed": {"type": "boolean"},
                                "held_alerts": {"type": "integer"},
                                "summary_notification": {"type": "integer", "nullable": True},
                                "silence_errors": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                        "Resumed",
                    ),
                    **_errors(401, 403, 503),
                },
            }
        },
        "/api/monitoring/metrics": {
            "get": {
                "summary": "Current host metrics from Prometheus, falling back to scraping the exporter",
                "security": _BEARER,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "source": {"type": "string", "enum": ["prometheus", "exporter"]},
                                "hosts": {"type": "object"},
                                "errors": {"type": "object"},
                            },
                        },
                        "Metrics",
                    ),
                    **_errors(401, 503),
                },
            }
        },
        "/api/monitoring/send-test-email": {
            "post": {
                "summary": "Queue a test email and deliver it now; answers with the delivery result",
                "security": _BEARER,
                "requestBody": _body(
                    {"type": "object", "properties": {"note": {"type": "string", "maxLength": 1000}}}
                ),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "status": {"type": "string"},
                                "error": {"type": "string", "nullable": True},
                                "message_id": {"type": "string", "nullable": True},
                                "recipients": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                        "Sent",
                    ),
                    **_errors(400, 401, 403, 502, 503),
                },
            }
        },
        "/api/auth/login": {
            "post": {
                "summary": "Browser login with the API token or bridge.dashboard_password: sets the session "
                "cookie and returns the CSRF token to send as X-CSRF-Token",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["password"],
                        "properties": {"password": {"type": "string"}},
                    },
                    required=True,
                ),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "authenticated": {"type": "boolean"},
                                "csrf_token": {"type": "string"},
                            },
                        },
                        "Logged in",
                    ),
                    **_errors(400, 401, 429),
                },
            }
        },
        "/api/auth/logout": {
            "post": {
                "summary": "End the browser session (revoked on the server: a copied cookie stops working)",
                "responses": {"200": _json({"type": "object"}, "Logged out"), **_errors(403)},
            }
        },
        "/api/auth/logout-all": {
            "post": {
                "summary": "Log out everywhere: revoke every dashboard session",
                "responses": {"200": _json({"type": "object"}, "Sessions revoked"), **_errors(401, 403)},
            }
        },
        "/api/auth/session": {
            "get": {
                "summary": "Whether this browser is logged in, and its CSRF token",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "authenticated": {"type": "boolean"},
                                "csrf_token": {"type": "string", "nullable": True},
                            },
                        },
                        "Session state",
                    )
                },
            }
        },
    },
}


_DATE = {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}}
SPEC["paths"].update(
    {
        "/api/monitoring/reports/daily": {
            "get": {
                "summary": "Preview the daily report (HTML; ?format=text for the plain-text part)",
                "security": _BEARER,
                "parameters": [
                    _DATE,
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["text"]}},
                ],
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {
                            "text/html": {"schema": {"type": "string"}},
                            "text/plain": {"schema": {"type": "string"}},
                        },
                    },
                    **_errors(400, 401),
                },
            },
            "post": {
                "summary": "Send the daily report now (recorded as manual)",
                "security": _BEARER,
                "requestBody": _body(
                    {"type": "object", "properties": {"date": {"type": "string", "format": "date"}}}
                ),
                "responses": {
                    "200": _json({"type": "object"}, "Sent"),
                    "202": _json({"type": "object"}, "Queued"),
                    **_errors(400, 401, 403, 503),
                },
            },
        },
        "/api/monitoring/health-score": {
            "get": {
                "summary": "Health score 0-100 with its breakdown and the inputs used",
                "security": _BEARER,
                "parameters": [
                    {"name": "window", "in": "query", "schema": {"type": "string", "example": "24h"}}
                ],
                "responses": {"200": _json({"type": "object"}, "Score"), **_errors(400, 401)},
            },
        },
    }
)


_HTML = {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
_TOKEN = [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}]
SPEC["paths"]["/ack/{token}"] = {
    "get": {
        "summary": "One-click acknowledge link from an email: shows a confirmation page",
        "parameters": _TOKEN,
        "responses": {"200": _HTML, **_errors(404)},
    },
    "post": {
        "summary": "Acknowledge through the signed link (the token is the credential)",
        "parameters": _TOKEN,
        "responses": {"200": _HTML, **_errors(404, 503)},
    },
}


def add_paths(paths: dict[str, Any]) -> None:
    """Other areas (dashboard) describe their routes here, at import time of their blueprint."""
    SPEC["paths"].update(paths)


@bp.get("/api/openapi.json")
def openapi() -> object:
    return jsonify(SPEC)
