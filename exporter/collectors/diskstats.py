"""node_disk_*{device}: block device I/O counters, node_exporter's names, from psutil.

psutil reports times in milliseconds; they are exported in seconds as node_exporter does.
Fields psutil lacks on an OS (merged counts off Linux, busy time off Linux/FreeBSD) are omitted,
never faked. Partitions (sda1, nvme0n1p1) are excluded by the default device pattern so that
sums over devices do not count the same I/O twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psutil

from exporter.families import counter
from exporter.filters import NameFilter
from exporter.metric import Metric

# (node_exporter family, help, psutil field, scale)
STATS = (
    ("node_disk_reads_completed_total", "The total number of reads completed successfully.",
     "read_count", 1.0),
    ("node_disk_reads_merged_total", "The total number of reads merged.", "read_merged_count", 1.0),
    ("node_disk_read_bytes_total", "The total number of bytes read successfully.", "read_bytes", 1.0),
    ("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.",
     "read_time", 0.001),
    ("node_disk_writes_completed_total", "The total number of writes completed successfully.",
     "write_count", 1.0),
    ("node_disk_writes_merged_total", "The number of writes merged.", "write_merged_count", 1.0),
    ("node_disk_written_bytes_total", "The total number of bytes written successfully.",
     "write_bytes", 1.0),
    ("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.",
     "write_time", 0.001),
    ("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", "busy_time", 0.001),
)
SPECS = tuple(
    (counter(name, help_text, ("device",)), field, scale) for name, help_text, field, scale in STATS
)


class DiskstatsCollector:
    name = "diskstats"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, device_filter: NameFilter | None = None, ps: Any = psutil):
        self.ps = ps
        self.keep = device_filter or NameFilter()

    def collect(self) -> Iterator[Metric]:
        counters = self.ps.disk_io_counters(perdisk=True, nowrap=False) or {}
        devices = sorted((d, c) for d, c in counters.items() if self.keep(d))
        if not devices:
            return
        fields = devices[0][1]._fields
        for spec, field, scale in SPECS:
            if field not in fields:
                continue
            fam = spec.new()
            for device, c in devices:
                spec.add(fam, (device,), getattr(c, field) * scale)
            yield fam


def build(config: Any) -> DiskstatsCollector:
    s = config.exporter.collectors
    return DiskstatsCollector(NameFilter(s.diskstats_device_include, s.diskstats_device_exclude))
