"""The outbox sender: claims due notifications, composes, sends, records the outcome.

Rows with a `channel` go to that push channel through Apprise (notify/apprise_channel.py), with
the same leases, backoff and failure classification as email.

All state is in SQLite (`alert_bridge/store/outbox.py`), so a restart picks up where the last
process stopped: rows it had claimed come back once their lease passes. Transient failures
(connection errors, timeouts, 4xx) are retried with exponential backoff and jitter, 5 s
doubling to 15 min, until `email.max_attempts`; permanent ones (5xx) are marked failed at once.

A burst is cheap: due rows are claimed several per UPDATE, sent over one SMTP session that the
loop keeps open while there is work (see SmtpTransport.hold), and their outcomes are committed
without waiting behind the web process's writes. Each row is still sent once: it stays leased
(`sending`) until its outcome is committed.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from alert_bridge.notify.apprise_channel import ChannelTransport, CoolingDown
from alert_bridge.notify.compose import compose, recipients_for, sender_address
from alert_bridge.notify.transport import (
    PermanentError,
    SmtpTransport,
    TransientError,
    Transport,
    make_transport,
    scrub,
)
from alert_bridge.store import outbox
from alert_bridge.store.database import Database, StoreUnavailable
from tradewatch.config import Config

log = logging.getLogger(__name__)

BASE_DELAY = 5.0
MAX_DELAY = 900.0
POLL_SECONDS = 1.0
BATCH = 20
CLAIM_CHUNK = 10  # rows claimed per UPDATE; their leases are renewed while they wait
LEASE_SLACK = 5.0  # seconds a claim lasts beyond lease_seconds, so renewals are rare
LOCK_POLL = 0.001  # seconds between tries for SQLite's write lock (see _commit_outcomes)
_LOCKED = re.compile(r"locked|busy", re.I)


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one notification: sent, pending (will be retried), or failed."""

    status: str
    error: str | None = None
    message_id: str | None = None


def backoff_delay(attempts: int, *, base: float = BASE_DELAY, cap: float = MAX_DELAY,
                  jitter: float = 0.0) -> float:
    """Seconds before retry number `attempts` (1 = after the first failure).

    `jitter` in [0, 1) spreads retries by up to +-10 % so a fleet does not retry in lockstep.
    """
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return min(cap, delay * (0.9 + 0.2 * jitter))


class OutboxSender:
    """Delivers the outbox. One per deployment runs `loop`; `deliver_now` is safe alongside it."""

    def __init__(
        self,
        config: Config,
        db: Database,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
        *,
        rng: Callable[[], float] = random.random,
        on_result: Callable[[str], None] | None = None,
        batch: int = BATCH,
        poll_seconds: float = POLL_SECONDS,
        channels: ChannelTransport | None = None,
    ):
        self.config = config
        self.db = db
        self.transport = transport or make_transport(config.email, config.bridge.outbox_dir)
        self.channels = channels or ChannelTransport(config, clock)  # rows with a `channel`
        # Parallel SMTP sessions in `loop` (email.connections): only for a transport made here
        # from the config; an injected one is used alone.
        own_smtp = transport is None and isinstance(self.transport, SmtpTransport)
        self.connections = config.email.connections if own_smtp else 1
        self.clock = clock
        self.rng = rng
        self.on_result = on_result
        self.batch = batch
        self.poll_seconds = min(POLL_SECONDS, poll_seconds)
        self.max_attempts = config.email.max_attempts
        # A claim must outlive one send (connect + TLS + login + data, each up to the timeout):
        # rows are claimed for a little longer, and renewed in a batch before they run short.
        self.lease_seconds = max(60.0, 6 * float(config.email.timeout))
        self.claim_lease = self.lease_seconds + LEASE_SLACK
        self.counters = {"sent": 0, "failed": 0, "retried": 0}
        self.last_loop_at: float | None = None  # for /health: is the loop alive?
        self._wake = threading.Event()
        self._wakes = [self._wake]  # one per lane while `loop` runs
        self._lock = threading.Lock()
        # Delivery outcomes not yet committed (see `_record`), and one writer of them at a time.
        self._outcomes: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self._outcomes_lock = threading.Lock()
        self._write_lock = threading.RLock()

    # ------------------------------------------------------------------ public

    def wake(self) -> None:
        """Ask the loop to look at the outbox now (after a webhook committed an email)."""
        for event in self._wakes:
            event.set()

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Try each due row once (at most `batch`); returns how many were attempted.

        Due rows are claimed up to CLAIM_CHUNK at a time (one UPDATE) and sent one after the
        other over one SMTP session, so a burst costs one connect and a few SQLite round trips
        instead of a session and a claim per email. Before each send, the claims still waiting
        are renewed if their lease has run down to less than one send's worth, so a row's lease
        never runs out while it waits behind slow sends. If `stop` is set, rows not yet tried
        are handed back untouched.
        """
        return self._drain(stop, self.transport, CLAIM_CHUNK)

    def _drain(self, stop: threading.Event | _Either | None, transport: Transport, chunk: int) -> int:
        done = 0
        with _hold(transport):
            while done < self.batch and not (stop is not None and stop.is_set()):
                limit = min(chunk, self.batch - done)
                if not self._outcomes and not outbox.any_due(self.db.connection(), self.clock()):
                    break  # nothing to claim and nothing to record: no write transaction
                rows = self._write(lambda conn, n=limit: outbox.claim_due(conn, self.clock(), n,
                                                                          self.claim_lease))
                if not rows:
                    break
                done += self._deliver_claimed(rows, stop, transport)
            self._flush()
        return done

    def loop(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set: at once when woken, otherwise at least every second.

        The SMTP session is kept open while there is work and for the transport's idle timeout
        after it, so emails arriving a few at a time do not each pay for a new session. With
        `email.connections` > 1, that many lanes (threads, each with its own session) claim and
        send side by side: most of a send is waiting for the server's replies (four round trips
        per email), so one session alone falls behind a burst when the server is slow to answer.
        """
        log.info("outbox sender started (%s transport, %d connection(s))",
                 getattr(self.transport, "name", "?"), self.connections)
        transports = [self.transport] + [make_transport(self.config.email, self.config.bridge.outbox_dir)
                                         for _ in range(self.connections - 1)]
        wakes = [self._wake] + [threading.Event() for _ in transports[1:]]
        chunk = max(1, CLAIM_CHUNK // len(transports))  # so a burst spreads over the lanes
        halt = threading.Event()
        either = _Either(stop, halt)
        self._wakes = wakes
        others = [threading.Thread(target=self._lane, args=(either, t, w, chunk, False), daemon=True,
                                   name=f"tradewatch-sender-{i + 1}")
                  for i, (t, w) in enumerate(zip(transports[1:], wakes[1:], strict=True))]
        for thread in others:
            thread.start()
        try:
            self._lane(either, self.transport, self._wake, chunk, True)
        finally:
            halt.set()
            for event in wakes:
                event.set()
            for thread in others:
                thread.join(30)
            self._wakes = [self._wake]
        try:
            self._flush()
        except Exception as exc:
            log.error("outbox sender: %d outcome(s) not recorded at stop (%s): those emails may be "
                      "sent again after their lease", len(self._outcomes), exc)
        log.info("outbox sender stopped")

    def deliver_now(self, id: int, *, wait_seconds: float | None = None) -> DeliveryResult:
        """Try notification `id` now (send-test-email) and say what happened.

        If the loop holds the row at this moment, wait for its outcome instead of sending twice.
        """
        with self.db.transaction() as conn:
            row = outbox.claim(conn, id, self.clock(), self.lease_seconds)
            current = outbox.get(conn, id) if row is None else None
        if row is not None:
            with _hold(self.transport):  # the session stays open only if the loop holds it too
                result = self._deliver(row)
            self._flush()
            return result
        if current is None:
            return DeliveryResult("failed", f"no notification with id {id}")
        deadline = time.monotonic() + (self.lease_seconds if wait_seconds is None else wait_seconds)
        while current is not None and current["status"] == "sending" and time.monotonic() < deadline:
            time.sleep(0.05)
            current = outbox.get(self.db.connection(), id)
        return _result_of(current)

    # ------------------------------------------------------------------ internals

    def _lane(self, stop: _Either, transport: Transport, wake: threading.Event, chunk: int,
              main: bool) -> None:
        with _hold(transport):
            while not stop.is_set():
                if main:
                    self.last_loop_at = time.time()
                try:
                    # Drain: a full batch means more may be due right now.
                    while not stop.is_set() and self._drain(stop, transport, chunk) >= self.batch:
                        pass
                except StoreUnavailable as exc:
                    log.warning("outbox sender: store unavailable (%s); retrying", exc)
                except Exception:
                    log.exception("outbox sender: unexpected error; continuing")
                _close_idle(transport)
                self._wait(stop, wake)

    def _wait(self, stop: _Either, wake: threading.Event) -> None:
        # Wake on `wake()`, on `stop`, or after poll_seconds, whichever comes first.
        deadline = time.monotonic() + self.poll_seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if wake.wait(min(left, 0.1)):
                break
        wake.clear()

    def _deliver_claimed(self, rows: list[dict[str, Any]], stop: threading.Event | _Either | None,
                         transport: Transport) -> int:
        held = {r["id"]: float(r["claimed_until"]) for r in rows}
        tried = 0
        for i, row in enumerate(rows):
            if stop is not None and stop.is_set():
                self._release(rows[i:], held)
                break
            if row["id"] in held and held[row["id"]] - self.clock() < self.lease_seconds:
                held = self._extend(rows[i:], held)
            if row["id"] not in held:
                log.warning("notification %s: lease lost while waiting in a batch; not sending it",
                            row["id"])
                continue
            self._deliver(row, transport)
            tried += 1
        return tried

    def _extend(self, rows: list[dict[str, Any]], held: dict[int, float]) -> dict[int, float]:
        waiting = [(r["id"], held[r["id"]]) for r in rows if r["id"] in held]
        until = self.clock() + self.claim_lease
        kept = self._write(lambda conn: outbox.extend_leases(conn, waiting, until))
        return dict.fromkeys(kept, until)

    def _release(self, rows: list[dict[str, Any]], held: dict[int, float]) -> None:
        waiting = [(r["id"], held[r["id"]]) for r in rows if r["id"] in held]
        try:
            self._write(lambda conn: outbox.release(conn, waiting))
        except StoreUnavailable as exc:  # their leases run out and they are sent later anyway
            log.warning("outbox sender: could not hand back %d claimed row(s): %s", len(waiting), exc)

    def _message(self, row: dict[str, Any]) -> tuple[EmailMessage, list[str]]:
        recipients = [r for r in row["recipients"] if isinstance(r, str) and r.strip()]
        if row["raw"] is not None:
            raw = row["raw"] if isinstance(row["raw"], bytes) else str(row["raw"]).encode()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
        else:
            context = row["context"]
            if not isinstance(context, dict) or "_invalid_json" in context:
                raise PermanentError("the stored notification context is not valid JSON")
            msg = compose(row["kind"], context, self.config,
                          now=datetime.fromtimestamp(self.clock(), UTC), notification_id=row["id"])
            if not recipients:
                recipients = recipients_for(row["kind"], context, self.config)
        if recipients and (row["raw"] is None or not msg.get("To")):
            # A raw message is complete as it is: its To header is the author's to set.
            del msg["To"]
            msg["To"] = ", ".join(recipients)
        elif not recipients and msg.get("To"):
            recipients = [a.addr_spec for a in msg["To"].addresses]
        return msg, recipients

    def _deliver(self, row: dict[str, Any], transport: Transport | None = None) -> DeliveryResult:
        id_ = row["id"]
        if row.get("channel"):
            return self._deliver_to_channel(row)
        transport = transport or self.transport
        try:
            msg, recipients = self._message(row)
            sender = sender_address(self.config)
            transport.send(msg, sender, recipients)
        except PermanentError as exc:
            return self._failed(row, str(exc))
        except TransientError as exc:
            return self._retry(row, str(exc))
        except Exception as exc:  # a bug or an odd fault: keep the email, retry it later
            log.exception("notification %s: unexpected error while sending", id_)
            return self._retry(row, f"{type(exc).__name__}: {exc}")
        message_id = str(msg.get("Message-ID") or "") or None
        self._record(outbox.mark_sent, id_, self.clock(), message_id)
        log.info("notification %s (%s) sent to %d recipient(s) via %s", id_, row["kind"],
                 len(recipients), getattr(self.transport, "name", "?"))
        self._count("sent")
        return DeliveryResult("sent", None, message_id)

    def _deliver_to_channel(self, row: dict[str, Any]) -> DeliveryResult:
        """A push channel's row: through Apprise, classified like email (see apprise_channel)."""
        try:
            self.channels.send(row)
        except CoolingDown as exc:
            self._record(outbox.defer, row["id"], exc.until, str(exc))
            return DeliveryResult("pending", str(exc), None)
        except PermanentError as exc:
            return self._failed(row, str(exc))
        except TransientError as exc:
            return self._retry(row, str(exc))
        except Exception as exc:  # a bug or an odd fault: keep the message, retry it later
            log.exception("notification %s: unexpected error while sending to channel %s", row["id"],
                          row["channel"])
            return self._retry(row, f"{type(exc).__name__}: {exc}")
        self._record(outbox.mark_sent, row["id"], self.clock(), None)
        log.info("notification %s (%s) sent to channel %s", row["id"], row["kind"], row["channel"])
        self._count("sent")
        return DeliveryResult("sent", None, None)

    def _retry(self, row: dict[str, Any], error: str) -> DeliveryResult:
        error = self._safe(error)
        attempts = int(row["attempts"])
        if attempts >= self.max_attempts:
            return self._failed(row, f"gave up after {attempts} attempts: {error}")
        now = self.clock()
        delay = backoff_delay(attempts, jitter=self.rng())
        self._record(outbox.mark_retry, row["id"], now, error, now + delay)
        log.warning("notification %s (%s%s) attempt %d failed, retrying in %.0fs: %s",
                    row["id"], row["kind"], _to(row), attempts, delay, error)
        self._count("retried")
        return DeliveryResult("pending", error, None)

    def _failed(self, row: dict[str, Any], error: str) -> DeliveryResult:
        error = self._safe(error)
        self._record(outbox.mark_failed, row["id"], self.clock(), error)
        log.error("notification %s (%s%s) failed permanently: %s", row["id"], row["kind"], _to(row), error)
        self._count("failed")
        return DeliveryResult("failed", error, None)

    def _record(self, mark: Callable[..., None], *args: Any) -> None:
        """Note one outcome and try to commit it at once, without waiting for the write lock.

        Under a webhook flood the web process holds SQLite's write lock most of the time, and
        waiting for it once per email was what held the sender back. If the lock is taken, the
        outcome stays queued here and is committed with the next claim (`_write`) or at the end
        of the run, whichever is first: the next email does not wait. The row keeps its lease
        until then, so nobody else sends it; only a crash in that window (at most one claim
        chunk) means a resend.
        """
        with self._outcomes_lock:
            self._outcomes.append((mark, args))
        if not self._write_lock.acquire(blocking=False):
            return  # another thread is writing: this outcome goes with the next write or flush
        try:
            self._commit_outcomes(None, wait=0.0)
        except StoreUnavailable:
            pass  # locked: recorded with the next claim or flush
        finally:
            self._write_lock.release()

    def _write(self, work: Callable[[Any], Any]) -> Any:
        """One transaction: the queued outcomes, then `work(conn)`; waits for the lock."""
        with self._write_lock:
            return self._commit_outcomes(work, wait=self.db.busy_timeout_ms / 1000)

    def _flush(self) -> None:
        """Commit queued outcomes now. The email is already out (or not): losing its outcome to
        a briefly locked database would mean a duplicate after the lease, so try a few times."""
        for attempt in range(3):
            try:
                with self._write_lock:
                    if self._outcomes:
                        self._commit_outcomes(None)
                return
            except StoreUnavailable:
                if attempt == 2:
                    raise
                time.sleep(0.5)

    def _commit_outcomes(self, work: Callable[[Any], Any] | None, *, wait: float | None = None) -> Any:
        """Commit the queued outcomes (and `work`); caller holds self._write_lock.

        Waiting for SQLite's write lock is done here, trying every LOCK_POLL seconds, instead
        of in SQLite's busy handler: that one sleeps 1, 2, 5, 10 ... 100 ms between tries, and
        the web process, whose request threads queue on an in-process lock and commit back to
        back under a flood, frees the database only for moments, so the sender's claims waited
        up to 100 ms. `wait` 0 is one try.
        """
        wait = self.db.busy_timeout_ms / 1000 if wait is None else wait
        with self._outcomes_lock:
            pending = list(self._outcomes)
        conn = self.db.connection()
        deadline = time.monotonic() + wait
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    result = None
                    with self.db.transaction() as tx:
                        for mark, args in pending:
                            mark(tx, *args)
                        if work is not None:
                            result = work(tx)
                    break
                except StoreUnavailable as exc:
                    if time.monotonic() >= deadline or not _LOCKED.search(str(exc)):
                        raise
                    time.sleep(LOCK_POLL)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self.db.busy_timeout_ms)}")
        with self._outcomes_lock:
            del self._outcomes[:len(pending)]
        return result

    def _safe(self, error: str) -> str:
        secrets = [s for s in (self.config.email.password,) if s]
        return scrub(error, secrets)[:1000]

    def _count(self, result: str) -> None:
        with self._lock:
            self.counters[result] += 1
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:
                log.exception("outbox sender: metrics hook failed")


class _Either:
    """Set when either event is: the caller's stop, or the loop's own halt for its lanes."""

    def __init__(self, a: threading.Event, b: threading.Event):
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()


def _hold(transport: Transport) -> contextlib.AbstractContextManager[Any]:
    hold = getattr(transport, "hold", None)
    return hold() if hold is not None else contextlib.nullcontext()


def _close_idle(transport: Transport) -> None:
    close_idle = getattr(transport, "close_idle", None)
    if close_idle is not None:
        try:
            close_idle()
        except Exception:
            log.exception("outbox sender: closing the idle SMTP session failed")


def _to(row: dict[str, Any]) -> str:
    return f" to channel {row['channel']}" if row.get("channel") else ""


def _result_of(row: dict[str, Any] | None) -> DeliveryResult:
    if row is None:
        return DeliveryResult("failed", "notification disappeared")
    status = {"sent": "sent", "failed": "failed"}.get(row["status"], "pending")
    return DeliveryResult(status, row["last_error"], row["message_id"])
