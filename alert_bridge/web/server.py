"""The HTTP server in front of the app: waitress, with time limits slow or idle clients cannot outlast.

waitress reads every request (headers and body) in its event loop before a worker thread sees it,
so slow clients never hold a worker; what they can hold is a connection. Its defaults (100
connections, closed after 120 s of silence) let 120 clients that send headers and one body byte
stop the bridge, and a client that trickles one byte every few seconds is never idle at all. So:
a higher connection limit, idle connections closed after a few seconds, and a deadline for each
request's headers and for the whole request, counted from its first byte (issue 13.1; measured by
tests/bridge/test_bridge_slow_clients.py). An answer still being sent is not idle: it is dropped
only when the client stops reading it.
"""

from __future__ import annotations

import select
import time
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

IDLE_TIMEOUT = 5.0  # a connection with nothing in progress and no byte either way for this long is closed
HEADER_TIMEOUT = 10.0  # a request's headers must be complete this long after its first byte
REQUEST_TIMEOUT = 30.0  # ...and its body too (2 MiB in 30 s is 70 KB/s)
SEND_TIMEOUT = 30.0  # an answer the client stops reading is dropped after this long without progress
CHECK_INTERVAL = 1.0  # how often the event loop looks for connections past a limit
# select() cannot watch descriptors past FD_SETSIZE (512 on Windows); poll() has no such limit.
CONNECTION_LIMIT = 1000 if hasattr(select, "poll") else 400


class DeadlineChannel(HTTPChannel):
    """A waitress connection that knows when the request it is reading began, and counts bytes
    sent as activity (waitress counts only bytes received, so its idle timeout cut answers that
    took longer than the timeout to reach a slow reader)."""

    request_started: float | None = None

    def received(self, data: bytes) -> bool:
        reading = self.request
        result = super().received(data)
        if self.request is None:
            self.request_started = None  # nothing half-read
        elif self.request is not reading:
            self.request_started = time.time()  # a new request began in this chunk
        return result

    def _flush_some(self, do_close: bool = True) -> bool:
        before = self.total_outbufs_len
        result = super()._flush_some(do_close=do_close)
        if self.total_outbufs_len < before:
            self.last_activity = time.time()
        return result

    def expired(self, now: float) -> bool:
        """True when this connection has outlived a limit at wall-clock time `now`. Never while a
        worker is answering on it."""
        if self.requests:
            return False
        quiet = now - self.last_activity
        if self.total_outbufs_len:
            return quiet > SEND_TIMEOUT
        if self.request is not None and self.request_started is not None:
            limit = REQUEST_TIMEOUT if self.request.headers_finished else HEADER_TIMEOUT
            if now - self.request_started > limit:
                return True
        return quiet > IDLE_TIMEOUT


class DeadlineServer(TcpWSGIServer):
    """waitress' TCP server whose periodic check applies DeadlineChannel.expired (in place of
    waitress' idle-only channel_timeout)."""

    channel_class = DeadlineChannel

    def maintenance(self, now: float) -> None:
        for channel in list(self.active_channels.values()):
            if isinstance(channel, DeadlineChannel) and channel.expired(now):
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
