"""db.py: concurrent migrations from several processes' connections, and the in-process write lock."""

from __future__ import annotations

import threading

import pytest

from alert_bridge.store.database import Database, StoreUnavailable, migration_files


def test_concurrent_migrations_apply_each_file_once(tmp_path):
    path = tmp_path / "fresh.db"
    dbs = [Database(path) for _ in range(4)]
    results: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(dbs))

    def run(db: Database) -> None:
        barrier.wait()
        try:
            results.append(db.migrate())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for db in dbs:
        db.close()
    assert errors == []
    applied = sorted(name for r in results for name in r)
    assert applied == sorted(name for name, _ in migration_files())


def test_a_writer_waiting_longer_than_the_busy_timeout_gets_store_unavailable(tmp_path):
    db = Database(tmp_path / "w.db", busy_timeout_ms=100)
    db.migrate()
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction():
            entered.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    try:
        entered.wait(5)
        with pytest.raises(StoreUnavailable), db.transaction():
            pass
    finally:
        release.set()
        t.join()
    with db.transaction() as conn:  # free again
        conn.execute("SELECT 1")
    db.close()
