"""Side by side with Debian's node_exporter 1.5 on this machine, for the /proc-based collectors:
the same families with the same types, help texts and label sets, and values that agree:
scrapes alternate node_exporter, ours, node_exporter, so each of our counters must lie between
node_exporter's two readings (monotonic), and each gauge near them. On failure every difference
is listed, not just the first."""

from __future__ import annotations

import os
import sys
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.procs import Proc, binary, free_port

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux collectors")]

COLLECTORS = ("stat", "vmstat", "netstat", "udp_queues", "sockstat", "softnet", "filefd", "entropy",
              "pressure", "time", "timex", "conntrack", "arp", "cpu")
PREFIXES = ("node_context_switches_total", "node_intr_total", "node_forks_total", "node_procs_",
            "node_vmstat_", "node_netstat_", "node_udp_queues", "node_sockstat_", "node_softnet_",
            "node_filefd_", "node_entropy_", "node_pressure_", "node_time_", "node_timex_",
            "node_nf_conntrack_", "node_arp_", "node_cpu_guest_seconds_total",
            "node_scrape_collector_success")
# gauges that move with the machine's activity (our own scrapes open sockets and processes)
SLACK_ABS = 200.0
SLACK_REL = 0.2

Family = tuple[str, str, dict[tuple[tuple[str, str], ...], float]]


def scrape(url: str) -> dict[str, Family]:
    with urllib.request.urlopen(url, timeout=15) as resp:
        text = resp.read().decode()
    out = {}
    for f in text_string_to_metric_families(text):
        samples = {(s.name, *sorted(s.labels.items())): s.value for s in f.samples}
        if any(name.startswith(PREFIXES) for name, *_ in samples) or f.name.startswith(PREFIXES):
            out[f.name] = (f.type, f.documentation, samples)
    return out


def differences(a: dict[str, Family], ours: dict[str, Family], b: dict[str, Family]) -> list[str]:
    diffs = []
    for name in sorted(set(a) | set(ours)):
        if name == "node_scrape_collector_success":
            continue
        if name not in ours:
            diffs.append(f"{name}: missing in ours")
            continue
        if name not in a:
            diffs.append(f"{name}: node_exporter does not serve it")
            continue
        typ, help_text, mine = ours[name]
        n_typ, n_help, first = a[name]
        second = b.get(name, a[name])[2]
        if (typ, help_text) != (n_typ, n_help):
            diffs.append(f"{name}: type/help {typ!r} {help_text!r} != {n_typ!r} {n_help!r}")
        if set(mine) not in (set(first), set(second)):
            diffs.append(f"{name}: series {sorted(set(mine) ^ set(first))} differ")
            continue
        for key, value in mine.items():
            lo, hi = sorted((first.get(key, second.get(key)), second.get(key, first.get(key))))
            if typ == "counter":
                if not lo <= value <= hi:
                    diffs.append(f"{key}: counter {value} not between node_exporter's {lo} and {hi}")
            else:
                slack = max(SLACK_ABS, SLACK_REL * abs(hi))
                if not lo - slack <= value <= hi + slack:
                    diffs.append(f"{key}: {value} not near node_exporter's {lo}..{hi}")
    return diffs


def test_our_proc_collectors_serve_what_node_exporter_serves(tmp_path):
    p1, p2 = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "TRADEWATCH_CONFIG"}
    ours_url, node_url = f"http://127.0.0.1:{p1}/metrics", f"http://127.0.0.1:{p2}/metrics"
    ours_proc = Proc([binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{p1}",
                      "--collector.disable-defaults", *(f"--collector.{c}" for c in COLLECTORS)],
                     tmp_path / "ours.log", env=env, cwd=tmp_path)
    node_proc = Proc([binary("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{p2}",
                      "--collector.disable-defaults", *(f"--collector.{c}" for c in COLLECTORS)],
                     tmp_path / "node.log")
    try:
        ours_proc.wait_http(ours_url)
        node_proc.wait_http(node_url)
        diffs: list[str] = []
        for _ in range(3):  # bounded: a gauge caught mid-burst gets another chance
            a = scrape(node_url)
            ours = scrape(ours_url)
            b = scrape(node_url)
            diffs = differences(a, ours, b)
            if not diffs:
                break
    finally:
        ours_proc.stop()
        node_proc.stop()
    assert not diffs, "differences from node_exporter 1.5:\n" + "\n".join(diffs)
    assert len(ours) > 90
    # every collector succeeded on both, or failed on both (no conntrack module, no PSI ...)
    ours_ok = ours["node_scrape_collector_success"][2]
    node_ok = a["node_scrape_collector_success"][2]
    assert ours_ok == node_ok
