"""Outbox drain benchmark: how fast the sender empties a backlog, per `email.connections`.

    .venv/bin/python tests/bench/bench_outbox_drain.py                     # 300 emails, 0 and 20 ms
    .venv/bin/python tests/bench/bench_outbox_drain.py --count 500 --delay-ms 50

Real SQLite outbox, real OutboxSender loop, real aiosmtpd on 127.0.0.1 whose handler waits
`--delay-ms` before answering each command (MAIL, RCPT, DATA): a stand-in for a remote relay's
round trips. Prints emails/s and the number of SMTP sessions for each connections setting.
Not collected by pytest (no test_ prefix); figures go in docs/email.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from aiosmtpd.controller import Controller  # noqa: E402

from alert_bridge.notify.sender import OutboxSender  # noqa: E402
from alert_bridge.store import outbox  # noqa: E402
from alert_bridge.store.database import Database  # noqa: E402
from tests.support.notify import alert_context, email_config  # noqa: E402
from tests.support.procs import free_port  # noqa: E402


class SlowHandler:
    """Answers every command after `delay` seconds; counts sessions and messages."""

    def __init__(self, delay: float) -> None:
        self.delay, self.sessions, self.messages = delay, 0, 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await asyncio.sleep(self.delay)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        with self.lock:
            self.messages += 1
        return "250 OK"


def drain(count: int, delay: float, connections: int) -> tuple[float, int]:
    handler = SlowHandler(delay)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory(prefix="tw-drain-") as tmp:
            db = Database(Path(tmp) / "bridge.db")
            db.migrate()
            cfg = email_config(smtp_server="127.0.0.1", smtp_port=port, security="none",
                               connections=connections)
            with db.transaction() as conn:
                for i in range(count):
                    outbox.enqueue(conn, "firing", ["ops@example.com"], alert_context(fingerprint=f"fp{i}"),
                                   now=time.time())
            sender = OutboxSender(cfg, db)
            stop = threading.Event()
            thread = threading.Thread(target=sender.loop, args=(stop,))
            started = time.perf_counter()
            thread.start()
            sender.wake()
            while handler.messages < count and time.perf_counter() - started < 300:
                time.sleep(0.01)
            elapsed = time.perf_counter() - started
            stop.set()
            thread.join(30)
            db.close()
    finally:
        controller.stop()
    return count / elapsed, handler.sessions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--delay-ms", type=float, action="append", help="per-command delay (repeatable)")
    ap.add_argument("--connections", type=int, action="append", help="email.connections (repeatable)")
    args = ap.parse_args(argv)
    for delay in args.delay_ms or [0.0, 20.0]:
        for connections in args.connections or [1, 2, 4]:
            rate, sessions = drain(args.count, delay / 1000, connections)
            print(f"delay {delay:4.0f} ms/command, connections {connections}: {rate:6.1f} emails/s "
                  f"({sessions} SMTP sessions for {args.count} emails)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
