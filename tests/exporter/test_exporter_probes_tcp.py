"""TCP connect probes against real sockets on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from exporter.collectors.probe_tcp import build, split_address
from tests.support.exporter_probes import config, families, timed, value
from tests.support.procs import free_port
from tradewatch import metric_names as names


def collect(probes: list[dict]) -> dict:
    collector = build(config(tcp=probes))
    try:
        return families(collector.collect())
    finally:
        collector.close()


def test_listening_port_succeeds_and_closed_port_fails():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        f = collect([
            {"name": "up", "address": f"127.0.0.1:{port}"},
            {"name": "down", "address": f"127.0.0.1:{free_port()}"},
        ])
    assert value(f, names.PROBE_SUCCESS, probe="up", type="tcp") == 1
    assert value(f, names.PROBE_SUCCESS, probe="down", type="tcp") == 0
    assert value(f, names.PROBE_DURATION, probe="up", type="tcp") > 0
    assert set(f) == {names.PROBE_SUCCESS, names.PROBE_DURATION}


@pytest.mark.integration
def test_full_backlog_is_bounded_by_the_timeout():
    # A listener that never accepts, with its backlog filled, makes further connects hang
    # (SYNs dropped), which is what a firewalled or wedged target looks like.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                fillers.append(s)
            f, took = timed(lambda: collect([{"name": "wedged", "address": f"127.0.0.1:{port}",
                                              "timeout": "400ms"}]))
        finally:
            for s in fillers:
                s.close()
    assert value(f, names.PROBE_SUCCESS, probe="wedged", type="tcp") == 0
    assert took < 20  # generous: without the timeout, connect() retries its SYN for about 2 minutes


def test_factory_none_without_probes_and_timeout_attribute():
    assert build(config()) is None
    c = build(config(tcp=[{"name": "a", "address": "127.0.0.1:1", "timeout": "3s"}]))
    try:
        assert c.timeout == 4.0
    finally:
        c.close()


def test_split_address():
    assert split_address("db.internal:5432") == ("db.internal", 5432)
    assert split_address("[::1]:9090") == ("::1", 9090)
