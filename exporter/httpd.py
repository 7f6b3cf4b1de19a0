"""A small HTTP/1.1 server for a WSGI app, on `socketserver` and `socket` alone.

wsgiref and http.server import http.client, which imports ssl and email: about 5 MB of resident
memory in an exporter that serves two plain-HTTP pages. This module speaks the part of HTTP/1.1
a scrape needs: one request per connection (`Connection: close`), a Content-Length body at most,
the whole response in one send. It must not import http.*, wsgiref, ssl, email or urllib.request
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
    """Reads one request with a single deadline for all of it: a client that sends nothing, or
    trickles a byte now and then, is dropped after `timeout` seconds instead of holding a worker."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self._buf = bytearray()
        self._deadline = time.monotonic() + timeout

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


def render(status: str, headers: Iterable[tuple[str, str]], body: bytes, *, head: bool = False) -> bytes:
    """Status line, headers (plus Date, Server, Content-Length, Connection: close) and body, as
    one buffer for one send. Raises ValueError on a status or header that would corrupt it."""
    if not _STATUS.fullmatch(status):
        raise ValueError(f"bad status {status!r}")
    lines, names = [f"HTTP/1.1 {status}"], set()
    for name, value in headers:
        if not _TOKEN.fullmatch(name) or _CTL.search(value):
            raise ValueError(f"bad header {name!r}: {value!r}")
        if name.lower() != "connection":  # ours: one request per connection
            names.add(name.lower())
            lines.append(f"{name}: {value}")
    if "date" not in names:
        lines.append(f"Date: {http_date()}")
    if "server" not in names:
        lines.append(f"Server: {SERVER}")
    if "content-length" not in names and status[:3] not in ("204", "304") and status[0] != "1":
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return data if head else data + body


def plain(status: str) -> bytes:
    """A short text/plain response for a status of our own (errors)."""
    return render(status, [("Content-Type", "text/plain; charset=utf-8")], f"{status}\n".encode())


def call_app(app: WSGIApp, environ: dict[str, Any]) -> bytes:
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
        return render(started[0], started[1], b"".join(body), head=environ["REQUEST_METHOD"] == "HEAD")
    except Exception:
        log.exception("%s %r: the WSGI app failed", environ["REQUEST_METHOD"], environ["PATH_INFO"])
        return plain("500 Internal Server Error")


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
    back-to-back scrapes start no threads. A client has `request_timeout` seconds to send its
    whole request.
    """

    allow_reuse_address = True
    request_timeout = 10.0

    def __init__(self, address: tuple[str, int], app: WSGIApp, *, min_workers: int = 3,
                 max_workers: int = 64) -> None:
        self.app = app
        self.min_workers = max(1, min_workers)
        self.max_workers = max(self.min_workers, max_workers)
        self._lock = threading.Lock()
        self._threads = 0
        self._accepting = 0
        self._seq = 0
        self._stopped = threading.Event()
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
        super().server_close()

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve the one request of this connection; a client gone or too slow is dropped quietly."""
        reader = _Reader(request, self.request_timeout)
        rejected = False
        try:
            environ = read_request(reader, self.server_name, self.server_port, client_address)
            response = call_app(self.app, environ)  # never raises: a failing app makes a 500
        except _Reject as exc:
            rejected, response = True, plain(exc.args[0])
        except OSError:  # timeout, reset, closed early
            return
        with contextlib.suppress(OSError):
            request.settimeout(self.request_timeout)
            request.sendall(response)
            if rejected:
                _drain(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("error serving %s", client_address)

    def _start_worker(self) -> None:  # with self._lock held
        self._threads += 1
        self._seq += 1
        threading.Thread(target=self._work, name=f"http-{self._seq}", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._accepting += 1
            try:
                request, client_address = self.get_request()
            except OSError:  # the socket was closed or shut down: stop
                with self._lock:
                    self._accepting -= 1
                    self._threads -= 1
                return
            with self._lock:
                self._accepting -= 1
                if self._accepting == 0 and self._threads < self.max_workers:
                    self._start_worker()  # the next client must find someone in accept()
            if self._stopped.is_set():
                self.shutdown_request(request)
            else:
                self._serve(request, client_address)
            with self._lock:
                if self._accepting >= 1 and self._threads > self.min_workers:
                    self._threads -= 1
                    return

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            if self.verify_request(request, client_address):
                self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
