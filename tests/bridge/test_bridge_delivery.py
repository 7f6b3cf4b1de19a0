"""Integration: a real `tradewatch-bridge` process delivering to a real SMTP server (aiosmtpd).

Issue 4: "the same payload posted 3 times and from two 'peers' delivers one [email]; warning and
info deliver none" -- counted at the SMTP server, not in the outbox table.
"""

from __future__ import annotations

import copy
import time

import pytest

from tests.support.bridge import (
    TOKEN,
    BridgeProcess,
    alert,
    alert_rows,
    bridge_process,
    config_data,
    metric_value,
    webhook,
)
from tests.support.procs import wait_until
from tests.support.smtp import smtp_server
from tradewatch import metric_names as mn

pytestmark = pytest.mark.integration

URL = "/api/monitoring/webhook"
GRACE_SECONDS = 1.5  # after the outbox is drained: room for a wrong, late second delivery


def outbox_drained(bridge: BridgeProcess) -> dict | None:
    """The outbox listing once nothing is pending or sending (None until then)."""
    status, body = bridge.request("GET", "/api/monitoring/notifications?limit=200")
    assert status == 200, body
    if body["stats"]["depth"] or any(n["status"] in ("pending", "sending") for n in body["notifications"]):
        return None
    return body


def test_repeats_and_ha_peer_deliver_one_email_warning_and_info_none(tmp_path):
    with smtp_server() as smtp:
        data = config_data(
            tmp_path,
            email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none", "timeout": "5s"},
            bridge={"api_token": TOKEN},
        )
        with bridge_process(tmp_path, data) as bridge:
            payload = webhook(alert("HighCpuUsage", severity="critical"))
            results = [bridge.request("POST", URL, payload) for _ in range(3)]  # Alertmanager repeats
            # the HA peer: its own notification of the same alert, under another receiver/group key
            peer = copy.deepcopy(payload)
            peer["receiver"] = "tradewatch-bridge-peer"
            peer["groupKey"] = '{}/{severity="critical"}:{alertname="HighCpuUsage"}'
            results.append(bridge.request("POST", URL, peer))
            assert all(status == 200 for status, _ in results), results
            assert results[0][1]["new"] == 1 and len(results[0][1]["notifications"]) == 1
            assert all(body["new"] == 0 and body["notifications"] == [] for _, body in results[1:]), results

            for name, severity in (("DiskSlowWarning", "warning"), ("ChattyInfo", "info")):
                status, body = bridge.request("POST", URL, webhook(alert(name, severity=severity)))
                assert status == 200 and body["new"] == 1 and body["notifications"] == [], body

            [msg] = smtp.mailbox.wait_for(1, timeout=20)
            listing = wait_until(lambda: outbox_drained(bridge), 20, what="the outbox to drain")
            time.sleep(GRACE_SECONDS)
            assert len(smtp.mailbox.messages) == 1, [m["Subject"] for m in smtp.mailbox.messages]
            assert outbox_drained(bridge) is not None  # nothing was queued during the grace period

        assert "HighCpuUsage" in msg["Subject"] and "CRITICAL" in msg["Subject"].upper()
        assert msg.get_content_type() == "multipart/alternative"
        assert sorted(p.get_content_type() for p in msg.iter_parts()) == ["text/html", "text/plain"]
        assert smtp.mailbox.envelopes[0].rcpt_tos == ["ops@example.com"]
        assert [(n["kind"], n["status"]) for n in listing["notifications"]] == [("firing", "sent")]
        # all three alerts were ingested: "no email" for warning/info is a decision, not a lost alert
        severities = sorted(r["severity"] for r in alert_rows(bridge.db_path))
        assert severities == ["critical", "info", "warning"]


def test_metrics_count_one_sent_email_for_repeated_critical(tmp_path):
    """/metrics agrees with the SMTP server: one email sent, outbox depth back to 0."""
    with smtp_server() as smtp:
        data = config_data(
            tmp_path, email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none"}
        )
        with bridge_process(tmp_path, data) as bridge:
            payload = webhook(alert("MemoryPressure", severity="critical"))
            for _ in range(3):
                status, _ = bridge.request("POST", URL, payload)
                assert status == 200
            smtp.mailbox.wait_for(1, timeout=20)

            def metrics() -> str:
                status, text = bridge.request("GET", "/metrics")
                assert status == 200
                return text

            wait_until(lambda: metric_value(metrics(), mn.BRIDGE_OUTBOX_DEPTH) == 0, 20, what="depth 0")
            time.sleep(GRACE_SECONDS)
            text = metrics()
            assert metric_value(text, mn.BRIDGE_OUTBOX_DEPTH) == 0
            assert metric_value(text, mn.BRIDGE_EMAILS, result="sent") == 1
            assert metric_value(text, mn.BRIDGE_EMAILS, result="failed") == 0
            assert metric_value(text, mn.BRIDGE_WEBHOOKS, result="accepted") == 1
            assert metric_value(text, mn.BRIDGE_WEBHOOKS, result="duplicate") == 2
            assert len(smtp.mailbox.messages) == 1
