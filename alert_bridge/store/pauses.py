"""SQL for notification pauses (the bridge's own mute, with its Alertmanager silence id)."""

from __future__ import annotations

import sqlite3
from typing import Any


def active(conn: sqlite3.Connection, now: float) -> sqlite3.Row | None:
    """The pause in force at `now` (not ended, not expired), newest first."""
    return conn.execute(
        "SELECT * FROM pauses WHERE ended_at IS NULL AND until > ? ORDER BY id DESC LIMIT 1", (now,)
    ).fetchone()


def start(
    conn: sqlite3.Connection,
    *,
    now: float,
    until: float,
    comment: str,
    include_emergencies: bool,
    created_by: str,
) -> int:
    cur = conn.execute(
        "INSERT INTO pauses (started_at, until, comment, include_emergencies, created_by) "
        "VALUES (?, ?, ?, ?, ?)",
        (now, until, comment, int(include_emergencies), created_by),
    )
    return int(cur.lastrowid or 0)


def set_silence(conn: sqlite3.Connection, pause_id: int, silence_id: str | None, error: str | None) -> None:
    conn.execute(
        "UPDATE pauses SET silence_id = ?, silence_error = ? WHERE id = ?", (silence_id, error, pause_id)
    )


def open_pauses(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM pauses WHERE ended_at IS NULL ORDER BY id").fetchall()


def expired(conn: sqlite3.Connection, now: float) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM pauses WHERE ended_at IS NULL AND until <= ? ORDER BY id", (now,)
    ).fetchall()


def end(conn: sqlite3.Connection, pause_id: int, at: float) -> bool:
    cur = conn.execute("UPDATE pauses SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (at, pause_id))
    return cur.rowcount == 1


def to_dict(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    d = dict(row)
    d["include_emergencies"] = bool(d["include_emergencies"])
    return d
