"""A small HTTP/1.1 server for a WSGI app, on `socketserver` and `socket` alone.

wsgiref and http.server import http.client, which imports ssl and email: about 5 MB of resident
memory in an exporter that serves two plain-HTTP pages. This module speaks the part of HTTP/1.1
a scrape needs: persistent HTTP/1.1 connections (as Prometheus keeps one per target), with
pipelined requests answered in order, a Content-Length body at most, the whole response in one
send. It must not import http.*, wsgiref, ssl, email or urllib.request
(a test checks).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

log = logging.getLogger("exporter.httpd")

SERVER = "tradewatch-exporter"
MAX_LINE = 8192  # bytes in the request line or one header line
MAX_HEADERS = 100
MAX_BODY = 1 << 20

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_REQUEST_LINE = re.compile(rf"({_TOKEN.pattern}) (\S+) (HTTP/[0-9]+\.[0-9]+)")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")  # scheme://authority of an absolute URI
_STATUS = re.compile(r"[1-5][0-9][0-9] [^\r\n\0]*")
_CTL = re.compile(r"[\r\n\0]")
_DIGITS = re.compile(r"[0-9]+")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class _Reject(Exception):
    """A request answered with the error status in args[0], without calling the app."""


def http_date(when: float | None = None) -> str:
    """RFC 7231 IMF-fixdate, in English whatever the locale (email.utils would import email)."""
    t = time.gmtime(when)
    return (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


def unquote_path(path: str) -> str:
    """Percent-decoding as wsgiref's `unquote(path, 'iso-8859-1')`: each %XX is the byte XX,
    read as Latin-1 (so byte n is chr(n)); malformed escapes stay as they are."""
    return _PERCENT.sub(lambda m: chr(int(m[1], 16)), path)


class _Reader:
    """Reads the requests of one connection, each with a single deadline for all of it: a client
    that sends nothing, or trickles a byte now and then, is dropped when its request's deadline
    passes instead of holding a worker. Bytes past one request (a pipelined next request) stay
    buffered for the next."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self._buf = bytearray()
        self._deadline = time.monotonic() + timeout

    def restart(self, timeout: float) -> None:
        """The next request has begun: it has `timeout` seconds from now."""
        self._deadline = time.monotonic() + timeout

    @property
    def deadline(self) -> float:
        return self._deadline

    @property
    def buffered(self) -> bool:
        return bool(self._buf)

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for bytes: True when some arrived, False on timeout or
        when the client closed."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            chunk = self.sock.recv(65536)
        except OSError:  # timeout, reset
            return False
        self._buf += chunk
        return bool(chunk)

    def _fill(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request timed out")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionAbortedError("client closed the connection")
        self._buf += chunk

    def readline(self, too_long: str) -> bytes:
        """One line with its end of line; rejected with `too_long` past MAX_LINE bytes."""
        while (end := self._buf.find(b"\n", 0, MAX_LINE + 2)) < 0:
            if len(self._buf) >= MAX_LINE + 2:
                raise _Reject(too_long)
            self._fill()
        line = bytes(self._buf[:end + 1])
        del self._buf[:end + 1]
        return line

    def read(self, size: int) -> bytes:
        while len(self._buf) < size:
            self._fill()
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data


def read_request(reader: _Reader, server_name: str, server_port: int,
                 client_address: Any) -> dict[str, Any]:
    """Request line, headers and body -> a WSGI environ as wsgiref builds it (plus REMOTE_PORT)."""
    line = reader.readline("414 URI Too Long").decode("latin-1").rstrip("\r\n")
    match = _REQUEST_LINE.fullmatch(line)
    if not match:
        raise _Reject("400 Bad Request")
    method, target, version = match.groups()
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise _Reject("505 HTTP Version Not Supported")
    if not target.startswith("/") and target != "*":  # absolute-form: keep the path and query
        rest = _ABSOLUTE.sub("", target, count=1)
        if rest == target:
            raise _Reject("400 Bad Request")
        target = rest if rest.startswith("/") else "/" + rest
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": unquote_path(path),
        "QUERY_STRING": query, "SERVER_NAME": server_name, "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": version, "SERVER_SOFTWARE": SERVER, "GATEWAY_INTERFACE": "CGI/1.1",
        "REMOTE_ADDR": str(client_address[0]), "REMOTE_PORT": str(client_address[1]),
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    for count in range(MAX_HEADERS + 1):
        raw = reader.readline("431 Request Header Fields Too Large")
        if raw in (b"\r\n", b"\n"):
            break
        if count == MAX_HEADERS:
            raise _Reject("431 Request Header Fields Too Large")
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not _TOKEN.fullmatch(name):  # also a folded line or a space before the colon
            raise _Reject("400 Bad Request")
        key = name.upper().replace("-", "_")
        if name.lower() not in ("content-type", "content-length"):
            key = "HTTP_" + key
        value = value.strip(" \t\r\n")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if "HTTP_TRANSFER_ENCODING" in environ:  # chunked bodies: nothing here needs them
        raise _Reject("501 Not Implemented")
    length = environ.get("CONTENT_LENGTH", "0")
    if not _DIGITS.fullmatch(length):
        raise _Reject("400 Bad Request")
    if int(length) > MAX_BODY:
        raise _Reject("413 Content Too Large")
    if int(length) and version == "HTTP/1.1" and environ.get("HTTP_EXPECT", "").lower() == "100-continue":
        reader.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    environ["wsgi.input"] = io.BytesIO(reader.read(int(length)))
    return environ


def render(status: str, headers: Iterable[tuple[str, str]], body: bytes, *, head: bool = False,
           close: bool = True) -> bytes:
    """Status line, headers (plus Date, Server, Content-Length and, when `close`, Connection:
    close) and body, as one buffer for one send. Raises ValueError on a status or header that
    would corrupt it."""
    if not _STATUS.fullmatch(status):
        raise ValueError(f"bad status {status!r}")
    lines, names = [f"HTTP/1.1 {status}"], set()
    for name, value in headers:
        if not _TOKEN.fullmatch(name) or _CTL.search(value):
            raise ValueError(f"bad header {name!r}: {value!r}")
        if name.lower() != "connection":  # ours: whether the connection stays open is the server's call
            names.add(name.lower())
            lines.append(f"{name}: {value}")
    if "date" not in names:
        lines.append(f"Date: {http_date()}")
    if "server" not in names:
        lines.append(f"Server: {SERVER}")
    if "content-length" not in names and status[:3] not in ("204", "304") and status[0] != "1":
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return data if head else data + body


def plain(status: str) -> bytes:
    """A short text/plain response for a status of our own (errors)."""
    return render(status, [("Content-Type", "text/plain; charset=utf-8")], f"{status}\n".encode())


def keep_alive(environ: dict[str, Any]) -> bool:
    """Whether the connection may stay open after this request: HTTP/1.1 without `Connection:
    close` (HTTP/1.0 clients get one response per connection)."""
    if environ["SERVER_PROTOCOL"] != "HTTP/1.1":
        return False
    tokens = environ.get("HTTP_CONNECTION", "").lower().split(",")
    return "close" not in (t.strip() for t in tokens)


def call_app(app: WSGIApp, environ: dict[str, Any], *, close: bool = True) -> bytes:
    """Run the app and render its response; a failing app makes a 500 and a log line."""
    started: list[Any] = []
    body: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if started and exc_info is None:
            raise RuntimeError("start_response called twice without exc_info")
        started[:] = [status, list(headers)]
        body.clear()  # nothing is sent before the app is done, so an error page replaces all of it
        return body.append  # write()

    try:
        result = app(environ, start_response)
        try:
            for chunk in result:  # not extend(): a lazy start_response(..., exc_info) clears body
                body.append(chunk)
        finally:
            if hasattr(result, "close"):
                result.close()
        if not started:
            raise RuntimeError("the app returned without calling start_response")
        return render(started[0], started[1], b"".join(body), head=environ["REQUEST_METHOD"] == "HEAD",
                      close=close)
    except Exception:
        log.exception("%s %r: the WSGI app failed", environ["REQUEST_METHOD"], environ["PATH_INFO"])
        return render("500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")],
                      b"500 Internal Server Error\n", close=close)


def _drain(sock: socket.socket, limit: int = MAX_BODY, timeout: float = 1.0) -> None:
    """After an error response, read (a bounded amount of) what the client still sends before
    closing: closing with unread input sends a reset, which can destroy the response before the
    client has read it."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        while limit > 0 and (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                return
            limit -= len(chunk)


class PooledHTTPServer(socketserver.TCPServer):
    """Worker threads accept connections themselves and serve what they accepted.

    A thread blocked in accept() is woken by the kernel and serves the request on the spot: no
    hand-off from an accepting thread to a worker on the hot path (on a busy machine every
    thread wake-up may wait for a CPU, which is what a scrape's tail latency is made of). While
    a thread serves, another is waiting in accept(); when none is left (requests overlap, or a
    client connects and sends nothing), a new one starts, up to `max_workers` like
    node_exporter's --web.max-requests. A thread that finds enough others waiting retires.
    Three wait by default: a client that sends its next request the moment it has the last
    response then still finds a second thread waiting while the first one winds down, so
    back-to-back scrapes start no threads.

    Connections persist (HTTP/1.1 keep-alive, which Prometheus uses: one connection per target,
    reused scrape after scrape). The thread that served a request waits on its connection for
    the next one, so a scrape on a kept connection is served by a thread already waiting on
    exactly that socket. Limits:

    - `request_timeout`: a request must arrive whole within this many seconds of its first byte
      (of the connection's opening, for the first request); a slow or silent client is dropped.
    - `idle_timeout`: a kept connection with no new request for this long is closed. The default
      outlasts the usual 15 s to 1 min scrape intervals.
    - `max_workers` is also the connection limit: each open connection holds one thread, and
      one thread is always kept for accept(). When the last one takes a connection, the
      connection that has waited longest between requests (or, new, has sent nothing for
      `fresh_grace` seconds) is closed and its thread returns to accept(); when none qualifies,
      the next response to finish says `Connection: close`, or a new connection reaching its
      `fresh_grace` in silence is closed, and that thread returns instead; new connections wait
      in the listen backlog until then. So idle or silent connections cannot lock out a
      scraper, and a request being served is never cut.
    """

    allow_reuse_address = True
    request_timeout = 10.0
    idle_timeout = 120.0
    fresh_grace = 1.0

    def __init__(self, address: tuple[str, int], app: WSGIApp, *, min_workers: int = 3,
                 max_workers: int = 64) -> None:
        self.app = app
        self.min_workers = max(1, min_workers)
        self.max_workers = max(self.min_workers, max_workers)
        self._lock = threading.Lock()
        self._threads = 0
        self._accepting = 0  # threads in (or on their way back to) accept()
        self._starting = 0  # threads started that have not reached accept() yet
        self._evicted: set[socket.socket] = set()  # idle connections closed to make room, whose
        # threads are on their way back to accept()
        self._seq = 0
        self._stopped = threading.Event()
        self._connections: set[socket.socket] = set()
        # connections waiting for a request -> (since when, whether none has come yet)
        self._idle: dict[socket.socket, tuple[float, bool]] = {}
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, socketserver.BaseRequestHandler)  # handler unused: see finish_request

    @property
    def threads(self) -> int:
        """Worker threads alive now (serving or waiting in accept)."""
        return self._threads

    def server_bind(self) -> None:
        # the environ only needs a name: the listen address will do (no FQDN lookup at start-up)
        super().server_bind()
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Start the accepting workers and wait until shutdown() or server_close(); signal
        handlers run meanwhile (the wait is interruptible)."""
        with self._lock:
            for _ in range(self.min_workers):
                self._start_worker()
        while not self._stopped.wait(poll_interval):
            pass

    def shutdown(self) -> None:
        self._stopped.set()

    def server_close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked in accept()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # wakes the threads waiting on kept connections
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        super().server_close()

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve the requests of this connection until the client closes it, asks to, sends a
        bad request, is too slow, stays idle past `idle_timeout`, or the connection is closed to
        make room at the connection limit. A client gone or too slow is dropped quietly."""
        reader = _Reader(request, self.request_timeout)  # the first request: from the opening
        first = True
        while not self._stopped.is_set():
            wait = self.request_timeout if first else self.idle_timeout
            if not self._await_request(request, reader, wait, first):
                return
            if not first:  # a later request: request_timeout from its first byte
                reader.restart(self.request_timeout)
            first = False
            rejected = close = False
            try:
                environ = read_request(reader, self.server_name, self.server_port, client_address)
                close = not keep_alive(environ) or self._stopped.is_set() or self._at_limit()
                response = call_app(self.app, environ, close=close)  # a failing app makes a 500
            except _Reject as exc:
                rejected, close, response = True, True, plain(exc.args[0])
            except OSError:  # timeout, reset, closed early
                return
            try:
                request.settimeout(self.request_timeout)
                request.sendall(response)
            except OSError:
                return
            if rejected:
                _drain(request)
            if close:
                return

    def _await_request(self, sock: socket.socket, reader: _Reader, wait: float, first: bool) -> bool:
        """Wait up to `wait` seconds for the next request to start arriving (True); False when it
        did not, the client closed, or the connection was closed to make room (`_make_room`)."""
        if not reader.buffered:  # else pipelined: the next request is already here
            with self._lock:
                self._idle[sock] = (time.monotonic(), first)
            try:
                if first and wait > self.fresh_grace:
                    # silent past the grace while the server is full: give the thread back
                    arrived = reader.wait(self.fresh_grace)
                    if not arrived and not self._at_limit():
                        arrived = reader.wait(wait - self.fresh_grace)
                else:
                    arrived = reader.wait(wait)
            finally:
                with self._lock:
                    evicted = self._idle.pop(sock, None) is None
            if evicted or not arrived:
                return False
        return True

    def _at_limit(self) -> bool:
        """No thread in accept() and no more may start: this connection closes after its
        response, so its thread goes back to accept() instead of waiting on it."""
        with self._lock:
            return self._free() == 0 and self._threads >= self.max_workers

    def _free(self) -> int:  # with self._lock held
        """Threads in accept() or on their way there."""
        return self._accepting + self._starting + len(self._evicted)

    def _make_room(self) -> None:  # with self._lock held
        """At the connection limit: close the connection that has waited longest between
        requests, or a new one that has sent nothing for `fresh_grace` seconds, so its thread
        returns to accept(). A client that just connected is not cut off before it could send:
        unlike a kept connection, a new one is not retried by HTTP clients when it fails."""
        now = time.monotonic()
        candidates = [(since, sock) for sock, (since, fresh) in self._idle.items()
                      if not fresh or now - since >= self.fresh_grace]
        if candidates:
            oldest = min(candidates, key=lambda c: c[0])[1]
            del self._idle[oldest]  # its thread sees it gone and does not serve what it may read
            self._evicted.add(oldest)
            with contextlib.suppress(OSError):
                oldest.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in recv()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("error serving %s", client_address)

    def _start_worker(self) -> None:  # with self._lock held
        self._threads += 1
        self._starting += 1  # counts as waiting in accept() from now: it is on its way there
        self._seq += 1
        threading.Thread(target=self._work, name=f"http-{self._seq}", daemon=True).start()

    def _work(self) -> None:
        with self._lock:
            self._starting -= 1
            self._accepting += 1
        while True:
            try:
                request, client_address = self.get_request()
            except OSError:  # the socket was closed or shut down: stop
                with self._lock:
                    self._accepting -= 1
                    self._threads -= 1
                return
            with self._lock:
                self._accepting -= 1
                if self._free() == 0:
                    if self._threads < self.max_workers:
                        self._start_worker()  # the next client must find someone in accept()
                    else:
                        self._make_room()  # at the limit: an idle connection makes room
            if self._stopped.is_set():
                self.shutdown_request(request)
            else:
                self._serve(request, client_address)
            with self._lock:
                if request in self._evicted:  # closed to make room: back to accept(), not retiring
                    self._evicted.discard(request)
                elif self._free() >= 1 and self._threads > self.min_workers:
                    self._threads -= 1
                    return
                self._accepting += 1

    def _serve(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        try:
            if self.verify_request(request, client_address):
                self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._lock:
                self._connections.discard(request)
            self.shutdown_request(request)
