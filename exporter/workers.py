"""A small persistent pool of daemon worker threads for work that may hang.

`concurrent.futures.ThreadPoolExecutor` is the obvious tool, but its threads are joined at
interpreter exit (a statvfs stuck on a dead NFS server would block SIGTERM forever) and a
worker stuck in a hung call silently shrinks the pool. Here workers are daemon threads, idle
ones wait on a queue between scrapes (no thread is created per scrape), and when every worker is
busy a new one is started up to a hard cap, so a few hung calls neither starve the others nor
leak threads without bound: callers never start a second run of something still hanging.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

T = TypeVar("T")


class WorkerPool:
    def __init__(self, name: str, *, min_workers: int = 1, max_workers: int = 16,
                 idle_seconds: float = 300.0):
        if not 0 <= min_workers <= max_workers or max_workers < 1:
            raise ValueError("need 0 <= min_workers <= max_workers and max_workers >= 1")
        self.name = name
        self.max_workers = max_workers
        self._min = min_workers
        self._idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        self._pending = 0
        self._closed = False
        self._seq = 0

    @property
    def threads(self) -> int:
        """Worker threads alive now (busy, hung or idle)."""
        return self._threads

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        fut: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"worker pool {self.name} is closed")
            self._pending += 1
            if self._pending > self._idle and self._threads < self.max_workers:
                self._start_worker()
            self._queue.put((fut, fn, args))
        return fut

    def close(self) -> None:
        """Stop idle workers; hung ones are daemons and die with the process."""
        with self._lock:
            self._closed = True
            n = self._threads
        for _ in range(n):
            self._queue.put(None)

    def _start_worker(self) -> None:
        self._threads += 1
        self._seq += 1
        threading.Thread(target=self._work, name=f"{self.name}-{self._seq}", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
                spare = self._threads > self._min
            try:
                item = self._queue.get(timeout=self._idle_seconds if spare else None)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if self._threads > self._min:
                        self._threads -= 1
                        return
                continue
            with self._lock:
                self._idle -= 1
                if item is None:
                    self._threads -= 1
                    return
                self._pending -= 1
            fut, fn, args = item
            run_into(fut, fn, *args)
            del fut, fn, args, item


def run_into(fut: Future[T], fn: Callable[..., T], *args: Any) -> None:
    """Run fn(*args) and settle `fut` with its result or exception."""
    if not fut.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args)
    except BaseException as exc:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


class Lane:
    """Quick calls run one after another in a single pool task instead of a thread hand-off each.

    Each call settles its own Future, so callers wait per call with their own deadlines. When a
    call stalls (`wait` runs out of patience), the calls not yet started are handed to tasks of
    their own, so one hung call delays the others by at most the patience.
    """

    def __init__(self, pool: WorkerPool,
                 jobs: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]]):
        self._pool = pool
        self._jobs = list(jobs)
        self._lock = threading.Lock()
        self._handed_over = False
        if self._jobs:
            pool.submit(self._run)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._jobs:
                    return
                fut, fn, args = self._jobs.pop(0)
            run_into(fut, fn, *args)

    def hand_over(self) -> None:
        with self._lock:
            rest, self._jobs = self._jobs, []
            self._handed_over = True
        for fut, fn, args in rest:
            self._pool.submit(run_into, fut, fn, *args)

    def wait(self, fut: Future[Any], patience: float) -> bool:
        """Wait up to `patience` for one of the lane's futures; False once the lane handed over."""
        if self._handed_over:
            return False
        try:
            fut.result(timeout=max(0.0, patience))
        except FutureTimeout:
            self.hand_over()
            return False
        except BaseException:  # the call raised: its caller sees that through the future
            return True
        return True
