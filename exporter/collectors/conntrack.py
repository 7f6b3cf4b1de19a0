"""node_nf_conntrack_entries, node_nf_conntrack_entries_limit and node_nf_conntrack_stat_*:
netfilter connection tracking, as node_exporter's conntrack collector reads it
(/proc/sys/net/netfilter/nf_conntrack_{count,max}, then the per-CPU hex table
/proc/net/stat/nf_conntrack summed over CPUs; the stat_* families are gauges there too).

Without the nf_conntrack module the files do not exist: "no data" (success 0, logged at debug
level), as node_exporter. What was read before a failure is still served (the entries when
only the statistics table is missing, as in some containers).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from exporter.collector import FormatError, NoData
from exporter.families import gauge
from exporter.metric import Metric
from exporter.procfs import PROC, join, read_text, read_uint

ENTRIES = gauge("node_nf_conntrack_entries",
                "Number of currently allocated flow entries for connection tracking.")
LIMIT = gauge("node_nf_conntrack_entries_limit", "Maximum size of connection tracking table.")
# (column of /proc/net/stat/nf_conntrack, family)
STATS = (
    (2, gauge("node_nf_conntrack_stat_found", "Number of searched entries which were successful.")),
    (4, gauge("node_nf_conntrack_stat_invalid", "Number of packets seen which can not be tracked.")),
    (5, gauge("node_nf_conntrack_stat_ignore",
              "Number of packets seen which are already connected to a conntrack entry.")),
    (8, gauge("node_nf_conntrack_stat_insert", "Number of entries inserted into the list.")),
    (9, gauge("node_nf_conntrack_stat_insert_failed",
              "Number of entries for which list insertion was attempted but failed.")),
    (10, gauge("node_nf_conntrack_stat_drop", "Number of packets dropped due to conntrack failure.")),
    (11, gauge("node_nf_conntrack_stat_early_drop",
               "Number of dropped conntrack entries to make room for new ones, "
               "if maximum table size was reached.")),
    (16, gauge("node_nf_conntrack_stat_search_restart",
               "Number of conntrack table lookups which had to be restarted due to hashtable resizes.")),
)
COLUMNS = 17


def parse_conntrack_stat(text: str) -> list[int]:
    """The STATS columns summed over the per-CPU lines (the first line is the header).
    Raises ValueError for a line that has not 17 hex columns."""
    sums = [0] * len(STATS)
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) != COLUMNS:
            raise ValueError(f"invalid conntrackstat entry, {len(cols)} fields instead of {COLUMNS}")
        for i, (col, _) in enumerate(STATS):
            sums[i] += int(cols[col], 16)
    return sums


class ConntrackCollector:
    name = "conntrack"
    inline = True  # reads kernel counters only: run in the request thread (see exporter.scrape)

    def __init__(self, proc: str = PROC):
        self.count = join(proc, "sys", "net", "netfilter", "nf_conntrack_count")
        self.max = join(proc, "sys", "net", "netfilter", "nf_conntrack_max")
        self.stat = join(proc, "net", "stat", "nf_conntrack")

    def collect(self) -> Iterator[Metric]:
        try:
            yield ENTRIES.value(read_uint(self.count))
            yield LIMIT.value(read_uint(self.max))
            text = read_text(self.stat)
        except FileNotFoundError as exc:
            raise NoData(f"{exc.filename}: conntrack probably not loaded") from None
        try:
            sums = parse_conntrack_stat(text)
        except ValueError as exc:
            raise FormatError(self.stat, str(exc)) from None
        for (_, spec), value in zip(STATS, sums, strict=True):
            yield spec.value(value)


def build(config: Any) -> ConntrackCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    return ConntrackCollector(config.exporter.collectors.path_procfs)
