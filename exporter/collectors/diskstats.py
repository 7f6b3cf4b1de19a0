"""node_disk_*{device}: block device I/O, node_exporter 1.5's diskstats collector.

On Linux it reads /proc/diskstats once per scrape, as node_exporter 1.5 does
(collector/diskstats_linux.go over procfs 0.8's `ProcDiskstats`):

- A line is major, minor, name and then up to 17 counters; how many depends on the kernel
  (11 before 4.18, 15 with discards from 4.18, 17 with flushes from 5.5), and only the families
  the line has are emitted. A line with fewer than 14 fields (the old four-counter partition
  lines) is skipped; a field that is not an unsigned integer fails the collector, naming the file.
- Sectors are 512 bytes (the kernel's unit, whatever the device's); `discarded_sectors` stays in
  sectors, as node_exporter exports it. Milliseconds become seconds.
- `node_disk_info{device,major,minor,path,wwn,model,serial,revision}` comes with every device,
  its strings from udev's database (/run/udev/data/b<major>:<minor>, the `E:` properties), empty
  where there is none (a container, a VM without udev). From the same file, as node_exporter:
  `node_disk_filesystem_info`, `node_disk_device_mapper_info` and, for ATA disks,
  `node_disk_ata_write_cache`, `_ata_write_cache_enabled` and `_ata_rotation_rate_rpm`.
- Default exclusion (node_exporter 1.5's): `^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$`,
  partitions and loop/RAM devices; zram devices are kept (node_exporter 1.8 added `z?`).

Elsewhere psutil's `disk_io_counters` gives what that OS has: the first eight counters and
busy time where psutil reports them; what it lacks is omitted, never faked.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from exporter.families import FamilySpec, counter, gauge
from exporter.filters import NameFilter
from exporter.metric import Metric

log = logging.getLogger(__name__)

PROC_DISKSTATS = "/proc/diskstats"
UDEV_DATA = "/run/udev/data"
SECTOR = 512.0
TICK = 0.001  # the kernel counts milliseconds

# (family, help, type, scale), in /proc/diskstats' column order
COLUMNS = (
    ("node_disk_reads_completed_total", "The total number of reads completed successfully.", "counter", 1.0),
    ("node_disk_reads_merged_total", "The total number of reads merged.", "counter", 1.0),
    ("node_disk_read_bytes_total", "The total number of bytes read successfully.", "counter", SECTOR),
    ("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", "counter",
     TICK),
    ("node_disk_writes_completed_total", "The total number of writes completed successfully.",
     "counter", 1.0),
    ("node_disk_writes_merged_total", "The number of writes merged.", "counter", 1.0),
    ("node_disk_written_bytes_total", "The total number of bytes written successfully.", "counter",
     SECTOR),
    ("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.",
     "counter", TICK),
    ("node_disk_io_now", "The number of I/Os currently in progress.", "gauge", 1.0),
    ("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", "counter", TICK),
    ("node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", "counter",
     TICK),
    ("node_disk_discards_completed_total", "The total number of discards completed successfully.",
     "counter", 1.0),
    ("node_disk_discards_merged_total", "The total number of discards merged.", "counter", 1.0),
    ("node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.",
     "counter", 1.0),
    ("node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.",
     "counter", TICK),
    ("node_disk_flush_requests_total", "The total number of flush requests completed successfully",
     "counter", 1.0),
    ("node_disk_flush_requests_time_seconds_total",
     "This is the total number of seconds spent by all flush requests.", "counter", TICK),
)
SPECS: tuple[tuple[FamilySpec, float], ...] = tuple(
    (counter(name, text, ("device",)) if typ == "counter" else gauge(name, text, ("device",)), scale)
    for name, text, typ, scale in COLUMNS
)
MIN_FIELDS = 14  # procfs keeps a line only when it scanned at least this many

INFO = gauge("node_disk_info", "Info of /sys/block/<block_device>.",
             ("device", "major", "minor", "model", "path", "revision", "serial", "wwn"))
FILESYSTEM_INFO = gauge("node_disk_filesystem_info", "Info about disk filesystem.",
                        ("device", "type", "usage", "uuid", "version"))
DEVICE_MAPPER_INFO = gauge("node_disk_device_mapper_info", "Info about disk device mapper.",
                           ("device", "lv_layer", "lv_name", "name", "uuid", "vg_name"))
ATA = (
    ("ID_ATA_WRITE_CACHE", gauge("node_disk_ata_write_cache", "ATA disk has a write cache.", ("device",))),
    ("ID_ATA_WRITE_CACHE_ENABLED", gauge("node_disk_ata_write_cache_enabled",
                                         "ATA disk has its write cache enabled.", ("device",))),
    ("ID_ATA_ROTATION_RATE_RPM", gauge("node_disk_ata_rotation_rate_rpm",
                                       "ATA disk rotation rate in RPMs (0 for SSDs).", ("device",))),
)

# the psutil path: (index into COLUMNS, psutil field, scale applied to psutil's value)
PSUTIL_FIELDS = (
    (0, "read_count", 1.0), (1, "read_merged_count", 1.0), (2, "read_bytes", 1.0), (3, "read_time", TICK),
    (4, "write_count", 1.0), (5, "write_merged_count", 1.0), (6, "write_bytes", 1.0),
    (7, "write_time", TICK), (9, "busy_time", TICK),
)


def parse_diskstats(text: str, file: str = PROC_DISKSTATS) -> list[tuple[str, str, str, list[int]]]:
    """(device, major, minor, counters) per line with at least 14 fields; ValueError naming the
    file and line when a field is not an unsigned integer."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if len(fields) < MIN_FIELDS:
            continue
        major, minor, device, *counters = fields[:3 + len(COLUMNS)]
        if not (major.isdigit() and minor.isdigit() and all(c.isdigit() for c in counters)):
            raise ValueError(f"{file} line {number}: not an unsigned integer in {line.strip()!r}")
        out.append((device, str(int(major)), str(int(minor)), [int(c) for c in counters]))
    return out


def parse_udev(text: str) -> dict[str, str]:
    """The `E:NAME=value` device properties of a udev database file."""
    props = {}
    for line in text.splitlines():
        if line.startswith("E:"):
            name, sep, value = line[2:].partition("=")
            if sep:
                props[name] = value
    return props


class DiskstatsCollector:
    name = "diskstats"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, device_filter: NameFilter | None = None, ps: Any = psutil,
                 proc_diskstats: str | None = None, udev_data: str = UDEV_DATA):
        self.ps = ps
        self.keep = device_filter or NameFilter()
        self.proc_diskstats = proc_diskstats
        self.udev_data = udev_data

    def collect(self) -> Iterator[Metric]:
        if self.proc_diskstats is not None:
            yield from self._collect_proc()
            return
        counters = self.ps.disk_io_counters(perdisk=True, nowrap=False) or {}
        devices = sorted((d, c) for d, c in counters.items() if self.keep(d))
        if not devices:
            return
        fields = devices[0][1]._fields
        for index, field, scale in PSUTIL_FIELDS:
            if field not in fields:
                continue
            spec = SPECS[index][0]
            fam = spec.new()
            for device, c in devices:
                spec.add(fam, (device,), getattr(c, field) * scale)
            yield fam

    def udev(self, major: str, minor: str) -> dict[str, str]:
        try:
            with open(f"{self.udev_data}/b{major}:{minor}", encoding="utf-8", errors="replace") as fh:
                return parse_udev(fh.read())
        except OSError:
            return {}  # no udev database (containers, minimal VMs): empty labels, as node_exporter

    def _collect_proc(self) -> Iterator[Metric]:
        with open(self.proc_diskstats, encoding="ascii", errors="replace") as fh:
            text = fh.read()
        rows = [row for row in parse_diskstats(text, self.proc_diskstats) if self.keep(row[0])]
        families = [spec.new() for spec, _ in SPECS]
        info, fs_info, dm_info = INFO.new(), FILESYSTEM_INFO.new(), DEVICE_MAPPER_INFO.new()
        ata = [(key, spec, spec.new()) for key, spec in ATA]
        for device, major, minor, counters in rows:
            props = self.udev(major, minor)
            get = props.get
            INFO.add(info, (device, major, minor, get("ID_MODEL", ""), get("ID_PATH", ""),
                            get("ID_REVISION", ""), get("ID_SERIAL_SHORT", ""), get("ID_WWN", "")), 1.0)
            for (spec, scale), fam, value in zip(SPECS, families, counters, strict=False):
                spec.add(fam, (device,), value * scale if scale != 1.0 else value)
            if get("ID_FS_TYPE"):
                FILESYSTEM_INFO.add(fs_info, (device, props["ID_FS_TYPE"], get("ID_FS_USAGE", ""),
                                              get("ID_FS_UUID", ""), get("ID_FS_VERSION", "")), 1.0)
            if get("DM_NAME"):
                DEVICE_MAPPER_INFO.add(dm_info, (device, get("DM_LV_LAYER", ""), get("DM_LV_NAME", ""),
                                                 props["DM_NAME"], get("DM_UUID", ""),
                                                 get("DM_VG_NAME", "")), 1.0)
            if get("ID_ATA"):
                for key, spec, fam in ata:
                    try:
                        spec.add(fam, (device,), float(props[key]))
                    except (KeyError, ValueError):
                        continue  # node_exporter logs and skips an attribute it cannot parse
        for fam in (info, *families, fs_info, dm_info, *(fam for _, _, fam in ata)):
            if fam.samples:
                yield fam


def build(config: Any) -> DiskstatsCollector:
    s = config.exporter.collectors
    keep = NameFilter(s.diskstats_device_include, s.diskstats_device_exclude)
    if sys.platform.startswith("linux") and Path(PROC_DISKSTATS).exists():
        return DiskstatsCollector(keep, proc_diskstats=PROC_DISKSTATS)
    return DiskstatsCollector(keep)
