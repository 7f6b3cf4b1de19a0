"""A thin client for Prometheus's HTTP API (instant and range queries), with timeouts.

Used by the report, the health score, the live dashboard and `/api/monitoring/metrics`.
"""

from __future__ import annotations

from typing import Any

import requests


class PrometheusUnavailable(Exception):
    """Prometheus could not be reached or answered with an error; the message says which."""


class PrometheusAPI:
    def __init__(self, base_url: str, timeout: float = 5.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            resp = self.session.get(f"{self.base_url}/api/v1/{path}", params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise PrometheusUnavailable(f"{self.base_url}: {exc.__class__.__name__}: {exc}") from exc
        try:
            body = resp.json()
        except ValueError:
            raise PrometheusUnavailable(f"{self.base_url}: HTTP {resp.status_code}, not JSON") from None
        if body.get("status") != "success":
            raise PrometheusUnavailable(
                f"{self.base_url}: {body.get('errorType', 'error')}: {body.get('error', resp.status_code)}"
            )
        return body["data"]

    def query(self, expr: str, time: float | None = None) -> list[dict[str, Any]]:
        """Instant query; returns the `result` list (vector samples: {'metric', 'value'})."""
        params: dict[str, Any] = {"query": expr}
        if time is not None:
            params["time"] = time
        return self._get("query", params)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """Range query; returns matrix series ({'metric', 'values': [[t, 'v'], ...]})."""
        params = {"query": expr, "start": start, "end": end, "step": step}
        return self._get("query_range", params)["result"]

    def scalar(self, expr: str, time: float | None = None) -> float | None:
        """The single value of a one-series query, or None when it returned nothing."""
        result = self.query(expr, time)
        if not result:
            return None
        return float(result[0]["value"][1])

    def ready(self) -> bool:
        try:
            return self.session.get(f"{self.base_url}/-/ready", timeout=self.timeout).status_code == 200
        except requests.RequestException:
            return False
