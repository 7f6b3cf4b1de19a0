"""SQL of the outbox (`notifications`): enqueue, lease-based claiming, delivery outcome.

One row per notification and destination: `channel` NULL is the email, otherwise the name of a
push channel (`channels:` in the config), sent through Apprise by the same sender.

Rows move pending -> sending (claimed with a lease) -> sent | pending (retry later) | failed.
A sender that dies while holding a row leaves it in `sending`; once its lease has passed the
row is due again, so a crash never loses an email (delivery is at least once; the Message-ID
stays the same on every attempt so mail clients can fold a rare duplicate).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

KINDS = ("firing", "resolved", "emergency_repeat", "test", "watchdog", "pause_summary", "report")
STATUSES = ("pending", "sending", "sent", "failed")

_COLUMNS = (
    "id, kind, alert_id, dedup_key, recipients, context, raw, status, attempts, next_attempt_at, "
    "claimed_until, last_error, message_id, created_at, sent_at, channel"
)
# Everything but the raw message: listings should stay small.
_LIST_COLUMNS = _COLUMNS.replace(" raw,", " raw IS NOT NULL AS has_raw,")


def enqueue(
    conn: sqlite3.Connection,
    kind: str,
    recipients: Sequence[str],
    context: dict[str, Any],
    *,
    alert_id: int | None = None,
    dedup_key: str | None = None,
    raw: bytes | None = None,
    now: float,
    channel: str | None = None,
) -> int | None:
    """Queue one email (or, with `channel`, one push message); returns its id, or None when
    `dedup_key` was already queued."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r} (expected one of {', '.join(KINDS)})")
    cur = conn.execute(
        "INSERT INTO notifications (kind, alert_id, dedup_key, recipients, context, raw, status,"
        " attempts, next_attempt_at, created_at, channel)"
        " VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)"
        " ON CONFLICT (dedup_key) DO NOTHING",
        (kind, alert_id, dedup_key, json.dumps(list(recipients)), json.dumps(context, default=str),
         raw, float(now), float(now), channel),
    )
    if cur.rowcount == 0:
        return None
    return int(cur.lastrowid)  # type: ignore[arg-type]


def claim_due(
    conn: sqlite3.Connection, now: float, limit: int, lease_seconds: float
) -> list[dict[str, Any]]:
    """Lease up to `limit` due rows to the caller, oldest due first.

    Due: pending with next_attempt_at <= now, or left in `sending` by a sender whose lease
    expired (crash recovery). One UPDATE ... RETURNING statement takes SQLite's write lock, so
    concurrent claimers (threads or processes) always get disjoint rows.
    """
    cur = conn.execute(
        f"UPDATE notifications SET status = 'sending', claimed_until = :lease,"  # noqa: S608 - constant columns
        f" attempts = attempts + 1"
        f" WHERE id IN (SELECT id FROM notifications"
        f"   WHERE (status = 'pending' AND next_attempt_at <= :now)"
        f"      OR (status = 'sending' AND (claimed_until IS NULL OR claimed_until <= :now))"
        f"   ORDER BY next_attempt_at, id LIMIT :limit)"
        f" RETURNING {_COLUMNS}",
        {"now": now, "lease": now + lease_seconds, "limit": int(limit)},
    )
    return sorted(_rows(cur), key=lambda r: (r["next_attempt_at"], r["id"]))


def any_due(conn: sqlite3.Connection, now: float) -> bool:
    """Whether `claim_due` would find anything: a read, which in WAL mode neither waits for nor
    blocks writers, so a sender with nothing to do need not take the write lock to find out."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM notifications WHERE status = 'pending' AND next_attempt_at <= :now)"
        " OR EXISTS (SELECT 1 FROM notifications WHERE status = 'sending'"
        "   AND (claimed_until IS NULL OR claimed_until <= :now))",
        {"now": now},
    ).fetchone()
    return bool(row[0])


def claim(
    conn: sqlite3.Connection, id: int, now: float, lease_seconds: float
) -> dict[str, Any] | None:
    """Lease one given row whatever its due time (send-test-email); None if it is not claimable.

    Claimable: pending, or `sending` with an expired lease. A row another sender holds, or one
    already sent or failed, is not.
    """
    cur = conn.execute(
        f"UPDATE notifications SET status = 'sending', claimed_until = :lease,"  # noqa: S608 - constant columns
        f" attempts = attempts + 1"
        f" WHERE id = :id AND (status = 'pending'"
        f"   OR (status = 'sending' AND (claimed_until IS NULL OR claimed_until <= :now)))"
        f" RETURNING {_COLUMNS}",
        {"id": id, "now": now, "lease": now + lease_seconds},
    )
    rows = _rows(cur)
    return rows[0] if rows else None


def extend_leases(
    conn: sqlite3.Connection, held: Sequence[tuple[int, float]], until: float
) -> set[int]:
    """Push the lease of rows this sender still holds out to `until`; returns their ids.

    `held` pairs each id with the `claimed_until` the caller last set: a row whose lease ran
    out and was claimed by another sender no longer matches, so it is not extended (and the
    caller must not send it).
    """
    kept: set[int] = set()
    for id_, claimed_until in held:
        cur = conn.execute(
            "UPDATE notifications SET claimed_until = ? WHERE id = ? AND status = 'sending'"
            " AND claimed_until = ?",
            (until, id_, claimed_until),
        )
        if cur.rowcount:
            kept.add(id_)
    return kept


def release(conn: sqlite3.Connection, held: Sequence[tuple[int, float]]) -> int:
    """Give back claimed rows that were not tried (the sender is stopping): pending again, due
    at once, the claim's attempt not counted. Rows no longer held are left alone."""
    released = 0
    for id_, claimed_until in held:
        cur = conn.execute(
            "UPDATE notifications SET status = 'pending', claimed_until = NULL,"
            " attempts = MAX(0, attempts - 1) WHERE id = ? AND status = 'sending' AND claimed_until = ?",
            (id_, claimed_until),
        )
        released += cur.rowcount
    return released


def defer(conn: sqlite3.Connection, id: int, until: float, error: str) -> None:
    """Back to pending until `until` without counting the claim as an attempt: the row was not
    tried (its channel is cooling down after a failure). A row already sent is left alone."""
    conn.execute(
        "UPDATE notifications SET status = 'pending', next_attempt_at = ?, claimed_until = NULL,"
        " attempts = MAX(0, attempts - 1), last_error = ? WHERE id = ? AND status != 'sent'",
        (until, error, id),
    )


def mark_sent(conn: sqlite3.Connection, id: int, now: float, message_id: str | None) -> None:
    conn.execute(
        "UPDATE notifications SET status = 'sent', sent_at = ?, message_id = ?, claimed_until = NULL,"
        " last_error = NULL WHERE id = ?",
        (now, message_id, id),
    )


def mark_retry(
    conn: sqlite3.Connection, id: int, now: float, error: str, next_attempt_at: float
) -> None:
    """Back to pending, due at `next_attempt_at`. A row already sent is left alone."""
    conn.execute(
        "UPDATE notifications SET status = 'pending', next_attempt_at = ?, claimed_until = NULL,"
        " last_error = ? WHERE id = ? AND status != 'sent'",
        (max(next_attempt_at, now), error, id),
    )


def mark_failed(conn: sqlite3.Connection, id: int, now: float, error: str) -> None:
    """Permanent failure: never retried. A row already sent is left alone."""
    conn.execute(
        "UPDATE notifications SET status = 'failed', claimed_until = NULL, last_error = ?,"
        " next_attempt_at = ? WHERE id = ? AND status != 'sent'",
        (error, now, id),
    )


def get(conn: sqlite3.Connection, id: int) -> dict[str, Any] | None:
    rows = _rows(conn.execute(f"SELECT {_COLUMNS} FROM notifications WHERE id = ?", (id,)))  # noqa: S608
    return rows[0] if rows else None


def recent(conn: sqlite3.Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first, without the raw message bytes (`has_raw` says whether there is one)."""
    return _rows(conn.execute(
        f"SELECT {_LIST_COLUMNS} FROM notifications ORDER BY created_at DESC, id DESC LIMIT ?",  # noqa: S608
        (int(limit),),
    ))


def stats(conn: sqlite3.Connection, now: float) -> dict[str, Any]:
    """Email outbox health for /metrics and /health: depth, oldest waiting age, totals, last send."""
    r = _rows(conn.execute(
        "SELECT"
        " SUM(status IN ('pending', 'sending')) AS depth,"
        " SUM(status = 'pending' AND attempts > 0) AS retrying,"
        " MIN(CASE WHEN status IN ('pending', 'sending') THEN created_at END) AS oldest,"
        " SUM(status = 'sent') AS sent,"
        " SUM(status = 'failed') AS failed,"
        " MAX(sent_at) AS last_sent_at"
        " FROM notifications WHERE channel IS NULL"  # channels: backlog_by_channel, totals_by_channel
    ))[0]
    oldest = r["oldest"]
    return {
        "depth": int(r["depth"] or 0),
        "retrying": int(r["retrying"] or 0),
        "oldest_pending_age": max(0.0, now - oldest) if oldest is not None else 0.0,
        "sent": int(r["sent"] or 0),
        "failed": int(r["failed"] or 0),
        "last_sent_at": r["last_sent_at"],
    }


def totals_by_channel(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
    """(channel, kind, result, count) of finished rows, `email` for the email rows: the
    deployment-wide `tradewatch_notifications_total`."""
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in conn.execute(
        "SELECT COALESCE(channel, 'email'), kind, status, COUNT(*) FROM notifications"
        " WHERE status IN ('sent', 'failed') GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")]


def backlog_by_channel(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows waiting (pending or being sent) per destination, `email` for the email rows."""
    return {str(r[0]): int(r[1]) for r in conn.execute(
        "SELECT COALESCE(channel, 'email'), COUNT(*) FROM notifications"
        " WHERE status IN ('pending', 'sending') GROUP BY 1")}


def last_by_channel(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Per push channel: its newest finished row (status, kind, when, error) and what waits."""
    out: dict[str, dict[str, Any]] = {}
    for r in conn.execute(
        "SELECT n.channel, n.status, n.kind, COALESCE(n.sent_at, n.next_attempt_at), n.last_error, n.id"
        " FROM notifications n JOIN (SELECT channel, MAX(id) AS id FROM notifications"
        "   WHERE channel IS NOT NULL AND status IN ('sent', 'failed') GROUP BY channel) last"
        " ON n.id = last.id"
    ):
        out[str(r[0])] = {"status": r[1], "kind": r[2], "at": r[3], "error": r[4], "id": r[5]}
    return out


def _rows(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Rows as plain dicts (whatever the connection's row_factory), JSON columns decoded."""
    rows = cur.fetchall()
    names = [d[0] for d in cur.description or ()]
    out = []
    for row in rows:
        d = dict(zip(names, tuple(row), strict=True))
        if "recipients" in d:
            d["recipients"] = json.loads(d["recipients"] or "[]")
        if "context" in d:
            d["context"] = _loads(d["context"])
        if "has_raw" in d:
            d["has_raw"] = bool(d["has_raw"])
        out.append(d)
    return out


def _loads(text: str | None) -> Any:
    # A corrupt context must not break listings; the sender reports it when it tries to send.
    try:
        return json.loads(text or "{}")
    except ValueError:
        return {"_invalid_json": text}


def queued(conn: sqlite3.Connection, dedup_key: str) -> bool:
    """Whether a notification with `dedup_key` was ever queued (sent or not)."""
    row = conn.execute("SELECT 1 FROM notifications WHERE dedup_key = ? LIMIT 1", (dedup_key,)).fetchone()
    return row is not None
