"""Fixtures of the exporter tests: a running exporter on its defaults and a PostgreSQL server.

Helpers that start exporters with other flags, probe targets and scrape parsers are in
tests/support/exporter_process.py and tests/support/exporter_probes.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.exporter_process import start
from tests.support.procs import Proc, free_port, wait_until


@pytest.fixture(scope="module")
def exporter(tmp_path_factory) -> Iterator[str]:
    """The base URL of `tradewatch-exporter` on its default collectors, one per module."""
    tmp = tmp_path_factory.mktemp("exporter")
    proc, url = start(tmp)
    try:
        yield url
    finally:
        proc.stop()


def _pg_bin(name: str) -> str | None:
    """PATH first, then Debian's versioned folder (its server binaries are not on PATH)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return str(candidates[-1]) if candidates else None


INITDB, POSTGRES = _pg_bin("initdb"), _pg_bin("postgres")


def _require_postgres() -> None:
    """A missing dependency fails the tests (tests/run.sh installs both), it never skips them."""
    missing = []
    if importlib.util.find_spec("psycopg") is None:
        missing.append("psycopg (the project's `postgres` extra: pip install -e '.[test,postgres]')")
    if INITDB is None or POSTGRES is None:
        missing.append("PostgreSQL's server binaries initdb and postgres (Debian package postgresql)")
    if missing:
        pytest.fail(
            "run tests/run.sh, which installs the postgres extra and Debian's postgresql; missing: "
            + "; ".join(missing),
            pytrace=False,
        )


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]  # postgres refuses to run as root


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    """The DSN of a PostgreSQL server with a `positions` table (two rows), one per module."""
    _require_postgres()
    import psycopg

    # Not under pytest's tmp_path: its parent is private to root, and the server user must get in.
    base = Path(tempfile.mkdtemp(prefix="tradewatch-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data = base / "data"
    initdb = [str(INITDB), "-D", str(data), "-A", "trust", "-U", "tw", "--no-sync"]
    init = subprocess.run(_as_server_user(initdb), capture_output=True, text=True, timeout=60)
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stdout}{init.stderr}")
    port = free_port()
    proc = Proc(_as_server_user([str(POSTGRES), "-D", str(data), "-k", str(base), "-h", "127.0.0.1",
                                 "-p", str(port), "-F"]), Path(base) / "postgres.log")
    dsn = f"host=127.0.0.1 port={port} user=tw dbname=postgres"
    try:
        def ready() -> bool:
            with contextlib.closing(psycopg.connect(dsn, connect_timeout=2)):
                return True

        wait_until(ready, timeout=30, what="PostgreSQL to accept connections")
        with contextlib.closing(psycopg.connect(dsn, autocommit=True)) as conn:
            conn.execute("CREATE TABLE positions (symbol text, qty numeric, note text)")
            conn.execute("INSERT INTO positions VALUES ('BTCUSDT', 0.5, 'a'), ('ETHUSDT', 3, 'b')")
        yield dsn
    finally:
        proc.stop(signal.SIGINT)  # fast shutdown
        shutil.rmtree(base, ignore_errors=True)

