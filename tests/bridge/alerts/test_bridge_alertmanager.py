"""Integration: a real Alertmanager posts to a real `tradewatch-bridge`, which emails a real SMTP server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.bridge import (
    TOKEN,
    BridgeProcess,
    alert_rows,
    bridge_process,
    config_data,
    metric_value,
    notifications,
)
from tests.support.procs import free_port, wait_until
from tests.support.prom import Alertmanager, alertmanager
from tests.support.smtp import SmtpServer, smtp_server

pytestmark = pytest.mark.integration


def am_config(bridge_url: str, token_file: str) -> dict:
    return {
        "route": {
            "receiver": "bridge", "group_by": ["alertname", "instance"],
            "group_wait": "0s", "group_interval": "1s", "repeat_interval": "1h",
        },
        "receivers": [{
            "name": "bridge",
            "webhook_configs": [{
                "url": f"{bridge_url}/api/monitoring/webhook", "send_resolved": True,
                "http_config": {"authorization": {"type": "Bearer", "credentials_file": token_file}},
            }],
        }],
    }


@contextlib.contextmanager
def wired(tmp_path: Path) -> Iterator[tuple[SmtpServer, Alertmanager, BridgeProcess]]:
    """SMTP, an Alertmanager routing to the bridge (bearer token) and the bridge that knows it."""
    bridge_port = free_port()
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    am_cfg = am_config(f"http://127.0.0.1:{bridge_port}", str(token_file))
    with smtp_server() as smtp, alertmanager(tmp_path / "am", am_cfg) as am:
        data = config_data(
            tmp_path,
            bridge={"api_token": TOKEN, "alertmanager_url": am.url},
            email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none"},
        )
        with bridge_process(tmp_path, data, port=bridge_port) as bridge:
            yield smtp, am, bridge


def test_alert_through_alertmanager_is_stored_once_and_emailed_once(tmp_path):
    with wired(tmp_path) as (smtp, am, bridge):
        starts = datetime.now(UTC) - timedelta(minutes=1)
        labels = {"alertname": "HighCpuUsage", "instance": "web-1:9184", "severity": "critical",
                  "category": "system"}
        am.post_alerts([{"labels": labels, "annotations": {"summary": "CPU 97% on web-1"},
                         "startsAt": starts.isoformat(), "generatorURL": "http://prometheus:9090/graph"}])
        rows = wait_until(lambda: alert_rows(bridge.db_path), 20, what="the alert stored by the bridge")
        [msg] = smtp.mailbox.wait_for(1, timeout=20)
        assert "HighCpuUsage" in msg["Subject"]
        assert len(rows) == 1 and rows[0]["alertname"] == "HighCpuUsage" and rows[0]["status"] == "firing"
        # Alertmanager re-sends the same alert (post again): nothing new
        am.post_alerts([{"labels": labels, "annotations": {"summary": "CPU 97% on web-1"},
                         "startsAt": starts.isoformat()}])
        # resolve it: one resolved email, same stored alert
        am.post_alerts([{"labels": labels, "startsAt": starts.isoformat(),
                         "endsAt": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}])
        wait_until(lambda: alert_rows(bridge.db_path)[0]["status"] == "resolved", 20, what="the resolve")
        smtp.mailbox.wait_for(2, timeout=20)
        assert len(alert_rows(bridge.db_path)) == 1
        assert [n["kind"] for n in notifications(bridge.db_path)] == ["firing", "resolved"]
        assert len(smtp.mailbox.messages) == 2


def test_pause_creates_a_silence_and_resume_expires_it(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    bridge_port = free_port()
    with alertmanager(tmp_path / "am", am_config(f"http://127.0.0.1:{bridge_port}", str(token_file))) as am:
        data = config_data(tmp_path, bridge={"api_token": TOKEN, "alertmanager_url": am.url})
        with bridge_process(tmp_path, data, port=bridge_port) as bridge:
            status, body = bridge.request("POST", "/api/monitoring/stop",
                                          {"duration": "2h", "comment": "kernel upgrade"})
            assert status == 200, body
            silence_id = body["paused"]["silence_id"]
            assert silence_id and body["paused"]["silence_error"] is None
            [silence] = [s for s in am.get("silences") if s["id"] == silence_id]
            assert silence["status"]["state"] == "active"
            assert silence["comment"] == "kernel upgrade"
            assert silence["matchers"] == [{"name": "severity", "value": "critical", "isRegex": True,
                                            "isEqual": True}]
            status, body = bridge.request("POST", "/api/monitoring/start")
            assert status == 200 and body["resumed"] and body["silence_errors"] == []
            [silence] = [s for s in am.get("silences") if s["id"] == silence_id]
            assert silence["status"]["state"] == "expired"
            # health sees Alertmanager
            status, health = bridge.request("GET", "/health")
            assert health["checks"]["alertmanager"]["ok"] is True


def test_pause_with_alertmanager_down_still_mutes_and_says_why(tmp_path):
    data = config_data(tmp_path, bridge={"alertmanager_url": f"http://127.0.0.1:{free_port()}"})
    with bridge_process(tmp_path, data) as bridge:
        status, body = bridge.request("POST", "/api/monitoring/stop", {"duration": "10m"})
        assert status == 200
        assert body["paused"]["silence_id"] is None and "127.0.0.1" in body["paused"]["silence_error"]
        status, listing = bridge.request("GET", "/api/monitoring/alerts")
        assert listing["paused"]["id"] == body["paused"]["id"]


def test_an_ha_pair_of_alertmanagers_delivers_one_stored_alert_and_one_email(tmp_path):
    """Two Alertmanagers both notify (as an HA pair does when gossip is late): one email."""
    bridge_port = free_port()
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    am_cfg = am_config(f"http://127.0.0.1:{bridge_port}", str(token_file))
    with smtp_server() as smtp, alertmanager(tmp_path / "am1", am_cfg) as am1, \
            alertmanager(tmp_path / "am2", am_cfg) as am2:
        data = config_data(
            tmp_path,
            bridge={"api_token": TOKEN},
            email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none"},
        )
        with bridge_process(tmp_path, data, port=bridge_port) as bridge:
            starts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
            labels = {"alertname": "DiskFull", "instance": "db-1:9184", "severity": "emergency",
                      "category": "system"}
            for am in (am1, am2):
                am.post_alerts([{"labels": labels, "startsAt": starts}])

            def both_delivered():
                _, text = bridge.request("GET", "/metrics")
                return metric_value(text, "tradewatch_bridge_webhooks_total", result="duplicate") == 1

            wait_until(both_delivered, 20, what="the second Alertmanager's webhook")
            smtp.mailbox.wait_for(1, timeout=20)
            wait_until(lambda: notifications(bridge.db_path)[0]["status"] == "sent", 10, what="sent")
            assert len(alert_rows(bridge.db_path)) == 1
            assert len(notifications(bridge.db_path)) == 1
            assert len(smtp.mailbox.messages) == 1
            assert sorted(smtp.mailbox.envelopes[0].rcpt_tos) == ["boss@example.com", "ops@example.com"]


def test_alerts_the_silence_holds_are_shown_while_paused_and_summarised_on_resume(tmp_path):
    """A critical alert fires while paused: Alertmanager's silence holds it (the bridge never hears
    of it), yet the dashboard counts and lists it, resume summarises it by email, and the copy
    Alertmanager sends once the silence is gone is a duplicate, not a second email."""
    with wired(tmp_path) as (smtp, am, bridge):
        status, body = bridge.request("POST", "/api/monitoring/stop", {"duration": "1h"})
        assert status == 200 and body["paused"]["silence_id"], body
        labels = {"alertname": "HostFilesystemFull", "instance": "db-1:9184", "severity": "critical",
                  "category": "system", "mountpoint": "/data", "nodename": "db-1"}
        starts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        am.post_alerts([{"labels": labels, "annotations": {"summary": "/data 95% full"},
                         "startsAt": starts}])

        def held():
            _, listing = bridge.request("GET", "/api/monitoring/alerts")
            return listing if listing["held"] else None

        listing = wait_until(held, 20, what="the silenced alert in /api/monitoring/alerts")
        [h] = listing["held"]
        assert h["alertname"] == "HostFilesystemFull" and h["held_by"] == "alertmanager"
        assert listing["counts"]["critical"] == 1 and listing["active"] == []
        assert listing["banner"] == "1 critical alert firing, not acknowledged; 1 held by the pause"
        assert listing["held_error"] is None
        # the held critical counts in the health score and caps it, like an active one
        status, health = bridge.request("GET", "/api/monitoring/health-score")
        assert status == 200 and (health["score"], health["grade"]) == (74.9, "Fair"), health
        assert health["cap"]["held"] == ["HostFilesystemFull"], health["cap"]
        status, page = bridge.request("GET", "/")
        assert status == 200 and "Held by the pause" in page and "HostFilesystemFull" in page
        assert 'id="health-grade">Fair<' in page
        assert alert_rows(bridge.db_path) == []  # the bridge never heard of it

        status, body = bridge.request("POST", "/api/monitoring/start")
        assert status == 200 and body["held_alerts"] == 1 and body["summary_notification"], body
        [msg] = smtp.mailbox.wait_for(1, timeout=20)
        assert msg["Subject"].startswith("[SUMMARY] 1 alert held")
        assert "HostFilesystemFull" in msg.get_body(("plain",)).get_content()

        # the silence is expired: Alertmanager now sends the alert (its webhook start time is
        # finer than the API's); the bridge knows it and was already told: no second email
        def webhook_seen():
            _, text = bridge.request("GET", "/metrics")
            return metric_value(text, "tradewatch_bridge_webhooks_total", result="accepted") == 1

        wait_until(webhook_seen, 20, what="Alertmanager's webhook after the silence")
        [row] = alert_rows(bridge.db_path)
        assert row["status"] == "firing" and row["last_notified_at"] is not None
        _, listing = bridge.request("GET", "/api/monitoring/alerts")
        assert listing["held"] == []
        assert [a["alertname"] for a in listing["active"]] == ["HostFilesystemFull"]
        # its resolve finds it and is worth an email: the summary told the operator
        am.post_alerts([{"labels": labels, "startsAt": starts,
                         "endsAt": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}])
        wait_until(lambda: alert_rows(bridge.db_path)[0]["status"] == "resolved", 20, what="the resolve")
        smtp.mailbox.wait_for(2, timeout=20)
        assert [n["kind"] for n in notifications(bridge.db_path)] == ["pause_summary", "resolved"]
        assert len(alert_rows(bridge.db_path)) == 1
