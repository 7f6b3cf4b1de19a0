"""node_context_switches_total, node_intr_total, node_forks_total, node_procs_running and
node_procs_blocked: node_exporter's stat collector over /proc/stat.

node_boot_time_seconds (also the stat collector's in node_exporter) is served by the `os`
collector, on every OS. Elsewhere than Linux, context switches and interrupts come from
psutil.cpu_stats() (the same counters since boot); forks and the run queue have no psutil
source and are omitted there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError
from exporter.families import counter, gauge
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text

INTR = counter("node_intr_total", "Total number of interrupts serviced.")
CTXT = counter("node_context_switches_total", "Total number of context switches.")
FORKS = counter("node_forks_total", "Total number of forks.")
RUNNING = gauge("node_procs_running", "Number of processes in runnable state.")
BLOCKED = gauge("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.")
# /proc/stat key -> family, in node_exporter's order
FIELDS = (("intr", INTR), ("ctxt", CTXT), ("processes", FORKS), ("procs_running", RUNNING),
          ("procs_blocked", BLOCKED))
WANTED = frozenset(k for k, _ in FIELDS)


def parse_stat(text: str) -> dict[str, float]:
    """The scalar lines node_exporter reads (`intr` is its first number, the total).
    Raises ValueError for a value that is not a number."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(" ")
        if key in WANTED:
            out[key] = float(int(rest.split(None, 1)[0]))
    return out


class StatCollector:
    name = "stat"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC):
        self.path = join(proc, "stat")

    def collect(self) -> Iterator[Metric]:
        try:
            values = parse_stat(read_text(self.path))
        except (ValueError, IndexError) as exc:
            raise FormatError(self.path, f"unparsable line: {exc}") from None
        for key, spec in FIELDS:
            if key in values:
                yield spec.value(values[key])
        missing = [k for k, _ in FIELDS if k not in values]
        if missing:
            raise FormatError(self.path, f"no {', '.join(missing)} line (truncated?)")


class PsutilStatCollector:
    """macOS, Windows, the BSDs: the two counters psutil reports there."""

    name = "stat"
    inline = True

    def __init__(self, ps: Any = None):
        if ps is None:
            import psutil as ps
        self.ps = ps

    def collect(self) -> Iterator[Metric]:
        stats = self.ps.cpu_stats()
        yield INTR.value(stats.interrupts)
        yield CTXT.value(stats.ctx_switches)


def build(config: Any) -> StatCollector | PsutilStatCollector:
    if sys.platform.startswith("linux"):
        return StatCollector(config.exporter.collectors.path_procfs)
    return PsutilStatCollector()
