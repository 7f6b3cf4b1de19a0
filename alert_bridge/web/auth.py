"""Who may call what.

- Bearer: `Authorization: Bearer <bridge.api_token>`, compared in constant time.
- Browser session: login with the API token or `bridge.dashboard_password` sets a signed,
  HttpOnly, SameSite=Strict session cookie holding a CSRF token; every mutating browser request
  must echo it in `X-CSRF-Token`.
- No token configured: only loopback clients, and never a cross-site browser request (a page on
  another site must not be able to pause alerting through a local browser).
- Sessions are known to the server (store/sessions.py): logout revokes one, "log out
  everywhere" all, and a session never authorises a cross-site request, reads included.
Read-only APIs are open to loopback, to authenticated callers, and to everyone when
`bridge.read_open` is set. `/health` and `/metrics` are always open (probes and Prometheus).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from typing import Any

from flask import Blueprint, current_app, request, session

from alert_bridge.store import sessions
from alert_bridge.web import models as m
from alert_bridge.web.contract import Auth, contract
from alert_bridge.web.errors import ApiError

bp = Blueprint("auth", __name__)


def is_loopback(addr: str | None) -> bool:
    if not addr:
        return False
    try:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def host_is_loopback(host: str) -> bool:
    """True for listen hosts that only loopback clients can reach."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    return is_loopback(host.strip("[]"))


def token_matches(expected: str, given: str | None) -> bool:
    if not expected.strip() or given is None or not given.strip():
        return False  # a blank secret (" ") never matches, whatever is sent
    return hmac.compare_digest(expected.encode(), given.encode())


def _config() -> Any:
    return current_app.extensions["tradewatch"].config


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        return None
    return value.strip()


def _cross_site() -> bool:
    if request.headers.get("Sec-Fetch-Site", "") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin.rstrip("/") != request.host_url.rstrip("/")
    return origin == "null"


def _trusted_loopback() -> bool:
    """A loopback client that addressed us by a loopback name (or an allowed host).

    The Host check defeats DNS rebinding: a page on evil.example whose name is made to resolve
    to 127.0.0.1 reaches us from loopback, same-origin with itself, but with Host: evil.example.
    """
    if not is_loopback(request.remote_addr):
        return False
    host = request.host
    host = host[1 : host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    return host_is_loopback(host) or host in _config().security.allowed_hosts


def _state() -> Any:
    return current_app.extensions["tradewatch"]


def session_active() -> bool:
    """A logged-in session cookie whose server-side session is live (not revoked or expired)."""
    sid = session.get("sid")
    if not session.get("auth") or not isinstance(sid, str):
        return False
    state = _state()
    if sessions.is_active(state.db.connection(), sid, state.clock()):
        return True
    session.clear()
    return False


def _session_checked() -> bool:
    """`_session_active`, refusing a cross-site request that carries the cookie (reads too)."""
    if not session_active():
        return False
    if _cross_site():
        raise ApiError(403, "cross-site request refused",
                       "a session authorises same-site requests only; use a bearer token")
    return True


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, {"WWW-Authenticate": 'Bearer realm="tradewatch"'})


def check_bearer_or_loopback() -> str:
    """The webhook's rule: the bearer token when one is configured, else loopback only."""
    token = _config().bridge.api_token
    given = _bearer()
    if token:
        if token_matches(token, given):
            return "token"
        raise _unauthorized("send Authorization: Bearer <bridge.api_token>")
    if _trusted_loopback() and not _cross_site():
        return "loopback"
    raise _unauthorized("no bridge.api_token is configured: only loopback clients are accepted")


def _bearer_given(token: str) -> bool:
    """True for a matching bearer token, False when none was sent; a wrong one is a 401."""
    given = _bearer()
    if given is None:
        return False
    if token_matches(token, given):
        return True
    raise _unauthorized("the bearer token does not match bridge.api_token")


def check_write() -> str:
    """Mutating requests: bearer, or session + CSRF header, or (no token) a same-site loopback client."""
    cfg = _config().bridge
    if _bearer_given(cfg.api_token):
        return "token"
    if _session_checked():
        if token_matches(session.get("csrf", ""), request.headers.get("X-CSRF-Token")):
            return "session"
        raise ApiError(403, "CSRF token missing or wrong", "send the session's token in X-CSRF-Token")
    if not cfg.api_token and _trusted_loopback():
        if _cross_site():
            raise ApiError(403, "cross-site request refused", "log in and send X-CSRF-Token")
        return "loopback"
    raise _unauthorized("send Authorization: Bearer <bridge.api_token> or log in")


def check_read() -> str:
    cfg = _config().bridge
    if _bearer_given(cfg.api_token):
        return "token"
    if _session_checked():
        return "session"
    if cfg.read_open:
        return "open"
    if _trusted_loopback():
        if _cross_site():
            raise ApiError(403, "cross-site request refused", "open the dashboard on this host")
        return "open"
    raise _unauthorized("send Authorization: Bearer <bridge.api_token> or log in")


def actor() -> str:
    """Who made the request, for audit columns (never the secret)."""
    how = request.environ.get("tradewatch.auth", "unknown")
    return f"{how}@{request.remote_addr}"


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


# --------------------------------------------------------------------------- session endpoints

LOGIN_FAILURES_ALLOWED = 10
LOGIN_WINDOW_SECONDS = 300.0


class LoginThrottle:
    """At most N failed logins per client address per window (per process): the dashboard
    password may be something a person can remember, so guessing it must be slow."""

    def __init__(self, allowed: int = LOGIN_FAILURES_ALLOWED, window: float = LOGIN_WINDOW_SECONDS):
        self.allowed, self.window = allowed, window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, addr: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(addr, []) if now - t < self.window]
        if kept:
            self._failures[addr] = kept
        else:
            self._failures.pop(addr, None)
        return kept

    def blocked(self, addr: str, now: float) -> bool:
        with self._lock:
            return len(self._recent(addr, now)) >= self.allowed

    def failed(self, addr: str, now: float) -> None:
        with self._lock:
            self._recent(addr, now)
            self._failures.setdefault(addr, []).append(now)

    def succeeded(self, addr: str) -> None:
        with self._lock:
            self._failures.pop(addr, None)


def _login_throttle() -> LoginThrottle:
    """One throttle per app (so separate apps, e.g. in tests, never share failures)."""
    extra = current_app.extensions["tradewatch"].extra
    throttle = extra.get("login_throttle")
    if throttle is None:
        throttle = extra.setdefault("login_throttle", LoginThrottle())
    return throttle


@bp.post("/api/auth/login")
@contract(summary="Browser login with the API token or bridge.dashboard_password", auth=Auth.OPEN,
          body=m.LoginRequest, form=True, body_required=True, replies={200: m.SessionState},
          errors=(401, 403, 429),
          description="Sets the session cookie and returns the CSRF token to send as X-CSRF-Token. "
          "403 when neither bridge.api_token nor bridge.dashboard_password is set (loopback needs no login).")
def login(body: m.LoginRequest) -> Any:
    cfg = _config().bridge
    password = body.password
    if not (cfg.api_token or cfg.dashboard_password):
        raise ApiError(
            403,
            "login is not configured",
            "set bridge.api_token or bridge.dashboard_password; loopback clients need no login",
        )
    addr, now, throttle = request.remote_addr or "", time.monotonic(), _login_throttle()
    if throttle.blocked(addr, now):
        raise ApiError(429, "too many failed logins", f"try again in {LOGIN_WINDOW_SECONDS:.0f} seconds",
                       {"Retry-After": str(int(LOGIN_WINDOW_SECONDS))})
    # compare against both, always, so timing does not tell which one is set
    ok_token = token_matches(cfg.api_token, password)
    ok_password = token_matches(cfg.dashboard_password, password)
    if not (ok_token or ok_password):
        throttle.failed(addr, now)
        raise _unauthorized("wrong password")
    throttle.succeeded(addr)
    state, sid = _state(), secrets.token_urlsafe(32)
    with state.db.transaction() as conn:
        sessions.create(conn, sid, now=state.clock(), lifetime=cfg.session_lifetime,
                        created_by=f"login@{addr}")
    session.clear()
    session.permanent = True
    session["auth"] = True
    session["sid"] = sid
    session["csrf"] = secrets.token_urlsafe(32)
    return m.SessionState(authenticated=True, csrf_token=session["csrf"]).model_dump()


@bp.post("/api/auth/logout")
@contract(summary="End the browser session (revoked on the server: a copied cookie stops working)",
          auth=Auth.OPEN, replies={200: m.SessionState}, errors=(403,),
          description="A logged-in browser must send its X-CSRF-Token (403 otherwise).")
def logout() -> Any:
    """End this session on the server too: a copy of the cookie stops working."""
    if session.get("auth"):
        check_write()
        sid = session.get("sid")
        if isinstance(sid, str):
            state = _state()
            with state.db.transaction() as conn:
                sessions.revoke(conn, sid, state.clock())
    session.clear()
    return m.SessionState(authenticated=False, csrf_token=None).model_dump()


@bp.post("/api/auth/logout-all")
@contract(summary="Log out everywhere: revoke every dashboard session", auth=Auth.WRITE,
          replies={200: m.SessionsRevoked}, errors=(503,),
          description="For a lost phone or a leaked cookie; bearer tokens are not affected.")
def logout_all() -> Any:
    """Revoke every dashboard session ("log out everywhere"), e.g. after a lost phone."""
    state = _state()
    with state.db.transaction() as conn:
        count = sessions.revoke_all(conn, state.clock())
    session.clear()
    return m.SessionsRevoked(authenticated=False, revoked=count).model_dump()


@bp.get("/api/auth/session")
@contract(summary="Whether this browser is logged in, and its CSRF token", auth=Auth.OPEN,
          replies={200: m.SessionState})
def session_state() -> Any:
    if session_active():
        return m.SessionState(authenticated=True, csrf_token=csrf_token()).model_dump()
    return m.SessionState(authenticated=False, csrf_token=None).model_dump()
