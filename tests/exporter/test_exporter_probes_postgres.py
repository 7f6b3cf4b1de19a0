"""PostgreSQL probes against a real PostgreSQL server started by the test.

Needs the optional extra (`pip install 'tradewatch-monitor[postgres]'`) and PostgreSQL's server binaries
(Debian: postgresql), both installed by tests/run.sh: without them the tests fail, saying so.
Run as root, the server runs as the `postgres` user.
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

from exporter.collectors.probe_sql import build
from tests.support.exporter_probes import config, families, timed, value
from tests.support.procs import Proc, free_port, wait_until
from tradewatch import metric_names as names


def _pg_bin(name: str) -> str | None:
    """PATH first, then Debian's versioned folder (its server binaries are not on PATH)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return str(candidates[-1]) if candidates else None


INITDB, POSTGRES = _pg_bin("initdb"), _pg_bin("postgres")

pytestmark = pytest.mark.integration


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


def collect(probes: list[dict]) -> dict:
    collector = build(config(sql=probes))
    try:
        return families(collector.collect())
    finally:
        collector.close()


def test_numeric_and_non_numeric_queries(pg):
    f = collect([{"name": "pg", "driver": "postgresql", "dsn": pg, "queries": [
        {"name": "qty", "sql": "SELECT symbol, qty FROM positions", "labels": ["symbol"]},
        {"name": "n", "sql": "SELECT count(*) FROM positions"},
        {"name": "notes", "sql": "SELECT symbol, note FROM positions", "labels": ["symbol"]},
    ]}])
    assert value(f, "tradewatch_sql_qty", symbol="BTCUSDT") == 0.5  # numeric -> Decimal -> float
    assert value(f, "tradewatch_sql_n") == 2
    assert value(f, names.SQL_QUERY_SUCCESS, probe="pg", query="notes") == 0
    assert f["tradewatch_sql_notes"].samples == []
    assert value(f, names.PROBE_SUCCESS, probe="pg", type="sql") == 0


def test_session_is_read_only(pg):
    f = collect([{"name": "pg", "driver": "postgresql", "dsn": pg, "queries": [
        {"name": "w", "sql": "DELETE FROM positions RETURNING 1"}]}])
    assert value(f, names.SQL_QUERY_SUCCESS, probe="pg", query="w") == 0
    f = collect([{"name": "pg", "driver": "postgresql", "dsn": pg, "queries": [
        {"name": "n", "sql": "SELECT count(*) FROM positions"}]}])
    assert value(f, "tradewatch_sql_n") == 2


def test_slow_query_is_bounded_by_the_timeout(pg):
    f, took = timed(lambda: collect([{"name": "pg", "driver": "postgresql", "dsn": pg, "timeout": "1s",
                                      "queries": [{"name": "sleep", "sql": "SELECT pg_sleep(10), 1"}]}]))
    assert value(f, names.SQL_QUERY_SUCCESS, probe="pg", query="sleep") == 0
    assert took < 1 + 0.5


def test_unreachable_server_fails(pg):
    dead = f"host=127.0.0.1 port={free_port()} user=tw dbname=postgres"
    f = collect([{"name": "gone", "driver": "postgresql", "dsn": dead, "timeout": "2s",
                  "queries": [{"name": "n", "sql": "SELECT 1"}]}])
    assert value(f, names.PROBE_SUCCESS, probe="gone", type="sql") == 0
    assert value(f, names.SQL_QUERY_SUCCESS, probe="gone", query="n") == 0
