"""SQL for scheduled-job runs, leader leases and small key/value state."""

from __future__ import annotations

import sqlite3


def acquire_lease(conn: sqlite3.Connection, name: str, holder: str, now: float, ttl: float) -> bool:
    """Take or renew lease `name` for `holder` unless another holder's lease is still valid."""
    conn.execute(
        "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET "
        "holder = excluded.holder, expires_at = excluded.expires_at, "
        "acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at "
        "ELSE excluded.acquired_at END "
        "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?",
        (name, holder, now, now + ttl, now),
    )
    row = conn.execute("SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
    return row is not None and row[0] == holder


def release_lease(conn: sqlite3.Connection, name: str, holder: str) -> None:
    conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


def lease_holder(conn: sqlite3.Connection, name: str, now: float) -> str | None:
    row = conn.execute("SELECT holder FROM leases WHERE name = ? AND expires_at > ?", (name, now)).fetchone()
    return row[0] if row else None


def run_started(conn: sqlite3.Connection, job: str, now: float) -> int:
    cur = conn.execute("INSERT INTO job_runs (job, started_at) VALUES (?, ?)", (job, now))
    return int(cur.lastrowid or 0)


def run_finished(conn: sqlite3.Connection, run_id: int, now: float, ok: bool, detail: str) -> None:
    conn.execute(
        "UPDATE job_runs SET finished_at = ?, ok = ?, detail = ? WHERE id = ?",
        (now, int(ok), detail[:2000], run_id),
    )


def last_run(conn: sqlite3.Connection, job: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1", (job,)).fetchone()


def prune_runs(conn: sqlite3.Connection, cutoff: float) -> int:
    return conn.execute("DELETE FROM job_runs WHERE started_at < ?", (cutoff,)).rowcount


def get_state(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_state(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def set_state_if_absent(conn: sqlite3.Connection, key: str, value: str) -> str:
    """Insert unless present; returns the stored value (so every process agrees on it)."""
    conn.execute("INSERT OR IGNORE INTO state (key, value) VALUES (?, ?)", (key, value))
    return str(get_state(conn, key))
