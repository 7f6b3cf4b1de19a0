"""Unit tests of the host collectors against a faked psutil: values, labels, units, exclusions."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client.metrics_core import Metric

from exporter.collectors.cpu import CpuCollector
from exporter.collectors.diskstats import DiskstatsCollector
from exporter.collectors.loadavg import LoadavgCollector
from exporter.collectors.memory import MemoryCollector, parse_meminfo
from exporter.collectors.netdev import NetdevCollector
from exporter.collectors.osinfo import OsCollector, parse_os_release, read_os_release
from exporter.collectors.process import ProcessCollector
from exporter.filters import NameFilter
from exporter.settings import COLLECTOR_DEFAULTS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exporter"

LinuxCpu = namedtuple("scputimes", "user nice system idle iowait irq softirq steal guest guest_nice")
MacCpu = namedtuple("scputimes", "user nice system idle")
NetIO = namedtuple("snetio", "bytes_sent bytes_recv packets_sent packets_recv errin errout dropin dropout")
LinuxDisk = namedtuple("sdiskio", "read_count write_count read_bytes write_bytes read_time write_time "
                                  "read_merged_count write_merged_count busy_time")
MacDisk = namedtuple("sdiskio", "read_count write_count read_bytes write_bytes read_time write_time")


def samples(families: list[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def by_name(families: list[Metric]) -> dict[str, Metric]:
    return {f.name: f for f in families}


def test_cpu_modes_and_labels_as_node_exporter():
    ps = SimpleNamespace(cpu_times=lambda percpu: [LinuxCpu(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
                                                   LinuxCpu(11, 12, 13, 14, 15, 16, 17, 18, 19, 20)])
    fams = list(CpuCollector(ps).collect())
    assert [(f.name, f.type) for f in fams] == [("node_cpu_seconds", "counter"),
                                                 ("node_cpu_guest_seconds", "counter")]
    got = samples(fams[:1])
    assert got[("node_cpu_seconds_total", (("cpu", "1"), ("mode", "steal")))] == 18
    assert got[("node_cpu_seconds_total", (("cpu", "0"), ("mode", "user")))] == 1
    modes = {dict(labels)["mode"] for _, labels in got}
    # guest time is already inside user/nice: node_exporter does not export it as a mode ...
    assert modes == {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}
    assert len(got) == 16
    # ... but as node_cpu_guest_seconds_total{mode="user"|"nice"} (guest, guest_nice)
    guest = samples(fams[1:])
    assert guest == {("node_cpu_guest_seconds_total", (("cpu", "0"), ("mode", "user"))): 9,
                     ("node_cpu_guest_seconds_total", (("cpu", "0"), ("mode", "nice"))): 10,
                     ("node_cpu_guest_seconds_total", (("cpu", "1"), ("mode", "user"))): 19,
                     ("node_cpu_guest_seconds_total", (("cpu", "1"), ("mode", "nice"))): 20}


def test_cpu_on_macos_has_only_the_modes_psutil_gives():
    ps = SimpleNamespace(cpu_times=lambda percpu: [MacCpu(1.5, 0, 2, 30)])
    fams = list(CpuCollector(ps).collect())
    assert [f.name for f in fams] == ["node_cpu_seconds"]  # no guest time there: no guest family
    got = samples(fams)
    assert {dict(k[1])["mode"] for k in got} == {"user", "nice", "system", "idle"}


def test_meminfo_parsing_matches_node_exporter_names_and_units():
    parsed = dict(parse_meminfo((FIXTURES / "meminfo").read_text()))
    assert parsed["MemTotal_bytes"] == 24684084 * 1024
    assert parsed["Active_anon_bytes"] == 1096 * 1024  # Active(anon) -> Active_anon
    assert parsed["HugePages_Total"] == 0  # no unit, no _bytes suffix
    assert parsed["Cached_bytes"] == 209380 * 1024  # not psutil's Cached + SReclaimable


def test_memory_on_linux_reads_meminfo():
    fams = list(MemoryCollector(ps=None, meminfo=str(FIXTURES / "meminfo")).collect())
    names = by_name(fams)
    assert names["node_memory_MemAvailable_bytes"].samples[0].value == 24319168 * 1024
    assert names["node_memory_SwapFree_bytes"].samples[0].value == 1048574 * 1024
    assert names["node_memory_MemTotal_bytes"].type == "gauge"
    assert names["node_memory_MemTotal_bytes"].documentation == "Memory information field MemTotal_bytes."
    assert len(fams) == 17


@pytest.mark.parametrize(("platform", "expected", "absent"), [
    ("darwin", {"MemTotal", "MemAvailable", "MemFree", "Active", "Inactive", "SwapTotal", "SwapFree"},
     {"Cached", "Buffers"}),
    ("freebsd14", {"MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached", "SwapTotal", "SwapFree"},
     set()),
    ("win32", {"MemTotal", "MemAvailable", "SwapTotal", "SwapFree"}, {"MemFree"}),
])
def test_memory_elsewhere_maps_only_matching_psutil_fields(platform, expected, absent):
    vm = SimpleNamespace(total=1000, available=600, free=100, active=300, inactive=200, buffers=10,
                         cached=50, wired=5, percent=40.0, used=400)
    if platform == "darwin":
        del vm.buffers, vm.cached
    ps = SimpleNamespace(virtual_memory=lambda: vm,
                         swap_memory=lambda: SimpleNamespace(total=500, free=125, used=375))
    got = {f.name.removeprefix("node_memory_").removesuffix("_bytes"): f.samples[0].value
           for f in MemoryCollector(ps=ps, platform=platform).collect()}
    assert expected <= set(got)
    assert not absent & set(got)
    assert got["MemTotal"] == 1000 and got["MemAvailable"] == 600 and got["SwapFree"] == 125


def test_loadavg():
    fams = list(LoadavgCollector(SimpleNamespace(getloadavg=lambda: (0.5, 1.25, 2.0))).collect())
    assert [(f.name, f.type, f.samples[0].value) for f in fams] == [
        ("node_load1", "gauge", 0.5), ("node_load5", "gauge", 1.25), ("node_load15", "gauge", 2.0)]


def _netdev_ps():
    return SimpleNamespace(net_io_counters=lambda pernic, nowrap: {
        "lo": NetIO(10, 20, 1, 2, 0, 0, 0, 0),
        "eth0": NetIO(1000, 2000, 10, 20, 3, 4, 5, 6),
        "veth123": NetIO(1, 1, 1, 1, 0, 0, 0, 0),
    })


def test_netdev_names_labels_and_values():
    fams = list(NetdevCollector(ps=_netdev_ps()).collect())
    got = samples(fams)
    assert {f.name + "_total" for f in fams} == {
        f"node_network_{d}_{s}_total"
        for d in ("receive", "transmit") for s in ("bytes", "packets", "errs", "drop")
    }
    assert all(f.type == "counter" for f in fams)
    eth0 = (("device", "eth0"),)
    assert got[("node_network_receive_bytes_total", eth0)] == 2000
    assert got[("node_network_transmit_bytes_total", eth0)] == 1000
    assert got[("node_network_receive_errs_total", eth0)] == 3
    assert got[("node_network_transmit_drop_total", eth0)] == 6


def test_netdev_include_and_exclude():
    fams = list(NetdevCollector(NameFilter(exclude="^(veth.*|lo)$"), ps=_netdev_ps()).collect())
    assert {s.labels["device"] for f in fams for s in f.samples} == {"eth0"}
    fams = list(NetdevCollector(NameFilter(include="^lo$"), ps=_netdev_ps()).collect())
    assert {s.labels["device"] for f in fams for s in f.samples} == {"lo"}


def test_diskstats_units_and_default_partition_exclusion():
    disks = {
        "sda": LinuxDisk(100, 200, 4096, 8192, 1500, 2500, 7, 8, 3000),
        "sda1": LinuxDisk(1, 1, 1, 1, 1, 1, 1, 1, 1),
        "nvme0n1": LinuxDisk(1, 2, 3, 4, 5, 6, 7, 8, 9),
        "nvme0n1p2": LinuxDisk(1, 1, 1, 1, 1, 1, 1, 1, 1),
        "loop0": LinuxDisk(1, 1, 1, 1, 1, 1, 1, 1, 1),
        "dm-0": LinuxDisk(1, 1, 1, 1, 1, 1, 1, 1, 1),
    }
    ps = SimpleNamespace(disk_io_counters=lambda perdisk, nowrap: disks)
    keep = NameFilter(exclude=COLLECTOR_DEFAULTS["diskstats_device_exclude"])
    fams = list(DiskstatsCollector(keep, ps=ps).collect())
    assert {s.labels["device"] for f in fams for s in f.samples} == {"sda", "nvme0n1", "dm-0"}
    got = samples(fams)
    sda = (("device", "sda"),)
    assert got[("node_disk_read_time_seconds_total", sda)] == 1.5  # ms -> s
    assert got[("node_disk_io_time_seconds_total", sda)] == 3.0
    assert got[("node_disk_written_bytes_total", sda)] == 8192
    assert got[("node_disk_reads_merged_total", sda)] == 7
    assert all(f.type == "counter" for f in fams)


def test_diskstats_omits_what_psutil_lacks():
    ps = SimpleNamespace(disk_io_counters=lambda perdisk, nowrap: {"disk0": MacDisk(1, 2, 3, 4, 5, 6)})
    names = {f.name for f in DiskstatsCollector(ps=ps).collect()}
    assert "node_disk_reads_merged" not in names and "node_disk_io_time_seconds" not in names
    assert "node_disk_reads_completed" in names


def test_diskstats_without_disks_yields_nothing():
    ps = SimpleNamespace(disk_io_counters=lambda perdisk, nowrap: None)
    assert list(DiskstatsCollector(ps=ps).collect()) == []


def test_os_collector_uname_boot_and_os_release():
    rel = parse_os_release((FIXTURES / "os-release").read_text())
    uname = ("Linux", "6.1.0", "#1 SMP", "x86_64", "host1", "(none)")
    fams = by_name(list(OsCollector(SimpleNamespace(boot_time=lambda: 1700000000.0), rel,
                                    lambda: uname).collect()))
    assert fams["node_boot_time_seconds"].samples[0].value == 1700000000.0
    u = fams["node_uname_info"].samples[0]
    assert u.value == 1 and u.labels == {"sysname": "Linux", "release": "6.1.0", "version": "#1 SMP",
                                         "machine": "x86_64", "nodename": "host1", "domainname": "(none)"}
    info = fams["node_os_info"].samples[0].labels
    assert info["pretty_name"] == "Debian GNU/Linux 12 (bookworm)" and info["id"] == "debian"
    assert info["variant"] == "" and len(info) == 12
    assert fams["node_os_version"].samples[0].value == 12.0


def test_os_release_missing_means_no_os_info(tmp_path):
    assert read_os_release((str(tmp_path / "nope"),)) is None
    fams = by_name(list(OsCollector(SimpleNamespace(boot_time=lambda: 1.0), None,
                                    lambda: ("a", "b", "c", "d", "e", "f")).collect()))
    assert set(fams) == {"node_boot_time_seconds", "node_uname_info"}


class _FakeProcess:
    def __init__(self, pid, fds=True):
        self.pid = pid
        if fds:
            self.num_fds = lambda: 7

    def create_time(self):
        return 1700000000.5

    def oneshot(self):
        import contextlib

        return contextlib.nullcontext()

    def cpu_times(self):
        return SimpleNamespace(user=1.25, system=0.5)

    def memory_info(self):
        return SimpleNamespace(rss=20 * 2**20, vms=300 * 2**20)


def test_process_collector_values():
    ps = SimpleNamespace(Process=lambda pid: _FakeProcess(pid))
    fams = by_name(list(ProcessCollector(ps).collect()))
    assert fams["process_cpu_seconds"].samples[0].value == 1.75
    assert fams["process_cpu_seconds"].samples[0].name == "process_cpu_seconds_total"
    assert fams["process_resident_memory_bytes"].samples[0].value == 20 * 2**20
    assert fams["process_virtual_memory_bytes"].samples[0].value == 300 * 2**20
    assert fams["process_start_time_seconds"].samples[0].value == 1700000000.5
    assert fams["process_open_fds"].samples[0].value == 7
    import resource

    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    # node_exporter (the Go client) reports an unlimited address space as 2^64-1
    assert fams["process_virtual_memory_max_bytes"].samples[0].value == (
        1.8446744073709552e19 if soft == resource.RLIM_INFINITY else soft)


def test_process_collector_without_fds_omits_open_fds():
    ps = SimpleNamespace(Process=lambda pid: _FakeProcess(pid, fds=False))
    assert "process_open_fds" not in by_name(list(ProcessCollector(ps).collect()))
