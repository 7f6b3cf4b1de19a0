"""node_udp_queues{queue,ip}: bytes queued in UDP sockets' send and receive buffers, summed
over /proc/net/udp (ip="v4") and /proc/net/udp6 (ip="v6"), as node_exporter's udp_queues
collector. A missing file (no IPv6) skips that protocol; both missing is "no data"."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError, NoData
from exporter.families import gauge
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text

QUEUES = gauge("node_udp_queues", "Number of allocated memory in the kernel for UDP datagrams in bytes.",
               ("queue", "ip"))


def parse_queues(text: str) -> tuple[int, int]:
    """(tx, rx) summed over every socket line; `tx_queue:rx_queue` is the 5th column, in hex.
    Raises ValueError for a line with fewer than 10 columns or a bad queue field."""
    tx = rx = 0
    lines = text.splitlines()
    for line in lines[1:]:  # the first line is the header
        fields = line.split()
        if len(fields) < 10:
            raise ValueError(f"fewer than 10 columns: {line[:60]!r}")
        t, sep, r = fields[4].partition(":")
        if not sep:
            raise ValueError(f"no tx:rx queue field: {fields[4][:30]!r}")
        tx += int(t, 16)
        rx += int(r, 16)
    return tx, rx


class UdpQueuesCollector:
    name = "udp_queues"
    inline = True  # reads kernel tables only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC):
        self.files = (("v4", join(proc, "net", "udp")), ("v6", join(proc, "net", "udp6")))

    def collect(self) -> Iterator[Metric]:
        fam = QUEUES.new()
        missing = 0
        for ip, path in self.files:
            try:
                text = read_text(path)
            except FileNotFoundError:
                missing += 1
                continue
            try:
                tx, rx = parse_queues(text)
            except ValueError as exc:
                raise FormatError(path, str(exc)) from None
            QUEUES.add(fam, ("tx", ip), tx)
            QUEUES.add(fam, ("rx", ip), rx)
        if fam.samples:
            yield fam
        if missing == len(self.files):
            raise NoData("neither " + " nor ".join(p for _, p in self.files) + " exists")


def build(config: Any) -> UdpQueuesCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    return UdpQueuesCollector(config.exporter.collectors.path_procfs)
