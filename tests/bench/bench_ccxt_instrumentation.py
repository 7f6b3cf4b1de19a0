"""Benchmark: what `instrument_ccxt` adds to one ccxt REST call, in microseconds.

Not a test (pytest does not collect it). Run from the repository root, with the test extra:

    .venv/bin/python tests/bench/bench_ccxt_instrumentation.py [--calls 20000] [--rounds 7]

Real ccxt (sync binance) whose HTTP session answers from memory (a prepared `requests.Response`),
so the figure is ccxt's own path (sign, fetch2, fetch, parse) with and without the hooks, not
network noise. Plain and instrumented exchanges alternate round by round; the best round of
each is compared (the least disturbed by other processes). Prints per-call times for a unified
method (`fetch_time`) and an implicit API call (`publicGetTime`) and the difference: the
overhead per call (target: at most 20 us).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import ccxt
import requests

from exporter.trading import TradingMetrics, instrument_ccxt


class MemorySession(requests.Session):
    """Answers every request with the same 200 JSON body, without a socket."""

    def request(self, method, url, **kwargs):  # type: ignore[override]
        response = requests.Response()
        response.status_code = 200
        response.reason = "OK"
        response._content = b'{"serverTime": 1764921600000}'
        response.headers["Content-Type"] = "application/json"
        response.url = url
        return response


def exchange(instrumented: bool) -> ccxt.binance:
    ex = ccxt.binance({"session": MemorySession(), "enableRateLimit": False})
    if instrumented:
        instrument_ccxt(ex, TradingMetrics())
    return ex


def per_call_us(call, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n * 1e6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=20000)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    plain, hooked = exchange(False), exchange(True)
    print(f"ccxt {ccxt.__version__}, {args.calls} calls x {args.rounds} rounds, best round")
    worst = 0.0
    cases = (("fetch_time (unified)", "fetch_time"), ("publicGetTime (implicit)", "publicGetTime"))
    for label, method in cases:
        best = {False: float("inf"), True: float("inf")}
        for _ in range(args.rounds):
            for instrumented, ex in ((False, plain), (True, hooked)):
                best[instrumented] = min(best[instrumented], per_call_us(getattr(ex, method), args.calls))
        overhead = best[True] - best[False]
        worst = max(worst, overhead)
        print(f"{label:26s} plain {best[False]:7.2f} us  instrumented {best[True]:7.2f} us  "
              f"overhead {overhead:6.2f} us/call")
    print(f"overhead per call: {worst:.2f} us (target <= 20 us): {'ok' if worst <= 20 else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
