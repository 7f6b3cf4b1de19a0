"""Every derived host quantity, defined once: its PromQL next to the same formula over raw samples.

The recording rules (`tradewatch rules`), the bridge's fallbacks when a rule is missing, the
report, the dashboard sparklines, `/api/monitoring/metrics` and the Grafana dashboards all read
these definitions, so a quantity cannot mean one thing in an alert and another on a page.

Each quantity has
- `expr`: PromQL over the exporter's raw node_* series (what the recording rule records, and the
  fallback the bridge queries when the rule has no data yet);
- `raw`: the same formula over raw exporter samples (one scrape for gauges, two scrapes for
  counters), used when Prometheus cannot be asked.
tests/tradewatch/test_quantities_prometheus.py runs both on the same data in a real Prometheus.

Utilisations are 0..1 ratios (as the node-mixin), rates are per second.

Why CPU is a ratio of rates: `rate(x[5m])` divides the increase it saw by the whole 5 minutes,
even when the series began one minute ago. `1 - avg(rate(idle))` then read 0.8-0.9 on an idle
host during the first five minutes after Prometheus (or the exporter) started. Dividing the
not-busy seconds by all CPU seconds counted in the same window cancels that out: both have the
same samples, so the figure is right from the second scrape on. The network byte rates have no
such counterpart: they read low during a series' first 5 minutes (by the share of the window
the series covers); no alert uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tradewatch import metric_names as mn

# name -> [(labels, value)], as one scrape of an exporter gives them (no job/instance labels).
Samples = dict[str, list[tuple[dict[str, str], float]]]
Values = list[tuple[dict[str, str], float]]  # [(labels beyond job/instance, value)]
# (scrape before, scrape after, seconds between) -> values; gauges read only `after`
RawFormula = Callable[[Samples, Samples, float], Values]

WINDOW = "5m"  # the rate window of every per-second quantity

CPU_SECONDS = "node_cpu_seconds_total"
# CPU time in these modes is not busy: waiting for I/O or for the hypervisor is not work.
CPU_NOT_BUSY_MODES = ("idle", "iowait", "steal")
MEMORY_TOTAL = "node_memory_MemTotal_bytes"
MEMORY_AVAILABLE = "node_memory_MemAvailable_bytes"
FS_SIZE = "node_filesystem_size_bytes"
FS_AVAIL = "node_filesystem_avail_bytes"
FS_READONLY = "node_filesystem_readonly"
LOAD1 = "node_load1"
NET_RECEIVE_BYTES = "node_network_receive_bytes_total"
NET_TRANSMIT_BYTES = "node_network_transmit_bytes_total"
NET_RECEIVE_ERRS = "node_network_receive_errs_total"
NET_TRANSMIT_ERRS = "node_network_transmit_errs_total"
NET_RECEIVE_PACKETS = "node_network_receive_packets_total"
NET_TRANSMIT_PACKETS = "node_network_transmit_packets_total"
# The host's name: node_uname_info's `nodename` label (or a `nodename` label set on the scrape
# target, which Prometheus keeps over the exposed one). Alerts and the dashboard show it, with
# the address (`instance`) as detail.
UNAME_INFO = "node_uname_info"
HOST_NAME_LABEL = "nodename"


def with_host_name(expr: str) -> str:
    """`expr` with the host's name joined on as a `nodename` label, one series per series of `expr`.

    Series whose target exposes no node_uname_info (an old exporter, a target that is down) come
    through unchanged, without the label: `or on (job, instance)` adds them back."""
    return (f"(\n{expr}\n) * on (job, instance) group_left ({HOST_NAME_LABEL}) {UNAME_INFO}\n"
            f"or on (job, instance)\n(\n{expr}\n)")

# Which filesystems count: every one the exporter reports. The exporter leaves out pseudo
# filesystems and system mounts by default (node_exporter's defaults, below; the config's
# collectors.filesystem_* keys override them); a tmpfs the operator mounted (and can fill) is a
# filesystem like any other. `fstype!=""` only drops series without the label.
FS_TYPES_EXCLUDE = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
    r"iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|"
    r"squashfs|sysfs|tracefs)$"
)
MOUNT_POINTS_EXCLUDE = (
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)
FS_MATCHERS = 'fstype!=""'
# The loopback interface's traffic never leaves the host.
NET_MATCHERS = 'device!="lo"'

_NOT_BUSY = 'mode=~"' + "|".join(CPU_NOT_BUSY_MODES) + '"'


def _rate(metric: str, matchers: str = "", window: str = WINDOW) -> str:
    selector = f"{metric}{{{matchers}}}" if matchers else metric
    return f"rate({selector}[{window}])"


# --------------------------------------------------------------------------- raw-sample formulas

def _values(samples: Samples, name: str, keep: Callable[[dict[str, str]], bool] = lambda _: True
            ) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(lb.items())): v for lb, v in samples.get(name, []) if keep(lb)}


def _increase(before: Samples, after: Samples, name: str,
              keep: Callable[[dict[str, str]], bool] = lambda _: True) -> float | None:
    """Summed counter increase of the series present in both scrapes (a reset counts from 0,
    as rate() does); None when no series is in both."""
    old, new = _values(before, name, keep), _values(after, name, keep)
    common = old.keys() & new.keys()
    if not common:
        return None
    return sum(new[k] - old[k] if new[k] >= old[k] else new[k] for k in common)


def _one(samples: Samples, name: str) -> float | None:
    got = samples.get(name)
    return got[0][1] if got else None


def num_cpu(samples: Samples) -> int | None:
    n = sum(1 for lb, _ in samples.get(CPU_SECONDS, []) if lb.get("mode") == "idle")
    return n or None


def cpu_utilisation(before: Samples, after: Samples) -> float | None:
    """CPU's formula between two scrapes of the same exporter."""
    total = _increase(before, after, CPU_SECONDS)
    if not total:
        return None
    not_busy = _increase(before, after, CPU_SECONDS, lambda lb: lb.get("mode") in CPU_NOT_BUSY_MODES)
    return 1 - (not_busy or 0.0) / total


def memory_utilisation(samples: Samples) -> float | None:
    total, avail = _one(samples, MEMORY_TOTAL), _one(samples, MEMORY_AVAILABLE)
    if not total or avail is None:
        return None
    return 1 - avail / total


def filesystem_usage(samples: Samples) -> Values:
    """FILESYSTEM's formula: [(device/mountpoint/fstype labels, usage)], zero-sized ones left out."""
    def keep(lb: dict[str, str]) -> bool:
        return bool(lb.get("fstype"))

    sizes = _values(samples, FS_SIZE, keep)
    out = []
    for key, avail in _values(samples, FS_AVAIL, keep).items():
        size = sizes.get(key)
        if size and size > 0:
            out.append((dict(key), 1 - avail / size))
    return sorted(out, key=lambda x: x[0].get("mountpoint", ""))


def load_per_core(samples: Samples) -> float | None:
    load, n = _one(samples, LOAD1), num_cpu(samples)
    return None if load is None or not n else load / n


def _not_lo(lb: dict[str, str]) -> bool:
    return lb.get("device") != "lo"


def _per_second(before: Samples, after: Samples, seconds: float, name: str) -> float | None:
    if seconds <= 0:
        return None
    got = _increase(before, after, name, _not_lo)
    return None if got is None else got / seconds


def network_receive(before: Samples, after: Samples, seconds: float) -> float | None:
    """NETWORK_RECEIVE's formula between two scrapes `seconds` apart."""
    return _per_second(before, after, seconds, NET_RECEIVE_BYTES)


def network_transmit(before: Samples, after: Samples, seconds: float) -> float | None:
    return _per_second(before, after, seconds, NET_TRANSMIT_BYTES)


def network_errors(before: Samples, after: Samples) -> Values:
    """NETWORK_ERRORS's formula per device; devices without packets have no ratio (not 0/0)."""
    devices = sorted({lb["device"] for lb, _ in after.get(NET_RECEIVE_PACKETS, [])
                      if "device" in lb and _not_lo(lb)})
    out = []
    for device in devices:
        def this(lb: dict[str, str], d: str = device) -> bool:
            return lb.get("device") == d

        errs = [_increase(before, after, n, this) for n in (NET_RECEIVE_ERRS, NET_TRANSMIT_ERRS)]
        packets = [_increase(before, after, n, this) for n in (NET_RECEIVE_PACKETS, NET_TRANSMIT_PACKETS)]
        if None in errs or None in packets:
            continue
        total = sum(p for p in packets if p is not None)
        if total > 0:
            out.append(({"device": device}, sum(e for e in errs if e is not None) / total))
    return out


def _host(value: float | None) -> Values:
    return [] if value is None else [({}, float(value))]


@dataclass(frozen=True)
class Quantity:
    key: str  # short name (API fields, report rows, dashboard series)
    record: str  # the recording rule that stores it (tradewatch.metric_names)
    file: str  # rule file it is recorded in (prometheus/rules/<file>.yml)
    expr: str  # PromQL over raw node_* series
    raw: RawFormula  # the same formula over raw exporter samples
    words: str  # what it means, for docs/alerts.md and the rule table

    def rule_or_raw(self) -> str:
        """The recorded series, or the definition where the rule has not run (yet)."""
        return f"{self.record} or ({self.expr})"

    def value(self, before: Samples, after: Samples, seconds: float) -> float | None:
        """The raw formula's single value (host-level quantities), None when it gives none."""
        got = self.raw(before, after, seconds)
        return got[0][1] if got else None


# --------------------------------------------------------------------------- the quantities

NUM_CPU = Quantity(
    "num_cpu", mn.REC_NUM_CPU, "system",
    f'count without (cpu, mode) ({CPU_SECONDS}{{mode="idle"}})',
    lambda before, after, seconds: _host(num_cpu(after)),
    "number of CPUs",
)
CPU = Quantity(
    "cpu", mn.REC_CPU_UTILISATION, "system",
    f"1 - sum without (cpu, mode) ({_rate(CPU_SECONDS, _NOT_BUSY)})"
    f" / sum without (cpu, mode) ({_rate(CPU_SECONDS)})",
    lambda before, after, seconds: _host(cpu_utilisation(before, after)),
    "share of CPU time not idle, iowait or steal, over all CPUs (0..1)",
)
MEMORY = Quantity(
    "memory", mn.REC_MEMORY_UTILISATION, "system",
    f"1 - {MEMORY_AVAILABLE} / {MEMORY_TOTAL}",
    lambda before, after, seconds: _host(memory_utilisation(after)),
    "share of memory not available (0..1)",
)
FILESYSTEM = Quantity(
    "filesystem", mn.REC_FILESYSTEM_USAGE, "system",
    f"1 - {FS_AVAIL}{{{FS_MATCHERS}}} / ({FS_SIZE}{{{FS_MATCHERS}}} > 0)",
    lambda before, after, seconds: filesystem_usage(after),
    "share of each filesystem not available to users (0..1)",
)
LOAD_PER_CORE = Quantity(
    "load_per_core", mn.REC_LOAD_PER_CORE, "system",
    f"{LOAD1} / {NUM_CPU.expr}",
    lambda before, after, seconds: _host(load_per_core(after)),
    "1-minute load average per CPU",
)
NETWORK_ERRORS = Quantity(
    "network_errors", mn.REC_NETWORK_ERROR_RATIO, "network",
    f"({_rate(NET_RECEIVE_ERRS, NET_MATCHERS)} + {_rate(NET_TRANSMIT_ERRS, NET_MATCHERS)}) / "
    f"({_rate(NET_RECEIVE_PACKETS, NET_MATCHERS)} + {_rate(NET_TRANSMIT_PACKETS, NET_MATCHERS)} > 0)",
    lambda before, after, seconds: network_errors(before, after),
    "receive + transmit errors per packet, per device (0..1)",
)
NETWORK_RECEIVE = Quantity(
    "network_receive", mn.REC_NETWORK_RECEIVE_BYTES, "network",
    f"sum without (device) ({_rate(NET_RECEIVE_BYTES, NET_MATCHERS)})",
    lambda before, after, seconds: _host(network_receive(before, after, seconds)),
    "bytes received per second, all devices but lo",
)
NETWORK_TRANSMIT = Quantity(
    "network_transmit", mn.REC_NETWORK_TRANSMIT_BYTES, "network",
    f"sum without (device) ({_rate(NET_TRANSMIT_BYTES, NET_MATCHERS)})",
    lambda before, after, seconds: _host(network_transmit(before, after, seconds)),
    "bytes sent per second, all devices but lo",
)

HOST_QUANTITIES = (NUM_CPU, CPU, MEMORY, FILESYSTEM, LOAD_PER_CORE, NETWORK_ERRORS,
                   NETWORK_RECEIVE, NETWORK_TRANSMIT)


def samples_of(families: Iterable[tuple[str, dict[str, str], float]]) -> Samples:
    """(name, labels, value) triples, as an exposition parser yields them -> Samples."""
    out: Samples = {}
    for name, labels, value in families:
        out.setdefault(name, []).append((dict(labels), float(value)))
    return out
