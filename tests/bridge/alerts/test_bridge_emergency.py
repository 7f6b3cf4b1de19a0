"""Integration: an emergency repeats through a real bridge process and SMTP until acknowledged."""

from __future__ import annotations

import time

import pytest

from tests.support.bridge import alert, bridge_process, config_data, notifications, webhook
from tests.support.procs import wait_until
from tests.support.smtp import smtp_server

pytestmark = pytest.mark.integration

REPEAT_MINUTES = 0.04  # 2.4 s; the bridge checks for due repeats every quarter of that
# after the ack and the drain: two repeat periods plus a check interval, long enough for a
# repeat that should not happen to be queued and sent
QUIET_WINDOW = 2 * REPEAT_MINUTES * 60 + REPEAT_MINUTES * 15 + 0.5


def _settled(db_path) -> list[dict] | None:
    """The outbox rows once none is pending or sending (None until then)."""
    rows = notifications(db_path)
    return None if any(n["status"] in ("pending", "sending") for n in rows) else rows


def test_emergency_repeats_until_acked_then_stops(tmp_path):
    with smtp_server() as smtp:
        data = config_data(
            tmp_path,
            email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none"},
            escalation={"emergency_repeat_minutes": REPEAT_MINUTES},
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
            # a repeat queued before the ack may still leave: wait until nothing is pending/sending
            drained = wait_until(lambda: _settled(bridge.db_path), 20, what="the drain after the ack")
            count = len(smtp.mailbox.messages)
            assert count == sum(n["status"] == "sent" for n in drained)  # every sent row reached SMTP
            time.sleep(QUIET_WINDOW)
            assert len(smtp.mailbox.messages) == count
            assert notifications(bridge.db_path) == drained  # nothing new was even queued
            kinds = [n["kind"] for n in drained]
            assert kinds[0] == "firing" and set(kinds[1:]) == {"emergency_repeat"}
