"""SQL probes against a real SQLite file made by the test."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import sys
from pathlib import Path

import pytest

from exporter.collectors.probe_sql import build
from tests.support.exporter_probes import config, families, value
from tradewatch import metric_names as names
from tradewatch.config import ConfigError


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "bot.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript("""
            CREATE TABLE positions (symbol TEXT, side TEXT, qty REAL);
            INSERT INTO positions VALUES ('BTCUSDT', 'long', 0.5), ('ETHUSDT', 'short', 3);
            CREATE TABLE orders (id INTEGER, status TEXT);
            INSERT INTO orders VALUES (1, 'filled'), (2, 'filled'), (3, 'rejected');
        """)
        conn.commit()
    return path


def collect(probes: list[dict]) -> dict:
    collector = build(config(sql=probes))
    try:
        return families(collector.collect())
    finally:
        collector.close()


def test_numeric_results_become_gauges_with_label_columns(db):
    f = collect([{"name": "botdb", "dsn": str(db), "queries": [
        {"name": "position_qty", "sql": "SELECT symbol, side, qty FROM positions",
         "labels": ["symbol", "side"],
         "help": "Open position size."},
        {"name": "orders_by_status", "sql": "SELECT status, count(*) AS n FROM orders GROUP BY status",
         "labels": ["status"]},
        {"name": "orders", "sql": "SELECT count(*) AS n, max(id) AS last FROM orders", "value": "n"},
    ]}])
    assert value(f, names.PROBE_SUCCESS, probe="botdb", type="sql") == 1
    assert value(f, "tradewatch_sql_position_qty", symbol="BTCUSDT", side="long") == 0.5
    assert value(f, "tradewatch_sql_position_qty", symbol="ETHUSDT", side="short") == 3
    assert f["tradewatch_sql_position_qty"].documentation == "Open position size."
    assert value(f, "tradewatch_sql_orders_by_status", status="filled") == 2
    assert value(f, "tradewatch_sql_orders_by_status", status="rejected") == 1
    assert value(f, "tradewatch_sql_orders") == 3
    for q in ("position_qty", "orders_by_status", "orders"):
        assert value(f, names.SQL_QUERY_SUCCESS, probe="botdb", query=q) == 1
        assert value(f, names.SQL_QUERY_DURATION, probe="botdb", query=q) >= 0
        assert f[f"tradewatch_sql_{q}"].type == "gauge"


def test_non_numeric_result_fails_that_query_only_and_logs_why(db, caplog):
    with caplog.at_level(logging.WARNING, "exporter.probes.sql"):
        f = collect([{"name": "botdb", "dsn": str(db), "queries": [
            {"name": "sides", "sql": "SELECT symbol, side FROM positions", "labels": ["symbol"]},
            {"name": "nulls", "sql": "SELECT max(qty) FROM positions WHERE qty > 100"},
            {"name": "broken", "sql": "SELECT nope FROM nowhere"},
            {"name": "ok", "sql": "SELECT count(*) FROM positions"},
        ]}])
    assert value(f, names.SQL_QUERY_SUCCESS, probe="botdb", query="sides") == 0
    assert value(f, names.SQL_QUERY_SUCCESS, probe="botdb", query="nulls") == 0
    assert value(f, names.SQL_QUERY_SUCCESS, probe="botdb", query="broken") == 0
    assert value(f, names.SQL_QUERY_SUCCESS, probe="botdb", query="ok") == 1
    assert f["tradewatch_sql_sides"].samples == []  # all or nothing: no half-result
    assert value(f, "tradewatch_sql_ok") == 2
    assert value(f, names.PROBE_SUCCESS, probe="botdb", type="sql") == 0
    log = caplog.text
    assert "not numeric (str 'long')" in log and "NULL" in log and "no such table: nowhere" in log


def test_repeated_label_sets_fail_the_query(db):
    f = collect([{"name": "botdb", "dsn": str(db), "queries": [
        {"name": "dup", "sql": "SELECT status, id FROM orders", "labels": ["status"]},
    ]}])
    assert value(f, names.SQL_QUERY_SUCCESS, probe="botdb", query="dup") == 0
    assert f["tradewatch_sql_dup"].samples == []


def test_missing_file_fails_without_creating_it(tmp_path):
    missing = tmp_path / "absent.db"
    f = collect([{"name": "gone", "dsn": str(missing), "queries": [{"name": "n", "sql": "SELECT 1"}]}])
    assert value(f, names.PROBE_SUCCESS, probe="gone", type="sql") == 0
    assert value(f, names.SQL_QUERY_SUCCESS, probe="gone", query="n") == 0
    assert f[names.SQL_QUERY_DURATION].samples == []  # the query never ran
    assert not missing.exists()


def test_not_a_database_fails(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    f = collect([{"name": "junk", "dsn": str(junk), "queries": [{"name": "n", "sql": "SELECT 1"}]}])
    assert value(f, names.PROBE_SUCCESS, probe="junk", type="sql") == 0


def test_opened_read_only(db):
    f = collect([{"name": "botdb", "dsn": str(db), "queries": [
        {"name": "w", "sql": "DELETE FROM orders RETURNING id"},
    ]}])
    assert value(f, names.SQL_QUERY_SUCCESS, probe="botdb", query="w") == 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (3,)


def test_long_query_is_interrupted_at_the_timeout(db):
    forever = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
               "SELECT count(*) FROM c")
    # never ends unless interrupted: that the collect returns at all is the bound
    f = collect([{"name": "slow", "dsn": str(db), "timeout": "400ms",
                  "queries": [{"name": "forever", "sql": forever}]}])
    assert value(f, names.SQL_QUERY_SUCCESS, probe="slow", query="forever") == 0
    assert value(f, names.PROBE_SUCCESS, probe="slow", type="sql") == 0


def test_postgresql_without_the_extra_names_the_probe(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what an install without the extra looks like
    cfg = config(sql=[{"name": "pg-main", "driver": "postgresql", "dsn": "host=127.0.0.1 dbname=x"}])
    with pytest.raises(ConfigError) as err:
        build(cfg)
    assert "pg-main" in str(err.value) and "tradewatch-monitor[postgres]" in str(err.value)
    assert "probes.sql[0].driver" in str(err.value)


def test_factory_and_timeout():
    assert build(config()) is None
    c = build(config(sql=[{"name": "a", "dsn": "/nonexistent.db", "timeout": "9s"}]))
    try:
        assert c.timeout == 10.0
    finally:
        c.close()
