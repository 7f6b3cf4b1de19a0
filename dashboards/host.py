"""Host overview: the node-mixin's USE view (utilisation, saturation, errors) for one instance.

Headline figures come from the recording rules (`tradewatch rules`), so the dashboard, the alert
rules and the daily report agree on one definition of "CPU utilisation"; breakdowns (per mode,
per device, per mount) use the raw node_exporter-compatible series with `$__rate_interval`.
"""

from __future__ import annotations

from typing import Any

from dashboards.grafana import (
    Row,
    bargauge,
    falling,
    gauge,
    query_variable,
    rising,
    selector,
    stat,
    steps,
    target,
    targets,
    timeseries,
    value_map,
)
from dashboards.grafana import (
    dashboard as make_dashboard,
)
from tradewatch import metric_names as m
from tradewatch import quantities as qt
from tradewatch.config import Config

UID = "tradewatch-host"
SEL = selector(job="=$job", instance="=$instance")
PCT = 0.01  # config percentages -> the 0..1 ratios of the recording rules


def _sel(**extra: str) -> str:
    return selector(job="=$job", instance="=$instance", **extra)


# the filesystems and interfaces the recording rules count (tradewatch.quantities)
FS = "{" + ", ".join((SEL[1:-1], qt.FS_MATCHERS)) + "}"
NET = "{" + ", ".join((SEL[1:-1], qt.NET_MATCHERS)) + "}"


def _overview(cfg: Config) -> Row:
    t = cfg.thresholds
    return Row("Overview", [
        stat("Uptime", [target(f"time() - node_boot_time_seconds{SEL}", instant=True)], "dtdurations",
             graph=False, description="Time since the host booted (node_boot_time_seconds)."),
        stat("CPU cores", [target(f"{m.REC_NUM_CPU}{SEL}", instant=True)], "short", graph=False,
             description=f"Logical CPUs (recording rule {m.REC_NUM_CPU})."),
        stat("Memory size", [target(f"node_memory_MemTotal_bytes{SEL}", instant=True)], "bytes",
             graph=False, description="Physical memory (MemTotal)."),
        gauge("CPU utilisation (now)", [target(f"{m.REC_CPU_UTILISATION}{SEL}", instant=True)],
              "percentunit", thresholds=rising(t.cpu_percent, PCT), w=4, h=4,
              description="Busy share of all cores over 5 minutes (recording rule "
                          f"{m.REC_CPU_UTILISATION}); colours at thresholds.cpu_percent."),
        gauge("Memory utilisation (now)", [target(f"{m.REC_MEMORY_UTILISATION}{SEL}", instant=True)],
              "percentunit", thresholds=rising(t.memory_percent, PCT), w=4, h=4,
              description="1 - MemAvailable / MemTotal (recording rule "
                          f"{m.REC_MEMORY_UTILISATION}); colours at thresholds.memory_percent."),
        stat("Collectors failing", [target(
            f"count({m.COLLECTOR_SUCCESS}{SEL} == 0) or vector(0)", instant=True)], "short",
            thresholds=steps("green", (1, "red")), graph=False,
            description=f"Exporter collectors whose last run failed or timed out ({m.COLLECTOR_SUCCESS})."),
    ])


def _cpu(cfg: Config) -> Row:
    t = cfg.thresholds
    cores = f"{m.REC_NUM_CPU}{SEL}"
    return Row("CPU", [
        timeseries("CPU utilisation", targets(
            (f"{m.REC_CPU_UTILISATION}{SEL}", "utilisation (5m)"),
        ), "percentunit", min_=0, max_=1, thresholds=rising(t.cpu_percent, PCT), w=8,
            description="Utilisation (USE: U). Dashed lines: the warning and critical alert levels."),
        timeseries("CPU by mode", targets(
            (f'sum by (mode) (rate(node_cpu_seconds_total{_sel(mode="!=idle")}[$__rate_interval])) '
             f"/ scalar({cores})", "{{mode}}"),
        ), "percentunit", min_=0, max_=1, stack=True, w=8,
            description="Share of all cores per mode, idle left out."),
        timeseries("Load per core (saturation)", targets(
            (f"{m.REC_LOAD_PER_CORE}{SEL}", "load1 / cores"),
            (f"node_load5{SEL} / {cores}", "load5 / cores"),
            (f"node_load15{SEL} / {cores}", "load15 / cores"),
        ), "short", min_=0, thresholds=rising(t.load_per_core), w=8,
            description="Saturation (USE: S): run-queue length per core; above 1 work waits."),
    ])


def _memory(cfg: Config) -> Row:
    t = cfg.thresholds
    return Row("Memory", [
        timeseries("Memory utilisation", targets(
            (f"{m.REC_MEMORY_UTILISATION}{SEL}", "utilisation"),
        ), "percentunit", min_=0, max_=1, thresholds=rising(t.memory_percent, PCT), w=8),
        timeseries("Memory used and available", targets(
            (f"node_memory_MemTotal_bytes{SEL} - node_memory_MemAvailable_bytes{SEL}", "used"),
            (f"node_memory_MemAvailable_bytes{SEL}", "available"),
            (f"node_memory_MemTotal_bytes{SEL}", "total"),
        ), "bytes", min_=0, fill=0, w=8),
        timeseries("Swap", targets(
            (f"node_memory_SwapTotal_bytes{SEL} - node_memory_SwapFree_bytes{SEL}", "used"),
            (f"node_memory_SwapTotal_bytes{SEL}", "total"),
        ), "bytes", min_=0, fill=0, w=8,
            description="Swap in use: sustained growth means memory saturation."),
    ])


def _disk(cfg: Config) -> Row:
    t = cfg.thresholds
    return Row("Disk and filesystems", [
        timeseries("Disk throughput", targets(
            (f"rate(node_disk_read_bytes_total{SEL}[$__rate_interval])", "{{device}} read"),
            (f"rate(node_disk_written_bytes_total{SEL}[$__rate_interval])", "{{device}} written"),
        ), "Bps", min_=0, w=8),
        timeseries("Disk IOPS", targets(
            (f"rate(node_disk_reads_completed_total{SEL}[$__rate_interval])", "{{device}} reads"),
            (f"rate(node_disk_writes_completed_total{SEL}[$__rate_interval])", "{{device}} writes"),
        ), "iops", min_=0, w=8),
        timeseries("Disk busy time", targets(
            (f"rate(node_disk_io_time_seconds_total{SEL}[$__rate_interval])", "{{device}}"),
        ), "percentunit", min_=0, max_=1, w=8,
            description="Share of time the device had I/O in flight (saturation of the disk)."),
        bargauge("Filesystem usage per mount", [target(
            f"{m.REC_FILESYSTEM_USAGE}{SEL}", "{{mountpoint}}", instant=True)],
            "percentunit", thresholds=rising(t.disk_percent, PCT),
            description="1 - avail / size per mount point (recording rule "
                        f"{m.REC_FILESYSTEM_USAGE}); colours at thresholds.disk_percent."),
        timeseries("Filesystem available", targets(
            (f"node_filesystem_avail_bytes{FS}", "{{mountpoint}}"),
        ), "bytes", min_=0, fill=0),
        timeseries("Hours until full (linear trend)", targets(
            (f"node_filesystem_avail_bytes{FS} / "
             f"clamp_min(-deriv(node_filesystem_avail_bytes{FS}[1h]), 1e-9) / 3600", "{{mountpoint}}"),
        ), "h", min_=0, thresholds=falling(t.disk_fill_hours), w=24,
            description="Available space divided by the last hour's fill rate; very large when "
                        "the filesystem is not filling. Colours at thresholds.disk_fill_hours."),
    ])


def _network(cfg: Config) -> Row:
    t = cfg.thresholds
    return Row("Network", [
        timeseries("Network throughput (all interfaces but lo)", targets(
            (f"{m.REC_NETWORK_RECEIVE_BYTES}{SEL}", "received"),
            (f"-{m.REC_NETWORK_TRANSMIT_BYTES}{SEL}", "transmitted"),
        ), "Bps", w=8, description="Received above the axis, transmitted below (5m rate)."),
        timeseries("Throughput per interface", targets(
            (f"rate(node_network_receive_bytes_total{NET}[$__rate_interval])", "{{device}} rx"),
            (f"-rate(node_network_transmit_bytes_total{NET}[$__rate_interval])", "{{device}} tx"),
        ), "Bps", w=8),
        timeseries("Network errors and drops", targets(
            (f"rate(node_network_receive_errs_total{NET}[$__rate_interval])", "{{device}} rx errors"),
            (f"rate(node_network_transmit_errs_total{NET}[$__rate_interval])", "{{device}} tx errors"),
            (f"rate(node_network_receive_drop_total{NET}[$__rate_interval])", "{{device}} rx drops"),
            (f"rate(node_network_transmit_drop_total{NET}[$__rate_interval])", "{{device}} tx drops"),
        ), "pps", min_=0, w=8, description="Errors (USE: E) in packets per second."),
        timeseries("Network error ratio", targets(
            (f"{m.REC_NETWORK_ERROR_RATIO}{SEL}", "{{device}}"),
        ), "percentunit", min_=0, thresholds=rising(t.network_error_percent, PCT), w=24, h=6,
            description="Errored packets / packets per device (recording rule "
                        f"{m.REC_NETWORK_ERROR_RATIO}); colours at thresholds.network_error_percent."),
    ])


def _probes() -> Row:
    up = value_map({"0": ("down", "red"), "1": ("up", "green")})
    return Row("Probes (run by this exporter)", [
        stat("Probe status", [target(f"{m.PROBE_SUCCESS}{SEL}", "{{type}} {{probe}}", instant=True)],
             "none", mappings=up, thresholds=steps("red", (1, "green")), graph=False, w=8, h=6,
             text_mode="value_and_name",
             description="Last result of each HTTP, TCP and SQL probe of the config's `probes:`."),
        timeseries("Probe success ratio", targets(
            (f"{m.REC_PROBE_SUCCESS_RATIO}{SEL}", "{{type}} {{probe}}"),
        ), "percentunit", min_=0, max_=1, w=8, h=6,
            description=f"Share of successful probes (recording rule {m.REC_PROBE_SUCCESS_RATIO})."),
        timeseries("Probe duration", targets(
            (f"{m.PROBE_DURATION}{SEL}", "{{type}} {{probe}}"),
        ), "s", min_=0, fill=0, w=8, h=6),
        stat("HTTP status", [target(f"{m.PROBE_HTTP_STATUS}{SEL}", "{{probe}}", instant=True)], "none",
             thresholds=steps("red", (200, "green"), (400, "red")), graph=False, w=24, h=3,
             text_mode="value_and_name",
             description="Status code of each HTTP probe's last answer; 0 when there was none."),
    ])


def build(cfg: Config) -> dict[str, Any]:
    return make_dashboard(
        UID, "TradeWatch / Host overview",
        description="USE view (utilisation, saturation, errors) of one host's CPU, memory, "
                    "disks, filesystems and network, from the TradeWatch exporter.",
        tags=["tradewatch", "host"],
        rows=[_overview(cfg), _cpu(cfg), _memory(cfg), _disk(cfg), _network(cfg), _probes()],
        variables=[
            query_variable("job", "Job", "label_values(node_uname_info, job)"),
            query_variable("instance", "Instance", 'label_values(node_uname_info{job="$job"}, instance)'),
        ],
        refresh=f"{cfg.dashboard.refresh_seconds}s",
    )
