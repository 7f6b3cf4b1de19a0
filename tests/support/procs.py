"""Start real processes (Prometheus, Alertmanager, our own services) and always stop them."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


_PORTS_GIVEN: set[int] = set()
_PORT_PICKER = random.Random(os.getpid() ^ time.time_ns())


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _port_range(floor: int) -> tuple[int, int]:
    """This process's share of 10000..floor: pytest-xdist workers (gw0, gw1...) never overlap."""
    low, high = 10000, max(floor, 10000 + 64)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        span = (high - low) // count
        low += int(worker[2:]) % count * span
        high = low + span
    return low, high


def free_port() -> int:
    """A loopback port nobody listens on, below the kernel's ephemeral range, never given twice.

    Why not bind port 0: the kernel takes that port from the ephemeral range, which every outgoing
    connection (a Prometheus scrape, an SMTP client) also draws from, so between this check and the
    server's own bind a client socket could take it: CI once failed with EADDRINUSE that way.
    """
    low, high = _port_range(_ephemeral_floor())
    for _ in range(500):
        port = _PORT_PICKER.randrange(low, high)
        if port in _PORTS_GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _PORTS_GIVEN.add(port)
        return port
    raise RuntimeError("no free loopback port below the ephemeral range after 500 tries")


def binary(name: str) -> str:
    """Path of a required program: our console scripts from the venv, others from PATH."""
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run the tests through tests/run.sh, which installs it")
    return found


def wait_until(check: Callable[[], object], timeout: float = 15.0, interval: float = 0.1,
               what: str = "condition") -> object:
    """Poll check() until it returns something truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()  # its response holds the socket: left to the GC it is a ResourceWarning
            last_exc = exc
        time.sleep(interval)
    detail = f" (last error: {last_exc!r})" if last_exc else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}{detail}")


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except urllib.error.HTTPError as exc:
        exc.close()  # its response holds the socket
        return False
    except (urllib.error.URLError, OSError):
        return False


class Proc:
    """A started process with its log file; `stop()` is idempotent."""

    def __init__(self, args: Sequence[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None):
        self.args = list(args)
        self.log = log
        self._fh = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            self.args, stdout=self._fh, stderr=subprocess.STDOUT, env=env, cwd=cwd,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        self._fh.flush()
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        if not self._fh.closed:
            self._fh.close()
        return self.popen.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def wait_http(self, url: str, timeout: float = 20.0) -> None:
        def ready() -> bool:
            if not self.alive():
                pytest.fail(f"{self.args[0]} exited early:\n{self.output()[-3000:]}")
            return http_ok(url)

        wait_until(ready, timeout, what=f"{url} ({self.args[0]})")


@contextlib.contextmanager
def running(args: Sequence[str], log: Path, ready_url: str | None = None,
            env: dict[str, str] | None = None, timeout: float = 20.0) -> Iterator[Proc]:
    proc = Proc(args, log, env=env)
    try:
        if ready_url:
            proc.wait_http(ready_url, timeout)
        yield proc
    finally:
        proc.stop()
