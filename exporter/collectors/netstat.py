"""node_netstat_*: /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6 statistics matching
node_exporter's field pattern, untyped, named `node_netstat_<Protocol>_<Field>` as
node_exporter's netstat collector names them.

netstat and snmp come in line pairs (`Tcp: ActiveOpens ...` then `Tcp: 12 ...`); snmp6 is one
`Ip6InReceives 123` per line, the protocol being the name up to its first `6`. As in
node_exporter a protocol in snmp replaces one of the same name from netstat, a missing snmp6
(IPv6 disabled) is skipped, and a missing netstat or snmp fails the collector.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError
from exporter.families import SpecCache
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text

DEFAULT_FIELDS = (
    r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
    r"TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|"
    r"Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|"
    r"Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
)
SPECS = SpecCache("node_netstat_", "Statistic {}.", "untyped")

# A header line (`Tcp: RtoAlgorithm RtoMin ...`) is the same scrape after scrape: it is parsed and
# matched against the field pattern once, into a plan: (prefix, field count, [(column, key, help)]).
Plan = tuple[str, int, list[tuple[int, str, str]]]
Picked = dict[str, list[tuple[str, str, str]]]  # protocol -> [(key, help text key, value text)]


class NetstatCollector:
    name = "netstat"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    MAX_PLANS = 4096

    def __init__(self, proc: str = PROC, fields: str = DEFAULT_FIELDS):
        self.netstat = join(proc, "net", "netstat")
        self.snmp = join(proc, "net", "snmp")
        self.snmp6 = join(proc, "net", "snmp6")
        self.pattern = re.compile(fields)
        self._plans: dict[str, Plan] = {}
        self._plans6: dict[str, tuple[str, str, str] | None] = {}  # snmp6 name -> (protocol, key, help)

    def _plan(self, header: str) -> Plan:
        plan = self._plans.get(header)
        if plan is None:
            names = header.split(" ")
            protocol = names[0][:-1]
            picks = []
            for column, field in enumerate(names[1:], start=1):
                key = f"{protocol}_{field}"
                if self.pattern.search(key):
                    picks.append((column, key, protocol + field))
            if len(self._plans) >= self.MAX_PLANS:
                self._plans.clear()
            plan = self._plans[header] = (names[0], len(names), picks)
        return plan

    def _pairs(self, path: str, into: Picked) -> None:
        """netstat/snmp: a header line then its value line, per protocol; a protocol replaces
        one of the same name read before (node_exporter's map assignment)."""
        lines = read_text(path).splitlines()
        if len(lines) % 2:
            raise FormatError(path, "odd number of lines (a header without its values)")
        for i in range(0, len(lines), 2):
            prefix, count, picks = self._plan(lines[i])
            values = lines[i + 1].split(" ")
            if len(values) != count or values[0] != prefix:
                raise FormatError(path, f"field count mismatch for {prefix[:-1]}")
            into[prefix[:-1]] = [(key, help_key, values[column]) for column, key, help_key in picks]

    def _snmp6(self, into: Picked) -> None:
        """snmp6: `Ip6InReceives 123` per line, the protocol being the name up to its first 6."""
        try:
            text = read_text(self.snmp6)
        except FileNotFoundError:  # IPv6 disabled
            return
        picked: Picked = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            name = parts[0]
            if name in self._plans6:
                plan = self._plans6[name]
            else:
                six = name.find("6")
                plan = None
                if six != -1:
                    protocol, field = name[: six + 1], name[six + 1:]
                    key = f"{protocol}_{field}"
                    if self.pattern.search(key):
                        plan = (protocol, key, name)
                if len(self._plans6) >= self.MAX_PLANS:
                    self._plans6.clear()
                self._plans6[name] = plan
            if plan is not None:
                picked.setdefault(plan[0], []).append((plan[1], plan[2], parts[1]))
        into.update(picked)

    def collect(self) -> Iterator[Metric]:
        picked: Picked = {}
        self._pairs(self.netstat, picked)
        self._pairs(self.snmp, picked)
        self._snmp6(picked)
        for fields in picked.values():
            for key, help_key, text in fields:
                try:
                    value = float(text)
                except ValueError:
                    raise FormatError(f"{self.netstat}, snmp or snmp6",
                                      f"{key}: not a number: {text[:40]!r}") from None
                yield SPECS.get(key, help_key).value(value)


def build(config: Any) -> NetstatCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    s = config.exporter.collectors
    return NetstatCollector(s.path_procfs, s.netstat_fields)
