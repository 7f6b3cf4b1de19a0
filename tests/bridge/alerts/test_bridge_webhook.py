"""Webhook ingest: stored once, notified once, history kept, 2xx only after commit, 503 on a lock."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest

from tests.support.bridge import alert, alert_rows, metric_value, notifications, webhook

URL = "/api/monitoring/webhook"


def db_path(app) -> str:
    return app.extensions["tradewatch"].db.path


def test_critical_alert_is_stored_with_everything_and_queued_once(app, client):
    resp = client.post(URL, json=webhook(alert(job="node")))
    assert resp.status_code == 200
    assert resp.json["new"] == 1 and len(resp.json["notifications"]) == 1
    [row] = alert_rows(db_path(app))
    assert row["alertname"] == "HighCpuUsage" and row["severity"] == "critical" and row["status"] == "firing"
    assert json.loads(row["labels"])["job"] == "node"
    assert json.loads(row["annotations"])["summary"] == "HighCpuUsage on web-1:9184"
    assert row["generator_url"].startswith("http://prometheus:9090")
    assert row["starts_at"] == "2026-11-25T01:40:00.123456Z" and row["ends_at"] is None
    assert json.loads(row["raw"])["fingerprint"] == "fp-HighCpuUsage-web-1:9184"
    [note] = notifications(db_path(app))
    assert note["kind"] == "firing" and note["recipients"] == ["ops@example.com"]
    ctx = note["context"]
    assert ctx["alert"]["id"] == row["id"] and ctx["alert"]["labels"]["job"] == "node"
    assert ctx["severity_assumed"] is False and ctx["repeat"] == 0
    assert ctx["ack_url"].startswith("http://localhost:8080/ack/")
    with contextlib.closing(sqlite3.connect(db_path(app))) as conn:
        body = conn.execute("SELECT body FROM webhook_payloads").fetchone()[0]
    assert json.loads(body)["receiver"] == "tradewatch-bridge"


def test_repeats_and_ha_peers_store_and_notify_once(app, client):
    payload = webhook(alert(), alert("Disk", severity="emergency"))
    first = client.post(URL, json=payload)
    assert first.json["new"] == 2
    for _ in range(3):  # Alertmanager repeats, and its HA peer sends the same group
        again = client.post(URL, json=payload)
        assert again.status_code == 200
        assert again.json == {**again.json, "new": 0, "duplicates": 2, "notifications": []}
    assert len(alert_rows(db_path(app))) == 2
    kinds = sorted(n["kind"] for n in notifications(db_path(app)))
    assert kinds == ["firing", "firing"]


def test_firing_then_resolved_records_history_and_one_resolved_email(app, client):
    client.post(URL, json=webhook(alert()))
    resolved = alert(status="resolved")
    client.post(URL, json=webhook(resolved))
    client.post(URL, json=webhook(resolved))
    # a late firing copy after the resolve changes nothing
    late = client.post(URL, json=webhook(alert()))
    assert late.json["new"] == 0
    [row] = alert_rows(db_path(app))
    assert row["status"] == "resolved" and row["ends_at"] == "2026-11-25T02:00:00.000000Z"
    with contextlib.closing(sqlite3.connect(db_path(app))) as conn:
        events = [r[0] for r in conn.execute("SELECT status FROM alert_events ORDER BY id")]
    assert events == ["firing", "resolved"]
    assert [n["kind"] for n in notifications(db_path(app))] == ["firing", "resolved"]


def test_resolved_before_firing_is_stored_and_the_late_firing_ignored(app, client):
    client.post(URL, json=webhook(alert(status="resolved")))
    client.post(URL, json=webhook(alert()))
    [row] = alert_rows(db_path(app))
    assert row["status"] == "resolved"
    # never told it fired, so no RESOLVED email out of nowhere (issue 14.14)
    assert [n["kind"] for n in notifications(db_path(app))] == []


def test_an_inhibited_critical_that_resolves_sends_nothing(app, client):
    """Alertmanager never sends an inhibited alert firing, but sends its resolve (issue 14.14)."""
    client.post(URL, json=webhook(alert("DiskCritical", severity="critical", status="resolved")))
    assert notifications(db_path(app)) == []


def test_alerts_held_by_a_pause_and_summarised_do_get_their_resolved_email(app, client):
    assert client.post("/api/monitoring/stop", json={"duration": "1h"}).status_code == 200
    client.post(URL, json=webhook(alert("HeldOne")))
    assert client.post("/api/monitoring/start", json={}).status_code == 200
    client.post(URL, json=webhook(alert("HeldOne", status="resolved")))
    kinds = [n["kind"] for n in notifications(db_path(app))]
    assert kinds == ["pause_summary", "resolved"], kinds


def test_new_start_time_is_a_new_alert(app, client):
    client.post(URL, json=webhook(alert()))
    client.post(URL, json=webhook(alert(starts_at="2026-11-25T05:00:00Z")))
    assert len(alert_rows(db_path(app))) == 2
    assert len(notifications(db_path(app))) == 2


def test_warning_and_info_are_stored_without_email(app, client):
    resp = client.post(URL, json=webhook(alert("W", severity="warning"), alert("I", severity="info")))
    assert resp.json["new"] == 2 and resp.json["notifications"] == []
    assert {r["severity"] for r in alert_rows(db_path(app))} == {"warning", "info"}
    assert notifications(db_path(app)) == []


def test_emergency_goes_to_escalation_recipients(app, client):
    client.post(URL, json=webhook(alert("DiskFull", severity="emergency")))
    [note] = notifications(db_path(app))
    assert note["recipients"] == ["ops@example.com", "boss@example.com"]


def test_missing_severity_is_emailed_as_assumed_critical(app, client):
    client.post(URL, json=webhook(alert("Odd", severity=None), alert("Typo", severity="crtical")))
    rows = alert_rows(db_path(app))
    assert [(r["severity"], r["severity_assumed"]) for r in rows] == [("critical", 1), ("critical", 1)]
    notes = notifications(db_path(app))
    assert len(notes) == 2 and all(n["context"]["severity_assumed"] for n in notes)


def test_watchdog_updates_last_seen_and_never_emails(app, client, clock):
    dog = alert("Watchdog", severity="info")
    client.post(URL, json=webhook(dog))
    clock.advance(60)
    repeat = client.post(URL, json=webhook(dog))  # a duplicate still counts as "seen"
    assert repeat.json["duplicates"] == 1
    listing = client.get("/api/monitoring/alerts").json
    assert listing["watchdog_last_seen"] is not None
    metrics = client.get("/metrics").get_data(as_text=True)
    assert metric_value(metrics, "tradewatch_bridge_watchdog_last_seen_timestamp_seconds") == clock.now
    assert notifications(db_path(app)) == []


def test_invalid_payload_answers_400_naming_the_field(client):
    data = webhook(alert())
    data["alerts"][0]["startsAt"] = "not a time"
    resp = client.post(URL, json=data)
    assert resp.status_code == 400
    assert resp.json["error"] == "invalid webhook payload"
    assert resp.json["detail"]["problems"][0]["field"] == "alerts[0].startsAt"


def test_nothing_is_stored_when_one_alert_is_invalid(app, client):
    data = webhook(alert(), alert("Other"))
    del data["alerts"][1]["fingerprint"]
    assert client.post(URL, json=data).status_code == 400
    assert alert_rows(db_path(app)) == []


@pytest.mark.parametrize("config", [{"bridge": {"max_body_bytes": 4096}}], indirect=True)
def test_body_over_the_limit_is_413_json(client):
    big = webhook(*[alert(f"A{i}") for i in range(40)])
    resp = client.post(URL, data=json.dumps(big), content_type="application/json")
    assert resp.status_code == 413
    assert resp.json["error"] == "request body too large" and "4096" in resp.json["detail"]
    small = client.post(URL, json=webhook(alert()))
    assert small.status_code == 200
    text = client.get("/metrics").get_data(True)
    assert metric_value(text, "tradewatch_bridge_webhooks_total", result="too_large") == 1


@pytest.mark.parametrize("config", [{"bridge": {"busy_timeout": "200ms"}}], indirect=True)
def test_locked_database_answers_503_then_the_retry_succeeds(client, config):
    with contextlib.closing(sqlite3.connect(config.bridge.database, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        locked = client.post(URL, json=webhook(alert()))
        assert locked.status_code == 503
        assert locked.json["error"] == "store unavailable, retry later"
        assert locked.headers["Retry-After"]
        other.execute("ROLLBACK")
    retry = client.post(URL, json=webhook(alert()))
    assert retry.status_code == 200 and retry.json["new"] == 1
    text = client.get("/metrics").get_data(True)
    assert metric_value(text, "tradewatch_bridge_webhooks_total", result="unavailable") == 1
    assert len(alert_rows(config.bridge.database)) == 1
    assert len(notifications(config.bridge.database)) == 1


def test_wakes_the_sender_only_when_email_was_queued(make_app):
    class Sender:
        wakes = 0

        def wake(self):
            Sender.wakes += 1

    c = make_app(sender=Sender()).test_client()
    c.post(URL, json=webhook(alert("W", severity="warning")))
    assert Sender.wakes == 0
    c.post(URL, json=webhook(alert()))
    assert Sender.wakes == 1


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_json_405(client, method):
    resp = client.open(URL, method=method)
    assert resp.status_code == 405
    assert resp.json["error"] == "method not allowed"
    assert "POST" in resp.headers["Allow"]
