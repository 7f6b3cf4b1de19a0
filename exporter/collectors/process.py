"""process_*: the exporter's own CPU, memory, start time and file descriptors, via psutil.

The same families prometheus_client's process collector emits on Linux, but from psutil so
they exist on every OS; open/max fds are POSIX notions and are omitted on Windows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psutil

from exporter.families import counter, gauge
from exporter.metric import Metric

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]


CPU = counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
VMS = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
RSS = gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
START = gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
OPEN_FDS = gauge("process_open_fds", "Number of open file descriptors.")
MAX_FDS = gauge("process_max_fds", "Maximum number of open file descriptors.")
VMS_MAX = gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.")
UNLIMITED = float(2**64 - 1)
"""What the Go client (procfs) reports for an unlimited RLIMIT_AS: the all-ones rlim_t."""


class ProcessCollector:
    name = "process"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, ps: Any = psutil, pid: int | None = None):
        self.proc = ps.Process(pid if pid is not None else os.getpid())
        self._start = self.proc.create_time()
        self._posix = hasattr(self.proc, "num_fds")

    def collect(self) -> Iterator[Metric]:
        p = self.proc
        with p.oneshot():
            cpu = p.cpu_times()
            mem = p.memory_info()
            fds = p.num_fds() if self._posix else None
        yield CPU.value(cpu.user + cpu.system)
        yield VMS.value(mem.vms)
        yield RSS.value(mem.rss)
        yield START.value(self._start)
        if fds is not None:
            yield OPEN_FDS.value(fds)
        if resource is not None:
            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
            if soft != resource.RLIM_INFINITY:
                yield MAX_FDS.value(soft)
            soft, _ = resource.getrlimit(resource.RLIMIT_AS)
            yield VMS_MAX.value(UNLIMITED if soft == resource.RLIM_INFINITY else soft)


def build(config: Any) -> ProcessCollector:
    return ProcessCollector()
