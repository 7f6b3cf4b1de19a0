"""Run a set of probes concurrently on a persistent pool of daemon threads, each bounded by its own timeout.

A probe is a function of its deadline (a `time.monotonic()` value) returning a `ProbeResult`.
Probes enforce their deadline themselves (socket timeouts, SQLite's progress handler) so their
threads come back; the pool additionally stops waiting at the deadline, so even a probe that
overruns costs the scrape no more than its timeout. A probe still running from an earlier
scrape is not started twice: it is reported as failed until it returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from exporter.families import gauge
from exporter.metric import Metric
from exporter.workers import WorkerPool
from tradewatch import metric_names as names

MAX_WORKERS = 16


@dataclass
class ProbeResult:
    success: bool
    duration: float
    reason: str = ""  # why it failed, for the log
    http_status: int | None = None
    detail: Any = None  # kind-specific extra data (SQL: per-query results)
    extra: list[Metric] = field(default_factory=list)


ProbeFn = Callable[[float], ProbeResult]


@dataclass(frozen=True)
class ProbeJob:
    name: str
    timeout: float
    fn: ProbeFn


class ProbePool:
    """One per probe kind; threads are created lazily and kept between scrapes."""

    def __init__(self, kind: str, size: int, log: logging.Logger):
        self.kind = kind
        self.log = log
        # Daemon workers (exporter.workers): a hung target never blocks the exporter's exit.
        self._executor = WorkerPool(
            f"probe-{kind}", min_workers=max(1, min(size, MAX_WORKERS)), max_workers=max(size, MAX_WORKERS)
        )
        self._running: dict[str, Future[ProbeResult]] = {}
        self._last_reason: dict[str, str] = {}
        self._lock = threading.Lock()

    def run(self, jobs: list[ProbeJob]) -> dict[str, ProbeResult]:
        """Start every job, wait for each until its own deadline, return name -> result."""
        start = time.monotonic()
        started: dict[str, tuple[Future[ProbeResult], float]] = {}
        results: dict[str, ProbeResult] = {}
        with self._lock:
            for job in jobs:
                previous = self._running.get(job.name)
                if previous is not None and not previous.done():
                    results[job.name] = ProbeResult(
                        False, 0.0, "the previous run has not finished yet (target hanging?)"
                    )
                    continue
                deadline = start + job.timeout
                fut = self._executor.submit(_guarded, job.fn, deadline)
                self._running[job.name] = fut
                started[job.name] = (fut, job.timeout)
        for name, (fut, timeout) in started.items():
            remaining = start + timeout - time.monotonic()
            try:
                results[name] = fut.result(timeout=max(0.0, remaining))
            except TimeoutError:
                results[name] = ProbeResult(False, timeout, f"timed out after {timeout:g}s")
        for job in jobs:
            self._log(job.name, results[job.name])
        return results

    def _log(self, name: str, result: ProbeResult) -> None:
        # Log a failure when it starts or its reason changes, not on every scrape.
        reason = "" if result.success else result.reason
        if reason != self._last_reason.get(name, ""):
            if reason:
                self.log.warning("%s probe %r failed: %s", self.kind, name, reason)
            else:
                self.log.info("%s probe %r succeeds again", self.kind, name)
        self._last_reason[name] = reason

    def close(self) -> None:
        self._executor.close()


def _guarded(fn: ProbeFn, deadline: float) -> ProbeResult:
    start = time.monotonic()
    try:
        return fn(deadline)
    except Exception as exc:  # a probe bug must cost its own series only
        return ProbeResult(False, time.monotonic() - start, f"{type(exc).__name__}: {exc}")


SUCCESS = gauge(names.PROBE_SUCCESS, "1 if the probe succeeded, 0 otherwise.", ("probe", "type"))
DURATION = gauge(names.PROBE_DURATION, "How long the probe took, in seconds.", ("probe", "type"))


def probe_families(kind: str, results: Mapping[str, ProbeResult]) -> list[Metric]:
    """The probe-level success and duration gauges shared by every probe kind."""
    success, duration = SUCCESS.new(), DURATION.new()
    for name, result in results.items():
        SUCCESS.add(success, (name, kind), 1.0 if result.success else 0.0)
        DURATION.add(duration, (name, kind), result.duration)
    return [success, duration]
