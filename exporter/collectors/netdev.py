"""node_network_{receive,transmit}_*_total{device}: network interface counters.

On Linux the collector reads /proc/net/dev once per scrape and exports all sixteen of its
columns under node_exporter 1.5's names (bytes, packets, errs, drop, fifo, frame, compressed
and multicast received; bytes, packets, errs, drop, fifo, colls, carrier and compressed sent),
parsed as procfs's `newNetDev` does (two header lines, the name before the last colon, one
field per column). Elsewhere psutil's `net_io_counters` gives the first eight (bytes, packets,
errs and drop each way); the rest are omitted, never faked.

node_exporter 1.5 reads the same counters over rtnetlink by default
(`--collector.netdev.netlink`), which adds `node_network_receive_nohandler_total`, a counter
/proc/net/dev has no column for: it is read from /sys/class/net/<device>/statistics/rx_nohandler
(the same kernel counter, kernels 4.6 and later), one small read per device; a device without
the file has no such series. Like upstream 1.5, no device is excluded by default (Debian's
package excludes `lo`: see docs/exporter.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from exporter.families import FamilySpec, counter
from exporter.filters import NameFilter
from exporter.metric import Metric

PROC_NET_DEV = "/proc/net/dev"
SYS_CLASS_NET = "/sys/class/net"

# /proc/net/dev's columns in order, as node_exporter names them
COLUMNS = (
    "receive_bytes", "receive_packets", "receive_errs", "receive_drop", "receive_fifo",
    "receive_frame", "receive_compressed", "receive_multicast",
    "transmit_bytes", "transmit_packets", "transmit_errs", "transmit_drop", "transmit_fifo",
    "transmit_colls", "transmit_carrier", "transmit_compressed",
)
SPECS: dict[str, FamilySpec] = {
    stat: counter(f"node_network_{stat}_total", f"Network device statistic {stat}.", ("device",))
    for stat in COLUMNS
}

NOHANDLER = counter("node_network_receive_nohandler_total", "Network device statistic receive_nohandler.",
                    ("device",))

# node_exporter statistic -> psutil field (the OSes without /proc/net/dev)
PSUTIL_FIELDS = (
    ("receive_bytes", "bytes_recv"),
    ("receive_packets", "packets_recv"),
    ("receive_errs", "errin"),
    ("receive_drop", "dropin"),
    ("transmit_bytes", "bytes_sent"),
    ("transmit_packets", "packets_sent"),
    ("transmit_errs", "errout"),
    ("transmit_drop", "dropout"),
)


def parse_net_dev(text: str, file: str = PROC_NET_DEV) -> list[tuple[str, list[int]]]:
    """(device, its sixteen counters) per interface line; ValueError naming the file and line
    on a line procfs would reject (no colon, no name, a field short, not an unsigned integer)."""
    out = []
    for number, line in enumerate(text.splitlines()[2:], start=3):
        name, colon, rest = line.rpartition(":")
        if not colon:
            raise ValueError(f"{file} line {number}: no colon in {line!r}")
        name = name.strip()
        if not name:
            raise ValueError(f"{file} line {number}: empty interface name")
        fields = rest.split()
        if len(fields) < len(COLUMNS):
            raise ValueError(f"{file} line {number}: {len(fields)} fields, {len(COLUMNS)} expected")
        fields = fields[:len(COLUMNS)]
        if not all(f.isdigit() for f in fields):
            raise ValueError(f"{file} line {number}: not an unsigned integer in {rest.strip()!r}")
        out.append((name, [int(f) for f in fields]))
    return out


class NetdevCollector:
    name = "netdev"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, device_filter: NameFilter | None = None, ps: Any = psutil,
                 proc_net_dev: str | None = None, sys_class_net: str = SYS_CLASS_NET):
        self.ps = ps
        self.proc_net_dev = proc_net_dev
        self.sys_class_net = sys_class_net
        self.keep = device_filter or NameFilter()
        self._kept: dict[str, bool] = {}

    def _keep(self, device: str) -> bool:
        kept = self._kept.get(device)
        if kept is None:
            if len(self._kept) > 4096:  # interfaces come and go (veths): bound the memo
                self._kept.clear()
            kept = self._kept[device] = self.keep(device)
        return kept

    def collect(self) -> Iterator[Metric]:
        if self.proc_net_dev is not None:
            yield from self._collect_proc()
            return
        counters = self.ps.net_io_counters(pernic=True, nowrap=False)
        devices = [(d, c) for d, c in counters.items() if self._keep(d)]
        for stat, field in PSUTIL_FIELDS:
            spec = SPECS[stat]
            fam = spec.new()
            for device, c in devices:
                spec.add(fam, (device,), getattr(c, field))
            yield fam

    def _collect_proc(self) -> Iterator[Metric]:
        with open(self.proc_net_dev, encoding="ascii", errors="replace") as fh:
            text = fh.read()
        devices = [(d, v) for d, v in parse_net_dev(text, self.proc_net_dev) if self._keep(d)]
        for i, stat in enumerate(COLUMNS):
            spec = SPECS[stat]
            fam = spec.new()
            for device, values in devices:
                spec.add(fam, (device,), values[i])
            yield fam
        fam = NOHANDLER.new()
        for device, _ in devices:
            value = self._nohandler(device)
            if value is not None:
                NOHANDLER.add(fam, (device,), value)
        if fam.samples:
            yield fam

    def _nohandler(self, device: str) -> int | None:
        """rx_nohandler from sysfs; None where the kernel has no such file or it does not parse."""
        try:
            fd = os.open(f"{self.sys_class_net}/{device}/statistics/rx_nohandler", os.O_RDONLY)
        except OSError:
            return None
        try:
            text = os.read(fd, 64).strip()
        except OSError:
            return None
        finally:
            os.close(fd)
        return int(text) if text.isdigit() else None


def build(config: Any) -> NetdevCollector:
    s = config.exporter.collectors
    keep = NameFilter(s.netdev_device_include, s.netdev_device_exclude)
    if sys.platform.startswith("linux") and Path(PROC_NET_DEV).exists():
        return NetdevCollector(keep, proc_net_dev=PROC_NET_DEV)
    return NetdevCollector(keep, ps=psutil)
