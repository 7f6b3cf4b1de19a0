"""Webhook ingest benchmark: a real `tradewatch-bridge` process, a real SMTP server (aiosmtpd).

    .venv/bin/python tests/bench/bench_webhook.py                 # 10 000 webhooks x 5 alerts, 8 clients
    .venv/bin/python tests/bench/bench_webhook.py --count 1000    # quick run

Prints webhooks/s, request latency p50/p99, alerts lost (checked in the database), duplicate
emails, and webhook-to-SMTP-accepted latency p50/p99. One alert in every `--email-every`
webhooks is critical (emailed at once); the rest are warning/info (stored only), which is the
realistic mix and keeps the SMTP side from being the thing measured.
Not collected by pytest (no test_ prefix); figures go in docs/bridge.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import re
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from aiosmtpd.controller import Controller  # noqa: E402

from tests.support.bridge import bridge_process, config_data  # noqa: E402
from tests.support.procs import free_port  # noqa: E402

_MSGID = re.compile(rb"^Message-ID:\s*<alert\.([^.>]+)\.", re.I | re.M)


class Recorder:
    """aiosmtpd handler: when was each alert's email accepted, how many times, over how many
    SMTP sessions (EHLO commands)."""

    def __init__(self) -> None:
        self.accepted: dict[str, list[float]] = {}
        self.sessions = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope) -> str:
        now = time.time()
        m = _MSGID.search(envelope.content)
        key = m.group(1).decode() if m else f"other-{now}"
        with self.lock:
            self.accepted.setdefault(key, []).append(now)
        return "250 OK"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def payload(i: int, email_every: int) -> tuple[bytes, str | None]:
    alerts, emailed = [], None
    for j in range(5):
        fp = f"bench{i:06d}x{j}"
        critical = j == 0 and i % email_every == 0
        severity = "critical" if critical else ("warning" if j % 2 else "info")
        if critical:
            emailed = fp
        alerts.append({
            "status": "firing",
            "labels": {"alertname": f"Bench{j}", "instance": f"host-{i % 50}:9184", "severity": severity,
                       "category": "system"},
            "annotations": {"summary": f"bench alert {i}/{j}", "description": "synthetic load"},
            "startsAt": "2026-11-25T01:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": fp,
        })
    body = {"version": "4", "status": "firing", "receiver": "bridge", "groupKey": f"g{i}",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "truncatedAlerts": 0, "alerts": alerts}
    return json.dumps(body).encode(), emailed


def client(port: int, jobs: list[tuple[bytes, str | None]], deadline: float, latencies: list[float],
           sent_at: dict[str, float], errors: list[str], lock: threading.Lock, pace: float = 0.0) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    local_lat: list[float] = []
    local_sent: dict[str, float] = {}
    try:
        for i, (body, emailed) in enumerate(jobs):
            if time.monotonic() > deadline:
                break
            if pace:
                time.sleep(pace)
            t0 = time.time()
            start = time.perf_counter()
            try:
                conn.request("POST", "/api/monitoring/webhook", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{i}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            local_lat.append(time.perf_counter() - start)
            if resp.status != 200:
                errors.append(f"{i}: HTTP {resp.status}")
            elif emailed:
                local_sent[emailed] = t0
    finally:
        conn.close()
        with lock:
            latencies.extend(local_lat)
            sent_at.update(local_sent)


def wait_for(recorder: Recorder, sent_at: dict[str, float], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with recorder.lock:
            if all(k in recorder.accepted for k in sent_at):
                return
        time.sleep(0.1)


def wait_for_sender(db_path: Path, timeout: float = 30.0) -> None:
    """Until the worker process's sender loop has reported (its heartbeat row exists)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(db_path)) as conn:
            if conn.execute("SELECT 1 FROM state WHERE key = 'sender_heartbeat'").fetchone():
                return
        time.sleep(0.1)
    raise SystemExit("the bridge's sender loop did not start")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000, help="webhooks to send (5 alerts each)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (keep-alive)")
    ap.add_argument("--email-every", type=int, default=10, help="one critical (emailed) alert per N webhooks")
    ap.add_argument("--max-seconds", type=float, default=300, help="stop sending after this long")
    ap.add_argument("--threads", type=int, default=8, help="waitress threads in the bridge")
    ap.add_argument("--paced", type=int, default=100,
                    help="then this many webhooks, each with one critical alert, at --rate per second: "
                    "webhook-to-SMTP latency when the bridge is not saturated")
    ap.add_argument("--rate", type=float, default=10.0, help="webhooks per second in the paced phase")
    ap.add_argument("--smtp-connections", type=int, default=None,
                    help="email.connections for the bridge (default: the config default)")
    args = ap.parse_args(argv)

    recorder = Recorder()
    smtp_port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory(prefix="tw-bench-") as tmp:
            tmp_path = Path(tmp)
            email = {"smtp_server": "127.0.0.1", "smtp_port": smtp_port, "security": "none"}
            if args.smtp_connections:
                email["connections"] = args.smtp_connections
            data = config_data(tmp_path, email=email)
            with bridge_process(tmp_path, data, extra_args=["--threads", str(args.threads),
                                                            "--log-level", "WARNING"]) as bridge:
                port = int(bridge.url.rsplit(":", 1)[1])
                latencies: list[float] = []
                sent_at: dict[str, float] = {}
                errors: list[str] = []
                lock = threading.Lock()
                # Measure the running bridge, not its start: the worker process is up and one
                # email (not counted) has gone through before the flood begins.
                wait_for_sender(bridge.db_path)
                warm: dict[str, float] = {}
                client(port, [payload(args.count + args.paced, 1)], time.monotonic() + 30, [], warm, errors,
                       lock)
                wait_for(recorder, warm, 30)
                with recorder.lock:
                    if not all(k in recorder.accepted for k in warm):
                        raise SystemExit("the warm-up email did not arrive")
                    sessions_before = recorder.sessions
                bodies = [payload(i, args.email_every) for i in range(args.count)]
                shards = [bodies[k::args.clients] for k in range(args.clients)]
                deadline = time.monotonic() + args.max_seconds
                started = time.perf_counter()
                threads = [threading.Thread(target=client, args=(port, shard, deadline,
                                                                 latencies, sent_at, errors, lock))
                           for shard in shards]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                elapsed = time.perf_counter() - started
                done = len(latencies)
                # let the outbox drain (bounded)
                wait_for(recorder, sent_at, 120)
                storm_keys = set(sent_at)
                with recorder.lock:
                    storm_sessions = recorder.sessions - sessions_before
                # phase 2: paced, one critical alert per webhook
                paced_sent: dict[str, float] = {}
                paced = [payload(args.count + i, 1) for i in range(args.paced)]
                client(port, paced, time.monotonic() + args.max_seconds, [], paced_sent, errors, lock,
                       pace=1 / args.rate)
                wait_for(recorder, paced_sent, 60)
                sent_at.update(paced_sent)
                time.sleep(1.0)  # a late duplicate would show up here
                with contextlib.closing(sqlite3.connect(bridge.db_path)) as conn:
                    stored = conn.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
        ok = done - len([e for e in errors if "HTTP" in e])
        expected_alerts = (ok + args.paced + 1) * 5  # + the warm-up webhook
        with recorder.lock:
            duplicates = sum(len(v) - 1 for v in recorder.accepted.values())
            storm = [recorder.accepted[k][0] - t for k, t in sent_at.items()
                     if k in storm_keys and k in recorder.accepted]
            steady = [recorder.accepted[k][0] - t for k, t in sent_at.items()
                      if k not in storm_keys and k in recorder.accepted]
            undelivered = sum(1 for k in sent_at if k not in recorder.accepted)
        ms = 1000
        print(f"webhooks sent        : {done} ({args.clients} clients, 5 alerts each, {len(errors)} errors)")
        print(f"throughput           : {done / elapsed:.0f} webhooks/s ({done * 5 / elapsed:.0f} alerts/s)")
        p50, p99 = pct(latencies, 50) * ms, pct(latencies, 99) * ms
        print(f"request latency      : p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        print(f"alerts lost          : {expected_alerts - stored} (stored {stored} of {expected_alerts})")
        print(f"emails               : {len(storm) + len(steady)} delivered, {undelivered} not delivered, "
              f"{duplicates} duplicates")
        print(f"webhook -> SMTP      : under the load above ({len(storm)} emails, "
              f"{storm_sessions} SMTP sessions): "
              f"p50 {pct(storm, 50) * ms:.0f} ms, p99 {pct(storm, 99) * ms:.0f} ms, "
              f"max {pct(storm, 100) * ms:.0f} ms")
        print(f"webhook -> SMTP      : paced {args.rate:g}/s ({len(steady)} emails): "
              f"p50 {pct(steady, 50) * ms:.0f} ms, p99 {pct(steady, 99) * ms:.0f} ms")
        for e in errors[:5]:
            print(f"  error: {e}")
        return 0 if expected_alerts == stored and duplicates == 0 and undelivered == 0 and not errors else 1
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
