"""OutboxSender against a real SQLite database and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
import sys
import threading
import time

import pytest

from alert_bridge.notify.sender import DeliveryResult, OutboxSender, backoff_delay
from alert_bridge.store import outbox
from tests.support.notify import FakeClock, alert_context, email_config
from tests.support.procs import REPO, Proc, free_port, wait_until
from tests.support.smtp import smtp_server

pytestmark = pytest.mark.integration



def smtp_config(port, **email):
    return email_config(smtp_server="127.0.0.1", smtp_port=port, security="none", timeout="3s", **email)


def queue(db, now, kind="test", context=None, recipients=("ops@example.com",), **kw):
    with db.transaction() as conn:
        return outbox.enqueue(conn, kind, list(recipients), context if context is not None else {"note": "x"},
                              now=now, **kw)


def statuses(db):
    return {r["id"]: r["status"] for r in outbox.recent(db.connection(), 100)}


def test_pending_rows_are_delivered_once(db):
    clock = FakeClock()
    with smtp_server() as srv:
        sender = OutboxSender(smtp_config(srv.port), db, clock=clock)
        firing = queue(db, clock(), "firing", alert_context(), dedup_key="firing:1")
        resolved = queue(db, clock(), "resolved",
                         alert_context(status="resolved", ends_at="2026-11-25T02:00:00Z"))
        test = queue(db, clock(), "test", {"requested_at": "2026-11-25T01:00:00Z"},
                     recipients=("a@example.com", "b@example.com"))
        assert sender.run_once() == 3
        assert sender.run_once() == 0
        clock.advance(3600)
        assert sender.run_once() == 0
        got = srv.mailbox.wait_for(3)
        time.sleep(0.2)  # give a stray duplicate the chance to arrive
        assert len(srv.mailbox.messages) == 3
        envelopes = srv.mailbox.envelopes
    assert statuses(db) == {firing: "sent", resolved: "sent", test: "sent"}
    by_subject = {m["Subject"]: m for m in got}
    root = outbox.get(db.connection(), firing)["message_id"]
    assert by_subject["[RESOLVED] HighCpuUsage on web-1:9184"]["In-Reply-To"] == root
    assert by_subject["[CRITICAL] HighCpuUsage on web-1:9184"]["Message-ID"] == root
    # the row's recipients are the envelope and the To header
    test_env = next(e for e in envelopes if b"[TEST]" in e.content)
    assert test_env.rcpt_tos == ["a@example.com", "b@example.com"]
    assert sender.counters == {"sent": 3, "failed": 0, "retried": 0}


def test_server_down_then_up_delivers_exactly_once(db):
    clock = FakeClock()
    port = free_port()
    sender = OutboxSender(smtp_config(port), db, clock=clock, rng=lambda: 0.5)
    nid = queue(db, clock(), "firing", alert_context())
    # Down: each attempt fails, and the backoff doubles.
    delays = []
    for _ in range(3):
        assert sender.run_once() == 1
        row = outbox.get(db.connection(), nid)
        assert row["status"] == "pending" and "cannot reach the SMTP server" in row["last_error"]
        delays.append(row["next_attempt_at"] - clock())
        assert sender.run_once() == 0  # not before its time
        clock.advance(delays[-1])
    assert delays == pytest.approx([5, 10, 20])
    # Up again on the same port.
    with smtp_server(port=port) as srv:
        assert sender.run_once() == 1
        (got,) = srv.mailbox.wait_for(1)
        clock.advance(3600)
        assert sender.run_once() == 0
        time.sleep(0.2)
        assert len(srv.mailbox.messages) == 1
    row = outbox.get(db.connection(), nid)
    assert row["status"] == "sent" and row["attempts"] == 4 and row["last_error"] is None
    assert got["Subject"] == "[CRITICAL] HighCpuUsage on web-1:9184"
    assert sender.counters == {"sent": 1, "failed": 0, "retried": 3}


def test_crash_recovery_row_left_in_sending_is_delivered_once(db):
    clock = FakeClock()
    nid = queue(db, clock(), "firing", alert_context())
    with db.transaction() as conn:  # a sender claimed it, then the process died
        (claimed,) = outbox.claim_due(conn, clock(), 10, lease_seconds=60)
    assert claimed["id"] == nid
    with smtp_server() as srv:
        restarted = OutboxSender(smtp_config(srv.port), db, clock=clock)
        assert restarted.lease_seconds >= 60
        clock.advance(30)
        assert restarted.run_once() == 0  # the dead sender's lease still holds
        clock.advance(31)
        assert restarted.run_once() == 1
        assert restarted.run_once() == 0
        srv.mailbox.wait_for(1)
        time.sleep(0.2)
        assert len(srv.mailbox.messages) == 1
    row = outbox.get(db.connection(), nid)
    assert row["status"] == "sent" and row["attempts"] == 2


def test_two_senders_on_one_outbox_send_each_email_once(db):
    """Even if two processes ran the loop by mistake, leases keep every email single."""
    with smtp_server() as srv:
        cfg = smtp_config(srv.port)
        for i in range(30):
            queue(db, time.time(), "test", {"note": f"n{i}"})
        senders = [OutboxSender(cfg, db) for _ in range(2)]
        threads = [threading.Thread(target=s.run_once) for s in senders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        srv.mailbox.wait_for(30)
        time.sleep(0.2)
        ids = [m["Message-ID"] for m in srv.mailbox.messages]
    assert len(ids) == len(set(ids)) == 30  # thirty different emails, none twice
    assert sum(s.counters["sent"] for s in senders) == 30


def test_loop_sends_within_moments_of_wake_and_stops(db):
    with smtp_server() as srv:
        sender = OutboxSender(smtp_config(srv.port), db)
        stop = threading.Event()
        thread = threading.Thread(target=sender.loop, args=(stop,), daemon=True)
        thread.start()
        try:
            queue(db, time.time(), "firing", alert_context())
            sender.wake()
            srv.mailbox.wait_for(1, timeout=10)
            queue(db, time.time(), "test", {})  # not woken: found by the loop's own poll
            srv.mailbox.wait_for(2, timeout=10)
            assert sender.last_loop_at is not None
        finally:
            stop.set()
            thread.join(5)
        assert not thread.is_alive()


def test_deliver_now_reports_the_outcome(db):
    clock = FakeClock()
    with smtp_server() as srv:
        sender = OutboxSender(smtp_config(srv.port), db, clock=clock)
        ok = queue(db, clock() + 999, "test", {"note": "now"})  # not due: deliver_now ignores that
        result = sender.deliver_now(ok)
        assert result.status == "sent" and result.error is None
        assert result.message_id == srv.mailbox.wait_for(1)[0]["Message-ID"]
        assert sender.deliver_now(ok) == DeliveryResult("sent", None, result.message_id)  # not twice
        assert len(srv.mailbox.messages) == 1

        srv.mailbox.fail_with = "550 5.7.1 relaying denied"
        bad = queue(db, clock(), "test", {"note": "bad"})
        result = sender.deliver_now(bad)
        assert result.status == "failed" and "550" in result.error

        srv.mailbox.fail_with = "451 4.7.1 later"
        later = queue(db, clock(), "test", {"note": "later"})
        result = sender.deliver_now(later)
        assert result.status == "pending" and "451" in result.error
    assert sender.deliver_now(12345).status == "failed"


def test_deliver_now_waits_for_a_row_another_sender_holds(db):
    clock = FakeClock()
    nid = queue(db, clock(), "test", {})
    with db.transaction() as conn:
        outbox.claim_due(conn, clock(), 1, 60)
    sender = OutboxSender(email_config(), db, clock=clock)

    def finish():
        time.sleep(0.3)
        with db.transaction() as conn:
            outbox.mark_sent(conn, nid, clock(), "<held@tradewatch>")

    t = threading.Thread(target=finish)
    t.start()
    result = sender.deliver_now(nid, wait_seconds=10)
    t.join()
    assert result == DeliveryResult("sent", None, "<held@tradewatch>")


def test_raw_messages_are_sent_as_they_are(db):
    raw = (b"From: TradeWatch <tw@example.com>\r\nTo: ops@example.com\r\nSubject: Daily report\r\n"
           b"Message-ID: <report.2026-11-25@tradewatch>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nScore 93 (Excellent)\r\n")
    with smtp_server() as srv:
        sender = OutboxSender(smtp_config(srv.port), db)
        nid = queue(db, time.time(), "report", {}, raw=raw, recipients=("ops@example.com", "cto@example.com"))
        assert sender.run_once() == 1
        (got,) = srv.mailbox.wait_for(1)
        assert srv.mailbox.envelopes[0].rcpt_tos == ["ops@example.com", "cto@example.com"]
    assert got["Subject"] == "Daily report"
    assert got.get_content().strip() == "Score 93 (Excellent)"
    assert outbox.get(db.connection(), nid)["message_id"] == "<report.2026-11-25@tradewatch>"


def test_rows_without_recipients_use_the_config(db):
    with smtp_server() as srv:
        sender = OutboxSender(smtp_config(srv.port), db)
        ctx = alert_context(severity="emergency", labels={"severity": "emergency"})
        queue(db, time.time(), "firing", ctx, recipients=())
        sender.run_once()
        srv.mailbox.wait_for(1)
        assert srv.mailbox.envelopes[0].rcpt_tos == ["ops@example.com", "boss@example.com"]


def test_corrupt_context_fails_without_blocking_the_rest(db):
    with smtp_server() as srv:
        sender = OutboxSender(smtp_config(srv.port), db)
        bad = queue(db, time.time(), "test", {})
        db.connection().execute("UPDATE notifications SET context = '{not json' WHERE id = ?", (bad,))
        good = queue(db, time.time(), "test", {"note": "fine"})
        assert sender.run_once() == 2
        srv.mailbox.wait_for(1)
    assert statuses(db) == {bad: "failed", good: "sent"}


def test_metrics_hook_sees_every_outcome(db):
    seen = []
    clock = FakeClock()
    with smtp_server() as srv:
        sender = OutboxSender(smtp_config(srv.port), db, clock=clock, on_result=seen.append)
        queue(db, clock(), "test", {"note": "1"})
        sender.run_once()
        srv.mailbox.fail_with = "451 later"
        queue(db, clock(), "test", {"note": "2"})
        sender.run_once()
        srv.mailbox.fail_with = "550 no"
        clock.advance(60)
        sender.run_once()
    assert seen == ["sent", "retried", "failed"]


def test_error_texts_never_hold_the_password(db):
    password = "hunter2-very-secret"
    clock = FakeClock()
    with smtp_server() as srv:
        # a server that quotes the secret back in its reply (some echo what they were sent)
        srv.mailbox.fail_with = f"451 4.7.0 not now {password}"
        sender = OutboxSender(smtp_config(srv.port, password=password), db, clock=clock)
        nid = queue(db, clock(), "test", {})
        result = sender.run_once() and outbox.get(db.connection(), nid)
    assert result["status"] == "pending" and "451" in result["last_error"]
    assert password not in result["last_error"]
    assert "********" in result["last_error"]


def test_backoff_doubles_from_5s_to_15min_with_bounded_jitter():
    assert [backoff_delay(n) for n in (1, 2, 3, 4)] == pytest.approx([4.5, 9, 18, 36])
    assert backoff_delay(30, jitter=0.99) == 900
    assert backoff_delay(1, jitter=0.5) == pytest.approx(5)
    for n in range(1, 20):
        for j in (0.0, 0.5, 0.999):
            assert 0 < backoff_delay(n, jitter=j) <= 900


CRASHING_SENDER = """
import sys, threading
from alert_bridge.store.database import Database
from alert_bridge.notify.sender import OutboxSender
from tradewatch.config import parse_config
cfg = parse_config({"email": {"smtp_server": "127.0.0.1", "smtp_port": int(sys.argv[2]), "security": "none",
                              "timeout": "30s", "to": ["ops@example.com"]}}, env={})
db = Database(sys.argv[1])
OutboxSender(cfg, db).loop(threading.Event())
"""


def test_sender_killed_mid_send_delivers_exactly_once_after_restart(db, tmp_path):
    """SIGKILL while the row is claimed and the SMTP session is open; a restart sends it once."""
    nid = queue(db, time.time(), "firing", alert_context())
    with socket.socket() as silent:  # accepts the connection, never says 220: the send hangs
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        proc = Proc([sys.executable, "-c", CRASHING_SENDER, db.path, str(port)], tmp_path / "sender.log",
                    cwd=REPO)
        try:
            wait_until(lambda: outbox.get(db.connection(), nid)["status"] == "sending", timeout=20,
                       what="the crashing sender to claim the row")
        finally:
            proc.kill()
    row = outbox.get(db.connection(), nid)
    assert row["status"] == "sending" and row["attempts"] == 1  # the claim outlived the process
    with smtp_server(port=port) as srv:
        clock = FakeClock(row["claimed_until"] - 1)
        restarted = OutboxSender(smtp_config(port), db, clock=clock)
        assert restarted.run_once() == 0  # lease of the dead process still holds
        clock.advance(2)
        assert restarted.run_once() == 1
        clock.advance(3600)
        assert restarted.run_once() == 0
        srv.mailbox.wait_for(1)
        time.sleep(0.2)
        assert len(srv.mailbox.messages) == 1
    assert outbox.get(db.connection(), nid)["status"] == "sent"
