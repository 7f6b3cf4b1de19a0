"""The HTTP side: the WSGI app for `/metrics` and an index page (served by `exporter.httpd`).

`/metrics` behaves as prometheus_client's WSGI app (its `choose_encoder` content negotiation,
gzip, `name[]`, OPTIONS, 405; see `exporter.exposition`) plus node_exporter's `collect[]` /
`exclude[]` query parameters, and compresses at gzip level 1 (the client's app uses level 9:
three to four times the CPU for a body a tenth smaller, on a 16 kB page).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs

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
