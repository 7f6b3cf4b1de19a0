"""node_network_* properties from /sys/class/net/<iface>: node_exporter 1.5's netclass collector.

What it reads and how, after node_exporter 1.5 (collector/netclass_linux.go) and procfs 0.8
(sysfs/net_class.go):

- Every entry of /sys/class/net that is not a regular file (`bonding_masters` is one) is an
  interface; node_exporter's default ignore pattern is `^$`, which no interface name matches.
- Each attribute is one read of at most 128 bytes, whitespace-trimmed. A file that does not
  exist or cannot be opened for permission, or whose read fails with EINVAL or EOPNOTSUPP
  (`speed` and `duplex` on virtual devices, `carrier` and `dormant` on a device that is down,
  `name_assign_type` on lo) is skipped and its family has no series for that device; any other
  error fails the collector, naming the file.
- Numbers are parsed as Go's `strconv.ParseInt(s, 0, 64)` (so `flags` `0x1003` is 4099); one
  that does not parse is skipped like an unreadable file.
- `node_network_up` and `node_network_info` are always emitted, with empty labels for the
  strings that could not be read; `speed` is exported in bytes per second, including the -1
  ("unknown") some drivers report, as -125000: node_exporter 1.5 only drops it with
  `--collector.netclass.ignore-invalid-speed`, which is off by default.

One difference: node_exporter fails the whole collector when an interface disappears between
listing the directory and reading it (a container's veth going away); here that interface is
skipped. Only the attributes node_exporter exports are read, not every file in the directory.

Off Linux (node_exporter has no netclass there) psutil's `net_if_stats()` gives two of these
quantities as the same thing: `node_network_mtu_bytes`, and `node_network_speed_bytes` where the
speed is known (psutil reports 0 when it is not). The rest are not emitted, never faked.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from exporter.families import FamilySpec, counter, gauge
from exporter.filters import NameFilter
from exporter.metric import Metric

log = logging.getLogger(__name__)

SYS_CLASS_NET = "/sys/class/net"
READ_SIZE = 128  # procfs's SysReadFile reads at most this much, in one read(2)

SKIPPED_ERRORS = frozenset({errno.ENOENT, errno.EACCES, errno.EPERM, errno.EINVAL, errno.EOPNOTSUPP})

UP = gauge("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", ("device",))
INFO = gauge("node_network_info", "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
             ("address", "broadcast", "device", "duplex", "ifalias", "operstate"))
STRING_ATTRIBUTES = ("address", "broadcast", "duplex", "ifalias", "operstate")


def _property(name: str, typ: str = "gauge") -> FamilySpec:
    make = counter if typ == "counter" else gauge
    return make(f"node_network_{name}", f"Network device property: {name}", ("device",))


# (sysfs attribute, family), in node_exporter's order of emission
NUMERIC_ATTRIBUTES: tuple[tuple[str, FamilySpec], ...] = (
    ("addr_assign_type", _property("address_assign_type")),
    ("carrier", _property("carrier")),
    ("carrier_changes", _property("carrier_changes_total", "counter")),
    ("carrier_up_count", _property("carrier_up_changes_total", "counter")),
    ("carrier_down_count", _property("carrier_down_changes_total", "counter")),
    ("dev_id", _property("device_id")),
    ("dormant", _property("dormant")),
    ("flags", _property("flags")),
    ("ifindex", _property("iface_id")),
    ("iflink", _property("iface_link")),
    ("link_mode", _property("iface_link_mode")),
    ("mtu", _property("mtu_bytes")),
    ("name_assign_type", _property("name_assign_type")),
    ("netdev_group", _property("net_dev_group")),
    ("speed", _property("speed_bytes")),
    ("tx_queue_len", _property("transmit_queue_length")),
    ("type", _property("protocol_type")),
)
NUMERIC = dict(NUMERIC_ATTRIBUTES)
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_PREFIX_BASES = {"b": 2, "o": 8, "x": 16}


def parse_go_int(text: str) -> int | None:
    """Go's `strconv.ParseInt(text, 0, 64)`, or None where it returns an error: optional sign,
    0x/0o/0b prefixes, a leading 0 for octal, int64 range. (Go also allows `_` between digits
    with base 0; sysfs never writes one, and it is rejected here.)"""
    s = text
    negative = s[:1] == "-"
    if s[:1] in ("+", "-"):
        s = s[1:]
    base = 10
    if len(s) > 1 and s[0] == "0":
        base = _PREFIX_BASES.get(s[1].lower(), 0)
        s = s[2:] if base else s[1:]
        base = base or 8
    if not s or not s.isascii() or not s.isalnum():
        return None
    try:
        value = int(s, base)
    except ValueError:
        return None
    value = -value if negative else value
    return value if INT64_MIN <= value <= INT64_MAX else None


def read_raw(path: str) -> bytes:
    """One read(2) of at most 128 bytes, as procfs's SysReadFile (a hwmon-style attribute that
    answers EAGAIN must not make us poll)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, READ_SIZE)
    finally:
        os.close(fd)


RawReader = Callable[[str], bytes]


def read_attribute(path: str, raw: RawReader = read_raw) -> str | None:
    """One sysfs attribute, whitespace-trimmed; None when node_exporter skips it (ENOENT,
    EACCES/EPERM, EINVAL, EOPNOTSUPP). Any other error is raised, naming the file."""
    try:
        data = raw(path)
    except OSError as exc:
        if exc.errno in SKIPPED_ERRORS:
            return None
        raise OSError(exc.errno, f"cannot read {path}: {exc.strerror}") from None
    return data.decode("utf-8", "replace").strip()


def interfaces(root: str) -> list[str]:
    """The interfaces under /sys/class/net (symlinks and directories, not regular files)."""
    with os.scandir(root) as entries:
        return sorted(e.name for e in entries if not e.is_file(follow_symlinks=False))


class NetclassCollector:
    name = "netclass"
    # Not inline: reading `speed`, `duplex` or `carrier` calls into the driver under the kernel's
    # rtnl lock, which another process can hold for a long time; on the pool (exporter.scrape)
    # a stuck read costs this collector's series, never the scrape.
    inline = False

    def __init__(self, root: str = SYS_CLASS_NET, device_filter: NameFilter | None = None,
                 raw: RawReader = read_raw):
        self.root = root
        self.keep = device_filter or NameFilter()
        self.raw = raw

    def collect(self) -> Iterator[Metric]:
        try:
            devices = [d for d in interfaces(self.root) if self.keep(d)]
        except OSError as exc:
            raise OSError(exc.errno, f"cannot list {self.root}: {exc.strerror}") from None
        up = UP.new()
        info = INFO.new()
        numeric = [(attribute, spec, spec.new()) for attribute, spec in NUMERIC_ATTRIBUTES]
        raw = self.raw
        for device in devices:
            base = f"{self.root}/{device}/"
            strings = {}
            for attribute in STRING_ATTRIBUTES:
                strings[attribute] = read_attribute(base + attribute, raw)
            if all(v is None for v in strings.values()) and not os.path.isdir(base):
                continue  # gone since the listing (see the module docstring)
            values = {k: v or "" for k, v in strings.items()}
            UP.add(up, (device,), 1.0 if values["operstate"] == "up" else 0.0)
            INFO.add(info, (values["address"], values["broadcast"], device, values["duplex"],
                            values["ifalias"], values["operstate"]), 1.0)
            for attribute, spec, fam in numeric:
                text = read_attribute(base + attribute, raw)
                number = parse_go_int(text) if text is not None else None
                if number is None:
                    continue
                if attribute == "speed":
                    number *= 125000  # Mbit/s -> bytes/s, as node_exporter's speed * 1000 * 1000 / 8
                spec.add(fam, (device,), number)
        for fam in (up, info, *(fam for _, _, fam in numeric)):
            if fam.samples:  # as node_exporter: no HELP/TYPE for a family without series
                yield fam


class PsutilNetclassCollector:
    """MTU and known link speeds from psutil, for the OSes without /sys/class/net."""

    name = "netclass"
    inline = False  # the speed comes from a driver ioctl, as on Linux

    def __init__(self, ps: Any, device_filter: NameFilter | None = None):
        self.ps = ps
        self.keep = device_filter or NameFilter()

    def collect(self) -> Iterator[Metric]:
        stats = sorted((d, s) for d, s in self.ps.net_if_stats().items() if self.keep(d))
        mtu_spec, speed_spec = NUMERIC["mtu"], NUMERIC["speed"]
        mtu, speed = mtu_spec.new(), speed_spec.new()
        for device, st in stats:
            mtu_spec.add(mtu, (device,), st.mtu)
            if st.speed > 0:
                speed_spec.add(speed, (device,), st.speed * 125000)
        for fam in (mtu, speed):
            if fam.samples:
                yield fam


def build(config: Any) -> NetclassCollector | PsutilNetclassCollector:
    keep = NameFilter(exclude=config.exporter.collectors.netclass_ignored_devices)
    if sys.platform.startswith("linux") and Path(SYS_CLASS_NET).is_dir():
        return NetclassCollector(device_filter=keep)
    import psutil

    return PsutilNetclassCollector(psutil, keep)
