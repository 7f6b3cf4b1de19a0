"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import contextlib
import email
import email.policy
import ssl
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.procs import free_port


class Mailbox:
    """aiosmtpd handler: stores messages; `fail_with` makes it answer DATA with an error code."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.fail_with: str | None = None  # e.g. "550 5.7.1 rejected" or "451 4.3.0 try later"
        self._cv = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.fail_with:
            return self.fail_with
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._cv:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.envelopes.append(envelope)
            self._cv.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._cv:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} email(s) within {timeout}s, got {len(self.messages)}: "
                        f"{[m['Subject'] for m in self.messages]}"
                    )
                self._cv.wait(left)
            return list(self.messages)


class SmtpServer:
    def __init__(self, controller: Controller, mailbox: Mailbox, port: int):
        self.controller, self.mailbox, self.port = controller, mailbox, port
        self.host = "127.0.0.1"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()

    def start(self) -> None:
        self.controller.start()


@contextlib.contextmanager
def smtp_server(port: int | None = None, **controller_kw: Any) -> Iterator[SmtpServer]:
    """Plain SMTP by default; pass tls_context=/require_starttls= or ssl_context= for TLS."""
    port = port or free_port()
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **controller_kw)
    controller.start()
    server = SmtpServer(controller, mailbox, port)
    try:
        yield server
    finally:
        server.stop()


def server_tls_context(cert: Any) -> ssl.SSLContext:
    """A server-side context from a trustme certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return ctx
