"""Transports against a real SMTP server (aiosmtpd on 127.0.0.1), TLS with a trustme CA."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword

from alert_bridge.notify.compose import compose
from alert_bridge.notify.sender import OutboxSender
from alert_bridge.notify.transport import (
    FileSink,
    PermanentError,
    SmtpTransport,
    TransientError,
    make_transport,
)
from alert_bridge.store import outbox
from tests.support.notify import FakeClock, alert_context, body, email_config
from tests.support.procs import free_port
from tests.support.smtp import server_tls_context, smtp_server

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 25, 1, 58, 30, tzinfo=UTC)
PASSWORD = "s3cret-Pa55-word"


def smtp_config(port, **email):
    return email_config(smtp_server="127.0.0.1", smtp_port=port, timeout="3s",
                        **{"security": "none", **email})


def message(cfg):
    return compose("firing", alert_context(), cfg, now=NOW)


def test_plain_smtp_delivers_a_multipart_email():
    with smtp_server() as srv:
        cfg = smtp_config(srv.port)
        transport = make_transport(cfg.email, "/nonexistent")
        assert isinstance(transport, SmtpTransport)
        transport.send(message(cfg), "tradewatch@example.com", ["ops@example.com", "boss@example.com"])
        (got,) = srv.mailbox.wait_for(1)
        env = srv.mailbox.envelopes[0]
    assert env.mail_from == "tradewatch@example.com"
    assert env.rcpt_tos == ["ops@example.com", "boss@example.com"]
    assert got.get_content_type() == "multipart/alternative"
    assert got["Subject"] == "[CRITICAL] HighCpuUsage on web-1:9184"
    assert "CPU usage is 97.2%" in body(got, "plain")
    assert "CPU usage is 97.2%" in body(got, "html")


def test_starttls_with_verification_against_a_test_ca(server_cert, ca_file):
    with smtp_server(tls_context=server_tls_context(server_cert), require_starttls=True) as srv:
        cfg = smtp_config(srv.port, security="starttls", ca_file=ca_file)
        assert cfg.email.verify_tls is True
        make_transport(cfg.email, "/x").send(message(cfg), "tw@example.com", ["ops@example.com"])
        (got,) = srv.mailbox.wait_for(1)
    assert got["Subject"].startswith("[CRITICAL]")


def test_implicit_tls_with_verification_against_a_test_ca(server_cert, ca_file):
    with smtp_server(ssl_context=server_tls_context(server_cert)) as srv:
        cfg = smtp_config(srv.port, security="ssl", ca_file=ca_file)
        make_transport(cfg.email, "/x").send(message(cfg), "tw@example.com", ["ops@example.com"])
        (got,) = srv.mailbox.wait_for(1)
    assert got["Subject"].startswith("[CRITICAL]")


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_untrusted_certificate_is_refused(security, server_cert, tmp_path):
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    tls = server_tls_context(server_cert)
    kw = {"tls_context": tls, "require_starttls": True} if security == "starttls" else {"ssl_context": tls}
    with smtp_server(**kw) as srv:
        for ca_file in (str(other_ca), ""):  # a wrong private CA, and the system store
            cfg = smtp_config(srv.port, security=security, ca_file=ca_file)
            with pytest.raises(TransientError, match="certificate verification failed"):
                make_transport(cfg.email, "/x").send(message(cfg), "tw@example.com", ["ops@example.com"])
        assert srv.mailbox.messages == []
        # Only an explicit opt-out skips verification.
        cfg = smtp_config(srv.port, security=security, verify_tls=False)
        make_transport(cfg.email, "/x").send(message(cfg), "tw@example.com", ["ops@example.com"])
        srv.mailbox.wait_for(1)


def test_starttls_required_but_not_offered_is_permanent():
    with smtp_server() as srv:
        cfg = smtp_config(srv.port, security="starttls")
        with pytest.raises(PermanentError, match="does not offer STARTTLS"):
            make_transport(cfg.email, "/x").send(message(cfg), "tw@example.com", ["ops@example.com"])
        assert srv.mailbox.messages == []


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"tw-user", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def test_login_over_starttls_and_a_wrong_password_never_shows_it(server_cert, ca_file, caplog):
    with smtp_server(tls_context=server_tls_context(server_cert), require_starttls=True,
                     authenticator=_authenticator, auth_require_tls=True) as srv:
        cfg = smtp_config(srv.port, security="starttls", ca_file=ca_file,
                          username="tw-user", password=PASSWORD)
        make_transport(cfg.email, "/x").send(message(cfg), "tw@example.com", ["ops@example.com"])
        srv.mailbox.wait_for(1)

        wrong = smtp_config(srv.port, security="starttls", ca_file=ca_file,
                            username="tw-user", password="wrong-" + PASSWORD)
        with caplog.at_level(logging.DEBUG), pytest.raises(PermanentError) as err:
            make_transport(wrong.email, "/x").send(message(wrong), "tw@example.com", ["ops@example.com"])
    assert "535" in str(err.value)
    assert PASSWORD not in str(err.value)
    assert PASSWORD not in caplog.text


def test_smtp_down_is_transient():
    cfg = smtp_config(free_port())
    with pytest.raises(TransientError, match="cannot reach the SMTP server"):
        make_transport(cfg.email, "/x").send(message(cfg), "tw@example.com", ["ops@example.com"])


def test_a_server_that_never_answers_times_out():
    with socket.socket() as listener:  # accepts TCP connections (backlog) but never speaks SMTP
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        cfg = email_config(smtp_server="127.0.0.1", smtp_port=listener.getsockname()[1],
                           security="none", timeout="0.5s")
        with pytest.raises(TransientError, match="timed out"):
            make_transport(cfg.email, "/x").send(message(cfg), "tw@example.com", ["ops@example.com"])


@pytest.mark.parametrize("reply, error", [("550 5.7.1 rejected by policy", PermanentError),
                                          ("554 5.0.0 transaction failed", PermanentError),
                                          ("451 4.3.0 try again later", TransientError),
                                          ("421 4.7.0 too busy", TransientError)])
def test_smtp_reply_codes_are_classified(reply, error):
    with smtp_server() as srv:
        srv.mailbox.fail_with = reply
        cfg = smtp_config(srv.port)
        with pytest.raises(error) as raised:
            make_transport(cfg.email, "/x").send(message(cfg), "tw@example.com", ["ops@example.com"])
    assert reply.split()[0] in str(raised.value)
    assert type(raised.value) is error


# ----------------------------------------------------------------- through the outbox



def queue(db, clock, kind="test", context=None):
    with db.transaction() as conn:
        return outbox.enqueue(conn, kind, ["ops@example.com"], context or {"note": "hi"}, now=clock())


def test_550_is_marked_failed_and_not_retried(db):
    clock = FakeClock()
    with smtp_server() as srv:
        srv.mailbox.fail_with = "550 5.1.1 no such user"
        sender = OutboxSender(smtp_config(srv.port), db, clock=clock)
        nid = queue(db, clock)
        assert sender.run_once() == 1
        row = outbox.get(db.connection(), nid)
        assert row["status"] == "failed" and "550" in row["last_error"] and row["attempts"] == 1
        for _ in range(3):  # however much time passes, it is never tried again
            clock.advance(3600)
            assert sender.run_once() == 0
    assert sender.counters == {"sent": 0, "failed": 1, "retried": 0}


def test_451_is_retried_with_backoff_then_delivered(db):
    clock = FakeClock()
    with smtp_server() as srv:
        srv.mailbox.fail_with = "451 4.3.0 greylisted"
        sender = OutboxSender(smtp_config(srv.port), db, clock=clock, rng=lambda: 0.5)
        nid = queue(db, clock)
        assert sender.run_once() == 1
        row = outbox.get(db.connection(), nid)
        assert row["status"] == "pending" and "451" in row["last_error"]
        assert row["next_attempt_at"] == pytest.approx(clock() + 5)
        assert sender.run_once() == 0  # not due yet
        clock.advance(5)
        assert sender.run_once() == 1  # second try, still greylisted: now 10 s
        assert outbox.get(db.connection(), nid)["next_attempt_at"] == pytest.approx(clock() + 10)
        srv.mailbox.fail_with = None
        clock.advance(10)
        assert sender.run_once() == 1
        (got,) = srv.mailbox.wait_for(1)
    row = outbox.get(db.connection(), nid)
    assert row["status"] == "sent" and row["attempts"] == 3 and row["message_id"] == got["Message-ID"]
    assert sender.counters == {"sent": 1, "failed": 0, "retried": 2}


def test_transient_failures_give_up_after_max_attempts(db):
    clock = FakeClock()
    cfg = smtp_config(free_port(), max_attempts=3)
    sender = OutboxSender(cfg, db, clock=clock)
    nid = queue(db, clock)
    for _ in range(3):
        assert sender.run_once() == 1
        clock.advance(3600)
    row = outbox.get(db.connection(), nid)
    assert row["status"] == "failed" and "gave up after 3 attempts" in row["last_error"]
    assert sender.run_once() == 0


# ----------------------------------------------------------------- the file sink


def test_file_sink_writes_eml_files_and_counts_as_delivered(db, tmp_path):
    out = tmp_path / "outbox"
    cfg = email_config()  # smtp_server empty: the embedded default
    transport = make_transport(cfg.email, out)
    assert isinstance(transport, FileSink)
    clock = FakeClock()
    sender = OutboxSender(cfg, db, transport=transport, clock=clock)
    first = queue(db, clock, "firing", alert_context())
    second = queue(db, clock, "test", {"note": "x"})
    assert sender.run_once() == 2
    files = sorted(out.glob("*.eml"))
    assert len(files) == 2
    assert not [p for p in out.iterdir() if p.suffix != ".eml"]  # no temp files left behind
    parsed = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]
    subjects = {m["Subject"] for m in parsed}
    assert subjects == {"[CRITICAL] HighCpuUsage on web-1:9184", "[TEST] TradeWatch test email"}
    firing = next(m for m in parsed if m["Subject"].startswith("[CRITICAL]"))
    assert [p.get_content_type() for p in firing.iter_parts()] == ["text/plain", "text/html"]
    for nid in (first, second):
        assert outbox.get(db.connection(), nid)["status"] == "sent"


def test_file_sink_shows_no_eml_until_the_message_is_complete(tmp_path, monkeypatch):
    # a reader that lists *.eml (a mail viewer, the e2e tests) must never meet the temp file: the
    # first-hour e2e test once read one just as it was renamed (FileNotFoundError)
    out = tmp_path / "outbox"
    seen: list[list[str]] = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append(sorted(p.name for p in out.glob("*.eml")))
        assert Path(src).exists() and not Path(src).name.endswith(".eml")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    msg = compose("test", {"note": "x"}, email_config(), now=NOW)
    FileSink(out).send(msg, "tw@example.com", ["ops@example.com"])
    assert seen == [[]]
    assert [p.suffix for p in out.iterdir()] == [".eml"]


def test_file_sink_unwritable_folder_is_transient(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("file in the way")
    with pytest.raises(TransientError, match="cannot write"):
        FileSink(blocker / "outbox").send(message(email_config()), "tw@example.com", ["ops@example.com"])
