"""node_cpu_seconds_total{cpu,mode} and node_cpu_guest_seconds_total{cpu,mode}: per-CPU time
by mode, as node_exporter's cpu collector.

psutil's field names are node_exporter's mode names on Linux (user, nice, system, idle, iowait,
irq, softirq, steal) and on the BSDs and macOS (the subset each has). `guest` and `guest_nice`
are not modes of node_cpu_seconds_total: the kernel already counts them in user and nice, and
node_exporter exports them as node_cpu_guest_seconds_total{mode="user"|"nice"}, which is done
here where psutil has them (Linux).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psutil

from exporter.families import counter
from exporter.metric import Metric

SKIPPED_MODES = frozenset({"guest", "guest_nice"})
CPU_SECONDS = counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", ("cpu", "mode"))
GUEST_SECONDS = counter("node_cpu_guest_seconds_total",
                        "Seconds the CPUs spent in guests (VMs) for each mode.", ("cpu", "mode"))
GUEST_MODES = (("guest", "user"), ("guest_nice", "nice"))  # psutil field -> node_exporter's mode


class CpuCollector:
    name = "cpu"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, ps: Any = psutil):
        self.ps = ps
        self._modes: tuple[str, ...] | None = None
        self._guest: tuple[tuple[str, str], ...] = ()

    def collect(self) -> Iterator[Metric]:
        per_cpu = self.ps.cpu_times(percpu=True)
        fam = CPU_SECONDS.new()
        if per_cpu and self._modes is None:
            self._modes = tuple(m for m in per_cpu[0]._fields if m not in SKIPPED_MODES)
            self._guest = tuple((f, m) for f, m in GUEST_MODES if f in per_cpu[0]._fields)
        modes = self._modes or ()
        guest = GUEST_SECONDS.new() if self._guest else None
        for i, times in enumerate(per_cpu):
            cpu = str(i)
            for mode in modes:
                CPU_SECONDS.add(fam, (cpu, mode), getattr(times, mode))
            if guest is not None:
                for field, mode in self._guest:
                    GUEST_SECONDS.add(guest, (cpu, mode), getattr(times, field))
        yield fam
        if guest is not None:
            yield guest


def build(config: Any) -> CpuCollector:
    return CpuCollector()
