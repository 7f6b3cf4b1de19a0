"""Start a real `tradewatch-exporter` on a free loopback port (for the exporter's process tests)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.procs import Proc, binary, free_port


def exporter_env() -> dict[str, str]:
    """The environment without TRADEWATCH_CONFIG, so the exporter runs on its defaults."""
    env = dict(os.environ)
    env.pop("TRADEWATCH_CONFIG", None)
    return env


def start(tmp_path: Path, *args: str) -> tuple[Proc, str]:
    """Start the exporter with `args`, wait for /metrics, return the process and its base URL."""
    port = free_port()
    proc = Proc([binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{port}", *args],
                tmp_path / f"exporter-{port}.log", env=exporter_env(), cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        proc.wait_http(f"{url}/metrics", timeout=20)
    except BaseException:
        proc.stop()
        raise
    return proc, url
