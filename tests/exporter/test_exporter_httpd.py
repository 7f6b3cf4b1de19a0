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


def read_response(s: socket.socket, *, head: bool = False) -> bytes:
    """One whole response from `s` (headers, then Content-Length bytes of body), or what came
    before the server closed the connection."""
    data = b""
    for _ in range(1000):
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            match = re.search(rb"\r\ncontent-length: *([0-9]+)", data[:end], re.IGNORECASE)
            length = 0 if head or not match else int(match[1])
            if len(data) >= end + 4 + length:
                return data
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    raise AssertionError("response never ended")


def exchange(server, data: bytes, *, head: bool = False) -> bytes:
    """Send raw bytes on a new connection, return the response (the connection may stay open)."""
    with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
        s.sendall(data)
        return read_response(s, head=head)


def keep(server) -> socket.socket:
    """A connection that made one request and stays open, idle."""
    s = socket.create_connection(("127.0.0.1", port(server)), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert parse(read_response(s))[0] == 200
    return s


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
    response = exchange(server, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", head=True)
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
        response = read_response(s)
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
    response = exchange(server, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    status, headers, body = parse(response)
    assert (status, body) == (503, b"written, returned")
    assert headers["content-length"] == str(len(body))
    # the app's Connection header is dropped: whether the connection stays open is the server's call
    assert response.count(b"Connection:") == 1 and headers["connection"] == "close"
    assert closed == [True]
    assert b"Connection:" not in exchange(server, b"GET / HTTP/1.1\r\n\r\n")


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


def trickle_until_dropped(s: socket.socket) -> None:
    """Start a request, then send a header byte every 0.1 s (each recv is quick, the request
    never ends) until the server drops the connection, without a response."""
    s.sendall(b"GET / HTTP/1.1\r\n")
    for _ in range(40):
        try:
            s.sendall(b"X")
        except OSError:  # the server closed the connection (a reset, then a broken pipe)
            break
        time.sleep(0.1)
    else:
        pytest.fail("still connected after 40 header bytes, 0.1 s apart")
    with contextlib.suppress(ConnectionResetError):
        assert s.recv(1024) == b""  # no response


def test_a_client_that_trickles_its_request_is_dropped_at_the_same_deadline(served):
    server, _, _ = served
    server.request_timeout = 0.5
    with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
        trickle_until_dropped(s)


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


# persistent connections (HTTP/1.1 keep-alive, as Prometheus scrapes)

def test_several_scrapes_on_one_connection_by_the_thread_waiting_on_it(served):
    server, names, environs = served
    conn = http.client.HTTPConnection("127.0.0.1", port(server), timeout=5)
    try:
        for _ in range(5):
            conn.request("GET", "/", headers={"Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            assert (resp.status, resp.getheader("Connection"), resp.read()) == (200, None, b"ok\n")
    finally:
        conn.close()
    assert len(environs) == 5
    assert len({e["REMOTE_PORT"] for e in environs}) == 1  # one connection
    assert len(set(names)) == 1  # one thread, already waiting on that socket for the next scrape


def test_pipelined_requests_are_answered_in_order(served):
    server, _, environs = served
    with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
        s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nxyz")
        data = b""
        while chunk := s.recv(65536):  # until closed after the request that asked for it
            data += chunk
    responses = []
    while data:  # split at each response's end (headers, then Content-Length bytes)
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: ([0-9]+)", head)[1])
        responses.append(head + b"\r\n\r\n" + rest[:length])
        data = rest[length:]
    assert [parse(r)[0] for r in responses] == [200, 200, 200]
    assert parse(responses[2])[2] == b"xyz" and parse(responses[2])[1]["connection"] == "close"
    assert [e["PATH_INFO"] for e in environs] == ["/a", "/b", "/echo"]


@pytest.mark.parametrize("request_bytes", [
    b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",  # 1.0 clients get one response per connection
])
def test_connection_close_and_http_1_0_get_one_response_per_connection(served, request_bytes):
    server, _, _ = served
    with socket.create_connection(("127.0.0.1", port(server)), timeout=5) as s:
        s.sendall(request_bytes)
        status, headers, _ = parse(read_response(s))
        assert (status, headers["connection"]) == (200, "close")
        assert s.recv(1024) == b""


def test_an_idle_connection_is_closed_after_the_idle_timeout(served):
    server, _, environs = served
    server.idle_timeout = 0.3
    with keep(server) as s:
        t0 = time.monotonic()
        assert s.recv(1024) == b""  # closed by the server, without a response
        assert time.monotonic() - t0 >= 0.25  # not before the idle timeout
    assert len(environs) == 1
    assert _wait(lambda: get(server) == b"ok\n" and server.threads == 3)


def test_a_bad_request_on_a_kept_connection_gets_its_error_and_the_close(served):
    server, _, environs = served
    with keep(server) as s:
        s.sendall(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")
        status, headers, _ = parse(read_response(s))
        assert (status, headers["connection"]) == (400, "close")
        assert s.recv(1024) == b""
    assert len(environs) == 1


def test_a_slow_client_on_a_kept_connection_is_still_dropped(served):
    server, _, environs = served
    server.request_timeout = 0.5
    with keep(server) as s:
        time.sleep(0.6)  # idle longer than request_timeout: fine, it is idle_timeout that counts
        trickle_until_dropped(s)
    assert len(environs) == 1
    assert _wait(lambda: get(server) == b"ok\n" and server.threads == 3)


def is_closed(s: socket.socket, wait: float = 5.0) -> bool:
    """Whether the server closed `s` (waiting up to `wait` seconds for it to)."""
    s.settimeout(wait)
    try:
        return s.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_at_the_connection_limit_the_longest_idle_connection_makes_room(served):
    server, _, _ = served  # max_workers=6: one thread always kept for accept()
    kept = []
    try:
        for _ in range(5):
            kept.append(keep(server))
        assert _wait(lambda: server.threads == 6)
        kept.append(keep(server))  # takes the last thread: the longest idle connection is closed
        # (which one that is depends on when each thread got back to its connection after its
        # response, so not necessarily the first opened)
        closed = [s for s in kept[:5] if is_closed(s, 0.5)]
        assert len(closed) == 1
        for s in kept:  # the others are still served on their own connections
            if s not in closed:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                assert parse(read_response(s))[0] == 200
        assert server.threads <= server.max_workers
        assert get(server) == b"ok\n"  # and a new scraper still gets in
    finally:
        for s in kept:
            s.close()


def test_silent_connections_at_the_limit_cannot_lock_out_a_scraper(start):
    names = []

    def app(environ, start_response):
        names.append(environ["REMOTE_PORT"])
        start_response("200 OK", [("Content-Length", "3")])
        return [b"ok\n"]

    server = start(app, min_workers=1, max_workers=4)
    server.fresh_grace = 0.05  # silent for that long: fair game at the limit
    silent: list[socket.socket] = []
    conn = http.client.HTTPConnection("127.0.0.1", port(server), timeout=5)
    served = reconnects = 0
    try:
        for _ in range(20):  # a scraper on one kept connection while silent clients pile up
            silent.append(socket.create_connection(("127.0.0.1", port(server)), timeout=5))
            time.sleep(0.06)
            for attempt in range(2):  # as Prometheus' Go client: retry once on a fresh connection
                try:
                    conn.request("GET", "/")
                    resp = conn.getresponse()
                    assert (resp.status, resp.read()) == (200, b"ok\n")
                    served += 1
                    break
                except (http.client.RemoteDisconnected, ConnectionError):
                    assert attempt == 0, "the retry on a fresh connection failed too"
                    conn.close()
                    reconnects += 1
            assert server.threads <= server.max_workers
        # the silent ones made room: at most a thread's worth of them is still open
        assert sum(not is_closed(s, 0.1) for s in silent) < server.max_workers
    finally:
        conn.close()
        for s in silent:
            s.close()
    assert served == 20


def test_beyond_the_limit_with_every_thread_busy_a_connection_waits_then_is_served(start):
    release = threading.Event()
    entered: list[str] = []

    def app(environ, start_response):
        entered.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/slow":
            release.wait(10)
        start_response("200 OK", [("Content-Length", "3")])
        return [b"ok\n"]

    server = start(app, min_workers=1, max_workers=2)
    results: list[bytes] = []

    def fetch(path: str) -> None:
        results.append(exchange(server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))

    slow = [threading.Thread(target=fetch, args=("/slow",)) for _ in range(2)]
    for t in slow:
        t.start()
    try:
        assert _wait(lambda: entered.count("/slow") == 2)  # both threads busy: the limit
        waiting = threading.Thread(target=fetch, args=("/next",))
        waiting.start()
        time.sleep(0.3)  # room for it to be (wrongly) served
        assert "/next" not in entered  # queued in the backlog, not refused
    finally:
        release.set()
        for t in slow:
            t.join(10)
    waiting.join(10)
    assert entered.count("/next") == 1
    assert [parse(r)[0] for r in results] == [200, 200, 200]
    # the responses that finished at the limit closed their connections to free a thread
    assert any(parse(r)[1].get("connection") == "close" for r in results)


def test_at_the_limit_silent_connections_give_their_threads_back_after_the_grace(start):
    # no new connection arrives to trigger an eviction: the silent ones must notice themselves
    server = start(lambda e, s: (s("200 OK", [("Content-Length", "3")]), [b"ok\n"])[1],
                   min_workers=1, max_workers=2)
    server.fresh_grace = 0.2
    silent = [socket.create_connection(("127.0.0.1", port(server)), timeout=5) for _ in range(2)]
    try:
        assert _wait(lambda: server.threads == 2)
        assert get(server) == b"ok\n"  # queued, then served well before request_timeout (10 s)
        assert sum(is_closed(s, 0.1) for s in silent) >= 1
    finally:
        for s in silent:
            s.close()
