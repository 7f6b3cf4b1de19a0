"""The HTTP side: `/metrics` and an index page, on a threading WSGI server from the standard library.

`/metrics` behaves as prometheus_client's WSGI app (content negotiation with its
`choose_encoder`, gzip, `name[]`, OPTIONS, 405) plus node_exporter's `collect[]` / `exclude[]`
query parameters; it writes with `exporter.exposition` and compresses at gzip level 1 (the
client's app uses level 9: five times the CPU for a body a fifth smaller, on a ~10 kB page).

Requests are handed to a small persistent worker pool instead of a new thread per connection
(socketserver's ThreadingMixIn default), so a scrape costs no thread start-up.
"""

from __future__ import annotations

import gzip
import html
import json
import socket
import socketserver
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.registry import CollectorRegistry

from exporter.exposition import encode
from exporter.scrape import ScrapeCollector, SelectionError
from exporter.workers import WorkerPool

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces) -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"must be HOST:PORT, e.g. 127.0.0.1:9184 (got {value!r})")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def index_page(collectors: Sequence[str], version: str) -> bytes:
    items = "".join(f"<li>{html.escape(n)}</li>" for n in collectors)
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>TradeWatch exporter</title></head><body>"
        f"<h1>TradeWatch exporter</h1><p>Version {html.escape(version)}.</p>"
        "<p><a href=\"metrics\">Metrics</a></p>"
        f"<h2>Collectors</h2><ul>{items}</ul></body></html>"
    ).encode()


GZIP_LEVEL = 1
ALLOW = [("Allow", "OPTIONS,GET")]


def _restrict(families: list[Any], names: list[str]) -> list[Any]:
    """prometheus_client's `name[]` filter (its restricted registry) over one scrape's families."""
    registry = CollectorRegistry(auto_describe=False, support_collectors_without_names=True)

    class Fixed:
        def collect(self) -> list[Any]:
            return families

    registry.register(Fixed())  # type: ignore[arg-type]
    return list(registry.restricted_registry(names).collect())


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
            families = _restrict(families, params["name[]"])
        encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
        body = encode(families, encoder, content_type)
        headers = [("Content-Type", content_type)]
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


class PooledWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: WSGIApp, pool: WorkerPool | None = None):
        # Idle workers wait between scrapes; more start when requests overlap (slow or idle
        # clients), up to a cap like node_exporter's --web.max-requests, and retire when idle.
        self.pool = pool or WorkerPool("http", min_workers=1, max_workers=64, idle_seconds=60)
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _QuietHandler)
        self.set_app(app)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the FQDN of the listen address (a DNS lookup at
        # start-up); the WSGI environ only needs a name, the address will do.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self.process_request_thread, request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self.pool.close()
