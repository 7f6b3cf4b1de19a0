"""node_sockstat_*: socket counts per protocol from /proc/net/sockstat and sockstat6, as
node_exporter's sockstat collector names them (`node_sockstat_TCP_inuse`,
`node_sockstat_UDP6_inuse`, `node_sockstat_TCP_mem_bytes` = pages x page size,
`node_sockstat_sockets_used` from the IPv4 file only). A missing file is skipped."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError
from exporter.families import SpecCache, gauge
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text

USED = gauge("node_sockstat_sockets_used", "Number of IPv4 sockets in use.")
SPECS = SpecCache("node_sockstat_", "Number of {} sockets in state {}.")
STATES = ("orphan", "tw", "alloc", "mem", "memory")  # after inuse, in node_exporter's order
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

Sockstat = tuple[int | None, list[tuple[str, dict[str, int]]]]  # (sockets used, [(protocol, kvs)])


def parse_sockstat(text: str) -> Sockstat:
    """`TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1` lines. Raises ValueError on a short line, an
    odd key/value list or a value that is not an integer."""
    used = None
    protocols = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 3:
            raise ValueError(f"malformed line {line[:60]!r}")
        rest = fields[1:]
        if len(rest) % 2:
            raise ValueError(f"odd number of key/value fields in {line[:60]!r}")
        kvs = {rest[i]: int(rest[i + 1]) for i in range(0, len(rest), 2)}
        proto = fields[0].removesuffix(":")
        if proto == "sockets":
            used = kvs.get("used", 0)
        else:
            protocols.append((proto, kvs))
    return used, protocols


class SockstatCollector:
    name = "sockstat"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC, page_size: int = PAGE_SIZE):
        self.files = (join(proc, "net", "sockstat"), join(proc, "net", "sockstat6"))
        self.page_size = page_size

    def collect(self) -> Iterator[Metric]:
        for ipv6, path in enumerate(self.files):
            try:
                text = read_text(path)
            except FileNotFoundError:
                continue
            try:
                used, protocols = parse_sockstat(text)
            except ValueError as exc:
                raise FormatError(path, str(exc)) from None
            if not ipv6 and used is not None:
                yield USED.value(used)
            for proto, kvs in protocols:
                yield self._family(proto, "inuse", kvs.get("inuse", 0))
                for state in STATES:
                    if state in kvs:
                        yield self._family(proto, state, kvs[state])
                if "mem" in kvs:
                    yield self._family(proto, "mem_bytes", kvs["mem"] * self.page_size)

    @staticmethod
    def _family(proto: str, state: str, value: float) -> Metric:
        return SPECS.get(f"{proto}_{state}", proto, state).value(value)


def build(config: Any) -> SockstatCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    return SockstatCollector(config.exporter.collectors.path_procfs)
