"""Per-host series for the dashboard's sparklines: Prometheus range queries over the recording
rules, or (Prometheus not configured or down) one current point per metric from the exporter.

Ratios are 0..1 (as the recording rules), network rates are bytes per second. Each recording
rule is OR-ed with the raw expression it records (both from tradewatch.quantities), so a
Prometheus that scrapes the exporter but has not loaded our rule files still draws lines.
"""

from __future__ import annotations

import time
from typing import Any

from alert_bridge.sources import host_metrics
from alert_bridge.sources.prometheus import PrometheusAPI, PrometheusUnavailable
from alert_bridge.sources.scrapes import ScrapeMemory
from tradewatch import quantities as qt

POINTS = 120  # points per sparkline, whatever the window

HOST_QUERIES: dict[str, str] = {
    "cpu": qt.CPU.rule_or_raw(),
    "memory": qt.MEMORY.rule_or_raw(),
    "network_receive": qt.NETWORK_RECEIVE.rule_or_raw(),
    "network_transmit": qt.NETWORK_TRANSMIT.rule_or_raw(),
}
FILESYSTEM_QUERY = qt.FILESYSTEM.rule_or_raw()
METRICS = tuple(HOST_QUERIES)


def _empty_host() -> dict[str, Any]:
    host: dict[str, Any] = {name: {"current": None, "points": []} for name in METRICS}
    host["filesystems"] = []
    host["nodename"] = None  # node_uname_info's nodename; the card names the host by it
    return host


def _points(values: list[list[Any]]) -> list[list[float]]:
    out = []
    for t, v in values:
        f = float(v)
        if f == f and f not in (float("inf"), float("-inf")):  # NaN / Inf cannot be drawn
            out.append([float(t), round(f, 6)])
    return out


Points = list[list[float]]


def _union(series_list: list[dict[str, Any]], key: Any) -> dict[Any, tuple[dict[str, str], Points]]:
    """Series by `key(labels)`, points merged by time.

    `rule or raw` returns the raw series (no __name__) for steps before the rule first ran and
    the recorded one (with __name__) after: one line for people, so they are joined here.
    """
    merged: dict[Any, tuple[dict[str, str], dict[float, float]]] = {}
    for series in series_list:
        labels = series["metric"]
        _, points = merged.setdefault(key(labels), (labels, {}))
        for t, v in _points(series.get("values", [])):
            points.setdefault(t, v)
    return {k: (labels, [[t, pts[t]] for t in sorted(pts)]) for k, (labels, pts) in merged.items() if pts}


def merge_ranges(
    ranges: dict[str, list[dict[str, Any]]], filesystems: list[dict[str, Any]],
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Matrix results of HOST_QUERIES (by name) and FILESYSTEM_QUERY -> {instance: host};
    `names`: {instance: nodename} (host_metrics.host_names)."""
    hosts: dict[str, dict[str, Any]] = {}
    for name, series_list in ranges.items():
        for instance, (_, points) in _union(series_list, lambda m: m.get("instance", "")).items():
            hosts.setdefault(instance, _empty_host())[name] = {"current": points[-1][1], "points": points}
    by_mount = _union(
        filesystems, lambda m: (m.get("instance", ""), m.get("mountpoint", ""), m.get("device", ""))
    )
    for (instance, mountpoint, device), (_, points) in by_mount.items():
        hosts.setdefault(instance, _empty_host())["filesystems"].append(
            {"mountpoint": mountpoint, "device": device, "current": points[-1][1], "points": points}
        )
    for instance, host in hosts.items():
        host["filesystems"].sort(key=lambda f: f["mountpoint"])
        host["nodename"] = (names or {}).get(instance)
    return dict(sorted(hosts.items()))


def from_current(current: dict[str, Any], now: float) -> dict[str, Any]:
    """host_metrics.current() output (percentages) -> the same shape with one point per metric."""
    hosts: dict[str, Any] = {}
    for instance, h in current.items():
        host = _empty_host()

        def one(value: float | None, scale: float = 1.0) -> dict[str, Any]:
            if value is None:
                return {"current": None, "points": []}
            v = round(float(value) * scale, 6)
            return {"current": v, "points": [[now, v]]}

        host["cpu"] = one(h.get("cpu_percent"), 0.01)
        host["memory"] = one(h.get("memory_percent"), 0.01)
        host["network_receive"] = one(h.get("network_receive_bytes_per_second"))
        host["network_transmit"] = one(h.get("network_transmit_bytes_per_second"))
        host["nodename"] = h.get("nodename")
        host["filesystems"] = sorted(
            (
                {"mountpoint": f["mountpoint"], "device": f["device"], **one(f["used_percent"], 0.01)}
                for f in h.get("filesystems", [])
            ),
            key=lambda f: f["mountpoint"],
        )
        hosts[instance] = host
    return dict(sorted(hosts.items()))


def collect(
    prometheus_url: str,
    exporter_url: str,
    *,
    window: float = 3600.0,
    now: float | None = None,
    api: PrometheusAPI | None = None,
    timeout: float = 3.0,
    scrapes: ScrapeMemory | None = None,
) -> dict[str, Any]:
    """{"source", "window_seconds", "step_seconds", "generated_at", "hosts", "errors"}.

    Raises LookupError (with the errors per source) when neither source answered.
    """
    now = time.time() if now is None else now
    step = max(1.0, round(window / POINTS, 3))
    errors: dict[str, str] = {}
    base = {"window_seconds": window, "step_seconds": step, "generated_at": now}
    if api is None and prometheus_url:
        api = PrometheusAPI(prometheus_url, timeout=timeout)
    if api is not None:
        try:
            start = now - window
            ranges = {name: api.query_range(expr, start, now, step) for name, expr in HOST_QUERIES.items()}
            fs = api.query_range(FILESYSTEM_QUERY, now - window, now, step)
            hosts = merge_ranges(ranges, fs, host_metrics.host_names(api))
            if hosts:
                return {**base, "source": "prometheus", "hosts": hosts, "errors": errors}
            errors["prometheus"] = "no node_* series yet (is the exporter scraped?)"
        except PrometheusUnavailable as exc:
            errors["prometheus"] = str(exc)
    if not exporter_url:
        errors.setdefault("exporter", "bridge.exporter_url is not set")
        raise LookupError(errors)
    try:
        current = host_metrics.current("", exporter_url, timeout=timeout, scrapes=scrapes)
    except LookupError as exc:
        errors.update(exc.args[0])
        raise LookupError(errors) from None
    return {**base, "source": "exporter", "hosts": from_current(current["hosts"], now), "errors": errors}
