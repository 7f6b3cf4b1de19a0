"""node_pressure_*: pressure stall information (PSI) from /proc/pressure/{cpu,io,memory}, the
`total=` microseconds as seconds, as node_exporter's pressure collector.

A kernel without PSI (before 4.20, CONFIG_PSI off: no /proc/pressure) or with it disabled
(`psi=0`: reading fails with EOPNOTSUPP) is "no data": success 0, logged at debug level only,
as node_exporter does.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError, NoData
from exporter.families import counter
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text

CPU = counter("node_pressure_cpu_waiting_seconds_total",
              "Total time in seconds that processes have waited for CPU time")
IO = counter("node_pressure_io_waiting_seconds_total",
             "Total time in seconds that processes have waited due to IO congestion")
IO_FULL = counter("node_pressure_io_stalled_seconds_total",
                  "Total time in seconds no process could make progress due to IO congestion")
MEMORY = counter("node_pressure_memory_waiting_seconds_total",
                 "Total time in seconds that processes have waited for memory")
MEMORY_FULL = counter("node_pressure_memory_stalled_seconds_total",
                      "Total time in seconds no process could make progress due to memory congestion")
# resource -> (family of the `some` line, family of the `full` line or None)
RESOURCES = (("cpu", CPU, None), ("io", IO, IO_FULL), ("memory", MEMORY, MEMORY_FULL))
AVG_KEYS = ("avg10=", "avg60=", "avg300=", "total=")


def parse_psi(text: str) -> dict[str, int]:
    """`some avg10=0.00 avg60=0.00 avg300=0.00 total=123` -> {"some": 123, ...} (microseconds).
    Raises ValueError for a some/full line not in that format."""
    out = {}
    for line in text.splitlines():
        parts = line.split(" ")
        if parts[0] not in ("some", "full"):
            continue
        if len(parts) < 5 or any(not p.startswith(k) for p, k in zip(parts[1:5], AVG_KEYS, strict=True)):
            raise ValueError(f"unexpected line {line[:80]!r}")
        for p in parts[1:4]:
            float(p.partition("=")[2])
        out[parts[0]] = int(parts[4][len("total="):])
    return out


class PressureCollector:
    name = "pressure"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC):
        self.proc = proc

    def collect(self) -> Iterator[Metric]:
        for resource, some, full in RESOURCES:
            path = join(self.proc, "pressure", resource)
            try:
                text = read_text(path)
            except FileNotFoundError:
                raise NoData(f"{path}: no pressure information (Linux >= 4.20, CONFIG_PSI)") from None
            except OSError as exc:
                if exc.errno == errno.EOPNOTSUPP:
                    raise NoData(f"{path}: pressure information is disabled (psi=1 enables it)") from None
                raise
            try:
                totals = parse_psi(text)
            except ValueError as exc:
                raise FormatError(path, str(exc)) from None
            for kind, spec in (("some", some), ("full", full)):
                if spec is None:
                    continue
                if kind not in totals:
                    raise FormatError(path, f"no `{kind}` line")
                yield spec.value(totals[kind] / 1000.0 / 1000.0)  # as node_exporter divides: same float


def build(config: Any) -> PressureCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    return PressureCollector(config.exporter.collectors.path_procfs)
