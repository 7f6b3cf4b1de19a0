"""The outbox's SQL (alert_bridge/store/outbox.py) against a real SQLite database."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from alert_bridge.store import outbox
from alert_bridge.store.database import Database

T0 = 1_800_000_000.0



def add(db, n=1, *, now=T0, **kw):
    ids = []
    with db.transaction() as conn:
        for i in range(n):
            ids.append(outbox.enqueue(conn, kw.pop("kind", "test"), ["ops@example.com"], {"n": i},
                                      now=now, **kw))
    return ids


def test_enqueue_stores_a_pending_row(db):
    with db.transaction() as conn:
        nid = outbox.enqueue(conn, "firing", ["a@example.com", "b@example.com"], {"alert": {"id": 3}},
                             alert_id=3, dedup_key="firing:fp:1", now=T0)
    row = outbox.get(db.connection(), nid)
    assert row["status"] == "pending"
    assert row["recipients"] == ["a@example.com", "b@example.com"]
    assert row["context"] == {"alert": {"id": 3}}
    assert row["alert_id"] == 3 and row["attempts"] == 0
    assert row["next_attempt_at"] == T0 and row["created_at"] == T0
    assert row["raw"] is None


def test_enqueue_is_idempotent_on_dedup_key(db):
    with db.transaction() as conn:
        first = outbox.enqueue(conn, "firing", ["a@example.com"], {"v": 1}, dedup_key="k1", now=T0)
        again = outbox.enqueue(conn, "firing", ["a@example.com"], {"v": 2}, dedup_key="k1", now=T0 + 5)
        other = outbox.enqueue(conn, "firing", ["a@example.com"], {"v": 3}, dedup_key="k2", now=T0)
        no_key = [outbox.enqueue(conn, "test", [], {}, now=T0) for _ in range(2)]
    assert isinstance(first, int)
    assert again is None
    assert other not in (None, first)
    assert None not in no_key and no_key[0] != no_key[1]  # rows without a key never collide
    assert outbox.get(db.connection(), first)["context"] == {"v": 1}
    assert outbox.stats(db.connection(), T0)["depth"] == 4


def test_enqueue_is_idempotent_even_after_the_row_was_sent(db):
    with db.transaction() as conn:
        nid = outbox.enqueue(conn, "firing", [], {}, dedup_key="once", now=T0)
        outbox.claim_due(conn, T0, 10, 60)
        outbox.mark_sent(conn, nid, T0 + 1, "<m@x>")
        assert outbox.enqueue(conn, "firing", [], {}, dedup_key="once", now=T0 + 100) is None


def test_unknown_kind_is_refused(db):
    with db.transaction() as conn, pytest.raises(ValueError, match="unknown notification kind"):
        outbox.enqueue(conn, "sms", [], {}, now=T0)


def test_raw_message_is_kept_as_bytes(db):
    raw = b"Subject: report\r\n\r\nbody\r\n"
    with db.transaction() as conn:
        nid = outbox.enqueue(conn, "report", ["a@example.com"], {}, raw=raw, now=T0)
    assert outbox.get(db.connection(), nid)["raw"] == raw
    assert outbox.recent(db.connection(), 5)[0]["has_raw"] is True
    assert "raw" not in outbox.recent(db.connection(), 5)[0]


def test_claim_leases_due_rows_oldest_first(db):
    ids = add(db, 3)
    with db.transaction() as conn:
        later = outbox.enqueue(conn, "test", [], {}, now=T0 + 50)  # not due yet at T0 + 10
        claimed = outbox.claim_due(conn, T0 + 10, 2, lease_seconds=60)
    assert [r["id"] for r in claimed] == ids[:2]
    for r in claimed:
        assert r["status"] == "sending" and r["claimed_until"] == T0 + 70 and r["attempts"] == 1
    with db.transaction() as conn:
        rest = outbox.claim_due(conn, T0 + 10, 10, lease_seconds=60)
        assert [r["id"] for r in rest] == [ids[2]]
        assert outbox.claim_due(conn, T0 + 10, 10, 60) == []  # everything due is leased
        assert [r["id"] for r in outbox.claim_due(conn, T0 + 50, 10, 60)] == [later]


def test_claim_reclaims_rows_whose_lease_expired(db):
    (nid,) = add(db)
    with db.transaction() as conn:
        assert [r["id"] for r in outbox.claim_due(conn, T0, 5, lease_seconds=60)] == [nid]
        # the sender "crashed": nothing marked. Within the lease nobody else gets the row...
        assert outbox.claim_due(conn, T0 + 59, 5, 60) == []
        # ...after it, the row is due again, with the attempt counted.
        again = outbox.claim_due(conn, T0 + 60, 5, 60)
    assert [r["id"] for r in again] == [nid]
    assert again[0]["attempts"] == 2 and again[0]["claimed_until"] == T0 + 120


def test_mark_retry_sent_failed(db):
    a, b, c = add(db, 3)
    with db.transaction() as conn:
        outbox.claim_due(conn, T0, 10, 60)
        outbox.mark_retry(conn, a, T0 + 1, "SMTP 451 try later", T0 + 30)
        outbox.mark_sent(conn, b, T0 + 1, "<b@tradewatch>")
        outbox.mark_failed(conn, c, T0 + 1, "SMTP 550 no such user")
    conn = db.connection()
    ra, rb, rc = (outbox.get(conn, i) for i in (a, b, c))
    assert (ra["status"], ra["next_attempt_at"]) == ("pending", T0 + 30)
    assert ra["last_error"] == "SMTP 451 try later"
    assert ra["claimed_until"] is None
    assert (rb["status"], rb["sent_at"], rb["message_id"]) == ("sent", T0 + 1, "<b@tradewatch>")
    assert (rc["status"], rc["last_error"]) == ("failed", "SMTP 550 no such user")
    with db.transaction() as conn:
        assert outbox.claim_due(conn, T0 + 29, 10, 60) == []  # retry not due yet; sent/failed never
        assert [r["id"] for r in outbox.claim_due(conn, T0 + 30, 10, 60)] == [a]


def test_a_late_retry_does_not_undo_a_send(db):
    (nid,) = add(db)
    with db.transaction() as conn:
        outbox.claim_due(conn, T0, 1, 60)
        outbox.mark_sent(conn, nid, T0 + 1, "<x@tradewatch>")
        outbox.mark_retry(conn, nid, T0 + 2, "stale claimer", T0 + 10)
        outbox.mark_failed(conn, nid, T0 + 2, "stale claimer")
    assert outbox.get(db.connection(), nid)["status"] == "sent"


def test_claim_one_given_row(db):
    a, b = add(db, 2, now=T0 + 1000)  # not due yet: claim() ignores due time
    with db.transaction() as conn:
        row = outbox.claim(conn, b, T0, 60)
        assert row["id"] == b and row["status"] == "sending"
        assert outbox.claim(conn, b, T0 + 1, 60) is None  # held by someone
        assert outbox.claim(conn, 999, T0, 60) is None
        outbox.mark_sent(conn, b, T0 + 2, None)
        assert outbox.claim(conn, b, T0 + 100, 60) is None  # sent rows are never re-claimed
    assert outbox.get(db.connection(), a)["status"] == "pending"


def test_concurrent_claimers_get_disjoint_rows(db):
    ids = set(add(db, 300))
    claimed: list[list[int]] = [[] for _ in range(6)]
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker(slot: int) -> None:
        try:
            start.wait()
            while True:
                with db.transaction() as conn:  # each thread has its own connection
                    rows = outbox.claim_due(conn, T0 + 1, 3, 60)
                if not rows:
                    return
                claimed[slot].extend(r["id"] for r in rows)
                time.sleep(0.001)  # "send" outside the transaction, as the sender does
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    flat = [i for part in claimed for i in part]
    assert len(flat) == len(set(flat)) == 300  # nobody got a row twice
    assert set(flat) == ids
    assert sum(1 for part in claimed if part) >= 2  # the claimers really did interleave


def test_concurrent_claims_through_separate_connections_without_transaction(tmp_path, db):
    """A plain autocommit connection (another process, say) is just as safe: one statement."""
    add(db, 50)
    other = sqlite3.connect(db.path, timeout=5, isolation_level=None)
    try:
        got_other = outbox.claim_due(other, T0 + 1, 25, 60)
        with db.transaction() as conn:
            got_ours = outbox.claim_due(conn, T0 + 1, 50, 60)
    finally:
        other.close()
    assert len(got_other) == 25 and len(got_ours) == 25
    assert not {r["id"] for r in got_other} & {r["id"] for r in got_ours}


def test_stats_and_recent(db):
    a, b, c, d = add(db, 4)
    with db.transaction() as conn:
        outbox.claim_due(conn, T0 + 10, 10, 60)
        outbox.mark_sent(conn, a, T0 + 20, "<a@x>")
        outbox.mark_sent(conn, b, T0 + 25, "<b@x>")
        outbox.mark_failed(conn, c, T0 + 20, "550")
        outbox.mark_retry(conn, d, T0 + 20, "451", T0 + 60)
        e = outbox.enqueue(conn, "test", [], {}, now=T0 + 30)
    s = outbox.stats(db.connection(), T0 + 100)
    assert s == {"depth": 2, "retrying": 1, "oldest_pending_age": 100.0, "sent": 2, "failed": 1,
                 "last_sent_at": T0 + 25}
    assert [r["id"] for r in outbox.recent(db.connection(), 3)] == [e, d, c]
    empty = Database(db.path + "-empty")
    empty.migrate()
    try:
        assert outbox.stats(empty.connection(), T0) == {
            "depth": 0, "retrying": 0, "oldest_pending_age": 0.0, "sent": 0, "failed": 0,
            "last_sent_at": None}
    finally:
        empty.close()


def test_extend_leases_only_for_rows_still_held(db):
    a, b, c = add(db, 3)
    with db.transaction() as conn:
        claimed = {r["id"]: r["claimed_until"] for r in outbox.claim_due(conn, T0, 10, 60)}
    assert claimed == dict.fromkeys((a, b, c), T0 + 60)
    # the leases ran out: another sender took one of them (a), and c was sent meanwhile
    with db.transaction() as conn:
        (rival,) = outbox.claim_due(conn, T0 + 61, 1, 60)
        outbox.mark_sent(conn, c, T0 + 61, "<c@tradewatch>")
    assert rival["id"] == a  # oldest first: a is the one re-claimed at T0 + 61
    with db.transaction() as conn:
        kept = outbox.extend_leases(conn, [(a, T0 + 60), (b, T0 + 60), (c, T0 + 60)], T0 + 200)
    assert kept == {b}
    conn = db.connection()
    assert outbox.get(conn, b)["claimed_until"] == T0 + 200
    assert outbox.get(conn, a)["claimed_until"] == T0 + 121  # the rival's lease is untouched
    assert outbox.get(conn, c)["status"] == "sent"


def test_release_gives_back_untried_claims_without_counting_an_attempt(db):
    a, b = add(db, 2)
    with db.transaction() as conn:
        outbox.claim_due(conn, T0, 10, 60)
        assert outbox.release(conn, [(a, T0 + 60), (b, T0 + 999)]) == 1  # b: not our lease value
    conn = db.connection()
    row = outbox.get(conn, a)
    assert row["status"] == "pending" and row["attempts"] == 0 and row["claimed_until"] is None
    assert outbox.get(conn, b)["status"] == "sending"
    with db.transaction() as conn:
        assert [r["id"] for r in outbox.claim_due(conn, T0, 10, 60)] == [a]


def test_any_due_agrees_with_claim_due(db):
    conn = db.connection()
    assert outbox.any_due(conn, T0) is False
    (a,) = add(db, 1, now=T0 + 10)
    assert outbox.any_due(conn, T0) is False  # not yet
    assert outbox.any_due(conn, T0 + 10) is True
    with db.transaction() as tx:
        outbox.claim_due(tx, T0 + 10, 10, 60)
    assert outbox.any_due(conn, T0 + 20) is False  # leased
    assert outbox.any_due(conn, T0 + 70) is True  # lease expired: due again
    with db.transaction() as tx:
        outbox.mark_sent(tx, a, T0 + 20, "<a@tradewatch>")
    assert outbox.any_due(conn, T0 + 9999) is False
