"""Forwarding headers believed only from security.trusted_proxies; HSTS only over https.
(The same through a real nginx with TLS: tests/bridge/test_bridge_https_proxy.py.)"""

from __future__ import annotations

import pytest

from alert_bridge.web.app import create_app
from alert_bridge.web.proxy import HSTS, peer_trusted
from tests.support.bridge import Clock, make_config

PROXY = {"REMOTE_ADDR": "127.0.0.1"}  # the configured proxy
OTHER = {"REMOTE_ADDR": "127.0.0.2"}  # loopback too, but not a trusted proxy
FROM_LAN = {"X-Forwarded-For": "203.0.113.9"}


@pytest.fixture
def client(tmp_path):
    app = create_app(make_config(tmp_path, security={"trusted_proxies": ["127.0.0.1/32"]}), clock=Clock())
    yield app.test_client()
    app.extensions["tradewatch"].db.close()


def test_the_trusted_proxy_says_who_the_client_is(client):
    # no token: loopback clients may read, others may not; the proxy forwards a LAN client
    assert client.get("/api/monitoring/alerts", environ_base=PROXY).status_code == 200
    assert client.get("/api/monitoring/alerts", environ_base=PROXY, headers=FROM_LAN).status_code == 401


def test_any_other_client_cannot_claim_an_address(client):
    resp = client.get("/api/monitoring/alerts", environ_base=OTHER,
                      headers={**FROM_LAN, "X-Forwarded-Proto": "https"})
    assert resp.status_code == 200  # still the loopback client it is
    assert "Strict-Transport-Security" not in resp.headers


def test_hsts_only_when_the_trusted_proxy_says_https(client):
    resp = client.get("/health", environ_base=PROXY, headers={"X-Forwarded-Proto": "https"})
    assert resp.headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/health", environ_base=PROXY).headers


def test_forwarded_host_is_never_believed(client):
    # the Host check against DNS rebinding must see the Host the proxy passed, not a header's claim
    resp = client.get("/api/monitoring/alerts", environ_base=PROXY,
                      headers={"Host": "evil.example", "X-Forwarded-Host": "localhost"})
    assert resp.status_code == 401


def test_without_trusted_proxies_nothing_is_believed(tmp_path):
    app = create_app(make_config(tmp_path), clock=Clock())
    try:
        resp = app.test_client().get("/api/monitoring/alerts", environ_base=PROXY,
                                     headers={**FROM_LAN, "X-Forwarded-Proto": "https"})
        assert resp.status_code == 200 and "Strict-Transport-Security" not in resp.headers
    finally:
        app.extensions["tradewatch"].db.close()


@pytest.mark.parametrize(("addr", "trusted"), [
    ("127.0.0.1", True), ("::ffff:127.0.0.1", True), ("127.0.0.2", False), ("", False), ("x", False),
])
def test_peer_trusted(addr, trusted):
    import ipaddress

    assert peer_trusted(addr, [ipaddress.ip_network("127.0.0.1/32")]) is trusted


def test_behind_a_proxy_the_bridge_wants_a_strong_token(tmp_path, capsys):
    from alert_bridge.cli import main
    from tests.support.bridge import config_data, write_config

    cases = (({}, "refusing to serve clients of security.trusted_proxies without an API token"),
             ({"api_token": "x"}, "bridge.api_token is too weak to serve clients of "
                                  "security.trusted_proxies"))
    for bridge, expected in cases:
        data = config_data(tmp_path, bridge=bridge, security={"trusted_proxies": ["127.0.0.1/32"]})
        assert main(["--listen", "127.0.0.1:1", "--config", str(write_config(tmp_path, data))]) == 2
        assert expected in capsys.readouterr().err
