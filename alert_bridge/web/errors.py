"""One JSON error shape for every 4xx/5xx: {"error": str, "detail": any}."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from alert_bridge.store.database import StoreUnavailable, is_transient

log = logging.getLogger("alert_bridge.web.errors")


class ApiError(Exception):
    """Raise from a view to answer `status` with the shared error shape."""

    def __init__(self, status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None):
        super().__init__(error)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers or {}


def error_response(
    status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None
) -> Response:
    resp = jsonify({"error": error, "detail": detail})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


_MESSAGES = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    415: "unsupported media type",
    429: "too many requests",
}


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api(exc: ApiError) -> Response:
        return error_response(exc.status, exc.error, exc.detail, exc.headers)

    @app.errorhandler(StoreUnavailable)
    def _store(exc: StoreUnavailable) -> Response:
        log.warning("store unavailable: %s", exc)
        return error_response(503, "store unavailable, retry later", str(exc), {"Retry-After": "5"})

    @app.errorhandler(sqlite3.OperationalError)
    def _sqlite(exc: sqlite3.OperationalError) -> Response:
        """A read outside `transaction()` that met a read-only, full or locked store: 503 too."""
        if not is_transient(exc):
            return _unexpected(exc)
        return _store(StoreUnavailable(str(exc)))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = exc.code or 500
        if code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            detail: Any = f"the limit is {limit} bytes (bridge.max_body_bytes)"
        else:
            detail = exc.description
        resp = error_response(code, _MESSAGES.get(code, exc.name.lower()), detail)
        if code == 405 and exc.get_headers():
            for k, v in exc.get_headers():
                if k.lower() == "allow":
                    resp.headers[k] = v
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal error", exc.__class__.__name__)
