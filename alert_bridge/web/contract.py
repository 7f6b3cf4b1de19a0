"""An endpoint's contract: who may call it, what it takes, what it answers.

`@contract(...)` on a Flask view checks the caller (web.auth), validates the path, query and
body with the pydantic models of `web.models`, and hands the view the validated models. The
same object is kept on the view (`view.contract`) and `web.openapi` turns the app's routes and
these contracts into the OpenAPI document: one declaration, so the document and the server agree.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from alert_bridge.alerts.payload import problems
from alert_bridge.web import auth
from alert_bridge.web.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])

HTML = "text/html"
TEXT = "text/plain"
FORM = "application/x-www-form-urlencoded"


class Auth(enum.Enum):
    """Who may call an endpoint (the rules are in web.auth; the document describes them)."""

    OPEN = "open"  # anyone: probes, Prometheus, the login itself
    READ = "read"  # auth.check_read: bearer, session, loopback, or everyone with bridge.read_open
    WRITE = "write"  # auth.check_write: bearer, session + X-CSRF-Token, or loopback without a token
    WEBHOOK = "webhook"  # auth.check_bearer_or_loopback: the token when set, else loopback only
    LINK = "link"  # the signed token in the path is the credential


_CHECKS = {  # looked up at call time: auth's own endpoints carry contracts too
    Auth.READ: "check_read",
    Auth.WRITE: "check_write",
    Auth.WEBHOOK: "check_bearer_or_loopback",
}
_AUTH_ERRORS = {Auth.READ: (401,), Auth.WRITE: (401, 403), Auth.WEBHOOK: (401,)}


@dataclass(frozen=True)
class Contract:
    """`replies` maps a status to a response model (JSON) or a media type (HTML, text); every
    status in `errors`, and those implied by the auth and the inputs, answer the `Error` shape."""

    summary: str
    auth: Auth
    replies: Mapping[int, type[BaseModel] | str | tuple[str, ...]]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    path: type[BaseModel] | None = None
    form: bool = False  # the body may also come form-encoded (a browser's login form)
    body_required: bool = False
    errors: tuple[int, ...] = ()
    description: str = ""
    guarded: bool = True  # False: the view checks credentials itself (and documents why)
    parsed: bool = True  # False: the view parses its body itself (the webhook's field-path errors)

    def error_statuses(self) -> list[int]:
        implied = set(_AUTH_ERRORS.get(self.auth, ()))
        if self.query or self.body or self.path:
            implied.add(400)
        if self.body:
            implied.add(413)
        return sorted((implied | set(self.errors)) - set(self.replies))


def _validate(model: type[BaseModel], data: Any, where: str, *, json: bool = False) -> BaseModel:
    try:
        return model.model_validate_json(data) if json else model.model_validate(data)
    except ValidationError as exc:
        found = problems(exc)
        first = found[0]
        raise ApiError(
            400, f"invalid {where}: {first['field']}",
            {"message": f"{first['field']}: {first['problem']}", "problems": found},
        ) from None


def _body(c: Contract) -> BaseModel:
    if c.form and request.mimetype == FORM:
        return _validate(c.body, request.form.to_dict(), "request body")  # type: ignore[arg-type]
    raw = request.get_data(cache=True)
    if not raw.strip():
        if c.body_required:
            missing = [{"field": "(body)", "problem": "a JSON object is required"}]
            raise ApiError(400, "invalid request body", {"message": "(body): required", "problems": missing})
        raw = b"{}"
    return _validate(c.body, raw, "request body", json=True)  # type: ignore[arg-type]


def contract(**terms: Any) -> Callable[[F], F]:
    """Declare, enforce and document an endpoint (see Contract for the terms)."""
    c = Contract(**terms)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if c.guarded and c.auth in _CHECKS:
                request.environ["tradewatch.auth"] = getattr(auth, _CHECKS[c.auth])()
            if c.path is not None:
                kwargs = dict(_validate(c.path, kwargs, "path"))
            if c.query is not None:
                kwargs["query"] = _validate(c.query, request.args.to_dict(), "query")
            if c.body is not None and c.parsed:
                kwargs["body"] = _body(c)
            return view(*args, **kwargs)

        wrapper.contract = c  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def of(view: Callable[..., Any]) -> Contract | None:
    """The contract declared on a view, if any."""
    return getattr(view, "contract", None)
