"""Getting a composed message out: SMTP (starttls | ssl | none) or `.eml` files in a folder.

Failures are classified for the outbox: TransientError (connection refused or reset, timeouts,
TLS trouble, 4xx answers) is retried with backoff; PermanentError (5xx answers, a server
without the STARTTLS we were told to use) is not. Error texts never carry the password.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import smtplib
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from tradewatch.config import Email

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 5.0  # seconds a held SMTP session may sit unused before the sender quits it
MAX_PER_SESSION = 100  # then a fresh session: some providers cap messages per connection


class DeliveryError(Exception):
    """A send that did not happen; the text is safe to store and show."""


class TransientError(DeliveryError):
    """Worth retrying later: the server was unreachable, slow, or said 4xx."""


class PermanentError(DeliveryError):
    """Retrying will not help: the server said 5xx or cannot do what the config asks."""


class Transport(Protocol):
    """What the sender needs. A transport may also offer `hold()` (a context manager: keep a
    connection open between sends), `close_idle()` and `close()`; the sender uses them if so."""

    name: str

    def send(self, msg: EmailMessage, sender: str, recipients: Sequence[str]) -> None:
        """Deliver `msg` to `recipients` or raise TransientError / PermanentError."""
        ...


def make_transport(email_config: Email, outbox_dir: str | os.PathLike[str]) -> Transport:
    """SMTP when `email.smtp_server` is set, else the file sink in `bridge.outbox_dir`."""
    if not email_config.smtp_server.strip():
        return FileSink(Path(outbox_dir))
    return SmtpTransport(email_config)


# --------------------------------------------------------------------------- file sink

class FileSink:
    """Writes each message as an .eml file; a message written is a message delivered."""

    name = "file"

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def send(self, msg: EmailMessage, sender: str, recipients: Sequence[str]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            data = msg.as_bytes()
            final = self.directory / eml_name(msg.get("Message-ID", ""), time.time())
            # temp file + rename in the same folder: a reader never sees half a message, and the
            # temp file is no *.eml, so a reader listing *.eml never meets one that vanishes
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:  # disk full, permissions: may clear up, so retry
            raise TransientError(f"cannot write to {self.directory}: {exc.strerror or exc}") from exc
        log.info("email written to %s", final)


def eml_name(message_id: str, now: float) -> str:
    """A sortable, filesystem-safe file name: UTC time stamp + the Message-ID's local part."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    local = message_id.strip().strip("<>").split("@", 1)[0]
    local = re.sub(r"[^A-Za-z0-9._-]+", "_", local)[:80].strip("._") or "message"
    return f"{stamp}-{local}.eml"


# --------------------------------------------------------------------------- SMTP

class SmtpTransport:
    """SMTP delivery that reuses one session for a burst of messages.

    By itself `send` opens a session, sends and quits (nothing left open). While a caller
    `hold()`s the transport (the outbox sender does while it drains the queue and for
    `idle_timeout` seconds after), the session stays open between messages: one connect + TLS
    + EHLO + AUTH per burst instead of per email. A session the server dropped (idle timeout,
    restart) is noticed at the next MAIL FROM, before the message was transmitted, and that
    message is sent again at once on a fresh session; a failure during DATA is never repeated
    here (the server may have taken the message): it goes back to the outbox as usual.
    """

    name = "smtp"

    def __init__(self, config: Email, *, idle_timeout: float = IDLE_TIMEOUT,
                 max_per_session: int = MAX_PER_SESSION):
        self.config = config
        self.host = config.smtp_server.strip()
        self.port = config.smtp_port
        self.security = config.security
        self.timeout = float(config.timeout) or 10.0
        self.idle_timeout = idle_timeout
        self.max_per_session = max_per_session
        self.sessions = 0  # sessions opened so far (for tests and the benchmark)
        self._client: smtplib.SMTP | None = None
        self._sent_in_session = 0
        self._last_used = 0.0
        self._holds = 0
        self._lock = threading.RLock()

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name verified unless `email.verify_tls: false`."""
        ctx = ssl.create_default_context(cafile=self.config.ca_file or None)
        if not self.config.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep the session open between sends until the outermost hold ends."""
        with self._lock:
            self._holds += 1
        try:
            yield
        finally:
            with self._lock:
                self._holds -= 1
                if self._holds == 0:
                    self.close()

    def close_idle(self) -> None:
        """Quit a held session unused for `idle_timeout` seconds (called by the sender loop)."""
        with self._lock:
            if self._client is not None and time.monotonic() - self._last_used >= self.idle_timeout:
                self.close()

    def close(self) -> None:
        """Quit the open session, if any (politely; a dead one is just closed)."""
        with self._lock:
            client, self._client = self._client, None
            self._sent_in_session = 0
        if client is not None:
            try:
                client.quit()
            except Exception:  # already gone: close the socket and move on
                with contextlib.suppress(Exception):
                    client.close()

    def send(self, msg: EmailMessage, sender: str, recipients: Sequence[str]) -> None:
        if not recipients:
            raise PermanentError("no recipients: set email.to in the config")
        with self._lock:
            try:
                refused = self._send_reusing(msg, sender, list(recipients))
            except DeliveryError:
                raise
            except Exception as exc:
                raise classify(exc, self._secrets()) from None
            finally:
                if self._holds == 0 or self._sent_in_session >= self.max_per_session:
                    self.close()
        if refused:
            # Some recipients took it: the email is out; say who did not get it.
            log.warning("%s recipient(s) refused: %s", len(refused),
                        scrub(_describe_refused(refused), self._secrets()))

    def _send_reusing(self, msg: EmailMessage, sender: str,
                      recipients: list[str]) -> dict[str, tuple[int, bytes]]:
        reused = self._client is not None
        client = self._client or self._open()
        try:
            refused = self._transmit(client, msg, sender, recipients)
        except Exception as exc:
            if not (reused and not client.in_data and _session_lost(exc)):
                raise
            # The server dropped the kept session before it saw this message: once more, fresh.
            log.info("SMTP session to %s:%s was closed by the server (%s); reconnecting",
                     self.host, self.port, scrub(str(exc), self._secrets()) or type(exc).__name__)
            refused = self._transmit(self._open(), msg, sender, recipients)
        return refused

    def _transmit(self, client: _Client, msg: EmailMessage, sender: str,
                  recipients: list[str]) -> dict[str, tuple[int, bytes]]:
        client.in_data = False
        try:
            refused = client.send_message(msg, from_addr=sender, to_addrs=recipients)
        except Exception as exc:
            if _session_survives(exc):
                self._touch()  # smtplib sent RSET after the refusal: the session is reusable
            else:
                self._drop()
            raise
        self._touch()
        self._sent_in_session += 1
        return refused

    def _touch(self) -> None:
        self._last_used = time.monotonic()

    def _drop(self) -> None:
        client, self._client = self._client, None
        self._sent_in_session = 0
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def _open(self) -> _Client:
        self._drop()
        client: _Client
        if self.security == "ssl":
            client = _SslClient(self.host, self.port, timeout=self.timeout, context=self.tls_context())
        else:
            client = _PlainClient(self.host, self.port, timeout=self.timeout)
        try:
            client.ehlo()
            if self.security == "starttls":
                if not client.has_extn("starttls"):
                    raise PermanentError(
                        f"{self.host}:{self.port} does not offer STARTTLS (email.security is "
                        "starttls; use ssl for port 465, or none only on a trusted network)"
                    )
                client.starttls(context=self.tls_context())
                client.ehlo()
            if self.config.username:
                client.login(self.config.username, self.config.password)
        except BaseException:
            with contextlib.suppress(Exception):
                client.close()
            raise
        self.sessions += 1
        self._client = client
        self._touch()
        return client

    def _secrets(self) -> list[str]:
        return [self.config.password] if self.config.password else []


class _TracksData:
    """Notes when DATA began: before it, the server cannot have taken the message."""

    in_data = False

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        self.in_data = True
        return super().data(msg)  # type: ignore[misc]


class _PlainClient(_TracksData, smtplib.SMTP):
    pass


class _SslClient(_TracksData, smtplib.SMTP_SSL):
    pass


_Client = _PlainClient | _SslClient


def _session_survives(exc: BaseException) -> bool:
    """A refusal (4xx/5xx reply other than 421) leaves the session usable: smtplib sent RSET."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code != 421 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code not in (421, -1) \
        and exc.smtp_code >= 400


def _session_lost(exc: BaseException) -> bool:
    """The server closed the session (not a timeout: a hung server is not retried at once)."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code in (421, -1)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)


def classify(exc: BaseException, secrets: Sequence[str] = ()) -> DeliveryError:
    """Map an smtplib / socket / ssl exception to Transient or Permanent, with a safe text."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = scrub("all recipients refused: " + _describe_refused(exc.recipients), secrets)
        if codes and all(400 <= c < 500 for c in codes):
            return TransientError(text)
        return PermanentError(text)
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        text = scrub(f"SMTP {exc.smtp_code} {' '.join(reply.split())}", secrets)
        if 500 <= exc.smtp_code < 600:
            return PermanentError(text)
        return TransientError(text)  # 4xx, and odd codes (e.g. -1 from a dropped connection)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentError(scrub(f"server does not support it: {exc}", secrets))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TransientError(scrub(
            f"TLS certificate verification failed: {exc.verify_message or exc} "
            "(set email.ca_file for a private CA)", secrets))
    if isinstance(exc, ssl.SSLError):
        return TransientError(scrub(f"TLS error: {exc}", secrets))
    if isinstance(exc, TimeoutError | socket.timeout):
        return TransientError("timed out talking to the SMTP server")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientError(scrub(f"SMTP server disconnected: {exc}", secrets))
    if isinstance(exc, OSError):
        return TransientError(scrub(f"cannot reach the SMTP server: {exc.strerror or exc}", secrets))
    if isinstance(exc, smtplib.SMTPException):
        return TransientError(scrub(f"SMTP error: {exc}", secrets))
    return TransientError(scrub(f"{type(exc).__name__}: {exc}", secrets))


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Remove secrets (and their base64 forms, as AUTH sends them) from a message."""
    for secret in secrets:
        if not secret:
            continue
        forms = {secret, base64.b64encode(secret.encode()).decode()}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "********")
    return text


def _describe_refused(refused: dict[str, tuple[int, bytes]]) -> str:
    parts = []
    for addr, (code, reply) in refused.items():
        reply_text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        parts.append(f"{addr}: {code} {' '.join(reply_text.split())}")
    return "; ".join(parts)
