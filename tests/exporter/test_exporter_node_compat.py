"""Our node_* families against Debian's node_exporter 1.5 on this host: same names, types,
label names and help texts, and the same meminfo fields."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.procs import Proc, binary, free_port

pytestmark = pytest.mark.integration


Families = dict[str, tuple[str, str, frozenset[str], dict[tuple[tuple[str, str], ...], float]]]


def families(url: str) -> Families:
    with urllib.request.urlopen(url, timeout=15) as resp:
        text = resp.read().decode()
    return {
        f.name: (f.type, f.documentation, frozenset(k for s in f.samples for k in s.labels),
                 {tuple(sorted(s.labels.items())): s.value for s in f.samples})
        for f in text_string_to_metric_families(text)
    }


def serve(args: list[str], url: str, log: Path) -> Families:
    env = {k: v for k, v in os.environ.items() if k != "TRADEWATCH_CONFIG"}
    proc = Proc(args, log, env=env, cwd=log.parent)
    try:
        proc.wait_http(url)
        return families(url)
    finally:
        proc.stop()


def test_node_families_match_node_exporter(tmp_path):
    p1, p2 = free_port(), free_port()
    ours = serve([binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{p1}"],
                 f"http://127.0.0.1:{p1}/metrics", tmp_path / "ours.log")
    node = serve([binary("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{p2}",
                  "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo",
                  "--collector.filesystem", "--collector.diskstats", "--collector.netdev",
                  "--collector.loadavg", "--collector.stat", "--collector.uname", "--collector.os",
                  *(f"--collector.{c}" for c in ("vmstat", "netstat", "udp_queues", "sockstat", "softnet",
                                                 "filefd", "entropy", "pressure", "time", "timex",
                                                 "conntrack", "arp", "netclass", "textfile"))],
                 f"http://127.0.0.1:{p2}/metrics", tmp_path / "node.log")
    ours_node = {n: v for n, v in ours.items() if n.startswith("node_")}
    assert len(ours_node) > 40
    missing = sorted(n for n in ours_node if n not in node)
    assert not missing, f"families node_exporter does not have: {missing}"
    for name, (typ, help_text, labels, _) in ours_node.items():
        n_typ, n_help, n_labels, _ = node[name]
        assert typ == n_typ, name
        assert labels == n_labels, name
        assert help_text == n_help, name
    # the same meminfo fields as node_exporter's meminfo collector
    meminfo = {n for n in ours if n.startswith("node_memory_")}
    assert meminfo == {n for n in node if n.startswith("node_memory_")}
    # process_* as the Go client names and types them
    for name in ("process_cpu_seconds", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                 "process_start_time_seconds", "process_open_fds", "process_max_fds"):
        assert ours[name][0] == node[name][0], name

    # quantities that do not move between the two scrapes agree
    def value(fams: Families, name: str, **labels: str) -> float:
        return fams[name][3][tuple(sorted(labels.items()))]

    assert value(ours, "node_memory_MemTotal_bytes") == value(node, "node_memory_MemTotal_bytes")
    assert value(ours, "node_memory_SwapTotal_bytes") == value(node, "node_memory_SwapTotal_bytes")
    assert abs(value(ours, "node_boot_time_seconds") - value(node, "node_boot_time_seconds")) <= 1
    root = {"device": next(dict(k)["device"] for k in ours["node_filesystem_size_bytes"][3]
                           if dict(k)["mountpoint"] == "/"), "mountpoint": "/"}
    root["fstype"] = next(dict(k)["fstype"] for k in ours["node_filesystem_size_bytes"][3]
                          if dict(k)["mountpoint"] == "/")
    size = "node_filesystem_size_bytes"
    assert value(ours, size, **root) == value(node, size, **root)
    assert value(ours, "node_filesystem_files", **root) == value(node, "node_filesystem_files", **root)
    assert ours["node_uname_info"][3] == node["node_uname_info"][3]
    assert ours["node_os_info"][3] == node["node_os_info"][3]
    assert set(ours["node_cpu_seconds"][3]) == set(node["node_cpu_seconds"][3])  # same cpu/mode pairs
