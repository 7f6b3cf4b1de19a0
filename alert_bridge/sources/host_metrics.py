"""Current host metrics for `GET /api/monitoring/metrics`: from Prometheus, else the exporter.

Prometheus gives per-instance rates (CPU); the exporter fallback is a single scrape parsed with
prometheus_client's parser, so it can only give instantaneous values (CPU is reported as null).
"""

from __future__ import annotations

from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from alert_bridge.sources.prometheus import PrometheusAPI, PrometheusUnavailable

_FS_FILTER = 'fstype!~"tmpfs|ramfs|squashfs|overlay"'
QUERIES = {
    "cpu_percent": '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[2m])))',
    "memory_percent": "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)",
    "load1": "node_load1",
    "network_receive_bytes_per_second": (
        'sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[2m]))'
    ),
    "network_transmit_bytes_per_second": (
        'sum by (instance) (rate(node_network_transmit_bytes_total{device!="lo"}[2m]))'
    ),
}
DISK_QUERY = (
    f"100 * (1 - node_filesystem_avail_bytes{{{_FS_FILTER}}} / node_filesystem_size_bytes{{{_FS_FILTER}}})"
)


def _host(hosts: dict[str, dict[str, Any]], instance: str) -> dict[str, Any]:
    return hosts.setdefault(
        instance,
        {
            "cpu_percent": None,
            "memory_percent": None,
            "load1": None,
            "network_receive_bytes_per_second": None,
            "network_transmit_bytes_per_second": None,
            "filesystems": [],
        },
    )


def from_prometheus(api: PrometheusAPI) -> dict[str, dict[str, Any]]:
    hosts: dict[str, dict[str, Any]] = {}
    for key, expr in QUERIES.items():
        for sample in api.query(expr):
            instance = sample["metric"].get("instance", "")
            _host(hosts, instance)[key] = round(float(sample["value"][1]), 3)
    for sample in api.query(DISK_QUERY):
        m = sample["metric"]
        _host(hosts, m.get("instance", ""))["filesystems"].append(
            {
                "mountpoint": m.get("mountpoint", ""),
                "device": m.get("device", ""),
                "used_percent": round(float(sample["value"][1]), 3),
            }
        )
    return hosts


def parse_exposition(text: str, instance: str) -> dict[str, dict[str, Any]]:
    """Instantaneous host values from one exporter scrape."""
    values: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            values.setdefault(s.name, []).append((s.labels, s.value))

    def one(name: str) -> float | None:
        got = values.get(name)
        return got[0][1] if got else None

    hosts: dict[str, dict[str, Any]] = {}
    host = _host(hosts, instance)
    total, avail = one("node_memory_MemTotal_bytes"), one("node_memory_MemAvailable_bytes")
    if total and avail is not None:
        host["memory_percent"] = round(100 * (1 - avail / total), 3)
    host["load1"] = one("node_load1")
    sizes = {
        (lb.get("mountpoint"), lb.get("device")): v for lb, v in values.get("node_filesystem_size_bytes", [])
    }
    for lb, v in values.get("node_filesystem_avail_bytes", []):
        size = sizes.get((lb.get("mountpoint"), lb.get("device")))
        if size:
            host["filesystems"].append(
                {
                    "mountpoint": lb.get("mountpoint", ""),
                    "device": lb.get("device", ""),
                    "used_percent": round(100 * (1 - v / size), 3),
                }
            )
    return hosts


def current(prometheus_url: str, exporter_url: str, timeout: float = 3.0) -> dict[str, Any]:
    """{"source", "hosts", "errors"}; raises LookupError when no source answered."""
    errors: dict[str, str] = {}
    if prometheus_url:
        try:
            hosts = from_prometheus(PrometheusAPI(prometheus_url, timeout=timeout))
            if hosts:
                return {"source": "prometheus", "hosts": hosts, "errors": errors}
            errors["prometheus"] = "no node_* series (is the exporter scraped?)"
        except PrometheusUnavailable as exc:
            errors["prometheus"] = str(exc)
    if exporter_url:
        try:
            resp = requests.get(exporter_url, timeout=timeout)
            resp.raise_for_status()
            instance = exporter_url.split("://", 1)[-1].split("/", 1)[0]
            return {"source": "exporter", "hosts": parse_exposition(resp.text, instance), "errors": errors}
        except (requests.RequestException, ValueError) as exc:
            errors["exporter"] = f"{exporter_url}: {exc}"
    raise LookupError(errors or {"config": "neither bridge.prometheus_url nor bridge.exporter_url is set"})
