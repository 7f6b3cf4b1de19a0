"""The bridge's API described as data: `GET /api/openapi.json` (OpenAPI 3.1) and `GET /api/docs`.

The document is built from the app's own routes and the contract on each view (web.contract):
paths and methods from Flask's url_map, parameters and bodies from the pydantic models, schemas
by pydantic's `models_json_schema`. Nothing here repeats a route or a field by hand. The docs page
is Swagger UI from the `offapi` package (served from here: the bridge often has no internet),
started by a static script so it runs under the same Content-Security-Policy as the dashboard.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any, Literal

from flask import Blueprint, Flask, Response, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from alert_bridge.web.contract import FORM, HTML, Auth, Contract, contract, of
from alert_bridge.web.models import Error
from alert_bridge.web.pages import CSP
from alert_bridge.web.runtime import bridge
from tradewatch.config import Config

bp = Blueprint("openapi", __name__)

_REF = "#/components/schemas/{model}"
_RULE_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_CONVERTER_SCHEMAS = {"int": {"type": "integer", "minimum": 0}, "float": {"type": "number", "minimum": 0}}
_STATUS_TEXT = {
    200: "OK",
    202: "Accepted (queued)",
    400: "Malformed request: the detail names the field",
    401: "Missing or wrong credentials",
    403: "CSRF token missing or wrong, or a cross-site request",
    404: "Not found",
    413: "Body larger than bridge.max_body_bytes",
    429: "Too many failed logins from this address",
    502: "The SMTP server refused or failed",
    503: "Store or dependency unavailable; retry (Retry-After)",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer realm", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 0}}},
    503: {"Retry-After": {"description": "Seconds to wait (store busy or full)",
                          "schema": {"type": "integer", "minimum": 0}}},
}
_TAGS = {  # blueprint -> the heading its operations appear under on /api/docs
    "webhook": "Alertmanager webhook",
    "api": "Alerts and control",
    "dashboard": "Dashboard",
    "reports": "Reports and health score",
    "auth": "Browser session",
    "status": "Health and metrics",
    "openapi": "This description",
}
_LOOPBACK = (
    "loopback clients (127.0.0.0/8 or ::1 that address the bridge as localhost, a loopback IP or a "
    "name in security.allowed_hosts)"
)
_DESCRIPTION = (
    "Alertmanager webhook ingest, escalation, email outbox, reports and the control API of TradeWatch.\n\n"
    'Every error answers `{"error": str, "detail": any}`; an invalid request has '
    '`detail: {"message", "problems": [{"field", "problem"}]}`.\n\n'
    "Credentials: `Authorization: Bearer <bridge.api_token>`, or a browser session from "
    "`POST /api/auth/login` (cookie `tradewatch_session`; mutating requests also send `X-CSRF-Token`). "
    f"Read endpoints need none from {_LOOPBACK}, or from anyone when `bridge.read_open` is set: their "
    "security lists an empty alternative for that. This document describes this bridge as configured."
)


def _security(auth: Auth, config: Config) -> tuple[list[dict[str, list[str]]] | None, str]:
    """The operation's security alternatives and a sentence saying who may call it."""
    token = bool(config.bridge.api_token)
    if auth is Auth.READ:
        return [{"bearer": []}, {"session": []}, {}], (
            f"Readable with the bearer token, a session, without credentials by {_LOOPBACK}, "
            "and by anyone when bridge.read_open is set."
        )
    if auth is Auth.WRITE:
        if token:
            return [{"bearer": []}, {"session": [], "csrf": []}], (
                "Needs the bearer token, or a session with its X-CSRF-Token."
            )
        return [{"session": [], "csrf": []}, {}], (
            f"No bridge.api_token is configured: same-site {_LOOPBACK} may call it without credentials; "
            "a session must send X-CSRF-Token."
        )
    if auth is Auth.WEBHOOK:
        if token:
            return [{"bearer": []}], "Needs the bearer token."
        return [{}], f"No bridge.api_token is configured: only {_LOOPBACK} are accepted."
    if auth is Auth.LINK:
        return None, "The signed token in the link is the credential (it names one alert)."
    return None, "Open to everyone."


def _properties(model: type[BaseModel], defs: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """A flat model's fields as JSON Schemas (for path and query parameters); nested ones go to defs."""
    schema = model.model_json_schema(ref_template=_REF)
    defs.update(schema.get("$defs", {}))
    return schema["properties"], set(schema.get("required", ()))


def _parameters(rule: str, c: Contract, defs: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    path_schema = _properties(c.path, defs)[0] if c.path else {}
    for converter, name in _RULE_ARG.findall(rule):
        schema = path_schema.get(name) or _CONVERTER_SCHEMAS.get(converter, {"type": "string"})
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    if c.query:
        properties, required = _properties(c.query, defs)
        for name, prop in properties.items():
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop["description"]
            out.append(param)
    return out


Refs = dict[tuple[type[BaseModel], str], dict[str, Any]]  # (model, "validation"|"serialization") -> $ref


def _media(kind: type[BaseModel] | str | tuple[str, ...], refs: Refs, mode: str) -> dict[str, Any]:
    if isinstance(kind, str | tuple):
        types = (kind,) if isinstance(kind, str) else kind
        return {t: {"schema": {"type": "string"}} for t in types}
    return {"application/json": {"schema": refs[(kind, mode)]}}


def _operation(rule: str, tag: str, c: Contract, config: Config, refs: Refs, defs: dict[str, Any]
               ) -> dict[str, Any]:
    security, who = _security(c.auth, config)
    op: dict[str, Any] = {
        "summary": c.summary,
        "description": f"{c.description}\n\n{who}".strip(),
        "tags": [tag],
        "responses": {},
    }
    params = _parameters(rule, c, defs)
    if params:
        op["parameters"] = params
    if security is not None:
        op["security"] = security
    if c.body:
        content = _media(c.body, refs, "validation")
        if c.form:
            content[FORM] = content["application/json"]
        op["requestBody"] = {"required": c.body_required, "content": content}
    replies = {**{s: Error for s in c.error_statuses()}, **c.replies}
    for status in sorted(replies):
        desc = _STATUS_TEXT.get(status, "See the description")
        op["responses"][str(status)] = {"description": desc,
                                        "content": _media(replies[status], refs, "serialization")}
        if status in _HEADERS and replies[status] is Error:
            op["responses"][str(status)]["headers"] = _HEADERS[status]
    return op


def _schemas(contracts: list[Contract]) -> tuple[Refs, dict[str, Any]]:
    """Every body model's JSON Schema, once, by pydantic: refs per (model, mode) and the definitions."""
    models: dict[tuple[type[BaseModel], str], None] = {(Error, "serialization"): None}
    for c in contracts:
        if c.body:
            models[(c.body, "validation")] = None
        for kind in c.replies.values():
            if isinstance(kind, type):
                models[(kind, "serialization")] = None
    refs, schemas = models_json_schema(list(models), ref_template=_REF)  # type: ignore[arg-type]
    return refs, schemas.get("$defs", {})  # type: ignore[return-value]


def document(app: Flask, config: Config) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`: every routed view with a contract, nothing else."""
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        c = of(app.view_functions[rule.endpoint])
        if c is not None:  # None: static files
            routes.append((rule, c))
    refs, defs = _schemas([c for _, c in routes])
    paths: dict[str, dict[str, Any]] = {}
    for rule, c in routes:
        path = _RULE_ARG.sub(r"{\2}", rule.rule)
        blueprint = rule.endpoint.split(".")[0] if "." in rule.endpoint else ""
        tag = _TAGS.get(blueprint, blueprint or "bridge")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.rule, tag, c, config, refs, defs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "TradeWatch alert bridge", "version": "1", "description": _DESCRIPTION},
        "tags": [{"name": name} for name in _TAGS.values()],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "bridge.api_token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "tradewatch_session",
                            "description": "Set by POST /api/auth/login"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                         "description": "The session's csrf_token (from login or GET /api/auth/session)"},
            },
        },
    }


# --------------------------------------------------------------------------- endpoints

_ASSETS = {  # name -> (package, file, media type)
    "swagger-ui.css": ("offapi", "swagger_style.css", "text/css"),
    "swagger-ui-bundle.js": ("offapi", "swagger_bundle.js", "text/javascript"),
    "api-docs.js": ("alert_bridge.web", "api_docs.js", "text/javascript"),
    "api-docs.css": ("alert_bridge.web", "api_docs.css", "text/css"),
}
_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TradeWatch bridge API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
<link rel="stylesheet" href="/api/docs/assets/api-docs.css">
</head><body>
<div id="swagger-ui" data-spec-url="/api/openapi.json"></div>
<noscript>This page needs JavaScript; the API description itself is
<a href="/api/openapi.json">/api/openapi.json</a>.</noscript>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/api-docs.js"></script>
</body></html>
"""


class AssetPath(BaseModel):
    name: Literal[tuple(_ASSETS)]  # type: ignore[valid-type]


@bp.get("/api/openapi.json")
@contract(summary="This document (OpenAPI 3.1)", auth=Auth.OPEN, replies={200: "application/json"})
def openapi() -> Response:
    return jsonify(document(current_app, bridge().config))


@bp.get("/api/docs")
@contract(summary="The API reference page (Swagger UI, served by the bridge)", auth=Auth.OPEN,
          replies={200: HTML})
def docs() -> Response:
    resp = Response(_DOCS_PAGE, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def asset(name: str) -> tuple[bytes, str]:
    """The bytes and media type of one page asset, from the package that ships it."""
    package, filename, media = _ASSETS[name]
    return (resources.files(package) / filename).read_bytes(), media


@bp.get("/api/docs/assets/<name>")
@contract(summary="Script and style of the API reference page", auth=Auth.OPEN, path=AssetPath,
          replies={200: ("text/css", "text/javascript")})
def docs_asset(name: str) -> Response:
    data, media = asset(name)
    resp = Response(data, mimetype=media)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp

