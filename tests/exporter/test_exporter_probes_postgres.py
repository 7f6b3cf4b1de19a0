"""PostgreSQL probes against a real PostgreSQL server started by the test.

Needs the optional extra (`pip install 'tradewatch-monitor[postgres]'`) and PostgreSQL's server binaries
(Debian: postgresql), both installed by tests/run.sh: without them the tests fail, saying so.
Run as root, the server runs as the `postgres` user.
"""

from __future__ import annotations

import pytest

from exporter.collectors.probe_sql import build
from tests.support.exporter_probes import config, families, timed, value
from tests.support.procs import free_port
from tradewatch import metric_names as names

pytestmark = pytest.mark.integration


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
    assert took < 5  # generous: without the timeout, 10 s and a success


def test_unreachable_server_fails(pg):
    dead = f"host=127.0.0.1 port={free_port()} user=tw dbname=postgres"
    f = collect([{"name": "gone", "driver": "postgresql", "dsn": dead, "timeout": "2s",
                  "queries": [{"name": "n", "sql": "SELECT 1"}]}])
    assert value(f, names.PROBE_SUCCESS, probe="gone", type="sql") == 0
    assert value(f, names.SQL_QUERY_SUCCESS, probe="gone", query="n") == 0
