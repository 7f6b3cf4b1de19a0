"""Real Prometheus and Alertmanager (Debian packages) on 127.0.0.1 for tests."""

from __future__ import annotations

import contextlib
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.support.procs import Proc, binary, free_port, running


class Prometheus:
    def __init__(self, proc: Proc, url: str, workdir: Path):
        self.proc, self.url, self.workdir = proc, url, workdir

    def api(self, path: str, **params: Any) -> Any:
        q = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{q}", timeout=10) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.api("query", query=expr)["result"]

    def reload(self) -> None:
        req = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        urllib.request.urlopen(req, timeout=10).close()


@contextlib.contextmanager
def prometheus(workdir: Path, config: dict[str, Any], extra_args: list[str] | None = None,
               port: int | None = None) -> Iterator[Prometheus]:
    """Run `prometheus` with `config` (a prometheus.yml as data) written into workdir."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "prometheus.yml"
    cfg.write_text(yaml.safe_dump(config))
    args = [
        binary("prometheus"), f"--config.file={cfg}", f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
        "--log.level=warn", *(extra_args or []),
    ]
    url = f"http://127.0.0.1:{port}"
    with running(args, workdir / "prometheus.log", ready_url=f"{url}/-/ready", timeout=30) as proc:
        yield Prometheus(proc, url, workdir)


class Alertmanager:
    def __init__(self, proc: Proc, url: str, workdir: Path):
        self.proc, self.url, self.workdir = proc, url, workdir

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}/api/v2/{path}", timeout=10) as resp:
            return json.load(resp)

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        req = urllib.request.Request(
            f"{self.url}/api/v2/alerts", data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        urllib.request.urlopen(req, timeout=10).close()


@contextlib.contextmanager
def alertmanager(workdir: Path, config: dict[str, Any] | str, port: int | None = None,
                 cluster_port: int | None = None, peers: list[str] | None = None) -> Iterator[Alertmanager]:
    """Run Debian's `prometheus-alertmanager`; clustering is off unless cluster_port is given."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "alertmanager.yml"
    cfg.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
    args = [
        binary("prometheus-alertmanager"), f"--config.file={cfg}",
        f"--storage.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    if cluster_port:
        args += [f"--cluster.listen-address=127.0.0.1:{cluster_port}",
                 f"--cluster.advertise-address=127.0.0.1:{cluster_port}"]
        args += [f"--cluster.peer={p}" for p in peers or []]
    else:
        args.append("--cluster.listen-address=")
    url = f"http://127.0.0.1:{port}"
    with running(args, workdir / "alertmanager.log", ready_url=f"{url}/-/ready", timeout=30) as proc:
        yield Alertmanager(proc, url, workdir)
