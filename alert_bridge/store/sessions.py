"""SQL for dashboard sessions: created at login, checked on every request, revoked at logout."""

from __future__ import annotations

import hashlib
import sqlite3


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def create(
    conn: sqlite3.Connection, session_id: str, *, now: float, lifetime: float, created_by: str
) -> None:
    conn.execute(
        "INSERT INTO sessions (id_hash, created_at, expires_at, created_by) VALUES (?, ?, ?, ?)",
        (_hash(session_id), now, now + lifetime, created_by),
    )
    conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now - 86400,))


def is_active(conn: sqlite3.Connection, session_id: str, now: float) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sessions WHERE id_hash = ? AND revoked_at IS NULL AND expires_at > ?",
        (_hash(session_id), now),
    ).fetchone()
    return row is not None


def revoke(conn: sqlite3.Connection, session_id: str, now: float) -> None:
    conn.execute("UPDATE sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL",
                 (now, _hash(session_id)))


def revoke_all(conn: sqlite3.Connection, now: float) -> int:
    """Revoke every live session ("log out everywhere"); returns how many."""
    cur = conn.execute("UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND expires_at > ?",
                       (now, now))
    return cur.rowcount
