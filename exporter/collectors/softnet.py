"""node_softnet_{processed,dropped,times_squeezed}_total{cpu}: /proc/net/softnet_stat, one
line per CPU, the first three hex columns, as node_exporter's softnet collector (the cpu label
is the line's index, as there)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError
from exporter.families import counter
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text

PROCESSED = counter("node_softnet_processed_total", "Number of processed packets", ("cpu",))
DROPPED = counter("node_softnet_dropped_total", "Number of dropped packets", ("cpu",))
SQUEEZED = counter("node_softnet_times_squeezed_total", "Number of times processing packets ran out of quota",
                   ("cpu",))
MIN_COLUMNS = 9


def parse_softnet(text: str) -> list[tuple[int, int, int]]:
    """(processed, dropped, time_squeezed) per line. Raises ValueError for a line of fewer than
    9 columns or a value that is not a 32-bit hex number."""
    out = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < MIN_COLUMNS:
            raise ValueError(f"{len(cols)} columns were detected, but at least {MIN_COLUMNS} were expected")
        values = (int(cols[0], 16), int(cols[1], 16), int(cols[2], 16))
        if max(values) > 0xFFFFFFFF:
            raise ValueError(f"value out of 32-bit range in {line[:60]!r}")
        out.append(values)
    return out


class SoftnetCollector:
    name = "softnet"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC):
        self.path = join(proc, "net", "softnet_stat")

    def collect(self) -> Iterator[Metric]:
        try:
            rows = parse_softnet(read_text(self.path))
        except ValueError as exc:
            raise FormatError(self.path, str(exc)) from None
        processed, dropped, squeezed = PROCESSED.new(), DROPPED.new(), SQUEEZED.new()
        for i, (p, d, s) in enumerate(rows):
            cpu = (str(i),)
            PROCESSED.add(processed, cpu, p)
            DROPPED.add(dropped, cpu, d)
            SQUEEZED.add(squeezed, cpu, s)
        yield processed
        yield dropped
        yield squeezed


def build(config: Any) -> SoftnetCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    return SoftnetCollector(config.exporter.collectors.path_procfs)
