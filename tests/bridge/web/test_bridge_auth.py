"""Auth: bearer token (constant time), loopback rule without a token, sessions with CSRF."""

from __future__ import annotations

import hmac

import pytest

from alert_bridge.web import auth
from tests.support.bridge import TOKEN, alert, webhook

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
LOCAL = {"REMOTE_ADDR": "127.0.0.1"}
BEARER = {"Authorization": f"Bearer {TOKEN}"}

MUTATING = [
    ("/api/monitoring/webhook", lambda: webhook(alert())),
    ("/api/monitoring/stop", lambda: {"duration": "1h"}),
    ("/api/monitoring/start", lambda: {}),
    ("/api/monitoring/send-test-email", lambda: {}),
]


@pytest.mark.parametrize(("path", "body"), MUTATING)
def test_token_required_when_configured(client_with, path, body):
    c = client_with(api_token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        resp = c.post(path, json=body(), headers=headers, environ_base=LOCAL)
        assert resp.status_code == 401, (path, headers)
        assert resp.json["error"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    ok = c.post(path, json=body(), headers=BEARER, environ_base=REMOTE)
    assert ok.status_code == 200, ok.json


@pytest.mark.parametrize(("path", "body"), MUTATING)
def test_without_token_only_loopback_clients(client_with, path, body):
    c = client_with()
    assert c.post(path, json=body(), environ_base=REMOTE).status_code == 401
    assert c.post(path, json=body(), environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert c.post(path, json=body(), environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"}).status_code == 200


def test_cross_site_browser_request_to_loopback_is_refused(client_with):
    c = client_with()
    resp = c.post(
        "/api/monitoring/stop",
        json={"duration": "1h"},
        environ_base=LOCAL,
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert resp.status_code == 403
    assert c.get("/api/monitoring/alerts").json["paused"] is None


def test_dns_rebinding_host_is_not_trusted_as_loopback(client_with, make_app):
    c = client_with()
    rebound = {"Host": "evil.example:8080", "Origin": "http://evil.example:8080"}
    assert c.post("/api/monitoring/stop", json={"duration": "1h"}, environ_base=LOCAL,
                  headers=rebound).status_code == 401
    assert c.get("/api/monitoring/alerts", environ_base=LOCAL, headers=rebound).status_code == 401
    for host in ("127.0.0.1:8080", "localhost", "[::1]:8080"):
        assert c.get("/api/monitoring/alerts", environ_base=LOCAL, headers={"Host": host}).status_code == 200
    named = make_app(security={"allowed_hosts": ["monitor.lan"]}).test_client()
    resp = named.get("/api/monitoring/alerts", environ_base=LOCAL, headers={"Host": "monitor.lan:8080"})
    assert resp.status_code == 200


def test_reads_need_auth_beyond_loopback_unless_read_open(client_with):
    closed = client_with(api_token=TOKEN)
    assert closed.get("/api/monitoring/alerts", environ_base=REMOTE).status_code == 401
    assert closed.get("/api/monitoring/alerts", environ_base=REMOTE, headers=BEARER).status_code == 200
    assert closed.get("/api/monitoring/alerts", environ_base=LOCAL).status_code == 200
    assert closed.get("/health", environ_base=REMOTE).status_code in (200, 503)
    assert closed.get("/metrics", environ_base=REMOTE).status_code == 200
    opened = client_with(api_token=TOKEN, read_open=True)
    assert opened.get("/api/monitoring/alerts", environ_base=REMOTE).status_code == 200


def test_token_compare_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert auth.token_matches(TOKEN, TOKEN)
    assert not auth.token_matches(TOKEN, "x")
    assert not auth.token_matches("", "")  # no token configured never matches
    assert len(calls) == 2


def test_session_login_sets_a_strict_httponly_cookie_and_needs_csrf(client_with):
    c = client_with(api_token=TOKEN, dashboard_password="hunter2-long-password")
    bad = c.post("/api/auth/login", json={"password": "nope"}, environ_base=REMOTE)
    assert bad.status_code == 401
    resp = c.post("/api/auth/login", json={"password": "hunter2-long-password"}, environ_base=REMOTE)
    assert resp.status_code == 200
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    csrf = resp.json["csrf_token"]
    # reads work with the session alone
    assert c.get("/api/monitoring/alerts", environ_base=REMOTE).status_code == 200
    # writes need the CSRF header
    no_csrf = c.post("/api/monitoring/stop", json={"duration": "1h"}, environ_base=REMOTE)
    assert no_csrf.status_code == 403 and no_csrf.json["error"] == "CSRF token missing or wrong"
    wrong = c.post(
        "/api/monitoring/stop",
        json={"duration": "1h"},
        environ_base=REMOTE,
        headers={"X-CSRF-Token": "x" + csrf},
    )
    assert wrong.status_code == 403
    ok = c.post(
        "/api/monitoring/stop", json={"duration": "1h"}, environ_base=REMOTE, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 200
    assert c.get("/api/auth/session", environ_base=REMOTE).json == {"authenticated": True, "csrf_token": csrf}
    assert c.post("/api/auth/logout", environ_base=REMOTE, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert c.get("/api/monitoring/alerts", environ_base=REMOTE).status_code == 401


def test_webhook_does_not_accept_a_session(client_with):
    c = client_with(api_token=TOKEN)
    csrf = c.post("/api/auth/login", json={"password": TOKEN}).json["csrf_token"]
    resp = c.post(
        "/api/monitoring/webhook", json=webhook(alert()), environ_base=REMOTE, headers={"X-CSRF-Token": csrf}
    )
    assert resp.status_code == 401


def test_login_without_any_secret_configured_is_a_clear_403(client_with):
    # a well-formed request the bridge refuses (nothing to log in with), not a malformed one
    resp = client_with().post("/api/auth/login", json={"password": "x"})
    assert resp.status_code == 403 and "bridge.api_token" in resp.json["detail"]


def test_secrets_never_appear_in_api_output_or_logs(client_with, caplog):
    caplog.set_level("DEBUG")
    c = client_with(api_token=TOKEN, dashboard_password="hunter2-long-password")
    outputs = [
        c.get("/api/openapi.json").get_data(True),
        c.get("/api/monitoring/alerts", headers=BEARER).get_data(True),
        c.post("/api/monitoring/webhook", json=webhook(alert()), headers=BEARER).get_data(True),
        c.post(
            "/api/monitoring/webhook", json=webhook(alert()), headers={"Authorization": "Bearer x"}
        ).get_data(True),
        c.get("/metrics").get_data(True),
        c.get("/health").get_data(True),
    ]
    for text in [*outputs, caplog.text]:
        assert TOKEN not in text and "hunter2" not in text


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_listen_host_classification(host, loopback):
    assert auth.host_is_loopback(host) is loopback


def test_failed_logins_are_throttled_per_address(client_with):
    c = client_with(api_token=TOKEN, dashboard_password="hunter2-long-password")
    c.application.extensions["tradewatch"].extra["login_throttle"] = auth.LoginThrottle(allowed=3, window=60)
    for _ in range(3):
        assert c.post("/api/auth/login", json={"password": "guess"}, environ_base=REMOTE).status_code == 401
    blocked = c.post("/api/auth/login", json={"password": "hunter2-long-password"}, environ_base=REMOTE)
    assert blocked.status_code == 429 and blocked.headers["Retry-After"]
    # another address is not affected
    ok = c.post("/api/auth/login", json={"password": "hunter2-long-password"},
                environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert ok.status_code == 200


def test_throttle_window_expires():
    t = auth.LoginThrottle(allowed=2, window=10)
    t.failed("a", 0.0)
    t.failed("a", 1.0)
    assert t.blocked("a", 5.0)
    assert not t.blocked("a", 11.5)
