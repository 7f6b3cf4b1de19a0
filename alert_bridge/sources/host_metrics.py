"""Current host metrics for `GET /api/monitoring/metrics`: from Prometheus, else the exporter.

Both paths use the definitions in tradewatch.quantities: Prometheus is asked for the recording
rule, or the same PromQL where the rule has not run yet; the exporter fallback pairs a new scrape
with an earlier one (sources.scrapes) and applies the same formulas to the raw samples.
"""

from __future__ import annotations

from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from alert_bridge.sources.prometheus import PrometheusAPI, PrometheusUnavailable
from alert_bridge.sources.scrapes import ScrapeMemory
from tradewatch import quantities as qt

QUERIES = {
    "cpu_percent": f"100 * ({qt.CPU.rule_or_raw()})",
    "memory_percent": f"100 * ({qt.MEMORY.rule_or_raw()})",
    "load1": qt.LOAD1,
    "network_receive_bytes_per_second": qt.NETWORK_RECEIVE.rule_or_raw(),
    "network_transmit_bytes_per_second": qt.NETWORK_TRANSMIT.rule_or_raw(),
}
DISK_QUERY = f"100 * ({qt.FILESYSTEM.rule_or_raw()})"


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
            "nodename": None,
        },
    )


def from_prometheus(api: PrometheusAPI) -> dict[str, dict[str, Any]]:
    hosts: dict[str, dict[str, Any]] = {}
    for key, expr in QUERIES.items():
        for sample in api.query(expr):
            instance = sample["metric"].get("instance", "")
            _host(hosts, instance)[key] = round(float(sample["value"][1]), 3)
    for instance, name in host_names(api).items():
        if instance in hosts:
            hosts[instance]["nodename"] = name
    for sample in api.query(DISK_QUERY):
        m = sample["metric"]
        _host(hosts, m.get("instance", ""))["filesystems"].append(
            {
                "mountpoint": m.get("mountpoint", ""),
                "device": m.get("device", ""),
                "used_percent": round(float(sample["value"][1]), 3),
            }
        )
    for host in hosts.values():
        host["filesystems"].sort(key=lambda f: f["mountpoint"])
    return hosts


def host_names(api: PrometheusAPI) -> dict[str, str]:
    """{instance: nodename} from node_uname_info (a `nodename` target label wins: Prometheus keeps
    the target's label over the exposed one)."""
    names: dict[str, str] = {}
    for sample in api.query(qt.UNAME_INFO):
        m = sample["metric"]
        if m.get(qt.HOST_NAME_LABEL):
            names[m.get("instance", "")] = m[qt.HOST_NAME_LABEL]
    return names


def parse_exposition(text: str) -> qt.Samples:
    """One exporter scrape as quantities.Samples."""
    return qt.samples_of(
        (s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples
    )


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else round(100 * ratio, 3)


def from_samples(before: qt.Samples, after: qt.Samples, seconds: float, instance: str
                 ) -> dict[str, dict[str, Any]]:
    """Host values from two scrapes `seconds` apart, with the quantities' raw-sample formulas."""
    hosts: dict[str, dict[str, Any]] = {}
    host = _host(hosts, instance)
    host["cpu_percent"] = _percent(qt.CPU.value(before, after, seconds))
    host["memory_percent"] = _percent(qt.MEMORY.value(before, after, seconds))
    got = after.get(qt.LOAD1)
    host["load1"] = got[0][1] if got else None
    for key, q in (("network_receive_bytes_per_second", qt.NETWORK_RECEIVE),
                   ("network_transmit_bytes_per_second", qt.NETWORK_TRANSMIT)):
        rate = q.value(before, after, seconds)
        host[key] = None if rate is None else round(rate, 3)
    uname = after.get(qt.UNAME_INFO)
    host["nodename"] = (uname[0][0].get(qt.HOST_NAME_LABEL) or None) if uname else None
    host["filesystems"] = [
        {"mountpoint": lb.get("mountpoint", ""), "device": lb.get("device", ""), "used_percent": _percent(v)}
        for lb, v in qt.FILESYSTEM.raw(before, after, seconds)
    ]
    return hosts


def from_exporter(exporter_url: str, timeout: float = 3.0, scrapes: ScrapeMemory | None = None
                  ) -> dict[str, dict[str, Any]]:
    """A new scrape and an earlier one from `scrapes` (raises requests.RequestException / ValueError)."""
    def scrape() -> qt.Samples:
        resp = requests.get(exporter_url, timeout=timeout)
        resp.raise_for_status()
        return parse_exposition(resp.text)

    before, after, seconds = (scrapes or ScrapeMemory()).pair(exporter_url, scrape)
    instance = exporter_url.split("://", 1)[-1].split("/", 1)[0]
    return from_samples(before, after, seconds, instance)


def current(prometheus_url: str, exporter_url: str, timeout: float = 3.0,
            scrapes: ScrapeMemory | None = None) -> dict[str, Any]:
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
            hosts = from_exporter(exporter_url, timeout, scrapes)
            return {"source": "exporter", "hosts": hosts, "errors": errors}
        except (requests.RequestException, ValueError) as exc:
            errors["exporter"] = f"{exporter_url}: {exc}"
    raise LookupError(errors or {"config": "neither bridge.prometheus_url nor bridge.exporter_url is set"})
