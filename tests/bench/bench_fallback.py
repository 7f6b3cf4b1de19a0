"""Dashboard latency without Prometheus: a real `tradewatch-bridge` whose only metrics source is
an exporter's /metrics (bridge.exporter_url; here the bridge's own, so nothing else runs).

    .venv/bin/python tests/bench/bench_fallback.py              # 50 requests per endpoint
    .venv/bin/python tests/bench/bench_fallback.py --count 200

Prints p50/p99 and the first request's time for the dashboard page and the three JSON endpoints
that fall back to the exporter. Rates need two scrapes: only the first request after start waits
for its second (alert_bridge/sources/scrapes.py); before, every request slept a second (the page,
which reads hosts and bots, two). Not collected by pytest; figures go in docs/dashboard.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.support.bridge import TOKEN, bridge_process, config_data  # noqa: E402
from tests.support.procs import free_port  # noqa: E402

ENDPOINTS = ["/", "/api/monitoring/metrics", "/api/monitoring/sparklines", "/api/monitoring/trading"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=50, help="requests per endpoint (after the first)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        data = config_data(root, bridge={"api_token": TOKEN, "exporter_url": f"{url}/metrics"})
        with bridge_process(root, data, port=port), requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {TOKEN}"
            print(f"{'endpoint':30} {'first':>9} {'p50':>9} {'p99':>9}  ({args.count} requests, one client)")
            for path in ENDPOINTS:
                times = []
                for _ in range(args.count + 1):
                    t0 = time.perf_counter()
                    resp = http.get(url + path, timeout=30)
                    times.append((time.perf_counter() - t0) * 1000)
                    resp.raise_for_status()
                first, rest = times[0], sorted(times[1:])
                p99 = rest[min(len(rest) - 1, int(0.99 * len(rest)))]
                print(f"{path:30} {first:7.1f}ms {statistics.median(rest):7.1f}ms {p99:7.1f}ms")


if __name__ == "__main__":
    main()
