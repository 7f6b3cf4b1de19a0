"""A real Matrix homeserver (Synapse, from PyPI, on SQLite) on 127.0.0.1 for channel tests.

Synapse lives in its own virtual environment (`.venv-synapse`, made by tests/run.sh; or the
Python named by $TRADEWATCH_SYNAPSE_PYTHON) so its pins never meet the project's. The server
gets a fresh data folder, one client listener on loopback, no federation, generous rate
limits, and one user (`bot`) that Apprise logs in as; `messages(room)` reads back what arrived.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.procs import REPO, free_port, running

USER, PASSWORD = "bot", "botpassword1"
_FAST = {"per_second": 1000, "burst_count": 1000}


def synapse_python() -> Path | None:
    named = os.environ.get("TRADEWATCH_SYNAPSE_PYTHON")
    candidate = Path(named) if named else REPO / ".venv-synapse" / "bin" / "python"
    return candidate if candidate.exists() else None


class Homeserver:
    def __init__(self, port: int):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self._token: str | None = None

    def apprise_url(self, room: str) -> str:
        return f"matrix://{USER}:{PASSWORD}@127.0.0.1:{self.port}/#{room}?discovery=no"

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        req = urllib.request.Request(self.base + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            exc.close()  # its response holds the socket
            raise

    def messages(self, room: str) -> list[str]:
        """Bodies of the m.room.message events in #room:localhost, oldest first ([] if no room)."""
        if self._token is None:
            self._token = self._request("POST", "/_matrix/client/v3/login", {
                "type": "m.login.password", "identifier": {"type": "m.id.user", "user": USER},
                "password": PASSWORD})["access_token"]
        alias = urllib.parse.quote(f"#{room}:localhost")
        try:
            room_id = self._request("GET", f"/_matrix/client/v3/directory/room/{alias}")["room_id"]
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise
        chunk = self._request("GET", f"/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}"
                                     "/messages?dir=b&limit=200")["chunk"]
        return [e["content"].get("body", "") for e in reversed(chunk) if e["type"] == "m.room.message"]


@contextlib.contextmanager
def homeserver(tmp_path: Path) -> Iterator[Homeserver]:
    """Start Synapse, register the user, yield; skipped (saying why) when Synapse is not installed."""
    python = synapse_python()
    if python is None:
        pytest.skip("matrix-synapse is not installed (tests/run.sh puts it in .venv-synapse)")
    folder = tmp_path / "synapse"
    folder.mkdir()
    config = folder / "homeserver.yaml"
    subprocess.run([str(python), "-m", "synapse.app.homeserver", "--server-name", "localhost",
                    "--config-path", str(config), "--generate-config", "--report-stats=no",
                    "--data-directory", str(folder)], check=True, capture_output=True, timeout=120)
    port = free_port()
    data = yaml.safe_load(config.read_text())
    # no log config: Synapse logs to stderr (our synapse.log) instead of a homeserver.log in the cwd
    data.pop("log_config", None)
    data.update({
        "listeners": [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                       "resources": [{"names": ["client"], "compress": False}]}],
        "trusted_key_servers": [], "suppress_key_server_warning": True, "enable_registration": False,
        "rc_message": _FAST, "rc_joins": {"local": _FAST},
        "rc_login": {"address": _FAST, "account": _FAST, "failed_attempts": _FAST},
    })
    config.write_text(yaml.safe_dump(data))
    args = [str(python), "-m", "synapse.app.homeserver", "-c", str(config)]
    server = Homeserver(port)
    with running(args, tmp_path / "synapse.log", ready_url=f"{server.base}/_matrix/client/versions",
                 timeout=120):
        register = python.parent / "register_new_matrix_user"
        subprocess.run([str(register), "-u", USER, "-p", PASSWORD, "--no-admin", "-c", str(config),
                        server.base], check=True, capture_output=True, timeout=60)
        yield server
