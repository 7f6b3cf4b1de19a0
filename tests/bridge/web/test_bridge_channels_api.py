"""The channels API, /metrics per channel and recent notifications with their channel."""

from __future__ import annotations

import pytest

from alert_bridge.web.app import create_app
from tests.support.bridge import alert, config_data, metric_value, webhook
from tradewatch import metric_names as mn
from tradewatch.config import parse_config

pytestmark = pytest.mark.integration

SECRET = "T0pSecretBotToken99"


@pytest.fixture
def client(tmp_path, clock, rx):
    data = config_data(tmp_path)
    data["channels"] = [
        {"name": "phone", "url": f"json://bot:{SECRET}@127.0.0.1:{rx.port}/phone"},
        {"name": "broken", "url": f"json://127.0.0.1:{rx.port}/broken?x=1", "severities": ["warning"]},
    ]
    app = create_app(parse_config(data, env={}), clock=clock)
    yield app.test_client()
    app.extensions["tradewatch"].db.close()


def test_lists_channels_masked_with_their_last_delivery(client, rx):
    body = client.get("/api/monitoring/channels").json
    assert [c["name"] for c in body["channels"]] == ["phone", "broken"]
    phone = body["channels"][0]
    assert phone["service"].startswith("json://bot:") and SECRET not in str(body)
    assert phone["last"] is None and phone["backlog"] == 0
    resp = client.post("/api/monitoring/channels/phone/test", json={"note": "from the test"})
    assert resp.status_code == 200 and resp.json["status"] == "sent"
    (msg,) = rx.received("/phone")
    assert msg["title"].startswith("\U0001f9ea TEST") and "from the test" in msg["message"]
    phone = client.get("/api/monitoring/channels").json["channels"][0]
    assert phone["last"]["status"] == "sent" and phone["last"]["kind"] == "test"


def test_a_failed_test_answers_502_with_the_error_and_an_unknown_channel_404(client, rx):
    rx.status = 400
    resp = client.post("/api/monitoring/channels/broken/test", json={})
    assert resp.status_code == 502 and resp.json["detail"]["status"] == "failed"
    assert "error=400" in resp.json["detail"]["error"]
    resp = client.post("/api/monitoring/channels/nope/test", json={})
    assert resp.status_code == 404 and resp.json["detail"]["configured"] == ["phone", "broken"]
    last = client.get("/api/monitoring/channels").json["channels"][1]["last"]
    assert last["status"] == "failed"


def test_metrics_and_recent_notifications_name_the_channel(client, rx):
    rx.status = 503
    assert client.post("/api/monitoring/webhook", json=webhook(alert())).status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    assert metric_value(text, mn.BRIDGE_OUTBOX_BACKLOG, channel="phone") == 1
    assert metric_value(text, mn.BRIDGE_OUTBOX_BACKLOG, channel="broken") == 0
    assert metric_value(text, mn.BRIDGE_OUTBOX_BACKLOG, channel="email") == 1
    rx.status = 200
    client.post("/api/monitoring/channels/phone/test", json={})
    text = client.get("/metrics").get_data(as_text=True)
    assert metric_value(text, mn.NOTIFICATIONS, channel="phone", kind="test", result="sent") == 1
    rows = client.get("/api/monitoring/notifications").json["notifications"]
    assert {(r["kind"], r["channel"]) for r in rows} == {
        ("firing", None), ("firing", "phone"), ("test", "phone")}
    assert SECRET not in text and SECRET not in str(rows)
