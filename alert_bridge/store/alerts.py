"""SQL for alerts, their firing -> resolved history, webhook receipts, payloads and acks."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

ALERT_COLUMNS = (
    "id, fingerprint, starts_at, starts_at_epoch, alertname, status, severity, severity_assumed, "
    "category, instance, labels, annotations, ends_at, generator_url, first_seen, last_seen, "
    "resolved_at, acked_at, last_notified_at, notify_count, held_at"
)


def row_to_dict(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["labels"] = json.loads(d["labels"])
    d["annotations"] = json.loads(d["annotations"])
    d["severity_assumed"] = bool(d["severity_assumed"])
    d.pop("raw", None)
    return d


def receipt_seen(conn: sqlite3.Connection, fingerprint: str, starts_at: str, status: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM receipts WHERE fingerprint = ? AND starts_at = ? AND status = ?",
        (fingerprint, starts_at, status),
    ).fetchone()
    return row is not None


def add_receipt(conn: sqlite3.Connection, fingerprint: str, starts_at: str, status: str, now: float) -> bool:
    """Record a (fingerprint, startsAt, status); False when it was already there."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO receipts (fingerprint, starts_at, status, first_at) VALUES (?, ?, ?, ?)",
        (fingerprint, starts_at, status, now),
    )
    return cur.rowcount == 1


def add_payload(conn: sqlite3.Connection, receiver: str, group_key: str, body: str, now: float) -> int:
    cur = conn.execute(
        "INSERT INTO webhook_payloads (received_at, receiver, group_key, body) VALUES (?, ?, ?, ?)",
        (now, receiver, group_key, body),
    )
    return int(cur.lastrowid or 0)


def get_by_key(conn: sqlite3.Connection, fingerprint: str, starts_at: str) -> sqlite3.Row | None:
    return conn.execute(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE fingerprint = ? AND starts_at = ?",  # noqa: S608 - constant columns
        (fingerprint, starts_at),
    ).fetchone()


def rekey_coarse_twin(conn: sqlite3.Connection, fingerprint: str, starts_at: str, epoch: float) -> bool:
    """Give a firing alert stored from Alertmanager's API the webhook's exact startsAt.

    The API (GET /api/v2/alerts) writes times to the millisecond, the webhook to the nanosecond:
    an alert a silence held and resume stored (alerts.pause) comes back by webhook with a finer
    startsAt. Same fingerprint, start within the same millisecond: the same alert, re-keyed so
    the webhook is a duplicate and its resolve finds it."""
    cur = conn.execute(
        "UPDATE alerts SET starts_at = ?, starts_at_epoch = ? WHERE fingerprint = ? AND status = 'firing' "
        "AND starts_at <> ? AND abs(starts_at_epoch - ?) < 0.001 "
        "AND NOT EXISTS (SELECT 1 FROM alerts WHERE fingerprint = ? AND starts_at = ?)",
        (starts_at, epoch, fingerprint, starts_at, epoch, fingerprint, starts_at),
    )
    return cur.rowcount > 0


def get(conn: sqlite3.Connection, alert_id: int) -> sqlite3.Row | None:
    sql = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?"  # noqa: S608 - constant columns
    return conn.execute(sql, (alert_id,)).fetchone()


def insert(conn: sqlite3.Connection, a: dict[str, Any], *, payload_id: int | None, now: float) -> int | None:
    """Insert a new alert (first time this fingerprint + startsAt is seen) and its first event;
    None when the alert already exists (one statement either way: the common case is new)."""
    cur = conn.execute(
        "INSERT INTO alerts (fingerprint, starts_at, starts_at_epoch, alertname, status, severity, "
        "severity_assumed, category, instance, labels, annotations, ends_at, generator_url, raw, "
        "payload_id, first_seen, last_seen, resolved_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (fingerprint, starts_at) DO NOTHING RETURNING id",
        (
            a["fingerprint"],
            a["starts_at"],
            a["starts_at_epoch"],
            a["alertname"],
            a["status"],
            a["severity"],
            int(a["severity_assumed"]),
            a["category"],
            a["instance"],
            json.dumps(a["labels"], sort_keys=True),
            json.dumps(a["annotations"], sort_keys=True),
            a["ends_at"],
            a["generator_url"],
            a["raw"],
            payload_id,
            now,
            now,
            now if a["status"] == "resolved" else None,
        ),
    )
    row = cur.fetchone()
    if row is None:
        return None
    alert_id = int(row[0])
    add_event(conn, alert_id, a["status"], now, a["ends_at"])
    return alert_id


def transition(
    conn: sqlite3.Connection, alert_id: int, a: dict[str, Any], *, payload_id: int | None, now: float
) -> None:
    """Apply a status change (firing -> resolved) with the latest labels and record it."""
    conn.execute(
        "UPDATE alerts SET status = ?, ends_at = ?, annotations = ?, labels = ?, raw = ?, "
        "payload_id = ?, last_seen = ?, resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE NULL END "
        "WHERE id = ?",
        (
            a["status"],
            a["ends_at"],
            json.dumps(a["annotations"], sort_keys=True),
            json.dumps(a["labels"], sort_keys=True),
            a["raw"],
            payload_id,
            now,
            a["status"],
            now,
            alert_id,
        ),
    )
    add_event(conn, alert_id, a["status"], now, a["ends_at"])


def touch(conn: sqlite3.Connection, alert_id: int, now: float) -> None:
    conn.execute("UPDATE alerts SET last_seen = ? WHERE id = ?", (now, alert_id))


def add_event(conn: sqlite3.Connection, alert_id: int, status: str, at: float, ends_at: str | None) -> None:
    conn.execute(
        "INSERT INTO alert_events (alert_id, status, at, ends_at) VALUES (?, ?, ?, ?)",
        (alert_id, status, at, ends_at),
    )


def events(conn: sqlite3.Connection, alert_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT status, at, ends_at FROM alert_events WHERE alert_id = ? ORDER BY id", (alert_id,)
    )
    return [dict(r) for r in rows]


def mark_notified(conn: sqlite3.Connection, alert_id: int, now: float) -> None:
    conn.execute(
        "UPDATE alerts SET last_notified_at = ?, notify_count = notify_count + 1 WHERE id = ?",
        (now, alert_id),
    )


def mark_held(conn: sqlite3.Connection, alert_id: int, now: float) -> None:
    conn.execute("UPDATE alerts SET held_at = COALESCE(held_at, ?) WHERE id = ?", (now, alert_id))


def take_held(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Alerts held by a pause, oldest first; clears the hold (they go into one summary)."""
    rows = conn.execute(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE held_at IS NOT NULL ORDER BY held_at, id"  # noqa: S608 - constant columns
    ).fetchall()
    conn.execute("UPDATE alerts SET held_at = NULL WHERE held_at IS NOT NULL")
    return rows


def close_other_episodes(conn: sqlite3.Connection, alertname: str, fingerprint: str, starts_at: str,
                         now: float) -> int:
    """Mark every other firing episode of `alertname` resolved (a restarted Prometheus starts the
    always-firing Watchdog anew: the old episode would otherwise stay 'firing' for ever)."""
    cur = conn.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE alertname = ? AND status = 'firing'"
        " AND NOT (fingerprint = ? AND starts_at = ?)",
        (now, alertname, fingerprint, starts_at),
    )
    return cur.rowcount


def ack(conn: sqlite3.Connection, alert_id: int, now: float, by: str, comment: str) -> bool:
    """Acknowledge an alert (stops emergency repeats); False when there is no such alert."""
    cur = conn.execute("UPDATE alerts SET acked_at = COALESCE(acked_at, ?) WHERE id = ?", (now, alert_id))
    if cur.rowcount == 0:
        return False
    conn.execute(
        "INSERT INTO acks (alert_id, at, by, comment) VALUES (?, ?, ?, ?)", (alert_id, now, by, comment)
    )
    return True


def due_emergencies(conn: sqlite3.Connection, not_after: float) -> list[sqlite3.Row]:
    """Firing, unacknowledged emergencies never notified (held) or last notified by `not_after`."""
    return conn.execute(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'firing' AND severity = 'emergency' "  # noqa: S608 - constant columns
        "AND acked_at IS NULL AND (last_notified_at IS NULL OR last_notified_at <= ?) ORDER BY id",
        (not_after,),
    ).fetchall()


def listing(
    conn: sqlite3.Connection, *, severity: str | None, status: str | None, since: float, limit: int
) -> list[sqlite3.Row]:
    """Active alerts (any age) and recent ones (last seen since `since`), newest first."""
    sql = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE (status = 'firing' OR last_seen >= ?)"  # noqa: S608
    args: list[Any] = [since]
    if severity:
        sql += " AND severity = ?"
        args.append(severity)
    if status:
        sql += " AND status = ?"
        args.append(status)
    sql += " ORDER BY (status = 'firing') DESC, last_seen DESC, id DESC LIMIT ?"
    args.append(limit)
    return conn.execute(sql, args).fetchall()


def counts_by_severity(conn: sqlite3.Connection, status: str = "firing") -> dict[str, int]:
    rows = conn.execute("SELECT severity, COUNT(*) FROM alerts WHERE status = ? GROUP BY severity", (status,))
    return {r[0]: r[1] for r in rows}


def in_window(
    conn: sqlite3.Connection, start: float, end: float, severities: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """Alerts active at any time in [start, end) (for the daily report), oldest first."""
    sql = (
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE starts_at_epoch < ? "  # noqa: S608 - constant columns
        "AND (resolved_at IS NULL OR resolved_at >= ?)"
    )
    args: list[Any] = [end, start]
    if severities:
        sql += f" AND severity IN ({', '.join('?' * len(severities))})"
        args.extend(severities)
    return [row_to_dict(r) for r in conn.execute(sql + " ORDER BY starts_at_epoch, id", args)]


def delete_older_than(conn: sqlite3.Connection, cutoff: float) -> int:
    """Retention: drop alerts (and their events, acks) last seen before `cutoff`; old receipts and
    payloads too. Firing alerts are kept whatever their age."""
    cur = conn.execute("DELETE FROM alerts WHERE last_seen < ? AND status = 'resolved'", (cutoff,))
    conn.execute("DELETE FROM receipts WHERE first_at < ?", (cutoff,))
    conn.execute(
        "DELETE FROM webhook_payloads WHERE received_at < ? "
        "AND id NOT IN (SELECT payload_id FROM alerts WHERE payload_id IS NOT NULL)",
        (cutoff,),
    )
    return cur.rowcount


def search(
    conn: sqlite3.Connection,
    *,
    name: str | None,
    host: str | None,
    severity: str | None,
    since: float | None,
    until: float | None,
    limit: int,
) -> list[sqlite3.Row]:
    """The alert history page: alerts active at any time in [since, until], newest first.

    `name` and `host` match anywhere, ignoring case (host: the address or the `nodename` label)."""
    sql = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE 1 = 1"  # noqa: S608 - constant columns
    args: list[Any] = []
    if name:
        sql += " AND instr(lower(alertname), lower(?)) > 0"
        args.append(name)
    if host:
        sql += (" AND (instr(lower(instance), lower(?)) > 0"
                " OR instr(lower(coalesce(json_extract(labels, '$.nodename'), '')), lower(?)) > 0)")
        args += [host, host]
    if severity:
        sql += " AND severity = ?"
        args.append(severity)
    if until is not None:
        sql += " AND starts_at_epoch <= ?"
        args.append(until)
    if since is not None:  # still firing, or ended (Alertmanager's endsAt, else when heard) since
        sql += (" AND (status = 'firing' OR coalesce((julianday(ends_at) - 2440587.5) * 86400.0,"
                " resolved_at) >= ?)")
        args.append(since)
    sql += " ORDER BY starts_at_epoch DESC, id DESC LIMIT ?"
    args.append(limit)
    return conn.execute(sql, args).fetchall()
