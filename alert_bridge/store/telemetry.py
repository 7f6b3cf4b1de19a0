"""Read-only aggregate queries for /metrics that span table families."""

from __future__ import annotations

import sqlite3


def email_retries(conn: sqlite3.Connection) -> int:
    """Delivery attempts beyond the first, over all notifications kept (a monotonic-enough counter)."""
    row = conn.execute(
        "SELECT COALESCE(SUM(attempts - 1), 0) FROM notifications WHERE attempts > 1"
    ).fetchone()
    return int(row[0])
