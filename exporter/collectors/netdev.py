"""node_network_{receive,transmit}_{bytes,packets,errs,drop}_total{device} from psutil.

The subset of node_exporter's netdev statistics that psutil reports on every OS, with
node_exporter's names and help texts. Devices are filtered by the include/exclude patterns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psutil

from exporter.families import counter
from exporter.filters import NameFilter
from exporter.metric import Metric

# node_exporter statistic -> psutil field
FIELDS = (
    ("receive_bytes", "bytes_recv"),
    ("receive_packets", "packets_recv"),
    ("receive_errs", "errin"),
    ("receive_drop", "dropin"),
    ("transmit_bytes", "bytes_sent"),
    ("transmit_packets", "packets_sent"),
    ("transmit_errs", "errout"),
    ("transmit_drop", "dropout"),
)
STATS = tuple(
    (counter(f"node_network_{stat}_total", f"Network device statistic {stat}.", ("device",)), field)
    for stat, field in FIELDS
)


class NetdevCollector:
    name = "netdev"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, device_filter: NameFilter | None = None, ps: Any = psutil):
        self.ps = ps
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
        counters = self.ps.net_io_counters(pernic=True, nowrap=False)
        devices = [(d, c) for d, c in counters.items() if self._keep(d)]
        for spec, field in STATS:
            fam = spec.new()
            for device, c in devices:
                spec.add(fam, (device,), getattr(c, field))
            yield fam


def build(config: Any) -> NetdevCollector:
    s = config.exporter.collectors
    return NetdevCollector(NameFilter(s.netdev_device_include, s.netdev_device_exclude))
