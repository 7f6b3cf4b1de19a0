"""SQL of the daily report: per-date claims (exactly one scheduled report a day) and history.

A scheduled report is claimed by inserting a row whose `slot` is the local report date; the
UNIQUE constraint makes that atomic across processes. A claim left in `claimed` by a process
that died mid-render can be taken over after `stale_after` seconds; a failed render releases
the slot (status `failed`, slot NULL) so the next minute retries, at most `max_failures` times a
day. Manual sends get a row with slot NULL: recorded, and they never use up the day.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

SCHEDULED_KINDS = ("scheduled", "catch_up")


def claim_scheduled(
    conn: sqlite3.Connection, report_date: str, *, now: float, holder: str, kind: str = "scheduled",
    stale_after: float = 600.0, max_failures: int = 3,
) -> int | None:
    """Claim the day's scheduled report; the run id, or None when another claim owns the day.

    Call inside a write transaction (Database.transaction) so check and insert are atomic.
    """
    if kind not in SCHEDULED_KINDS:
        raise ValueError(f"not a scheduled kind: {kind!r}")
    if failures(conn, report_date) >= max_failures:
        return None
    cur = conn.execute(
        "INSERT INTO report_runs (report_date, kind, slot, status, claimed_at, claimed_by)"
        " VALUES (?, ?, ?, 'claimed', ?, ?) ON CONFLICT (slot) DO NOTHING",
        (report_date, kind, report_date, now, holder),
    )
    if cur.rowcount == 1:
        return int(cur.lastrowid or 0)
    # A claim exists: take it over only when its holder died before enqueueing the email.
    cur = conn.execute(
        "UPDATE report_runs SET claimed_at = ?, claimed_by = ?, kind = ? "
        "WHERE slot = ? AND status = 'claimed' AND claimed_at < ? RETURNING id",
        (now, holder, kind, report_date, now - stale_after),
    )
    row = cur.fetchone()
    return int(row[0]) if row else None


def record_manual(conn: sqlite3.Connection, report_date: str, *, now: float, holder: str) -> int:
    cur = conn.execute(
        "INSERT INTO report_runs (report_date, kind, slot, status, claimed_at, claimed_by)"
        " VALUES (?, 'manual', NULL, 'claimed', ?, ?)",
        (report_date, now, holder),
    )
    return int(cur.lastrowid or 0)


def mark_enqueued(conn: sqlite3.Connection, run_id: int, *, now: float, notification_id: int | None,
                  detail: str = "") -> None:
    conn.execute(
        "UPDATE report_runs SET status = 'enqueued', finished_at = ?, notification_id = ?, detail = ? "
        "WHERE id = ?",
        (now, notification_id, detail, run_id),
    )


def mark_failed(conn: sqlite3.Connection, run_id: int, *, now: float, error: str) -> None:
    """The render or enqueue failed: free the slot so a later minute can retry."""
    conn.execute(
        "UPDATE report_runs SET status = 'failed', slot = NULL, finished_at = ?, detail = ? WHERE id = ?",
        (now, error[:2000], run_id),
    )


def failures(conn: sqlite3.Connection, report_date: str) -> int:
    row = conn.execute(
        "SELECT COUNT(*) FROM report_runs WHERE report_date = ? AND status = 'failed' AND kind != 'manual'",
        (report_date,),
    ).fetchone()
    return int(row[0])


def scheduled_sent(conn: sqlite3.Connection, report_date: str) -> bool:
    """True when the day's scheduled report is claimed (being sent) or enqueued."""
    row = conn.execute("SELECT 1 FROM report_runs WHERE slot = ?", (report_date,)).fetchone()
    return row is not None


def runs(conn: sqlite3.Connection, report_date: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    if report_date is None:
        cur = conn.execute("SELECT * FROM report_runs ORDER BY id DESC LIMIT ?", (limit,))
    else:
        cur = conn.execute(
            "SELECT * FROM report_runs WHERE report_date = ? ORDER BY id DESC LIMIT ?", (report_date, limit)
        )
    return [dict(r) for r in cur]


def db_created_at(conn: sqlite3.Connection) -> float | None:
    """When this database was created: the time its first migration was applied."""
    try:
        row = conn.execute("SELECT MIN(applied_at) FROM schema_migrations").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None or row[0] is None else float(row[0])


def save_history(
    conn: sqlite3.Connection, *, report_date: str, run_id: int | None, kind: str, now: float,
    window_start: float, window_end: float, score: float | None, grade: str,
    components: dict[str, float | None], hosts: dict[str, Any], alert_counts: dict[str, int],
    pnl: float | None,
) -> int:
    cur = conn.execute(
        "INSERT INTO report_history (report_date, run_id, kind, created_at, window_start, window_end, "
        "score, grade, components, hosts, alert_counts, pnl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (report_date, run_id, kind, now, window_start, window_end, score, grade,
         json.dumps(components, sort_keys=True), json.dumps(hosts, sort_keys=True, default=str),
         json.dumps(alert_counts, sort_keys=True), pnl),
    )
    return int(cur.lastrowid or 0)


def prune_history(conn: sqlite3.Connection, before_date: str) -> int:
    """Retention: drop history (and finished runs) of report dates before `before_date`."""
    cur = conn.execute("DELETE FROM report_history WHERE report_date < ?", (before_date,))
    conn.execute("DELETE FROM report_runs WHERE report_date < ? AND status != 'claimed'", (before_date,))
    return cur.rowcount


def trend(conn: sqlite3.Connection, since_date: str, until_date: str) -> list[dict[str, Any]]:
    """One point per report date in [since, until] (the latest report of each date), oldest first."""
    cur = conn.execute(
        "SELECT h.report_date, h.score, h.grade, h.pnl, h.components, h.alert_counts FROM report_history h "
        "JOIN (SELECT report_date, MAX(id) AS id FROM report_history "
        "      WHERE report_date >= ? AND report_date <= ? GROUP BY report_date) last ON last.id = h.id "
        "ORDER BY h.report_date",
        (since_date, until_date),
    )
    out = []
    for r in cur:
        d = dict(r)
        d["components"] = json.loads(d["components"])
        d["alert_counts"] = json.loads(d["alert_counts"])
        out.append(d)
    return out


def history(conn: sqlite3.Connection, limit: int = 100) -> list[dict[str, Any]]:
    cur = conn.execute(
        "SELECT id, report_date, run_id, kind, created_at, score, grade, pnl, components, alert_counts "
        "FROM report_history ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [dict(r) for r in cur]


def email_window_stats(conn: sqlite3.Connection, start: float, end: float) -> Any:
    """Outbox outcomes of emails created in [start, end): sent, failed, retried, last error."""
    from alert_bridge.reports.recommendations import EmailStat

    row = conn.execute(
        "SELECT SUM(status = 'sent'), SUM(status = 'failed'), SUM(attempts > 1) FROM notifications "
        "WHERE created_at >= ? AND created_at < ?",
        (start, end),
    ).fetchone()
    err = conn.execute(
        "SELECT last_error FROM notifications WHERE created_at >= ? AND created_at < ? "
        "AND last_error IS NOT NULL AND last_error != '' ORDER BY id DESC LIMIT 1",
        (start, end),
    ).fetchone()
    return EmailStat(sent=int(row[0] or 0), failed=int(row[1] or 0), retried=int(row[2] or 0),
                     last_error=err[0] if err else None)
