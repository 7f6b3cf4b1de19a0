"""Fixtures of the rule tests: the example's rendered files, a copy of the committed prometheus/
folder, a real node_exporter, and a webhook receiver recording what Alertmanager posts."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.procs import REPO, binary, free_port, running
from tradewatch.config import EXAMPLE_CONFIG, load_config
from tradewatch.rules import render_files
from tradewatch.rules.render import WEBHOOK_PATH


@pytest.fixture(scope="module")
def example() -> dict[str, str]:
    """Every file the renderer makes from the example config (path -> text)."""
    return render_files(load_config(EXAMPLE_CONFIG), source="deploy/tradewatch.example.yaml")


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the committed prometheus/ folder, free to edit."""
    out = tmp_path / "prometheus"
    shutil.copytree(REPO / "prometheus", out)
    return out


@pytest.fixture
def node_exporter(tmp_path: Path) -> Iterator[str]:
    """host:port of Debian's prometheus-node-exporter with the collectors the rules use."""
    port = free_port()
    args = [binary("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo",
            "--collector.filesystem", "--collector.loadavg", "--collector.netdev"]
    with running(args, tmp_path / "node_exporter.log", ready_url=f"http://127.0.0.1:{port}/metrics"):
        yield f"127.0.0.1:{port}"


class Hook(BaseHTTPRequestHandler):
    """Records each POST; the webhook fixture gives every test its own subclass (its own list)."""

    received: list[tuple[str, dict[str, Any]]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.headers.get("Authorization", ""), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """(URL, received): every POST as (Authorization header, JSON body)."""
    handler = type("RecordingHook", (Hook,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{WEBHOOK_PATH}", handler.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

