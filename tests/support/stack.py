"""Run the local stack supervisor (tradewatch/stack.py) on free ports for tests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.support.procs import REPO, Proc, free_port, wait_until

PARTS = ("exporter", "bridge", "prometheus", "alertmanager", "demo_bot")


@dataclass
class StackRun:
    proc: Proc
    root: Path
    ports: dict[str, int]

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.popen.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


def free_ports() -> dict[str, int]:
    ports: dict[str, int] = {}
    while len(set(ports.values())) != len(PARTS):
        ports = {part: free_port() for part in PARTS}
    return ports


def stack_command(root: Path, ports: dict[str, int], *extra: str) -> list[str]:
    args = [sys.executable, "-m", "tradewatch.stack", *extra, "--dir", str(root),
            "--env-file", str(root / "no.env")]
    for part, port in ports.items():
        args += [f"--{part.replace('_', '-')}-port", str(port)]
    return args


def stack_cli(root: Path, action: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradewatch.stack", action, "--dir", str(root)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


@contextlib.contextmanager
def running_stack(root: Path, ports: dict[str, int], *extra: str, timeout: float = 90) -> Iterator[StackRun]:
    """Start the supervisor and wait for its 'is up' banner; always stop it."""
    root.mkdir(parents=True, exist_ok=True)
    n = len(list(root.parent.glob(f"{root.name}-supervisor-*.log")))
    proc = Proc(stack_command(root, ports, *extra), root.parent / f"{root.name}-supervisor-{n}.log")
    run = StackRun(proc, root, ports)
    try:
        def up() -> bool:
            out = proc.output()
            if not proc.alive():
                pytest.fail(f"the stack exited early:\n{out[-4000:]}")
            return "TradeWatch is up" in out

        wait_until(up, timeout, interval=0.2, what="the stack to report all parts healthy")
        yield run
    finally:
        proc.stop(timeout=30)
