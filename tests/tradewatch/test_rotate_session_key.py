"""`tradewatch rotate-session-key`: sessions revoked at once; after a restart, cookies and ack
links signed with the old key are refused and a new login works."""

from __future__ import annotations

from alert_bridge.web.app import create_app
from alert_bridge.web.signing import ack_token
from tests.support.bridge import TOKEN, Clock, alert, config_data, webhook, write_config
from tradewatch.cli import main
from tradewatch.config import parse_config

BEARER = {"Authorization": f"Bearer {TOKEN}"}
LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def _session(client) -> bool:
    return client.get("/api/auth/session", environ_base=LOCAL).get_json()["authenticated"]


def test_rotation_revokes_sessions_and_retires_old_cookies_and_ack_links(tmp_path, capsys):
    data = config_data(tmp_path, bridge={"api_token": TOKEN})
    path = write_config(tmp_path, data)
    config = parse_config(data, env={})
    clock = Clock()

    before = create_app(config, clock=clock)
    client = before.test_client()
    assert client.post("/api/auth/login", json={"password": TOKEN}, environ_base=LOCAL).status_code == 200
    assert _session(client)
    assert client.post("/api/monitoring/webhook", json=webhook(alert()), headers=BEARER).status_code == 200
    old_link = f"/ack/{ack_token(before.extensions['tradewatch'].key, 1)}"
    assert client.get(old_link).status_code == 200
    cookie = client.get_cookie("tradewatch_session").value

    assert main(["rotate-session-key", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 dashboard session(s) revoked" in out and "Restart the bridge" in out
    assert not _session(client)  # revoked on the server, though this process still has the old key
    before.extensions["tradewatch"].db.close()

    after = create_app(config, clock=clock)  # the restart
    try:
        fresh = after.test_client()
        fresh.set_cookie("tradewatch_session", cookie)
        assert not _session(fresh)
        assert fresh.get(old_link).status_code == 404
        assert after.extensions["tradewatch"].key != before.extensions["tradewatch"].key
        assert fresh.post("/api/auth/login", json={"password": TOKEN}, environ_base=LOCAL).status_code == 200
        assert _session(fresh)
    finally:
        after.extensions["tradewatch"].db.close()
