"""Faults against a real bridge process: SIGKILL between the webhook's 2xx and the SMTP send, and a
database locked by another connection."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import time

import pytest

from tests.support.bridge import alert, bridge_process, config_data, notifications, webhook
from tests.support.procs import free_port, wait_until
from tests.support.smtp import smtp_server

pytestmark = pytest.mark.integration


def _attempts(db_path) -> int:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return conn.execute("SELECT attempts FROM notifications").fetchone()[0]


def test_killed_after_2xx_before_sending_delivers_exactly_one_email_after_restart(tmp_path):
    smtp_port = free_port()  # nothing listens yet: the first attempt cannot reach SMTP
    # SIGKILL leaves the worker lease held: a short lease lets the restarted bridge take over in
    # seconds instead of the default 15 s (the takeover itself is what is tested)
    data = config_data(
        tmp_path,
        email={"smtp_server": "127.0.0.1", "smtp_port": smtp_port, "security": "none", "timeout": "2s"},
        bridge={"worker_lease": "2s"},
    )
    with bridge_process(tmp_path, data, log_name="first.log") as bridge:
        status, body = bridge.request("POST", "/api/monitoring/webhook", webhook(alert()))
        assert status == 200 and len(body["notifications"]) == 1
        # wait for the first attempt to fail (so the kill does not land inside the sender's claim,
        # which would only delay the retry by the claim's lease)
        wait_until(
            lambda: (
                notifications(bridge.db_path)[0]["status"] == "pending" and _attempts(bridge.db_path) >= 1
            ),
            15,
            what="the first failed attempt",
        )
        bridge.proc.stop(signal.SIGKILL)
    [note] = notifications(bridge.db_path)
    assert note["status"] == "pending"  # acknowledged, not sent
    with smtp_server(port=smtp_port) as smtp, bridge_process(tmp_path, data, log_name="second.log") as again:
        [msg] = smtp.mailbox.wait_for(1, timeout=60)
        assert "HighCpuUsage" in msg["Subject"]
        # the same webhook again (Alertmanager retrying what it may think was lost): still one
        status, body = again.request("POST", "/api/monitoring/webhook", webhook(alert()))
        assert status == 200 and body["new"] == 0
        wait_until(lambda: notifications(again.db_path)[0]["status"] == "sent", 10, what="marked sent")
        time.sleep(1.5)  # give a wrong second delivery the chance to happen
        assert len(smtp.mailbox.messages) == 1


def test_locked_database_answers_503_then_the_retry_succeeds(tmp_path):
    data = config_data(tmp_path, bridge={"busy_timeout": "200ms"})
    with bridge_process(tmp_path, data) as bridge:
        other = sqlite3.connect(bridge.db_path, isolation_level=None)
        with contextlib.closing(other):
            other.execute("BEGIN EXCLUSIVE")
            status, body = bridge.request("POST", "/api/monitoring/webhook", webhook(alert()))
            assert status == 503, body
            assert body["error"] == "store unavailable, retry later" and "locked" in body["detail"]
            other.execute("ROLLBACK")
        status, body = bridge.request("POST", "/api/monitoring/webhook", webhook(alert()))
        assert status == 200 and body["new"] == 1
