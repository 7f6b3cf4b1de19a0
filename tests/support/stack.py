"""Run the local stack supervisor (tradewatch/stack.py) on free ports for tests."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from tests.support.procs import REPO, Proc, binary, free_port, wait_until
from tests.support.smtp import SmtpServer, smtp_server

PARTS = ("exporter", "bridge", "prometheus", "alertmanager", "demo_bot")


@dataclass
class StackRun:
    proc: Proc
    root: Path
    ports: dict[str, int]

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.popen.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


def free_ports() -> dict[str, int]:
    ports: dict[str, int] = {}
    while len(set(ports.values())) != len(PARTS):
        ports = {part: free_port() for part in PARTS}
    return ports


def stack_command(root: Path, ports: dict[str, int], *extra: str) -> list[str]:
    """The supervisor's command line; `extra` may carry its own --env-file (else none is read)."""
    env_file = [] if "--env-file" in extra else ["--env-file", str(root / "no.env")]
    args = [sys.executable, "-m", "tradewatch.stack", *extra, "--dir", str(root), *env_file]
    for part, port in ports.items():
        args += [f"--{part.replace('_', '-')}-port", str(port)]
    return args


def stack_cli(root: Path, action: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradewatch.stack", action, "--dir", str(root)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


@contextlib.contextmanager
def running_stack(root: Path, ports: dict[str, int], *extra: str, timeout: float = 90) -> Iterator[StackRun]:
    """Start the supervisor and wait for its 'is up' banner; always stop it."""
    root.mkdir(parents=True, exist_ok=True)
    n = len(list(root.parent.glob(f"{root.name}-supervisor-*.log")))
    proc = Proc(stack_command(root, ports, *extra), root.parent / f"{root.name}-supervisor-{n}.log")
    run = StackRun(proc, root, ports)
    try:
        def up() -> bool:
            out = proc.output()
            if not proc.alive():
                pytest.fail(f"the stack exited early:\n{out[-4000:]}")
            return "TradeWatch is up" in out

        wait_until(up, timeout, interval=0.2, what="the stack to report all parts healthy")
        yield run
    finally:
        proc.stop(timeout=30)


# --------------------------------------------------------------------------- end-to-end stack
# Real exporter -> real Prometheus (1 s scrape and evaluation) -> real Alertmanager(s) -> the
# bridge process -> aiosmtpd, all on 127.0.0.1, configured through one TradeWatch config whose
# Prometheus/Alertmanager files come from the rules renderer, exactly as the product renders them.

TOKEN = "e2e-token-0123456789abcdef"


class ProbeTarget:
    """An HTTP endpoint an exporter probe checks; `down()` closes its port, `up()` reopens it."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.up()

    def up(self) -> None:
        if self.server is not None:
            return

        class Ok(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"pong\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Ok)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self) -> None:
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        assert self.thread is not None
        self.thread.join(5)
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ping"


def e2e_config(tmp: Path, smtp_port: int, ports: dict[str, int], probes: dict[str, ProbeTarget],
               **overrides: Any) -> dict[str, Any]:
    """The TradeWatch config of an end-to-end stack (plain data; `overrides` replace sections)."""
    never = 1e9  # thresholds nobody reaches: only what a test sets up can email
    cfg: dict[str, Any] = {
        "thresholds": {
            "cpu_percent": {"critical": never}, "memory_percent": {"critical": never},
            "disk_percent": {"critical": never - 1, "emergency": never},
            "load_per_core": {"warning": never}, "network_error_percent": {"warning": never},
        },
        "intervals": {"system_metrics": "1s", "api": "1s", "evaluation": "1s"},
        "email": {"smtp_server": "127.0.0.1", "smtp_port": smtp_port, "security": "none",
                  "from_email": "tradewatch@example.com", "to": ["ops@example.com"],
                  "escalation_to": ["boss@example.com"], "timeout": "5s"},
        "escalation": {"emergency_repeat_minutes": 0.05},
        "bridge": {
            "database": str(tmp / "bridge" / "tradewatch.db"), "outbox_dir": str(tmp / "bridge" / "outbox"),
            "api_token": TOKEN, "listen": f"127.0.0.1:{ports['bridge']}",
            "prometheus_url": f"http://127.0.0.1:{ports['prometheus']}",
            "alertmanager_url": f"http://127.0.0.1:{ports['alertmanager']}",
            "exporter_url": f"http://127.0.0.1:{ports['exporter']}/metrics",
            "external_url": f"http://127.0.0.1:{ports['bridge']}",
            "watchdog_timeout": "8s",
        },
        "probes": {"http": [{"name": name, "url": t.url, "timeout": "500ms"} for name, t in probes.items()]},
        "alerting": {"for_override": "0s", "group_wait": "1s", "group_wait_urgent": "500ms",
                     "group_interval": "2s", "group_interval_urgent": "2s", "repeat_interval": "1h",
                     "watchdog_repeat_interval": "2s"},
        "exporter": {"collectors": {"filesystem_mount_points_include": "^/$"}},
    }
    for section, value in overrides.items():
        cfg[section] = {**cfg.get(section, {}), **value} if isinstance(value, dict) else value
    return cfg


class E2EStack:
    """The running pipeline and handles to poke at it."""

    def __init__(self, tmp: Path, smtp: SmtpServer, probes: dict[str, ProbeTarget], *, alertmanagers: int = 1,
                 prometheus_args: tuple[str, ...] = (), **overrides: Any):
        self.tmp, self.smtp, self.probes = tmp, smtp, probes
        self.prometheus_args = list(prometheus_args)
        self.ports = {"exporter": free_port(), "bridge": free_port(), "prometheus": free_port(),
                      "alertmanager": free_port()}
        self.am_ports = [self.ports["alertmanager"]] + [free_port() for _ in range(alertmanagers - 1)]
        self.data = e2e_config(tmp, smtp.port, self.ports, probes, **overrides)
        self.config_path = tmp / "tradewatch.yaml"
        tmp.mkdir(parents=True, exist_ok=True)
        self.token_file = tmp / "api_token"
        self.token_file.write_text(TOKEN + "\n")
        self.token_file.chmod(0o600)
        self.exporter: Proc | None = None
        self.bridge: Proc | None = None
        self.prometheus: Proc | None = None
        self.alertmanagers: list[Proc] = []
        self.prom_url = f"http://127.0.0.1:{self.ports['prometheus']}"
        self.bridge_url = f"http://127.0.0.1:{self.ports['bridge']}"
        self.exporter_url = f"http://127.0.0.1:{self.ports['exporter']}"

    # ---- configuration
    def write_config(self) -> None:
        from tradewatch.config import load_config
        from tradewatch.rules.render import render_all

        self.config_path.write_text(yaml.safe_dump(self.data, sort_keys=False))
        cfg = load_config(self.config_path, env={})
        render_all(
            cfg, self.tmp / "prom",
            exporter_targets=[f"127.0.0.1:{self.ports['exporter']}"],
            bridge_target=f"127.0.0.1:{self.ports['bridge']}", trading_bot_targets=[],
            prometheus_target=f"127.0.0.1:{self.ports['prometheus']}",
            alertmanager_target=f"127.0.0.1:{self.ports['alertmanager']}",
            webhook_url=f"{self.bridge_url}/api/monitoring/webhook", credentials_file=self.token_file,
        )
        prom_yml = self.tmp / "prom" / "prometheus.yml"
        prom = yaml.safe_load(prom_yml.read_text())
        prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [
            f"127.0.0.1:{p}" for p in self.am_ports]
        prom_yml.write_text(yaml.safe_dump(prom, sort_keys=False))

    def set_thresholds(self, **thresholds: dict[str, float]) -> None:
        """Change thresholds in the config, re-render the rules and reload Prometheus."""
        self.data["thresholds"] = {**self.data["thresholds"], **thresholds}
        self.write_config()
        req = urllib.request.Request(f"{self.prom_url}/-/reload", method="POST")
        urllib.request.urlopen(req, timeout=10).close()

    # ---- processes
    def start(self) -> E2EStack:
        self.write_config()
        cluster = [free_port() for _ in self.am_ports] if len(self.am_ports) > 1 else []
        for i, port in enumerate(self.am_ports):
            work = self.tmp / f"am{i}"
            work.mkdir(parents=True, exist_ok=True)
            am_yml = self.tmp / "prom" / "alertmanager.yml"
            args = [binary("prometheus-alertmanager"), f"--config.file={am_yml}",
                    f"--storage.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn"]
            if cluster:
                args += [f"--cluster.listen-address=127.0.0.1:{cluster[i]}",
                         f"--cluster.advertise-address=127.0.0.1:{cluster[i]}",
                         # the second instance waits 10 ms and gossip goes out every second, so its
                         # notification log has not heard of the first's send: both deliver
                         # (settling would poll every 10 gossip intervals: cap it at 2 s)
                         "--cluster.peer-timeout=10ms", "--cluster.gossip-interval=1s",
                         "--cluster.settle-timeout=2s",
                         *[f"--cluster.peer=127.0.0.1:{c}" for j, c in enumerate(cluster) if j != i]]
            else:
                args.append("--cluster.listen-address=")
            self.alertmanagers.append(Proc(args, work / "alertmanager.log"))
        self.start_prometheus()
        self.exporter = Proc([binary("tradewatch-exporter"), "--listen",
                              f"127.0.0.1:{self.ports['exporter']}", "--config", str(self.config_path)],
                             self.tmp / "exporter.log")
        self.start_bridge()
        for i, am in enumerate(self.alertmanagers):
            am.wait_http(f"http://127.0.0.1:{self.am_ports[i]}/-/ready", 30)
        self.prometheus.wait_http(f"{self.prom_url}/-/ready", 30)  # type: ignore[union-attr]
        self.exporter.wait_http(f"{self.exporter_url}/metrics", 30)
        self.bridge.wait_http(f"{self.bridge_url}/health", 30)  # type: ignore[union-attr]
        return self

    def start_prometheus(self) -> None:
        self.prometheus = Proc([
            binary("prometheus"), f"--config.file={self.tmp / 'prom' / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.tmp / 'prom' / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.ports['prometheus']}", "--web.enable-lifecycle",
            # alerts sent to Alertmanager expire 4 x this after Prometheus stops (default 1m)
            "--rules.alert.resend-delay=1s", "--log.level=warn", *self.prometheus_args,
        ], self.tmp / "prometheus.log")

    def start_bridge(self, wait: bool = False) -> None:
        self.bridge = Proc([binary("tradewatch-bridge"), "--listen", f"127.0.0.1:{self.ports['bridge']}",
                            "--config", str(self.config_path)], self.tmp / "bridge.log")
        if wait:
            self.bridge.wait_http(f"{self.bridge_url}/health", 30)

    def stop(self) -> None:
        for proc in [self.bridge, self.exporter, self.prometheus, *self.alertmanagers]:
            if proc is not None:
                proc.stop()

    # ---- looking at it
    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        req = urllib.request.Request(
            f"{self.bridge_url}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.load(resp)["data"]["result"]

    def am_get(self, index: int, path: str) -> Any:
        url = f"http://127.0.0.1:{self.am_ports[index]}/api/v2/{path}"
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)

    def am_metric(self, index: int, name: str, **labels: str) -> float:
        """Sum of an Alertmanager metric's samples matching labels (0 when absent)."""
        from prometheus_client.parser import text_string_to_metric_families

        with urllib.request.urlopen(f"http://127.0.0.1:{self.am_ports[index]}/metrics", timeout=10) as r:
            text = r.read().decode()
        total = 0.0
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    total += s.value
        return total

    def emails(self, kind: str | None = None, alertname: str | None = None) -> list[EmailMessage]:
        """Received messages of a notification kind, about an alert (by its subject)."""
        out = []
        for msg in list(self.smtp.mailbox.messages):
            if kind and msg["X-TradeWatch-Kind"] != kind:
                continue
            if alertname and f"] {alertname}" not in str(msg["Subject"]):
                continue
            out.append(msg)
        return out

    def wait_emails(self, count: int, timeout: float = 30, **match: str) -> list[EmailMessage]:
        wait_until(lambda: len(self.emails(**match)) >= count, timeout, interval=0.2,
                   what=f"{count} email(s) {match}; got "
                        f"{[m['Subject'] for m in self.smtp.mailbox.messages]}")
        return self.emails(**match)

    def logs(self) -> str:
        parts = []
        for name in ("bridge.log", "exporter.log", "prometheus.log", "am0/alertmanager.log"):
            path = self.tmp / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)


@contextlib.contextmanager
def e2e_stack(tmp: Path, probes: dict[str, ProbeTarget], **kw: Any) -> Iterator[E2EStack]:
    """aiosmtpd + the whole pipeline; always stopped (and the probe targets closed)."""
    with smtp_server() as smtp:
        stack = E2EStack(tmp, smtp, probes, **kw)
        try:
            yield stack.start()
        finally:
            stack.stop()
            for target in probes.values():
                target.down()


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
