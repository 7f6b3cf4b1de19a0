"""netclass, netdev, diskstats and the textfile error next to Debian's node_exporter 1.5 on this
machine: the same families, types, help texts, label sets and series; gauges equal, counters
between two node_exporter scrapes taken before and after ours. Debian's package excludes `lo`
from netdev by default; upstream 1.5 does not, nor do we, so it is switched off here."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from tests.support import prom_text
from tests.support.exporter_process import start
from tests.support.procs import Proc, binary, free_port

pytestmark = pytest.mark.integration

MOVING_GAUGES = {"node_disk_io_now"}  # I/Os in flight at the instant of each scrape


def ours_or_theirs(name: str) -> bool:
    return name.startswith(("node_network_", "node_disk_")) or name == "node_textfile_scrape_error"


def scrape(url: str) -> prom_text.Families:
    with urllib.request.urlopen(url, timeout=15) as resp:
        fams = prom_text.parse(resp.read().decode())
    return {n: f for n, f in fams.items() if ours_or_theirs(n)}


def test_our_families_next_to_node_exporter(tmp_path: Path):
    empty = tmp_path / "textfile"
    empty.mkdir()
    port = free_port()
    node_url = f"http://127.0.0.1:{port}/metrics"
    node = Proc([binary("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{port}",
                 "--collector.disable-defaults", "--collector.netclass", "--collector.netdev",
                 "--collector.diskstats", "--collector.textfile", f"--collector.textfile.directory={empty}",
                 "--collector.netdev.device-exclude="], tmp_path / "node.log")
    ours_proc = None
    try:
        node.wait_http(node_url)
        ours_proc, url = start(tmp_path)
        before = scrape(node_url)
        ours = scrape(f"{url}/metrics")
        after = scrape(node_url)
    finally:
        node.stop()
        if ours_proc is not None:
            ours_proc.stop()

    problems = []
    for name in sorted(set(ours) | set(after)):
        if name not in ours or name not in after:
            problems.append(f"{name}: only {'ours' if name in ours else 'node_exporter'} has it")
            continue
        (typ, help_text, series), (n_typ, n_help, n_series) = ours[name], after[name]
        if (typ, help_text) != (n_typ, n_help):
            problems.append(f"{name}: ours {typ} {help_text!r}, node_exporter {n_typ} {n_help!r}")
        if set(series) != set(n_series):
            problems.append(f"{name}: series only ours {sorted(set(series) - set(n_series))}, "
                            f"only node_exporter's {sorted(set(n_series) - set(series))}")
            continue
        for labels, value in series.items():
            low, high = before[name][2].get(labels, n_series[labels]), n_series[labels]
            if typ == "counter":
                ok = low <= value <= high
            elif name in MOVING_GAUGES:
                ok = abs(value - high) <= 256
            else:
                ok = value == high == low
            if not ok:
                problems.append(f"{name}{dict(labels)}: ours {value}, node_exporter {low} then {high}")
    assert not problems, "\n".join(problems)
    # what this machine gives us to compare: virtual NICs with and without speed, zram kept
    assert {"node_network_up", "node_network_speed_bytes", "node_disk_io_time_weighted_seconds",
            "node_disk_info", "node_textfile_scrape_error"} <= set(ours)
