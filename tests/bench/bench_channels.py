"""Push-channel benchmark: a real `tradewatch-bridge`, real Apprise, a JSON receiver and aiosmtpd.

    .venv/bin/python tests/bench/bench_channels.py                  # 200 paced, burst of 1000
    .venv/bin/python tests/bench/bench_channels.py --paced 50 --burst 200   # quick run

Paced: one critical alert per webhook, `--rate` webhooks/s, after one warm-up webhook; latency
is from sending the webhook to the channel's receiver accepting the message (p50/p99).
Burst: `--burst` critical alerts (10 per webhook, 8 clients) fanned out to 2 channels (Apprise
`json://` to an http.server on 127.0.0.1) plus email (aiosmtpd): per destination delivered,
lost and duplicated, and the time until the last one arrived. Not collected by pytest (no
test_ prefix); figures go in docs/channels.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.support.bridge import bridge_process, config_data  # noqa: E402
from tests.support.receiver import Receiver  # noqa: E402
from tests.support.smtp import smtp_server  # noqa: E402

_BOT = re.compile(r"\bb(\d{7})\b")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


def alert(n: int) -> dict:
    return {
        "status": "firing",
        "labels": {"alertname": "BenchDown", "instance": f"host-{n % 50}:9184", "severity": "critical",
                   "category": "system", "bot": f"b{n:07d}"},
        "annotations": {"summary": f"bench alert {n}"},
        "startsAt": "2026-12-05T07:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph", "fingerprint": f"benchfp{n:07d}",
    }


def post(url: str, token: str, alerts: list[dict]) -> None:
    body = json.dumps({"receiver": "bench", "status": "firing", "alerts": alerts, "groupLabels": {},
                       "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
                       "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    req = urllib.request.Request(url + "/api/monitoring/webhook", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200, resp.status


def arrivals(rx: Receiver, path: str) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for m in list(rx.messages):
        if m["path"].split("?")[0] != path:
            continue
        found = _BOT.search(str(m["json"].get("title", "")))
        if found:
            out.setdefault(int(found.group(1)), []).append(m["at"])
    return out


def emails(smtp) -> dict[int, int]:  # type: ignore[no-untyped-def]
    out: dict[int, int] = {}
    for msg in list(smtp.mailbox.messages):
        found = _BOT.search(str(msg.get("Subject", "")))
        if found:
            out[int(found.group(1))] = out.get(int(found.group(1)), 0) + 1
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paced", type=int, default=200, help="paced webhooks (one critical alert each)")
    ap.add_argument("--rate", type=float, default=10.0, help="paced webhooks per second")
    ap.add_argument("--burst", type=int, default=1000, help="critical alerts in the burst")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the burst to drain")
    args = ap.parse_args()
    token = "bench-token-0123456789abcdef0123456789"
    rx = Receiver()
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as smtp:
        tmp_path = Path(tmp)
        data = config_data(tmp_path, bridge={"api_token": token},
                           email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none"})
        data["channels"] = [{"name": "a", "url": rx.url("a")}, {"name": "b", "url": rx.url("b")}]
        with bridge_process(tmp_path, data) as bridge:
            # one webhook first, not counted: the first send loads Apprise's plugin and opens sessions
            post(bridge.url, token, [alert(9_999_999)])
            deadline = time.time() + 30
            while time.time() < deadline and not arrivals(rx, "/a"):
                time.sleep(0.05)
            # paced
            sent_at: dict[int, float] = {}
            for i in range(args.paced):
                start = time.time()
                sent_at[i] = start
                post(bridge.url, token, [alert(i)])
                time.sleep(max(0.0, 1 / args.rate - (time.time() - start)))
            deadline = time.time() + 60
            while time.time() < deadline and len(arrivals(rx, "/a")) < args.paced + 1:
                time.sleep(0.1)
            got = arrivals(rx, "/a")
            lat = [(got[i][0] - sent_at[i]) * 1000 for i in sent_at if i in got]
            print(f"paced: {args.paced} webhooks at {args.rate:g}/s, webhook -> channel accepted: "
                  f"p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms, missing {args.paced - len(lat)}")
            # burst
            base = 1_000_000
            ids = list(range(base, base + args.burst))
            chunks = [ids[k:k + 10] for k in range(0, len(ids), 10)]
            t0 = time.time()

            def client(part: list[list[int]]) -> None:
                for chunk in part:
                    post(bridge.url, token, [alert(n) for n in chunk])

            threads = [threading.Thread(target=client, args=(chunks[k::8],)) for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            accepted = time.time() - t0
            deadline = t0 + args.timeout
            while time.time() < deadline:
                wanted = set(ids)
                done = [len(wanted & set(arrivals(rx, p))) for p in ("/a", "/b")]
                if min(done) >= args.burst and len(wanted & set(emails(smtp))) >= args.burst:
                    break
                time.sleep(0.5)
            time.sleep(3)  # let any duplicate show up
            print(f"burst: {args.burst} critical alerts in {len(chunks)} webhooks, "
                  f"all accepted in {accepted:.1f} s")
            for path in ("/a", "/b"):
                got = arrivals(rx, path)
                mine = {n: got[n] for n in ids if n in got}
                last = max((max(v) for v in mine.values()), default=t0)
                dup = sum(len(v) - 1 for v in mine.values())
                print(f"  channel {path[1:]}: delivered {len(mine)}, lost {args.burst - len(mine)}, "
                      f"duplicated {dup}, drained in {last - t0:.1f} s")
            mail = emails(smtp)
            mine_mail = {n: c for n, c in mail.items() if n in set(ids)}
            print(f"  email:     delivered {len(mine_mail)}, lost {args.burst - len(mine_mail)}, "
                  f"duplicated {sum(c - 1 for c in mine_mail.values())}")
    rx.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
