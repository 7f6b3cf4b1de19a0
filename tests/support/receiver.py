"""A JSON webhook receiver on 127.0.0.1 for Apprise's `json://` channel: records what arrives.

Real HTTP on loopback (http.server), so the bridge's Apprise sends a real request. It can answer
with any status (`status`), and be taken down and brought back on the same port (`down()`,
`up()`) to play a service that is away for a while.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any


class Receiver:
    def __init__(self, port: int = 0):
        self.messages: list[dict[str, Any]] = []  # {"path", "json", "at"} in arrival order
        self.status = 200
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        self.up()

    def up(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                with receiver._lock:
                    status = receiver.status
                    if status < 300:
                        receiver.messages.append({"path": self.path, "json": body, "at": time.time()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def received(self, path: str | None = None) -> list[dict[str, Any]]:
        """The JSON bodies received (on `path`, e.g. "/phone"), oldest first."""
        with self._lock:
            return [m["json"] for m in self.messages if path is None or m["path"].split("?")[0] == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received(path)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        return self.received(path)


@contextlib.contextmanager
def receiver(port: int = 0) -> Iterator[Receiver]:
    """A receiver for a `with` block (on `port`, e.g. one a test first saw refused)."""
    r = Receiver(port)
    try:
        yield r
    finally:
        r.down()
