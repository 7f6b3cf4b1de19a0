"""SMTP session reuse and batch claiming: one session per burst, no loss and no duplicates when
the server drops it, per-row outcomes in a batch, leases kept while rows wait.

Real aiosmtpd on 127.0.0.1; the handler counts sessions (EHLO) and QUITs, and can drop the
connection or refuse a message at a chosen point.
"""

from __future__ import annotations

import contextlib
import select
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alert_bridge.notify.compose import compose
from alert_bridge.notify.sender import CLAIM_CHUNK, OutboxSender
from alert_bridge.notify.transport import SmtpTransport, TransientError
from alert_bridge.store import outbox
from tests.support.notify import FakeClock, email_config
from tests.support.procs import free_port, wait_until
from tests.support.smtp import Mailbox, server_tls_context

pytestmark = pytest.mark.integration


class SessionMailbox(Mailbox):
    """Counts sessions and QUITs; drops the connection or refuses a message on request.

    `drop_at_mail`: numbers (1-based, over all sessions) of MAIL FROM commands at which the
    connection is cut without a reply, as a server that timed the session out does.
    `drop_in_data` / `refuse`: notes (the test email's `note`) whose DATA is cut or answered
    with the given reply.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sessions = 0
        self.quits = 0
        self.mails = 0
        self.drop_at_mail: set[int] = set()
        self.drop_in_data: set[str] = set()
        self.refuse: dict[str, str] = {}

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self._cv:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_QUIT(self, server, session, envelope):
        with self._cv:
            self.quits += 1
        return "221 Bye"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self._cv:
            self.mails += 1
            drop = self.mails in self.drop_at_mail
        if drop:
            server.transport.abort()
            return "421 4.4.2 gone"  # never reaches the client: the connection is already cut
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        text = envelope.content.decode("utf-8", "replace")
        for note, reply in self.refuse.items():
            if f"note-{note}." in text:
                return reply
        for note in self.drop_in_data:
            if f"note-{note}." in text:
                self.drop_in_data.discard(note)  # once: the retry goes through
                server.transport.abort()
                return "451 4.4.2 gone"
        return await super().handle_DATA(server, session, envelope)


@contextlib.contextmanager
def counting_server(**server_kwargs) -> Iterator[tuple[SessionMailbox, int]]:
    mailbox = SessionMailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **server_kwargs)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()



def smtp_config(port, **email):
    return email_config(smtp_server="127.0.0.1", smtp_port=port, timeout="3s",
                        **{"security": "none", **email})


def queue_notes(db, now, notes) -> dict[str, int]:
    """One test email per note, in order; returns note -> row id."""
    ids = {}
    with db.transaction() as conn:
        for note in notes:
            ids[note] = outbox.enqueue(conn, "test", ["ops@example.com"], {"note": f"note-{note}."}, now=now)
    return ids


def received_by_note(mailbox) -> dict[str, list[str]]:
    """note -> Message-IDs of the emails the server accepted with that note."""
    out: dict[str, list[str]] = {}
    for msg in mailbox.messages:
        text = msg.get_body(("plain",)).get_content()
        note = text.split("note-", 1)[1].split(".", 1)[0]
        out.setdefault(note, []).append(msg["Message-ID"])
    return out


def rows(db, ids):
    conn = db.connection()
    return {note: outbox.get(conn, nid) for note, nid in ids.items()}


def test_a_burst_goes_out_over_one_session_kept_while_the_loop_runs(db):
    notes = [str(i) for i in range(30)]
    with counting_server() as (mailbox, port):
        sender = OutboxSender(smtp_config(port, connections=1), db)
        stop = threading.Event()
        thread = threading.Thread(target=sender.loop, args=(stop,), daemon=True)
        thread.start()
        try:
            ids = queue_notes(db, time.time(), notes)
            sender.wake()
            mailbox.wait_for(30, timeout=20)
            more = queue_notes(db, time.time(), ["late"])  # a moment later: same session
            sender.wake()
            mailbox.wait_for(31, timeout=10)
        finally:
            stop.set()
            thread.join(10)
        assert not thread.is_alive()
        wait_until(lambda: mailbox.quits == 1, timeout=5, what="the session to be closed at stop")
        assert mailbox.sessions == 1
    got = received_by_note(mailbox)
    assert sorted(got) == sorted([*notes, "late"]) and all(len(v) == 1 for v in got.values())
    for note, row in rows(db, {**ids, **more}).items():
        assert row["status"] == "sent" and row["attempts"] == 1
        assert row["message_id"] == got[note][0]  # each row records its own message


def test_parallel_connections_share_a_burst_without_sending_anything_twice(db):
    notes = [str(i) for i in range(40)]
    with counting_server() as (mailbox, port):
        sender = OutboxSender(smtp_config(port, connections=3), db)
        assert sender.connections == 3
        stop = threading.Event()
        thread = threading.Thread(target=sender.loop, args=(stop,), daemon=True)
        thread.start()
        try:
            ids = queue_notes(db, time.time(), notes)
            sender.wake()
            mailbox.wait_for(40, timeout=20)
            time.sleep(0.2)  # a duplicate would arrive here
        finally:
            stop.set()
            thread.join(10)
        assert not thread.is_alive()
        assert not [t for t in threading.enumerate() if t.name.startswith("tradewatch-sender-")]
        wait_until(lambda: mailbox.quits == mailbox.sessions, timeout=5, what="every session closed")
        assert 1 <= mailbox.sessions <= 3
    got = received_by_note(mailbox)
    assert sorted(got) == sorted(notes) and all(len(v) == 1 for v in got.values())
    for note, row in rows(db, ids).items():
        assert row["status"] == "sent" and row["attempts"] == 1 and row["message_id"] == got[note][0]
    assert sender.counters["sent"] == 40


def test_an_idle_session_is_closed_and_the_next_email_opens_a_new_one(db):
    with counting_server() as (mailbox, port):
        cfg = smtp_config(port)
        sender = OutboxSender(cfg, db, transport=SmtpTransport(cfg.email, idle_timeout=0.2))
        stop = threading.Event()
        thread = threading.Thread(target=sender.loop, args=(stop,), daemon=True)
        thread.start()
        try:
            queue_notes(db, time.time(), ["a"])
            sender.wake()
            mailbox.wait_for(1)
            wait_until(lambda: mailbox.quits == 1, timeout=5, what="the idle session to be closed")
            queue_notes(db, time.time(), ["b"])
            sender.wake()
            mailbox.wait_for(2)
        finally:
            stop.set()
            thread.join(10)
        assert mailbox.sessions == 2


def test_run_once_by_itself_leaves_no_session_open(db):
    with counting_server() as (mailbox, port):
        sender = OutboxSender(smtp_config(port), db)
        queue_notes(db, time.time(), ["1", "2", "3"])
        assert sender.run_once() == 3
        mailbox.wait_for(3)
        wait_until(lambda: mailbox.quits == 1, timeout=5, what="QUIT after run_once")
        assert mailbox.sessions == 1


def test_session_dropped_between_messages_is_reopened_without_loss_or_duplicates(db):
    notes = [str(i) for i in range(8)]
    with counting_server() as (mailbox, port):
        mailbox.drop_at_mail = {4}  # the 4th message's MAIL FROM: the server hangs up
        sender = OutboxSender(smtp_config(port), db)
        ids = queue_notes(db, time.time(), notes)
        assert sender.run_once() == 8
        mailbox.wait_for(8)
        time.sleep(0.2)  # a stray duplicate would arrive here
        assert mailbox.sessions == 2
    got = received_by_note(mailbox)
    assert sorted(got) == sorted(notes) and all(len(v) == 1 for v in got.values())
    for note, row in rows(db, ids).items():
        # sent on the first attempt: the message had not reached the server before the drop
        assert row["status"] == "sent" and row["attempts"] == 1 and row["last_error"] is None
        assert row["message_id"] == got[note][0]
    assert sender.counters == {"sent": 8, "failed": 0, "retried": 0}


def test_session_dropped_during_data_retries_only_that_row_later(db):
    clock = FakeClock()
    notes = [str(i) for i in range(6)]
    with counting_server() as (mailbox, port):
        mailbox.drop_in_data = {"2"}  # cut while the server has the message: maybe taken, maybe not
        sender = OutboxSender(smtp_config(port), db, clock=clock, rng=lambda: 0.5)
        ids = queue_notes(db, clock(), notes)
        assert sender.run_once() == 6
        mailbox.wait_for(5)
        after = rows(db, ids)
        assert after["2"]["status"] == "pending" and "disconnected" in after["2"]["last_error"]
        assert after["2"]["next_attempt_at"] == pytest.approx(clock() + 5)
        assert all(after[n]["status"] == "sent" for n in notes if n != "2")
        assert mailbox.sessions == 2  # the rest went on over a fresh session
        clock.advance(5)
        assert sender.run_once() == 1
        mailbox.wait_for(6)
        time.sleep(0.2)
    got = received_by_note(mailbox)
    assert sorted(got) == sorted(notes) and all(len(v) == 1 for v in got.values())
    final = rows(db, ids)
    assert final["2"]["status"] == "sent" and final["2"]["attempts"] == 2
    assert all(final[n]["message_id"] == got[n][0] for n in notes)


def test_a_refusal_in_a_batch_decides_only_that_row_and_keeps_the_session(db):
    clock = FakeClock()
    notes = [str(i) for i in range(7)]
    with counting_server() as (mailbox, port):
        mailbox.refuse = {"2": "550 5.7.1 rejected by policy", "5": "451 4.3.0 try again later"}
        sender = OutboxSender(smtp_config(port), db, clock=clock)
        ids = queue_notes(db, clock(), notes)
        assert sender.run_once() == 7
        mailbox.wait_for(5)
        time.sleep(0.2)
        assert mailbox.sessions == 1  # smtplib's RSET after a refusal keeps the session usable
    after = rows(db, ids)
    assert after["2"]["status"] == "failed" and "550" in after["2"]["last_error"]
    assert after["5"]["status"] == "pending" and "451" in after["5"]["last_error"]
    got = received_by_note(mailbox)
    assert sorted(got) == sorted(n for n in notes if n not in ("2", "5"))
    for note in got:
        assert after[note]["status"] == "sent" and after[note]["last_error"] is None
        assert after[note]["message_id"] == got[note][0]
    assert sender.counters == {"sent": 5, "failed": 1, "retried": 1}


def test_held_session_closed_by_the_server_idle_timeout_is_recovered_at_once():
    with counting_server(timeout=0.3) as (mailbox, port):  # aiosmtpd cuts idle sessions at 0.3 s
        cfg = smtp_config(port)
        transport = SmtpTransport(cfg.email, idle_timeout=60)
        msgs = []
        for n in ("a", "b"):
            msgs.append(compose("test", {"note": f"note-{n}."}, cfg, notification_id=len(msgs) + 1))
        with transport.hold():
            transport.send(msgs[0], "tw@example.com", ["ops@example.com"])
            sock = transport._client.sock
            wait_until(lambda: _closed_by_peer(sock), timeout=10, what="aiosmtpd to time the session out")
            transport.send(msgs[1], "tw@example.com", ["ops@example.com"])
        mailbox.wait_for(2)
        assert mailbox.sessions == transport.sessions == 2


def _closed_by_peer(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""


def test_a_drop_during_data_is_reported_not_repeated_by_the_transport():
    """The server may have taken the message: the outbox, not the transport, decides on a retry.
    Without a hold, each send is a session of its own (opened and closed)."""
    with counting_server() as (mailbox, port):
        cfg = smtp_config(port)
        mailbox.drop_in_data = {"x"}
        msg = compose("test", {"note": "note-x."}, cfg, notification_id=1)
        transport = SmtpTransport(cfg.email)
        with pytest.raises(TransientError, match="disconnected"):
            transport.send(msg, "tw@example.com", ["ops@example.com"])
        transport.send(msg, "tw@example.com", ["ops@example.com"])
        mailbox.wait_for(1)
        assert mailbox.sessions == transport.sessions == 2


class SlowTransport:
    """Each send takes 40 s of the fake clock; a rival sender tries to claim at every send."""

    name = "slow"

    def __init__(self, db, clock, stop_after: int | None = None, stop: threading.Event | None = None):
        self.db, self.clock, self.stop_after, self.stop = db, clock, stop_after, stop
        self.sent: list[str] = []
        self.stolen: list[int] = []

    def send(self, msg, sender, recipients):
        self.clock.advance(40)
        with self.db.transaction() as conn:
            self.stolen += [r["id"] for r in outbox.claim_due(conn, self.clock(), 100, 60)]
        self.sent.append(msg["Message-ID"])
        if self.stop_after is not None and len(self.sent) >= self.stop_after:
            self.stop.set()


def test_rows_waiting_in_a_batch_keep_their_lease_through_slow_sends(db):
    clock = FakeClock()
    ids = queue_notes(db, clock(), [str(i) for i in range(5)])
    transport = SlowTransport(db, clock)
    sender = OutboxSender(email_config(), db, transport=transport, clock=clock)
    assert CLAIM_CHUNK >= 5  # all five in one claim
    assert sender.run_once() == 5  # 200 s of sends; each lease is 65 s
    assert transport.stolen == []
    assert len(transport.sent) == len(set(transport.sent)) == 5
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in rows(db, ids).values())


def test_stopping_mid_batch_hands_back_the_rows_not_tried(db):
    clock = FakeClock()
    ids = queue_notes(db, clock(), [str(i) for i in range(4)])
    stop = threading.Event()
    transport = SlowTransport(db, clock, stop_after=1, stop=stop)
    transport.clock = FakeClock(clock())  # sends take no time here: no rival claims due
    sender = OutboxSender(email_config(), db, transport=transport, clock=clock)
    assert sender.run_once(stop) == 1
    after = rows(db, ids)
    assert after["0"]["status"] == "sent"
    for n in ("1", "2", "3"):
        assert after[n]["status"] == "pending" and after[n]["attempts"] == 0
        assert after[n]["claimed_until"] is None and after[n]["next_attempt_at"] <= clock()
    assert sender.run_once() == 3  # due at once for the next sender


class LockingTransport:
    """Another process's writer holds SQLite's write lock from the first send to the last."""

    name = "locking"

    def __init__(self, path, count):
        self.path, self.count, self.sent = path, count, []
        self.rival = sqlite3.connect(path, isolation_level=None)

    def send(self, msg, sender, recipients):
        self.sent.append(msg["Message-ID"])
        if len(self.sent) == 1:
            self.rival.execute("BEGIN IMMEDIATE")
        if len(self.sent) == self.count:
            self.rival.execute("COMMIT")


def test_a_locked_database_does_not_hold_up_the_next_email(db):
    ids = queue_notes(db, time.time(), [str(i) for i in range(4)])
    transport = LockingTransport(db.path, 4)
    try:
        sender = OutboxSender(email_config(), db, transport=transport)
        # With the lock held from the first send, recording each outcome before the next send
        # would stall (and give up after the busy timeout); they are recorded after the lock.
        assert sender.run_once() == 4
    finally:
        transport.rival.close()
    assert len(set(transport.sent)) == 4
    assert all(r["status"] == "sent" for r in rows(db, ids).values())
    assert sender._outcomes == []


def test_starttls_and_login_happen_once_for_a_burst(db, server_cert, ca_file):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(mechanism)
        return AuthResult(success=auth_data == LoginPassword(b"tw-user", b"pw"), handled=False)

    tls = server_tls_context(server_cert)
    with counting_server(tls_context=tls, require_starttls=True, authenticator=authenticator,
                         auth_require_tls=True) as (mailbox, port):
        cfg = smtp_config(port, security="starttls", ca_file=ca_file, username="tw-user", password="pw")
        sender = OutboxSender(cfg, db)
        queue_notes(db, time.time(), [str(i) for i in range(5)])
        assert sender.run_once() == 5
        mailbox.wait_for(5)
        assert sender.transport.sessions == 1
        assert mailbox.sessions == 2  # EHLO before and after STARTTLS, on one connection
        assert len(logins) == 1
