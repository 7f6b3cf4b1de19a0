"""HTTP probes from the config's `probes.http`: status, optional body regex, bounded time.

Uses http.client from the standard library, imported by the first probe (it loads ssl), and
enforces the probe's timeout over the whole exchange (connect, request, headers, body), not per
socket operation, so a server trickling bytes cannot hold the scrape. Redirects are not
followed: list 3xx codes in `expected_status` when a redirect is the healthy answer. Proxy
environment variables are not used: a probe measures the target, not a proxy.
"""

from __future__ import annotations

import base64
import logging
import re
import time
import urllib.parse
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from exporter.families import gauge
from exporter.metric import Metric
from exporter.probe_pool import ProbeJob, ProbePool, ProbeResult, probe_families
from tradewatch import metric_names as names

if TYPE_CHECKING:  # the strict config (pydantic) is loaded only when a config file is used
    from tradewatch.config import Config, HttpProbe

log = logging.getLogger("exporter.probes.http")

STATUS = gauge(names.PROBE_HTTP_STATUS, "HTTP status code of the probe's response, 0 when none.",
               ("probe",))
MAX_BODY_BYTES = 1 << 20  # what the body regex sees at most
USER_AGENT = "tradewatch-exporter-probe"


class _Deadline(Exception):
    pass


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Deadline
    return left


def probe(cfg: HttpProbe, deadline: float) -> ProbeResult:
    """One HTTP exchange; success when the status is expected and the body regex (if any) matches."""
    import http.client  # here, not at import: it loads ssl and email (~5 MB) for HTTP probes only

    start = time.monotonic()
    url = urllib.parse.urlsplit(cfg.url)
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    headers = {"User-Agent": USER_AGENT, **cfg.headers}
    if url.username is not None and not any(k.lower() == "authorization" for k in headers):
        # http://user:pass@host/ in the URL: basic auth, as curl and blackbox_exporter do
        creds = f"{urllib.parse.unquote(url.username)}:{urllib.parse.unquote(url.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(creds.encode()).decode()
    conn: http.client.HTTPConnection
    try:
        host, port = url.hostname or "", url.port
        if url.scheme == "https":
            import ssl  # lazily: only https probes pay for it

            ctx = ssl.create_default_context()
            if not cfg.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(host, port, timeout=_remaining(deadline), context=ctx)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=_remaining(deadline))
    except (ValueError, _Deadline) as exc:
        return ProbeResult(False, time.monotonic() - start, f"bad URL or no time left: {exc}")
    status: int | None = None
    try:
        body = cfg.body.encode() if cfg.body is not None else None
        conn.request(cfg.method, path, body=body, headers=headers)
        if conn.sock is not None:
            conn.sock.settimeout(_remaining(deadline))
        resp = conn.getresponse()
        status = resp.status
        data = b""
        if cfg.body_regex is not None:
            while len(data) < MAX_BODY_BYTES:
                if conn.sock is not None:
                    conn.sock.settimeout(_remaining(deadline))
                chunk = resp.read1(65536)
                if not chunk:
                    break
                data += chunk
        duration = time.monotonic() - start
        if status not in cfg.expected_status:
            return ProbeResult(False, duration, f"status {status} not in {cfg.expected_status}", status)
        if cfg.body_regex is not None and not re.search(cfg.body_regex, data.decode("utf-8", "replace")):
            return ProbeResult(False, duration, f"body does not match {cfg.body_regex!r}", status)
        return ProbeResult(True, duration, "", status)
    except (_Deadline, TimeoutError):
        return ProbeResult(False, time.monotonic() - start, "timed out", status)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return ProbeResult(False, time.monotonic() - start, f"{type(exc).__name__}: {exc}", status)
    finally:
        conn.close()


class HttpProbeCollector:
    name = "probe_http"

    def __init__(self, probes: list[HttpProbe]):
        self.probes = probes
        self.timeout = max(p.timeout for p in probes) + 1.0
        self._pool = ProbePool("http", len(probes), log)

    def collect(self) -> Iterator[Metric]:
        jobs = [ProbeJob(p.name, p.timeout, partial(probe, p)) for p in self.probes]
        results = self._pool.run(jobs)
        yield from probe_families("http", results)
        status = STATUS.new()
        for name, result in results.items():
            STATUS.add(status, (name,), float(result.http_status or 0))
        yield status

    def close(self) -> None:
        self._pool.close()


def build(config: Config) -> HttpProbeCollector | None:
    return HttpProbeCollector(list(config.probes.http)) if config.probes.http else None
