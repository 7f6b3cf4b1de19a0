"""The background workers in their own process, started by `tradewatch-bridge`.

The web server's request threads and the outbox sender used to share one interpreter: under a
flood of webhooks the sender got a small slice of the GIL and emails queued for seconds. In a
child process the sender (and the other jobs) get their own interpreter and CPU; the web process
wakes it through a multiprocessing Event right after a webhook commits.

Leadership is unchanged: the child still takes the SQLite lease, so several bridge processes
still run the jobs once.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from typing import Any

log = logging.getLogger("alert_bridge.jobs.process")


class RemoteWakeSender:
    """The web process's sender: `wake()` signals the worker process; `deliver_now` (the test
    email) still runs here, on the same outbox rows, claimed so the two never both send one."""

    def __init__(self, local: Any, wake_event: Any):
        self.local, self.wake_event = local, wake_event

    def wake(self) -> None:
        self.wake_event.set()

    def deliver_now(self, id: int, **kw: Any) -> Any:
        return self.local.deliver_now(id, **kw)


def _child(config_path: str | None, level: str, wake: Any, stop: Any, parent: int) -> None:
    from alert_bridge import logs

    logs.configure(level, "%(asctime)s %(levelname)s %(name)s[workers]: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; SIGTERM below stops cleanly
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    from alert_bridge.jobs.schedule import build_jobs
    from alert_bridge.jobs.workers import Workers
    from alert_bridge.notify.sender import OutboxSender
    from alert_bridge.store.database import Database
    from tradewatch.config import load_config

    config = load_config(config_path)
    db = Database.for_config(config)
    db.migrate()  # idempotent: normally the parent has applied every migration already
    sender = OutboxSender(config, db)
    workers = Workers(config, db, build_jobs(config), sender=sender)
    workers.start()
    try:
        while not stop.is_set() and os.getppid() == parent:
            if wake.wait(0.5):
                wake.clear()  # clear first: a set() after this is seen on the next turn
                sender.wake()
    finally:
        workers.stop()
        db.close()


class WorkerProcess:
    """Start, watch (restart if it dies) and stop the worker child process."""

    def __init__(self, config_path: str | None, level: str):
        self.ctx = multiprocessing.get_context("spawn")
        self.config_path, self.level = config_path, level
        self.wake = self.ctx.Event()
        self._stop = self.ctx.Event()
        self._stopping = threading.Event()
        self.proc: Any = None
        self._watch: threading.Thread | None = None

    def _spawn(self) -> None:
        self.proc = self.ctx.Process(
            target=_child, args=(self.config_path, self.level, self.wake, self._stop, os.getpid()),
            name="tradewatch-workers", daemon=False,
        )
        self.proc.start()

    def start(self) -> None:
        self._spawn()
        self._watch = threading.Thread(target=self._watchdog, name="tradewatch-workers-watch", daemon=True)
        self._watch.start()

    def _watchdog(self) -> None:
        while not self._stopping.wait(2.0):
            if self.proc is not None and not self.proc.is_alive() and not self._stop.is_set():
                log.error("worker process exited (code %s): restarting it", self.proc.exitcode)
                time.sleep(1.0)
                if not self._stopping.is_set():
                    self._spawn()

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        self._stop.set()
        if self.proc is not None:
            self.proc.join(timeout)
            if self.proc.is_alive():
                log.warning("worker process did not stop in %.0fs: terminating it", timeout)
                self.proc.terminate()
                self.proc.join(5)
            with contextlib.suppress(Exception):
                self.proc.close()
