"""Integration: an emergency repeats through a real bridge process and SMTP until acknowledged."""

from __future__ import annotations

import time

import pytest

from tests.support.bridge import alert, bridge_process, config_data, notifications, webhook
from tests.support.smtp import smtp_server

pytestmark = pytest.mark.integration


def test_emergency_repeats_until_acked_then_stops(tmp_path):
    with smtp_server() as smtp:
        data = config_data(
            tmp_path,
            email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none"},
            escalation={"emergency_repeat_minutes": 0.04},  # 2.4 s
        )
        with bridge_process(tmp_path, data) as bridge:
            status, _ = bridge.request("POST", "/api/monitoring/webhook",
                                          webhook(alert("DiskFull", severity="emergency")))
            assert status == 200
            first, repeat = smtp.mailbox.wait_for(2, timeout=20)[:2]
            assert sorted(smtp.mailbox.envelopes[0].rcpt_tos) == ["boss@example.com", "ops@example.com"]
            assert repeat["In-Reply-To"] == first["Message-ID"]
            alert_id = notifications(bridge.db_path)[0]["alert_id"]
            status, _ = bridge.request("POST", f"/api/monitoring/alerts/{alert_id}/ack", {"comment": "on it"})
            assert status == 200
            time.sleep(0.5)  # a repeat already queued before the ack may still leave
            count = len(smtp.mailbox.messages)
            time.sleep(6)  # more than two repeat periods
            assert len(smtp.mailbox.messages) == count
            kinds = [n["kind"] for n in notifications(bridge.db_path)]
            assert kinds[0] == "firing" and set(kinds[1:]) == {"emergency_repeat"}
