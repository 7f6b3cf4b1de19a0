"""Background loops that must run once per deployment: a lease row in SQLite elects the leader.

Every `tradewatch-bridge` process runs a `Workers` thread. It tries to take (or renew) the
`workers` lease every few seconds; only the holder runs the outbox sender loop and the periodic
jobs. If the leader dies, its lease expires after `bridge.worker_lease` seconds (15 s by default)
and another process takes over; a leader that cannot renew (store locked for longer than the
lease) steps down first.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from alert_bridge.jobs.context import JobContext
from alert_bridge.jobs.schedule import Job
from alert_bridge.store import jobs as jobs_sql
from alert_bridge.store.database import Database
from alert_bridge.web.signing import secret_key
from tradewatch.config import Config

log = logging.getLogger("alert_bridge.jobs.workers")

LEASE_NAME = "workers"
SENDER_HEARTBEAT = "sender_heartbeat"


def sender_stale_after(config: Config) -> float:
    """How old the sender's heartbeat may be before /health calls the sender stopped."""
    return config.bridge.worker_lease * 2


class Workers:
    def __init__(
        self,
        config: Config,
        db: Database,
        jobs: list[Job],
        *,
        sender: Any = None,
        clock: Callable[[], float] = time.time,
        tick: float = 0.25,
    ):
        """`jobs`: usually alert_bridge.jobs.schedule.build_jobs(config). The lease lasts
        `bridge.worker_lease` (default 15 s): how long a dead leader blocks the others."""
        self.config, self.db, self.sender, self.clock = config, db, sender, clock
        self.jobs = list(jobs)
        self.lease_ttl, self.tick = config.bridge.worker_lease, tick
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sender_stop = threading.Event()
        self._sender_thread: threading.Thread | None = None
        self._next_run: dict[str, float] = {}
        self._renewed_at = 0.0
        self._key: str | None = None
        self.started = clock()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tradewatch-workers", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._step_down()
        try:
            with self.db.transaction() as conn:
                jobs_sql.release_lease(conn, LEASE_NAME, self.holder)
        except Exception as exc:
            log.warning("could not release the worker lease: %s", exc)

    # ------------------------------------------------------------------ leadership
    def _renew(self, now: float) -> bool:
        try:
            with self.db.transaction() as conn:
                ok = jobs_sql.acquire_lease(conn, LEASE_NAME, self.holder, now, self.lease_ttl)
                if ok and self._sender_alive():
                    jobs_sql.set_state(conn, SENDER_HEARTBEAT, repr(now))
        except Exception as exc:
            log.warning("worker lease not renewed: %s", exc)
            # keep leading only while our last renewal is certainly still valid
            return self.leading and now - self._renewed_at < self.lease_ttl * 0.8
        if ok:
            self._renewed_at = now
        return ok

    def _sender_alive(self) -> bool:
        return self._sender_thread is not None and self._sender_thread.is_alive()

    def _become_leader(self) -> None:
        log.info("worker lease taken by %s: running background jobs", self.holder)
        self.leading = True
        self._next_run.clear()
        self._start_sender()

    def _start_sender(self) -> None:
        if self.sender is None:
            return
        self._sender_stop = threading.Event()
        self._sender_thread = threading.Thread(
            target=self.sender.loop, args=(self._sender_stop,), name="tradewatch-sender", daemon=True
        )
        self._sender_thread.start()

    def _step_down(self) -> None:
        if self.leading:
            log.info("worker lease released by %s", self.holder)
        self.leading = False
        self._sender_stop.set()
        if self._sender_thread is not None:
            self._sender_thread.join(10)
            self._sender_thread = None

    # ------------------------------------------------------------------ loop
    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.clock()
            if now - self._renewed_at >= self.lease_ttl / 5 or not self.leading:
                leader = self._renew(now)
                if leader and not self.leading:
                    self._become_leader()
                    self._renew(now)  # records the sender heartbeat now that it runs
                elif not leader and self.leading:
                    self._step_down()
            if self.leading:
                if self.sender is not None and not self._sender_alive():
                    log.error("the sender loop stopped: restarting it")
                    self._start_sender()
                self.run_due_jobs(now)
            self._stop.wait(self.tick)

    def run_due_jobs(self, now: float) -> None:
        if self._key is None:
            self._key = secret_key(self.db)
        for job in self.jobs:
            if self._stop.is_set():
                return
            if now < self._next_run.get(job.name, 0.0):
                continue
            self._next_run[job.name] = now + job.interval
            self.run_job(job, now)

    def run_job(self, job: Job, now: float) -> Any:
        ctx = JobContext(self.config, self.db, self._key or secret_key(self.db), now, self.sender,
                         started=self.started)
        try:
            result = job.run(ctx)
            ok, detail = True, repr(result)
        except Exception as exc:
            log.exception("job %s failed", job.name)
            result, ok, detail = None, False, f"{exc.__class__.__name__}: {exc}"
        if result and self.sender is not None:
            self.sender.wake()
        if job.record or not ok or result:
            try:
                with self.db.transaction() as conn:
                    run_id = jobs_sql.run_started(conn, job.name, now)
                    jobs_sql.run_finished(conn, run_id, self.clock(), ok, detail)
            except Exception as exc:
                log.warning("job %s: run not recorded: %s", job.name, exc)
        return result
