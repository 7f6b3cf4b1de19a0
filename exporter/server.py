"""The HTTP side: `/metrics` and an index page, on a threading WSGI server from the standard library.

`/metrics` behaves as prometheus_client's WSGI app (content negotiation with its
`choose_encoder`, gzip, `name[]`, OPTIONS, 405) plus node_exporter's `collect[]` / `exclude[]`
query parameters; it writes with `exporter.exposition` and compresses at gzip level 1 (the
client's app uses level 9: three to four times the CPU for a body a tenth smaller, on a 16 kB page).

Requests are served by persistent worker threads that accept connections themselves (see
PooledWSGIServer), so a scrape costs neither a thread start-up nor a hand-off between threads.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from exporter.exposition import encode, gzip_accepted, negotiate, restrict
from exporter.scrape import ScrapeCollector, SelectionError

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces) -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"must be HOST:PORT, e.g. 127.0.0.1:9184 (got {value!r})")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def _escape_html(text: str) -> str:
    # html.escape would import html.entities (a 2 000-entry table) for this one page
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def index_page(collectors: Sequence[str], version: str) -> bytes:
    items = "".join(f"<li>{_escape_html(n)}</li>" for n in collectors)
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>TradeWatch exporter</title></head><body>"
        f"<h1>TradeWatch exporter</h1><p>Version {_escape_html(version)}.</p>"
        "<p><a href=\"metrics\">Metrics</a></p>"
        f"<h2>Collectors</h2><ul>{items}</ul></body></html>"
    ).encode()


GZIP_LEVEL = 1
ALLOW = [("Allow", "OPTIONS,GET")]


def make_metrics_app(scrape: ScrapeCollector, *, gzip_level: int = GZIP_LEVEL) -> WSGIApp:
    """The /metrics WSGI app: one scrape of the selected collectors, negotiated format, gzip."""

    def metrics(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method == "OPTIONS":
            start_response("200 OK", ALLOW)
            return [b""]
        if method != "GET":
            start_response("405 Method Not Allowed", ALLOW)
            return [f"# HTTP 405 Method Not Allowed: {method}; use OPTIONS or GET\n".encode()]
        query = environ.get("QUERY_STRING")
        params = parse_qs(query) if query else {}
        try:
            only = scrape.select(params.get("collect[]", ()), params.get("exclude[]", ()))
        except SelectionError as exc:
            body = json.dumps({"error": "bad collector selection", "detail": str(exc)}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(body)))])
            return [body]
        families = list(scrape.collect(only))
        if "name[]" in params:
            families = restrict(families, params["name[]"])
        fmt = negotiate(environ.get("HTTP_ACCEPT"))
        body = encode(families, fmt)
        headers = [("Content-Type", fmt.content_type)]
        if gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING", "")):
            body = gzip.compress(body, compresslevel=gzip_level)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [body]

    return metrics


def make_app(scrape: ScrapeCollector, index: bytes) -> WSGIApp:
    metrics = make_metrics_app(scrape)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                      ("Content-Length", str(len(index)))])
            return [index]
        body = b"Not found: see /metrics\n"
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                         ("Content-Length", str(len(body)))])
        return [body]

    return app


class _QuietHandler(WSGIRequestHandler):
    # a client that connects and sends nothing must not hold a worker for ever
    timeout = 10
    # status line, headers and body leave in one send when the response is flushed, instead of
    # a send() each (wsgiref writes them separately): fewer syscalls and no small-packet waits
    wbufsize = 1 << 16

    def log_message(self, format: str, *args: Any) -> None:  # no access log per scrape
        pass


class PooledWSGIServer(WSGIServer):
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
    """

    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: WSGIApp, *, min_workers: int = 3,
                 max_workers: int = 64):
        self.min_workers = max(1, min_workers)
        self.max_workers = max(self.min_workers, max_workers)
        self._lock = threading.Lock()
        self._threads = 0
        self._accepting = 0
        self._seq = 0
        self._stopped = threading.Event()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _QuietHandler)
        self.set_app(app)

    @property
    def threads(self) -> int:
        """Worker threads alive now (serving or waiting in accept)."""
        return self._threads

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the FQDN of the listen address (a DNS lookup at
        # start-up); the WSGI environ only needs a name, the address will do.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()

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
