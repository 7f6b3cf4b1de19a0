"""node_time_seconds, node_time_zone_offset_seconds{time_zone} and, on Linux,
node_time_clocksource_{available,current}_info{device,clocksource}: node_exporter's time
collector. The clock and the zone are the same on every OS; clock sources are read from
/sys/devices/system/clocksource/clocksource*/ (`device` is the directory's index in sorted
order, as node_exporter numbers them)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from exporter.families import gauge
from exporter.metric import Metric
from exporter.procfs import SYS, join, read_text

NOW = gauge("node_time_seconds", "System time in seconds since epoch (1970).")
ZONE = gauge("node_time_zone_offset_seconds", "System time zone offset in seconds.", ("time_zone",))
AVAILABLE = gauge("node_time_clocksource_available_info",
                  "Available clocksources read from '/sys/devices/system/clocksource'.",
                  ("device", "clocksource"))
CURRENT = gauge("node_time_clocksource_current_info",
                "Current clocksource read from '/sys/devices/system/clocksource'.", ("device", "clocksource"))


def clocksource_dirs(sys_root: str) -> list[str]:
    """clocksource[0-9]* under devices/system/clocksource, sorted as Go's filepath.Glob sorts."""
    base = join(sys_root, "devices", "system", "clocksource")
    try:
        names = os.listdir(base)
    except FileNotFoundError:
        return []
    return [join(base, n) for n in sorted(names)
            if n.startswith("clocksource") and n[len("clocksource"):len("clocksource") + 1].isdigit()]


class TimeCollector:
    name = "time"
    inline = True  # the clock and two sysfs files: run in the request thread (see exporter.scrape)

    def __init__(self, sys_root: str | None = SYS, clock: Any = time.time_ns,
                 localtime: Any = time.localtime):
        self.sys_root = sys_root  # None: no clock sources (not Linux)
        self.clock = clock
        self.localtime = localtime

    def collect(self) -> Iterator[Metric]:
        yield NOW.value(self.clock() / 1e9)
        now = self.localtime()
        zone = ZONE.new()
        ZONE.add(zone, (now.tm_zone,), now.tm_gmtoff)
        yield zone
        if self.sys_root is None:
            return
        available, current = AVAILABLE.new(), CURRENT.new()
        for i, path in enumerate(clocksource_dirs(self.sys_root)):
            device = str(i)
            for source in read_text(join(path, "available_clocksource")).split():
                AVAILABLE.add(available, (device, source), 1.0)
            CURRENT.add(current, (device, read_text(join(path, "current_clocksource")).strip()), 1.0)
        if available.samples:
            yield available
        if current.samples:
            yield current


def build(config: Any) -> TimeCollector:
    linux = sys.platform.startswith("linux")
    return TimeCollector(config.exporter.collectors.path_sysfs if linux else None)
