"""Fixtures of the data-source tests: a real exporter with the host collectors the bridge reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.procs import binary, free_port, running


@pytest.fixture
def exporter(tmp_path) -> Iterator[str]:
    """The scrape URL of a running `tradewatch-exporter` (cpu, memory, load, filesystem, network,
    and os for node_uname_info: the host's name)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    args = [binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{port}", "--collector.disable-defaults",
            "--collector.cpu", "--collector.memory", "--collector.loadavg", "--collector.filesystem",
            "--collector.netdev", "--collector.os"]
    with running(args, tmp_path / "exporter.log", ready_url=url):
        yield url
