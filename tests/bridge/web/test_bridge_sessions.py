"""Sessions the server can revoke (issue 13.3) and no cross-site use of them, reads included (13.10)."""

from __future__ import annotations

import pytest

from alert_bridge.web.app import create_app
from tests.support.bridge import TOKEN, Clock, make_config

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
READ = "/api/monitoring/alerts"
WRITE = "/api/monitoring/stop"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make(tmp_path, clock):
    apps = []

    def build(**bridge):
        application = create_app(make_config(tmp_path, bridge={"api_token": TOKEN, **bridge}), clock=clock)
        apps.append(application)
        return application

    yield build
    for a in apps:
        a.extensions["tradewatch"].db.close()


def login(app):
    """A fresh browser: log in, return the client and its CSRF token."""
    c = app.test_client()
    resp = c.post("/api/auth/login", json={"password": TOKEN}, environ_base=REMOTE)
    assert resp.status_code == 200, resp.json
    return c, resp.json["csrf_token"]


def copy_cookie(src, dst) -> None:
    cookie = src.get_cookie("tradewatch_session")
    dst.set_cookie("tradewatch_session", cookie.value)


def test_a_cookie_copied_before_logout_no_longer_works_after_it(make):
    app = make()
    browser, csrf = login(app)
    thief = app.test_client()
    copy_cookie(browser, thief)
    assert thief.get(READ, environ_base=REMOTE).status_code == 200
    out = browser.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}, environ_base=REMOTE)
    assert out.status_code == 200
    assert thief.get(READ, environ_base=REMOTE).status_code == 401
    resp = thief.post(WRITE, json={"duration": "1h"}, headers={"X-CSRF-Token": csrf}, environ_base=REMOTE)
    assert resp.status_code == 401
    assert thief.get("/api/auth/session", environ_base=REMOTE).json["authenticated"] is False


def test_log_out_everywhere_revokes_every_session(make):
    app = make()
    (a, csrf_a), (b, _) = login(app), login(app)
    resp = a.post("/api/auth/logout-all", headers={"X-CSRF-Token": csrf_a}, environ_base=REMOTE)
    assert resp.status_code == 200 and resp.json["revoked"] == 2
    assert a.get(READ, environ_base=REMOTE).status_code == 401
    assert b.get(READ, environ_base=REMOTE).status_code == 401
    # the bearer token is unaffected, and can log everyone out too
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    resp = app.test_client().post("/api/auth/logout-all", headers=bearer, environ_base=REMOTE)
    assert resp.status_code == 200


def test_session_lifetime_is_configurable_and_enforced_on_the_server(make, clock):
    app = make(session_lifetime="10m")
    browser, _ = login(app)
    clock.advance(9 * 60)
    assert browser.get(READ, environ_base=REMOTE).status_code == 200
    clock.advance(2 * 60)
    assert browser.get(READ, environ_base=REMOTE).status_code == 401


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}])
def test_cross_site_reads_with_the_session_cookie_are_refused(make, headers):
    app = make()
    browser, _ = login(app)
    for path in (READ, "/api/monitoring/health-score", "/api/monitoring/notifications"):
        resp = browser.get(path, headers=headers, environ_base=REMOTE)
        assert resp.status_code == 403, (path, resp.status_code)
        assert resp.json["error"] == "cross-site request refused"
    same = browser.get(READ, headers={"Sec-Fetch-Site": "same-origin"}, environ_base=REMOTE)
    assert same.status_code == 200


def test_cross_site_reads_from_a_loopback_browser_are_refused_and_bearer_is_unaffected(make):
    app = make(api_token="")
    c = app.test_client()
    local = {"REMOTE_ADDR": "127.0.0.1"}
    assert c.get(READ, headers={"Origin": "https://evil.example"}, environ_base=local).status_code == 403
    bearer_app = make()
    headers = {"Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.example"}
    assert bearer_app.test_client().get(READ, headers=headers, environ_base=REMOTE).status_code == 200
