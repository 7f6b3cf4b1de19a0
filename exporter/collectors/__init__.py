"""The exporter's collectors: one module each, all listed in `REGISTRATIONS` below.

This table is the one place a collector is wired in (nothing registers itself on import): its
name (the `--collector.NAME` flag and the config's `exporter.collectors.enabled.NAME`), the
factory, whether it is on by default, the help line, and the node_exporter collector it stands
in for (node_scrape_collector_* series under that name). node_exporter 1.5's default set on
Linux is on by default here too, for the collectors we have.
"""

from __future__ import annotations

from exporter.collector import Registration
from exporter.collectors import (
    arp,
    conntrack,
    cpu,
    diskstats,
    entropy,
    filefd,
    filesystem,
    freqtrade,
    loadavg,
    memory,
    netclass,
    netdev,
    netstat,
    osinfo,
    pressure,
    probe_http,
    probe_sql,
    probe_tcp,
    process,
    sockstat,
    softnet,
    stat,
    textfile,
    timex,
    udp_queues,
    vmstat,
)
from exporter.collectors import time as time_

REGISTRATIONS: tuple[Registration, ...] = (
    # node_exporter's collectors (same name unless noted)
    Registration("arp", arp.build, True, "ARP table entries per device (node_arp_entries); Linux", "arp"),
    Registration("conntrack", conntrack.build, True,
                 "netfilter connection tracking (node_nf_conntrack_*); Linux", "conntrack"),
    Registration("cpu", cpu.build, True,
                 "CPU time per CPU and mode (node_cpu_seconds_total, node_cpu_guest_seconds_total)", "cpu"),
    Registration("diskstats", diskstats.build, True, "block device I/O counters (node_disk_*_total)",
                 "diskstats"),
    Registration("entropy", entropy.build, True, "kernel entropy pool (node_entropy_*); Linux", "entropy"),
    Registration("filefd", filefd.build, True, "allocated and maximum file handles (node_filefd_*); Linux",
                 "filefd"),
    Registration("filesystem", filesystem.build, True, "filesystem space and inodes (node_filesystem_*)",
                 "filesystem"),
    Registration("loadavg", loadavg.build, True, "load averages (node_load1/5/15); not on Windows",
                 "loadavg"),
    Registration("memory", memory.build, True, "memory and swap (node_memory_*_bytes, meminfo names)",
                 "meminfo"),
    Registration("netclass", netclass.build, True,
                 "network interface properties from /sys/class/net (node_network_up, _info, _mtu_bytes, "
                 "_speed_bytes, _carrier...; elsewhere MTU and speed from psutil)", "netclass"),
    Registration("netdev", netdev.build, True, "network interface counters (node_network_*_total)", "netdev"),
    Registration("netstat", netstat.build, True,
                 "network protocol statistics from /proc/net/{netstat,snmp,snmp6} (node_netstat_*); Linux",
                 "netstat"),
    Registration("os", osinfo.build, True,
                 "boot time, uname and OS release (node_boot_time_seconds, node_uname_info, node_os_info)",
                 "os"),
    Registration("pressure", pressure.build, True, "pressure stall information (node_pressure_*); Linux",
                 "pressure"),
    Registration("sockstat", sockstat.build, True, "sockets per protocol and state (node_sockstat_*); Linux",
                 "sockstat"),
    Registration("softnet", softnet.build, True, "per-CPU packet processing (node_softnet_*); Linux",
                 "softnet"),
    Registration("stat", stat.build, True,
                 "context switches, interrupts, forks, runnable and blocked processes "
                 "(node_context_switches_total, node_intr_total, node_forks_total, node_procs_*)", "stat"),
    Registration("textfile", textfile.build, True,
                 "metrics from *.prom files in exporter.collectors.textfile_directory "
                 "(without one: node_textfile_scrape_error 0, as node_exporter)", "textfile"),
    Registration("time", time_.build, True,
                 "system time, time zone and clock sources (node_time_*)", "time"),
    Registration("timex", timex.build, True, "clock discipline from adjtimex (node_timex_*); Linux", "timex"),
    Registration("udp_queues", udp_queues.build, True,
                 "bytes queued in UDP sockets (node_udp_queues); Linux", "udp_queues"),
    Registration("vmstat", vmstat.build, True, "virtual memory statistics (node_vmstat_*); Linux", "vmstat"),
    # TradeWatch's own
    Registration("process", process.build, True,
                 "the exporter's own process (process_cpu_seconds_total, memory, fds)"),
    Registration("probe_http", probe_http.build, True, "HTTP probes from the config's probes.http section"),
    Registration("probe_sql", probe_sql.build, True,
                 "SQL probes (SQLite; PostgreSQL with the postgres extra) from probes.sql"),
    Registration("probe_tcp", probe_tcp.build, True,
                 "TCP connect probes from the config's probes.tcp section"),
    Registration("freqtrade", freqtrade.build, True,
                 "freqtrade bots' REST API from the config's freqtrade section (trading_*{bot})"),
)
REGISTRY: dict[str, Registration] = {r.name: r for r in REGISTRATIONS}
