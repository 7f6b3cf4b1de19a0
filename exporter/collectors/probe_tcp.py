"""TCP connect probes from the config's `probes.tcp`: is something accepting on HOST:PORT?"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from exporter.metric import Metric
from exporter.probe_pool import ProbeJob, ProbePool, ProbeResult, probe_families

if TYPE_CHECKING:  # the strict config (pydantic) is loaded only when a config file is used
    from tradewatch.config import Config, TcpProbe

log = logging.getLogger("exporter.probes.tcp")


def split_address(address: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` -> (host, port)."""
    host, _, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def probe(cfg: TcpProbe, deadline: float) -> ProbeResult:
    start = time.monotonic()
    try:
        timeout = deadline - start
        if timeout <= 0:
            return ProbeResult(False, 0.0, "timed out before it started")
        with socket.create_connection(split_address(cfg.address), timeout=timeout):
            return ProbeResult(True, time.monotonic() - start)
    except TimeoutError:
        return ProbeResult(False, time.monotonic() - start, "timed out")
    except OSError as exc:
        return ProbeResult(False, time.monotonic() - start, f"{type(exc).__name__}: {exc}")


class TcpProbeCollector:
    name = "probe_tcp"

    def __init__(self, probes: list[TcpProbe]):
        self.probes = probes
        self.timeout = max(p.timeout for p in probes) + 1.0
        self._pool = ProbePool("tcp", len(probes), log)

    def collect(self) -> Iterator[Metric]:
        jobs = [ProbeJob(p.name, p.timeout, partial(probe, p)) for p in self.probes]
        yield from probe_families("tcp", self._pool.run(jobs))

    def close(self) -> None:
        self._pool.close()


def build(config: Config) -> TcpProbeCollector | None:
    return TcpProbeCollector(list(config.probes.tcp)) if config.probes.tcp else None
