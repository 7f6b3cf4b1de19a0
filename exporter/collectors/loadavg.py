"""node_load1, node_load5, node_load15 as node_exporter's loadavg collector.

Not built on Windows: psutil can only emulate a load average there (from the processor queue
length, zero for the first seconds), which is not the quantity the node-mixin expects.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import psutil

from exporter.families import gauge
from exporter.metric import Metric

LOAD1 = gauge("node_load1", "1m load average.")
LOAD5 = gauge("node_load5", "5m load average.")
LOAD15 = gauge("node_load15", "15m load average.")


class LoadavgCollector:
    name = "loadavg"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, ps: Any = psutil):
        self.ps = ps

    def collect(self) -> Iterator[Metric]:
        one, five, fifteen = self.ps.getloadavg()
        yield LOAD1.value(one)
        yield LOAD5.value(five)
        yield LOAD15.value(fifteen)


def build(config: Any) -> LoadavgCollector | None:
    return None if sys.platform == "win32" else LoadavgCollector()
