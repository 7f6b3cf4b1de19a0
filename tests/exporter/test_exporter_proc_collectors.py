"""The /proc-based Linux collectors over recorded files: Linux 6.18 on a VM, the same kernel in
a network namespace of its own (a container's view), and node_exporter 1.5's own fixtures (an
older kernel). Each must serve exactly what node_exporter 1.5 serves over the same files
(`expected.prom`: node_exporter's output, see tests/support/proc_fixtures.py): names, types,
help, labels, values. Malformed, truncated and missing files fail that collector alone:
success 0, one log line naming the file, the rest of the scrape served.
"""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors import REGISTRY
from exporter.families import gauge
from exporter.scrape import ScrapeCollector
from exporter.settings import DefaultConfig
from tests.support.proc_fixtures import FAMILIES, FIXTURES, filter_text, sources

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux collectors")

Series = dict[str, tuple[str, str, dict[tuple[tuple[str, str], ...], float]]]


def parse(text: str) -> Series:
    return {f.name: (f.type, f.documentation, {tuple(sorted(s.labels.items())): s.value for s in f.samples})
            for f in text_string_to_metric_families(text)}


def build(collector: str, source: Path):
    cfg = DefaultConfig({"path_procfs": str(source / "proc"), "path_sysfs": str(source / "sys")})
    return REGISTRY[collector].factory(cfg)


def scrape(*collectors) -> tuple[str, ScrapeCollector]:
    from exporter.exposition import encode

    runner = ScrapeCollector(list(collectors), version="t")
    try:
        return encode(list(runner.collect())).decode(), runner
    finally:
        runner.close()


BUILT = [c for c in FAMILIES if c in REGISTRY]


def needs(*collectors: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not set(collectors) <= set(REGISTRY), reason="collector not built")
CASES = [(c, s.name) for c in BUILT for s in sources(c)]
FINE = gauge("test_fine", "Another collector's family.")


class Fine:
    name = "fine"
    inline = True

    def collect(self):
        yield FINE.value(1)


def test_every_collector_has_a_vm_a_container_and_an_older_kernel_recording():
    for collector in BUILT:
        names = {s.name for s in sources(collector)}
        assert {"linux-6.18-vm", "node_exporter-1.5.0"} <= names, collector
        if collector != "time":  # /sys is not namespaced
            assert "linux-6.18-container" in names, collector


@pytest.mark.parametrize(("collector", "source"), CASES)
def test_same_as_node_exporter_over_the_same_files(collector, source):
    src = FIXTURES / collector / source
    text, _ = scrape(build(collector, src))
    ours = parse(filter_text(text, collector))
    expected = parse((src / "expected.prom").read_text())
    assert sorted(ours) == sorted(expected)
    for name, (typ, help_text, values) in expected.items():
        o_typ, o_help, o_values = ours[name]
        assert (o_typ, o_help) == (typ, help_text), name
        assert o_values.keys() == values.keys(), name
        for labels, value in values.items():
            assert math.isclose(o_values[labels], value, rel_tol=1e-12), (name, labels)
    assert f'node_scrape_collector_success{{collector="{collector}"}} 1.0' in text


@needs("cpu")
def test_cpu_guest_seconds_over_node_exporters_stat(monkeypatch):
    import psutil

    from exporter.collectors.cpu import CpuCollector

    monkeypatch.setattr(psutil, "PROCFS_PATH", str(FIXTURES / "stat" / "node_exporter-1.5.0" / "proc"))
    got = {tuple(sorted(s.labels.items())): s.value for f in CpuCollector().collect()
           if f.name == "node_cpu_guest_seconds" for s in f.samples}
    # node_exporter's e2e expectation: cpu N has guest 0.0(N+2), guest_nice 0.0(N+1)
    assert len(got) == 16
    for cpu in range(8):
        assert math.isclose(got[(("cpu", str(cpu)), ("mode", "user"))], (cpu + 2) / 100)
        assert math.isclose(got[(("cpu", str(cpu)), ("mode", "nice"))], (cpu + 1) / 100)


# (collector, fixture dir, file the log line names, families still served; None: "no data",
# which node_exporter logs at debug level only)
BROKEN = [
    ("stat", "malformed-truncated", "proc/stat", {"node_intr_total"}),
    ("stat", "malformed-not-a-number", "proc/stat", set()),
    ("vmstat", "malformed-no-value", "proc/vmstat",  # the fields before the broken line
     {"node_vmstat_pgpgin", "node_vmstat_pgpgout", "node_vmstat_pswpin", "node_vmstat_pswpout"}),
    ("netstat", "malformed-field-count", "proc/net/netstat", set()),
    ("netstat", "malformed-no-snmp", "proc/net/snmp", set()),
    ("udp_queues", "malformed-short-line", "proc/net/udp", set()),
    ("udp_queues", "absent", None, set()),
    ("sockstat", "malformed-odd-pairs", "proc/net/sockstat", set()),
    ("softnet", "malformed-short-line", "proc/net/softnet_stat", set()),
    ("filefd", "malformed-spaces", "proc/sys/fs/file-nr", set()),
    ("entropy", "malformed-no-poolsize", "proc/sys/kernel/random/poolsize", {"node_entropy_available_bits"}),
    ("entropy", "malformed-not-a-number", "proc/sys/kernel/random/entropy_avail", set()),
    ("pressure", "absent", None, set()),
    ("pressure", "malformed-bad-line", "proc/pressure/cpu", set()),
    ("conntrack", "absent", None, set()),
    ("conntrack", "malformed-no-stat", None,
     {"node_nf_conntrack_entries", "node_nf_conntrack_entries_limit"}),
    ("conntrack", "malformed-short-line", "proc/net/stat/nf_conntrack",
     {"node_nf_conntrack_entries", "node_nf_conntrack_entries_limit"}),
    ("arp", "malformed-short-line", "proc/net/arp", set()),
    ("time", "malformed-no-current", "clocksource0/current_clocksource", {"node_time_seconds"}),
]


BROKEN = [case for case in BROKEN if case[0] in REGISTRY]


@pytest.mark.parametrize(("collector", "fixture", "named", "served"), BROKEN,
                         ids=[f"{c}-{d}" for c, d, _, _ in BROKEN])
def test_a_broken_source_fails_its_collector_alone(collector, fixture, named, served, caplog):
    broken = build(collector, FIXTURES / collector / fixture)
    with caplog.at_level(logging.DEBUG, logger="exporter.scrape"):
        text, _ = scrape(broken, Fine())
    got = parse(text)
    sample_names = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    assert got["node_scrape_collector_success"][2] == {(("collector", collector),): 0}
    assert got["tradewatch_scrape_collector_success"][2] == {(("collector", collector),): 0,
                                                            (("collector", "fine"),): 1}
    assert got["test_fine"][2] == {(): 1}, "the rest of the scrape is served"
    ours = {n for n in sample_names if n.startswith(FAMILIES[collector]) or n == "node_time_seconds"}
    assert ours == served
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    if named is None:  # the source does not exist here: quiet, as node_exporter
        assert warnings == []
        assert any(r.levelno == logging.DEBUG and collector in r.getMessage() for r in caplog.records)
    else:
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        message = warnings[0].getMessage()
        assert f"collector {collector} failed" in message and named in message, message
        assert "\n" not in message


@needs("vmstat", "netstat")
def test_vmstat_and_netstat_field_patterns_are_flags():
    from exporter import cli

    parser = cli.build_parser(REGISTRY)
    args = parser.parse_args(["--collector.vmstat.fields", "^pgfault$", "--collector.netstat.fields", "^Tcp_",
                              "--path.procfs", str(FIXTURES / "netstat" / "linux-6.18-vm" / "proc")])
    overrides = cli.collector_overrides(args)
    cfg = DefaultConfig(overrides)
    netstat = REGISTRY["netstat"].factory(cfg)
    names = {f.name for f in netstat.collect()}
    assert names and all(n.startswith("node_netstat_Tcp_") for n in names)
    vmstat = REGISTRY["vmstat"].factory(DefaultConfig({**overrides, "path_procfs": str(
        FIXTURES / "vmstat" / "linux-6.18-vm" / "proc")}))
    assert [f.name for f in vmstat.collect()] == ["node_vmstat_pgfault"]
    with pytest.raises(cli.UsageError, match=r"--path\.sysfs: must be an absolute path"):
        cli.collector_overrides(parser.parse_args(["--path.sysfs", "sys"]))


@needs("timex")
def test_timex_arithmetic_is_node_exporters():
    from exporter.collectors.timex import STA_NANO, TIME_ERROR, Timex, timex_families

    def values(state, t):
        return {f.name: f.samples[0].value for f in timex_families(state, t)}

    micro = values(0, Timex(offset=1500, freq=65536 * 10, maxerror=16000, esterror=2000, status=0x40,
                            constant=7, tick=10000, ppsfreq=65536, jitter=250, shift=4, stabil=65536 * 2,
                            jitcnt=1, calcnt=2, errcnt=3, stbcnt=4, tai=37))
    assert micro["node_timex_sync_status"] == 1
    assert micro["node_timex_offset_seconds"] == 0.0015
    assert micro["node_timex_frequency_adjustment_ratio"] == 1 + 10 / 1e6
    assert micro["node_timex_maxerror_seconds"] == 0.016
    assert micro["node_timex_tick_seconds"] == 0.01
    assert micro["node_timex_pps_jitter_seconds"] == 0.00025
    assert micro["node_timex_pps_stability_hertz"] == 2 / 1e6
    assert micro["node_timex_tai_offset_seconds"] == 37
    nano = values(TIME_ERROR, Timex(offset=1500, status=STA_NANO, jitter=250))
    assert nano["node_timex_sync_status"] == 0
    assert nano["node_timex_offset_seconds"] == 1.5e-6
    assert nano["node_timex_pps_jitter_seconds"] == 2.5e-7
    assert len(nano) == 17


@needs("timex")
def test_timex_reads_the_kernel():
    fams = {f.name: f for f in REGISTRY["timex"].factory(DefaultConfig()).collect()}
    assert fams["node_timex_tick_seconds"].samples[0].value > 0  # 1/HZ
    assert fams["node_timex_sync_status"].samples[0].value in (0, 1)
    assert fams["node_timex_pps_jitter"].type == "counter"


@needs("time")
def test_time_zone_and_clock():
    from types import SimpleNamespace

    from exporter.collectors.time import TimeCollector

    local = SimpleNamespace(tm_zone="CET", tm_gmtoff=3600)
    fams = {f.name: f for f in TimeCollector(None, clock=lambda: 1_700_000_000_500_000_000,
                                             localtime=lambda: local).collect()}
    assert fams["node_time_seconds"].samples[0].value == 1_700_000_000.5
    assert fams["node_time_zone_offset_seconds"].samples[0].labels == {"time_zone": "CET"}
    assert fams["node_time_zone_offset_seconds"].samples[0].value == 3600
    assert "node_time_clocksource_current_info" not in fams  # not Linux: no sysfs


@needs("stat", "time")
def test_off_linux_only_what_psutil_gives(monkeypatch):
    from types import SimpleNamespace

    from exporter.collectors import stat

    ps = SimpleNamespace(cpu_stats=lambda: SimpleNamespace(ctx_switches=10, interrupts=20, soft_interrupts=1,
                                                           syscalls=5))
    fams = {f.name: f.samples[0].value for f in stat.PsutilStatCollector(ps).collect()}
    assert fams == {"node_intr": 20, "node_context_switches": 10}
    monkeypatch.setattr(sys, "platform", "darwin")
    for name in {"vmstat", "netstat", "sockstat", "softnet", "filefd", "entropy", "pressure", "conntrack",
                 "arp", "udp_queues", "timex"} & set(REGISTRY):
        assert REGISTRY[name].factory(DefaultConfig()) is None, name
    assert isinstance(REGISTRY["stat"].factory(DefaultConfig()), stat.PsutilStatCollector)
    assert REGISTRY["time"].factory(DefaultConfig()).sys_root is None
