"""node_entropy_available_bits and node_entropy_pool_size_bits: /proc/sys/kernel/random's
entropy_avail and poolsize, as node_exporter's entropy collector (either missing fails it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from exporter.families import gauge
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_uint

AVAILABLE = gauge("node_entropy_available_bits", "Bits of available entropy.")
POOL_SIZE = gauge("node_entropy_pool_size_bits", "Bits of entropy pool.")


class EntropyCollector:
    name = "entropy"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC):
        self.avail = join(proc, "sys", "kernel", "random", "entropy_avail")
        self.poolsize = join(proc, "sys", "kernel", "random", "poolsize")

    def collect(self) -> Iterator[Metric]:
        yield AVAILABLE.value(read_uint(self.avail))
        yield POOL_SIZE.value(read_uint(self.poolsize))


def build(config: Any) -> EntropyCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    return EntropyCollector(config.exporter.collectors.path_procfs)
