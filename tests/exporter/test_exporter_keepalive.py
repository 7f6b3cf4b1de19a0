"""A real Prometheus scraping the real exporter every second keeps one connection open and
reuses it: the exporter's side of the TCP table shows one client port across the scrapes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.exporter_process import start
from tests.support.prom import prometheus

pytestmark = pytest.mark.integration

ESTABLISHED = "01"


def client_ports(server_port: int) -> set[int]:
    """Remote ports of the established TCP connections to `server_port` on this host."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                lines = fh.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state == ESTABLISHED and int(local.rsplit(":", 1)[1], 16) == server_port:
                ports.add(int(remote.rsplit(":", 1)[1], 16))
    return ports


def test_prometheus_reuses_one_connection_scrape_after_scrape(tmp_path: Path):
    proc, url = start(tmp_path)
    port = int(url.rsplit(":", 1)[1])
    seen: set[int] = set()
    try:
        config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                  "scrape_configs": [{"job_name": "ours", "static_configs": [{"targets": [url[7:]]}]}]}
        with prometheus(tmp_path / "prom", config) as prom:
            scrapes = 0.0
            for _ in range(150):  # at most ~30 s
                seen |= client_ports(port)
                result = prom.query('count_over_time(up{job="ours"}[1m])')
                scrapes = float(result[0]["value"][1]) if result else 0.0
                if scrapes >= 6:
                    break
                time.sleep(0.2)
            assert scrapes >= 6, "Prometheus did not scrape six times"
            assert prom.query('min_over_time(up{job="ours"}[1m])')[0]["value"][1] == "1"
    finally:
        proc.stop()
    # one connection for all of them (before keep-alive, every scrape had a port of its own)
    assert len(seen) == 1, f"client ports seen: {sorted(seen)}"
