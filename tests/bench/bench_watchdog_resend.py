"""Benchmark: how long the Watchdog is away from the bridge after a start and after a restart of
Alertmanager or Prometheus, with Prometheus's default --rules.alert.resend-delay (1m) and with a
short one. Not a test (pytest does not collect it). From the repository root:

    .venv/bin/python tests/bench/bench_watchdog_resend.py

Real Debian binaries on free 127.0.0.1 ports: Prometheus (1 s evaluation, the always-firing
Watchdog rule), Alertmanager (the Watchdog's route: group_wait 0s, group and repeat interval 2s)
and a webhook receiver standing in for the bridge. Prints, per resend delay, the seconds from the
start to the first Watchdog webhook, and the gap between webhooks across each restart. Measured
2026-12-05, Prometheus 2.42, two runs: default 61.1-61.3 / 53-57 (Alertmanager) / 4 (Prometheus) s;
2s: 6.6-7.0 / 3-4 / 4 s (tradewatch.rules.render.alert_resend_delay).
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.support.procs import free_port  # noqa: E402

BEATS: list[float] = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        alerts = body["alerts"]
        if any(a["labels"].get("alertname") == "Watchdog" and a["status"] == "firing" for a in alerts):
            BEATS.append(time.time())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _wait_beat(after: float, timeout: float) -> float | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        later = [b for b in BEATS if b > after]
        if later:
            return later[0]
        time.sleep(0.1)
    return None


def run(tmp: Path, resend: str | None) -> dict[str, float | None]:
    BEATS.clear()
    rp, ap, pp = free_port(), free_port(), free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", rp), Receiver)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    (tmp / "am.yml").write_text(
        "route: {receiver: b, group_by: [alertname], group_wait: 0s, group_interval: 2s, "
        "repeat_interval: 2s}\n"
        f"receivers: [{{name: b, webhook_configs: [{{url: 'http://127.0.0.1:{rp}/'}}]}}]\n")
    (tmp / "rules.yml").write_text("groups:\n- name: w\n  rules:\n  - alert: Watchdog\n    expr: vector(1)\n")
    (tmp / "prom.yml").write_text(
        f"global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [{tmp}/rules.yml]\n"
        f"alerting: {{alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{ap}']}}]}}]}}\n")
    cmds = {
        "alertmanager": ["prometheus-alertmanager", f"--config.file={tmp}/am.yml", f"--storage.path={tmp}/am",
                         f"--web.listen-address=127.0.0.1:{ap}", "--cluster.listen-address="],
        "prometheus": ["prometheus", f"--config.file={tmp}/prom.yml", f"--storage.tsdb.path={tmp}/prom",
                       f"--web.listen-address=127.0.0.1:{pp}",
                       *([f"--rules.alert.resend-delay={resend}"] if resend else [])],
    }
    with open(tmp / "log", "w") as log:
        procs = {name: subprocess.Popen(cmd, stdout=log, stderr=log) for name, cmd in cmds.items()}
        out: dict[str, float | None] = {}
        try:
            start = time.time()
            first = _wait_beat(start, 150)
            out["first after start"] = None if first is None else round(first - start, 1)
            time.sleep(5)
            for name in ("alertmanager", "prometheus"):
                last = BEATS[-1]
                procs[name].terminate()
                procs[name].wait(10)
                restarted = time.time()
                procs[name] = subprocess.Popen(cmds[name], stdout=log, stderr=log)
                beat = _wait_beat(restarted, 150)
                out[f"gap across a {name} restart"] = None if beat is None else round(beat - last, 1)
                time.sleep(5)
        finally:
            for p in procs.values():
                p.terminate()
                p.wait(10)
            srv.shutdown()
    return out


def main() -> None:
    for resend in (None, "2s"):
        tmp = Path(tempfile.mkdtemp(prefix="bench-watchdog-"))
        try:
            print(f"resend-delay {resend or 'default (1m)'}: {run(tmp, resend)} (seconds)", flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
