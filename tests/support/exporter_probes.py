"""Helpers for the probe, textfile and trading tests: read collector output, serve HTTP."""

from __future__ import annotations

import contextlib
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.metrics_core import Metric

from tradewatch.config import Config, parse_config


def config(**probes: object) -> Config:
    return parse_config({"probes": probes})


def families(metrics: Iterable[Metric]) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    for m in metrics:
        assert m.name not in out, f"family {m.name} emitted twice by one collector"
        out[m.name] = m
    return out


def value(fams: dict[str, Metric], name: str, **labels: str) -> float:
    """The one sample of family `name` with exactly these labels."""
    found = [s.value for s in fams[name].samples if s.labels == labels]
    assert len(found) == 1, f"{name}{labels}: found {found} in {fams[name].samples}"
    return found[0]


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


Handler = Callable[[BaseHTTPRequestHandler], None]


@contextlib.contextmanager
def http_server(routes: dict[str, Handler], ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """A real threaded HTTP server on 127.0.0.1 (TLS with `ssl_context`); yields its base URL
    (always written http://, the caller picks the scheme)."""

    class H(BaseHTTPRequestHandler):
        def _any(self) -> None:
            handler = routes.get(self.path.split("?")[0])
            if handler is None:
                self.send_error(404)
                return
            handler(self)

        do_GET = do_POST = do_HEAD = _any

        def log_message(self, *args: object) -> None:
            pass

    server = _ProbeTargetServer(("127.0.0.1", 0), H)
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _ProbeTargetServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A probe that gave up (size limit, timeout) closed the connection: the test, not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def reply(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handle
