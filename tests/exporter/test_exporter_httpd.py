"""exporter.httpd: the pooled worker model of the exporter's server (workers accept and serve
themselves, idle clients cannot starve scrapes, threads stay bounded, close stops them) and the
small HTTP/1.1 layer under it (environ, HEAD, bodies, bad requests, failing apps, slow clients),
without importing http.*, wsgiref, ssl or email."""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import logging
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from exporter.httpd import PooledHTTPServer, http_date, unquote_path


def _wait(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def start():
    """start(app, **kw) -> a serving PooledHTTPServer on 127.0.0.1; every one is closed after the test."""
    started: list[tuple[PooledHTTPServer, threading.Thread]] = []

    def _start(app, **kw) -> PooledHTTPServer:
        server = PooledHTTPServer(("127.0.0.1", 0), app, **kw)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        assert _wait(lambda: server.threads == server.min_workers)
        return server

    yield _start
    for server, thread in started:
        server.server_close()
        thread.join(5)
        assert not thread.is_alive()
        assert _wait(lambda s=server: s.threads == 0)


@pytest.fixture
def served(start):
    names: list[str] = []
    environs: list[dict] = []

    def app(environ, start_response):
        names.append(threading.current_thread().name)
        environs.append(environ)
        path = environ["PATH_INFO"]
        if path == "/boom":
            raise RuntimeError("boom")
        body = environ["wsgi.input"].read() if path == "/echo" else b"ok\n"
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    server = start(app, min_workers=3, max_workers=6)
    return server, names, environs


def port(server) -> int:
    return server.server_address[1]


def get(server, path="/") -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port(server), timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 200
        return resp.read()
    finally:
        conn.close()


def exchange(server, data: bytes) -> bytes:
    """Send raw bytes, return everything the server sends until it closes the connection."""
    chunks = []
    with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
        s.sendall(data)
        for _ in range(1000):
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def parse(response: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1.1 ")
    headers = {}
    for line in lines:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    return int(status_line.split()[1]), headers, body


# the worker model: workers accept and serve themselves, idle clients cannot starve requests

def test_sequential_requests_are_served_by_the_accepting_workers_without_new_threads(served):
    server, names, _ = served
    for _ in range(20):
        assert get(server) == b"ok\n"
    # served by the workers that accepted them: no thread per request (on an idle machine
    # only http-1..3 serve; on a busy one a worker may be slow to get back to accept(), and
    # another starts, then retires)
    assert all(n.startswith("http-") for n in names)
    assert len(set(names)) < len(names)
    assert _wait(lambda: get(server) == b"ok\n" and server.threads == 3)  # extras retire after serving


def test_idle_clients_do_not_block_requests_and_threads_stay_bounded(served):
    server, _, _ = served
    idle = [socket.create_connection(("127.0.0.1", port(server)), timeout=5) for _ in range(4)]
    try:
        assert get(server) == b"ok\n"
        assert server.threads <= server.max_workers
    finally:
        for s in idle:
            s.close()
    # the extra workers retire once they are done, back to the three waiting in accept()
    assert _wait(lambda: get(server) == b"ok\n" and server.threads == 3)


def test_close_stops_every_worker():
    server = PooledHTTPServer(("127.0.0.1", 0), lambda e, s: [b""], min_workers=3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert _wait(lambda: server.threads == 3)
    server.server_close()
    thread.join(5)
    assert not thread.is_alive()
    assert _wait(lambda: server.threads == 0)


# the HTTP layer

def test_get_reaches_the_app_with_a_wsgiref_like_environ(served):
    server, _, environs = served
    with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
        s.sendall(b"GET /a%20b/%C3%A9%zz?x=1&y=%20z HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        client_port = s.getsockname()[1]
        assert s.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
    env = environs[-1]
    assert env["REQUEST_METHOD"] == "GET"
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == urllib.parse.unquote("/a%20b/%C3%A9%zz", "iso-8859-1") == "/a b/\xc3\xa9%zz"
    assert env["QUERY_STRING"] == "x=1&y=%20z"
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PORT"] == str(port(server))
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert (env["REMOTE_ADDR"], env["REMOTE_PORT"]) == ("127.0.0.1", str(client_port))
    assert "CONTENT_LENGTH" not in env and "CONTENT_TYPE" not in env
    assert env["wsgi.version"] == (1, 0)
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.input"].read() == b""
    assert env["wsgi.errors"] is sys.stderr
    assert (env["wsgi.multithread"], env["wsgi.multiprocess"], env["wsgi.run_once"]) == (True, False, False)


@pytest.mark.parametrize("path", ["/", "/a%2Fb", "/%e9%E9", "/%", "/%4", "/%g1", "/caf\xe9", "/%25%32%30"])
def test_unquote_path_decodes_as_wsgiref(path):
    assert unquote_path(path) == urllib.parse.unquote(path, "iso-8859-1")


def test_an_absolute_form_target_is_reduced_to_path_and_query(served):
    server, _, environs = served
    status, _, _ = parse(exchange(server, b"GET http://127.0.0.1/x%41?q=1 HTTP/1.1\r\n\r\n"))
    assert status == 200
    assert (environs[-1]["PATH_INFO"], environs[-1]["QUERY_STRING"]) == ("/xA", "q=1")


def test_response_headers_date_server_connection(served):
    server, _, _ = served
    status, headers, body = parse(exchange(server, b"GET / HTTP/1.0\r\n\r\n"))
    assert (status, body) == (200, b"ok\n")
    assert headers["connection"] == "close"
    assert headers["server"] == "tradewatch-exporter"
    assert headers["content-length"] == "3"
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", headers["date"])
    assert abs(email.utils.parsedate_to_datetime(headers["date"]).timestamp() - time.time()) < 60


@pytest.mark.parametrize("when", [0, 951782400, 1700000000, 4102444799])
def test_http_date_is_imf_fixdate(when):
    assert http_date(when) == email.utils.formatdate(when, usegmt=True)


def test_head_sends_headers_with_content_length_and_no_body(served):
    server, _, environs = served
    response = exchange(server, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = parse(response)
    assert (status, headers["content-length"], body) == (200, "3", b"")
    assert response.endswith(b"\r\n\r\n")
    assert environs[-1]["REQUEST_METHOD"] == "HEAD"
    conn = http.client.HTTPConnection("127.0.0.1", port(server), timeout=5)
    try:
        conn.request("HEAD", "/")
        resp = conn.getresponse()
        assert (resp.status, resp.getheader("Content-Length"), resp.read()) == (200, "3", b"")
    finally:
        conn.close()


def test_request_headers_arrive_as_http_variables(served):
    server, _, environs = served
    status, _, _ = parse(exchange(server, (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\nAccept-Encoding: gzip\r\nX-Rep: 1\r\n"
        b"x-rep:2 \r\nX-Empty:\r\nContent-Type: text/plain\r\n\r\n")))
    assert status == 200
    env = environs[-1]
    assert env["HTTP_HOST"] == "127.0.0.1:1"
    assert env["HTTP_ACCEPT_ENCODING"] == "gzip"
    assert env["HTTP_X_REP"] == "1,2"
    assert env["HTTP_X_EMPTY"] == ""
    assert env["CONTENT_TYPE"] == "text/plain"
    assert "HTTP_CONTENT_TYPE" not in env


def test_a_post_body_is_readable_from_wsgi_input(served):
    server, _, environs = served
    conn = http.client.HTTPConnection("127.0.0.1", port(server), timeout=5)
    try:
        conn.request("POST", "/echo", body=b"hello\x00world", headers={"Content-Type": "application/x-test"})
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"hello\x00world")
    finally:
        conn.close()
    assert environs[-1]["CONTENT_LENGTH"] == "11"
    assert environs[-1]["CONTENT_TYPE"] == "application/x-test"


def test_expect_100_continue_is_answered_before_the_body(served):
    server, _, _ = served
    with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"body")
        response = b""
        for _ in range(100):
            chunk = s.recv(65536)
            if not chunk:
                break
            response += chunk
    assert parse(response)[::2] == (200, b"body")


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /\r\n\r\n", 400),
    (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
    (b"GET nonsense HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"GET / HTTP/0.9\r\n\r\n", 505),
    (b"GET / HTTPS/1.1\r\n\r\n", 400),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n", 431),
    (b"POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400),
    (b"POST /echo HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413),
    (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
])
def test_bad_requests_get_an_error_status_and_the_worker_serves_on(served, request_bytes, status):
    server, _, environs = served
    got, headers, body = parse(exchange(server, request_bytes))
    assert got == status
    assert body.startswith(str(status).encode())
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    assert environs == []  # the app never saw it
    assert get(server) == b"ok\n"
    assert _wait(lambda: server.threads == 3)


def test_exactly_100_headers_of_8_kib_are_accepted(served):
    server, _, environs = served
    request = b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 8000) for i in range(100))
    status, _, _ = parse(exchange(server, request + b"\r\n"))
    assert status == 200
    assert environs[-1]["HTTP_X_H99"] == "v" * 8000


def test_a_failing_app_makes_a_500_and_the_next_request_works(served, caplog):
    server, _, _ = served
    with caplog.at_level(logging.ERROR, logger="exporter.httpd"):
        status, headers, body = parse(exchange(server, b"GET /boom HTTP/1.1\r\n\r\n"))
    assert (status, headers["content-type"]) == (500, "text/plain; charset=utf-8")
    assert body == b"500 Internal Server Error\n"
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
    assert get(server) == b"ok\n"
    assert _wait(lambda: server.threads == 3)


@pytest.mark.parametrize("app", [
    lambda e, s: [b"no start_response"],
    lambda e, s: (s("200 OK", [("X-Bad", "a\r\nInjected: 1")]), [b""])[1],
    lambda e, s: (s("OK", []), [b""])[1],
    lambda e, s: (s("200 OK", []), ["text, not bytes"])[1],
])
def test_an_app_that_breaks_the_wsgi_contract_makes_a_500(start, app, caplog):
    server = start(app, min_workers=1)
    with caplog.at_level(logging.CRITICAL, logger="exporter.httpd"):
        status, headers, _ = parse(exchange(server, b"GET / HTTP/1.1\r\n\r\n"))
    assert status == 500
    assert "injected" not in headers


def test_write_exc_info_and_close_are_supported(start):
    closed = []

    class Result(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"dropped ")
        try:
            raise ValueError("late")
        except ValueError:
            write = start_response("503 Service Unavailable", [("Connection", "keep-alive")], sys.exc_info())
        write(b"written, ")
        return Result([b"returned"])

    server = start(app, min_workers=1)
    response = exchange(server, b"GET / HTTP/1.1\r\n\r\n")
    status, headers, body = parse(response)
    assert (status, body) == (503, b"written, returned")
    assert headers["content-length"] == str(len(body))
    assert response.count(b"Connection:") == 1 and headers["connection"] == "close"
    assert closed == [True]


def test_a_client_that_sends_nothing_is_dropped_after_the_request_timeout(served):
    server, _, environs = served
    server.request_timeout = 0.3
    with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
        t0 = time.monotonic()
        assert s.recv(1024) == b""  # closed without a response (else recv times out after 5 s)
        elapsed = time.monotonic() - t0
    assert elapsed >= 0.25  # not before the request timeout
    assert environs == []
    assert get(server) == b"ok\n"
    assert _wait(lambda: server.threads == 3)


def test_a_client_that_trickles_its_request_is_dropped_at_the_same_deadline(served):
    server, _, _ = served
    server.request_timeout = 0.5
    with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\n")
        for _ in range(40):  # a header byte every 0.1 s: each recv is quick, the request never ends
            try:
                s.sendall(b"X")
            except OSError:  # the server closed the connection (a reset, then a broken pipe)
                break
            time.sleep(0.1)
        else:
            pytest.fail("still connected after 40 header bytes, 0.1 s apart")
        with contextlib.suppress(ConnectionResetError):
            assert s.recv(1024) == b""  # no response


def test_a_client_that_leaves_mid_request_does_not_hurt_the_worker(served):
    server, _, environs = served
    partials = (b"GET / HT", b"GET / HTTP/1.1\r\nHost: x\r\n",
                b"POST /echo HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc")
    for partial in partials:
        with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
            s.sendall(partial)
    assert get(server) == b"ok\n"
    assert _wait(lambda: server.threads == 3)
    assert [e["PATH_INFO"] for e in environs] == ["/"]


def test_importing_the_module_pulls_in_no_http_wsgiref_ssl_or_email():
    code = ("import sys, exporter.httpd; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'http', 'wsgiref', 'ssl', 'email', 'mimetypes', 'html'} or m == 'urllib.request'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
