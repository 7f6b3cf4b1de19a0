"""node_arp_entries{device}: entries of the kernel's ARP table (/proc/net/arp) per device, as
node_exporter's arp collector counts them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError
from exporter.families import gauge
from exporter.filters import NameFilter
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text

ENTRIES = gauge("node_arp_entries", "ARP entries by device", ("device",))


def parse_arp(text: str) -> dict[str, int]:
    """Entries per device (the last column); the header line starts with "IP".
    Raises ValueError for a line of fewer than 6 columns."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 6:
            raise ValueError(f"unexpected ARP table format: {line[:60]!r}")
        if cols[0] != "IP":
            counts[cols[-1]] = counts.get(cols[-1], 0) + 1
    return counts


class ArpCollector:
    name = "arp"
    inline = True  # reads a kernel table only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC, device_filter: NameFilter | None = None):
        self.path = join(proc, "net", "arp")
        self.keep = device_filter or NameFilter()

    def collect(self) -> Iterator[Metric]:
        try:
            counts = parse_arp(read_text(self.path))
        except ValueError as exc:
            raise FormatError(self.path, str(exc)) from None
        fam = ENTRIES.new()
        for device, n in counts.items():
            if self.keep(device):
                ENTRIES.add(fam, (device,), n)
        if fam.samples:
            yield fam


def build(config: Any) -> ArpCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    s = config.exporter.collectors
    return ArpCollector(s.path_procfs, NameFilter(s.arp_device_include, s.arp_device_exclude))
