"""The HTTP server in front of the app: waitress, with time limits slow or idle clients cannot outlast.

waitress reads every request (headers and body) in its event loop before a worker thread sees it,
so slow clients never hold a worker; what they can hold is a connection. Its defaults (100
connections, closed after 120 s of silence) let 120 clients that send headers and one body byte
stop the bridge, and a client that trickles one byte every few seconds is never idle at all. So:
a higher connection limit, idle connections closed after a few seconds, and a deadline for each
request's headers and for the whole request, counted from its first byte (issue 13.1; measured by
tests/bridge/test_bridge_slow_clients.py).
"""

from __future__ import annotations

import select
import time
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

IDLE_TIMEOUT = 5.0  # a connection with no request in progress and no byte for this long is closed
HEADER_TIMEOUT = 10.0  # a request's headers must be complete this long after its first byte
REQUEST_TIMEOUT = 30.0  # ...and its body too (2 MiB in 30 s is 70 KB/s)
CHECK_INTERVAL = 1.0  # how often the event loop looks for connections past a limit
# select() cannot watch descriptors past FD_SETSIZE (512 on Windows); poll() has no such limit.
CONNECTION_LIMIT = 1000 if hasattr(select, "poll") else 400


class DeadlineChannel(HTTPChannel):
    """A waitress connection that remembers when the request it is reading began."""

    request_started: float | None = None

    def received(self, data: bytes) -> bool:
        reading = self.request
        result = super().received(data)
        if self.request is None:
            self.request_started = None  # nothing half-read
        elif self.request is not reading:
            self.request_started = time.monotonic()  # a new request began in this chunk
        return result

    def overdue(self, now: float) -> bool:
        """True when the request being read has had longer than its deadline (never while a
        worker is answering an earlier request on this connection)."""
        if self.request_started is None or self.requests or self.request is None:
            return False
        limit = REQUEST_TIMEOUT if self.request.headers_finished else HEADER_TIMEOUT
        return now - self.request_started > limit


class DeadlineServer(TcpWSGIServer):
    """waitress' TCP server, whose periodic check also closes connections past a request deadline."""

    channel_class = DeadlineChannel

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections (channel_timeout)
        mono = time.monotonic()
        for channel in list(self.active_channels.values()):
            if isinstance(channel, DeadlineChannel) and channel.overdue(mono):
                channel.will_close = True  # the loop closes it on its next pass


def create_server(app: Any, host: str, port: int, *, threads: int, max_request_body_size: int,
                  ident: str = "tradewatch-bridge") -> TcpWSGIServer | MultiSocketServer:
    """Bind host:port (every address it resolves to, like waitress.create_server) and return a
    server whose run() serves until SystemExit."""
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads,
        ident=ident,
        max_request_body_size=max_request_body_size,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=int(IDLE_TIMEOUT),
        cleanup_interval=int(CHECK_INTERVAL),
        asyncore_use_poll=True,
        # the app decides whose X-Forwarded-* to believe (web/proxy.py, security.trusted_proxies);
        # waitress would drop them all, since it only knows one trusted address
        clear_untrusted_proxy_headers=False,
    )
    sockets: dict[int, Any] = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    servers = [DeadlineServer(app, sockets, dispatcher=dispatcher, adj=adj, sockinfo=info)
               for info in adj.listen]
    if len(servers) == 1:
        return servers[0]
    listening = [(s.effective_host, s.effective_port) for s in servers]
    return MultiSocketServer(sockets, adj, listening, dispatcher, servers[-1].log_info)
