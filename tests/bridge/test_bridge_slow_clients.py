"""Slow or idle clients cannot starve the bridge (issue 13.1): 300 slow connections from 127.0.0.1
while a webhook and /health are each answered within 2 s, and the server closes every slow one."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from tests.support.bridge import TOKEN, alert, bridge_process, config_data, webhook
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration

PER_KIND = 100  # idle after connect; headers a byte at a time; headers + 1 body byte of a large body
HOLD_SECONDS = 12.0  # the probes run this long while the slow connections are open
CLOSE_WITHIN = 45.0  # every slow connection must have been closed by the server by then


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    return s


def _closed_by_server(s: socket.socket) -> bool:
    try:
        return s.recv(65536) == b""  # EOF; a 408/400 answer arrives first, then EOF on the next read
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset


def _timed(call: Callable[[], int]) -> tuple[int, float]:
    start = time.monotonic()
    try:
        status = call()
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except OSError:
        status = 0  # no answer (timed out, refused, reset)
    return status, time.monotonic() - start


def test_300_slow_connections_do_not_starve_the_webhook_or_health(tmp_path):
    data = config_data(tmp_path, bridge={"api_token": TOKEN})
    with bridge_process(tmp_path, data) as bridge:
        port = int(bridge.url.rsplit(":", 1)[1])
        wait_until(lambda: bridge.request("GET", "/health")[0] == 200, 20, what="/health 200")
        head = (f"POST /api/monitoring/webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n").encode()
        opened = time.monotonic()
        idle = [_connect(port) for _ in range(PER_KIND)]
        trickled = [_connect(port) for _ in range(PER_KIND)]
        stalled = [_connect(port) for _ in range(PER_KIND)]
        slow = idle + trickled + stalled
        stop = threading.Event()

        def trickle() -> None:
            """One more header byte on every trickled connection each 0.5 s, for as long as it lasts."""
            for i in range(int(CLOSE_WITHIN * 2) + 10):
                for s in trickled:
                    if i < len(head) - 2:  # never complete the headers
                        with contextlib.suppress(OSError):
                            s.send(head[i:i + 1])
                if stop.wait(0.5):
                    return

        try:
            for s in stalled:
                s.send(head + b"{")
            feeder = threading.Thread(target=trickle, daemon=True)
            feeder.start()

            def health() -> int:
                with urllib.request.urlopen(bridge.url + "/health", timeout=10) as resp:
                    return resp.status

            def post(n: int) -> Callable[[], int]:
                body = json.dumps(webhook(alert(f"Slow{n}", severity="warning"))).encode()
                req = urllib.request.Request(
                    bridge.url + "/api/monitoring/webhook", data=body, method="POST",
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})

                def call() -> int:
                    with urllib.request.urlopen(req, timeout=10) as resp:
                        return resp.status
                return call

            answers: list[tuple[str, int, float]] = []
            closed: dict[int, float] = {}  # slow connection -> seconds from its opening to its closing
            held = 0  # most slow connections open at once while the probes ran
            n = 0
            begin = time.monotonic()
            while time.monotonic() - begin < HOLD_SECONDS + CLOSE_WITHIN and len(closed) < len(slow):
                for i, s in enumerate(slow):
                    if i not in closed and _closed_by_server(s):
                        closed[i] = time.monotonic() - opened
                if time.monotonic() - begin < HOLD_SECONDS and n < 100:
                    held = max(held, len(slow) - len(closed))
                    answers.append(("health", *_timed(health)))
                    answers.append(("webhook", *_timed(post(n))))
                    n += 1
                time.sleep(0.25)
        finally:
            stop.set()
            for s in slow:
                s.close()
        log = bridge.proc.output()

    worst = {kind: max(t for k, _, t in answers if k == kind) for kind in ("health", "webhook")}
    kinds = {"idle": range(0, PER_KIND), "trickled headers": range(PER_KIND, 2 * PER_KIND),
             "stalled body": range(2 * PER_KIND, 3 * PER_KIND)}
    print(f"\n{len(slow)} slow connections, {held} open at once during {n} probe rounds; "
          f"slowest /health {worst['health']:.3f} s, slowest webhook {worst['webhook']:.3f} s; closed by the "
          "server after: " + ", ".join(f"{kind} <= {max(closed.get(i, float('inf')) for i in r):.1f} s"
                                       for kind, r in kinds.items()))
    failed = [(k, status, round(t, 3)) for k, status, t in answers if status != 200 or t >= 2.0]
    assert not failed, (failed, log[-2000:])
    assert n >= 10 and held == len(slow)
    assert len(closed) == len(slow), f"{len(slow) - len(closed)} slow connections still open"
    assert "Traceback" not in log
