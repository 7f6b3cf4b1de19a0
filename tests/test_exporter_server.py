"""The exporter's HTTP server: workers accept and serve themselves, idle clients cannot starve
scrapes, threads stay bounded, close stops them."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from exporter.server import PooledWSGIServer


def _wait(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def served():
    names: list[str] = []

    def app(environ, start_response):
        names.append(threading.current_thread().name)
        body = b"ok\n"
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    server = PooledWSGIServer(("127.0.0.1", 0), app, min_workers=3, max_workers=6)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert _wait(lambda: server.threads == 3)
    yield server, names
    server.server_close()
    thread.join(5)
    assert not thread.is_alive()


def get(server) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.status == 200
        return resp.read()
    finally:
        conn.close()


def test_sequential_requests_are_served_by_the_accepting_workers_without_new_threads(served):
    server, names = served
    for _ in range(20):
        assert get(server) == b"ok\n"
    # served by the workers that accepted them: no thread per request (on an idle machine
    # only http-1..3 serve; on a busy one a worker may be slow to get back to accept(), and
    # another starts, then retires)
    assert all(n.startswith("http-") for n in names)
    assert len(set(names)) < len(names)
    assert _wait(lambda: get(server) == b"ok\n" and server.threads == 3)  # extras retire after serving


def test_idle_clients_do_not_block_requests_and_threads_stay_bounded(served):
    server, _ = served
    idle = [socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) for _ in range(4)]
    try:
        assert get(server) == b"ok\n"
        assert server.threads <= server.max_workers
    finally:
        for s in idle:
            s.close()
    # the extra workers retire once they are done, back to the three waiting in accept()
    assert _wait(lambda: get(server) == b"ok\n" and server.threads == 3)


def test_close_stops_every_worker():
    server = PooledWSGIServer(("127.0.0.1", 0), lambda e, s: [b""], min_workers=3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert _wait(lambda: server.threads == 3)
    server.server_close()
    thread.join(5)
    assert not thread.is_alive()
    assert _wait(lambda: server.threads == 0)
