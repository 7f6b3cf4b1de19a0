"""`GET /api/monitoring/metrics` against the real exporter, and through a real Prometheus scraping it."""

from __future__ import annotations

import os

import pytest

from alert_bridge.sources import host_metrics
from alert_bridge.sources.prometheus import PrometheusAPI
from tests.support.procs import free_port, wait_until
from tests.support.prom import prometheus

pytestmark = pytest.mark.integration


def _sane(host: dict) -> None:
    assert 0 < host["memory_percent"] < 100
    assert host["load1"] is not None and host["load1"] >= 0
    assert host["filesystems"] and all(0 <= f["used_percent"] <= 100 for f in host["filesystems"])


def test_exporter_fallback_reads_a_real_scrape(exporter):
    dead_prometheus = f"http://127.0.0.1:{free_port()}"
    body = host_metrics.current(dead_prometheus, exporter)
    assert body["source"] == "exporter" and "prometheus" in body["errors"]
    [host] = body["hosts"].values()
    _sane(host)
    # two scrapes a second apart give the rates, with the same formulas as the recording rules
    assert 0 <= host["cpu_percent"] <= 100
    assert host["network_receive_bytes_per_second"] is not None
    assert host["nodename"] == os.uname().nodename  # node_uname_info names the host


def test_prometheus_gives_rates_per_instance(tmp_path, exporter):
    target = exporter.removeprefix("http://").removesuffix("/metrics")
    cfg = {"global": {"scrape_interval": "1s"},
           "scrape_configs": [{"job_name": "node", "static_configs": [{"targets": [target]}]}]}
    with prometheus(tmp_path / "prom", cfg) as prom:
        api = PrometheusAPI(prom.url)

        def has_rate():
            return api.query('rate(node_cpu_seconds_total{mode="idle"}[2m])')

        wait_until(has_rate, 30, what="two scrapes of the exporter in Prometheus")
        body = host_metrics.current(prom.url, "")
    assert body["source"] == "prometheus" and body["errors"] == {}
    host = body["hosts"][target]
    _sane(host)
    assert 0 <= host["cpu_percent"] <= 100
    assert host["network_receive_bytes_per_second"] is not None
    assert host["nodename"] == os.uname().nodename
