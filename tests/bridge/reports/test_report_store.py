"""Report claims and history: one scheduled report per local date, manual sends, retention."""

from __future__ import annotations

import threading

from alert_bridge.store import reports
from alert_bridge.store.database import Database


def test_two_concurrent_claimers_get_exactly_one(tmp_path, db):
    # separate Database objects: separate connections, as two web workers would have
    others = [Database(db.path) for _ in range(4)]
    barrier = threading.Barrier(len(others))
    results: list[int | None] = []
    lock = threading.Lock()

    def claim(d: Database, n: int) -> None:
        barrier.wait()
        with d.transaction() as conn:
            got = reports.claim_scheduled(conn, "2026-11-25", now=1000.0 + n, holder=f"w{n}")
        with lock:
            results.append(got)

    threads = [threading.Thread(target=claim, args=(d, n)) for n, d in enumerate(others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    for d in others:
        d.close()
    winners = [r for r in results if r is not None]
    assert len(results) == 4 and len(winners) == 1
    with db.transaction() as conn:
        assert reports.scheduled_sent(conn, "2026-11-25")
        assert reports.claim_scheduled(conn, "2026-11-25", now=1001.0, holder="late") is None
        # another day is its own slot
        assert reports.claim_scheduled(conn, "2026-11-26", now=1002.0, holder="w") is not None


def test_manual_does_not_use_up_the_day(db):
    with db.transaction() as conn:
        m1 = reports.record_manual(conn, "2026-11-25", now=1.0, holder="api")
        m2 = reports.record_manual(conn, "2026-11-25", now=2.0, holder="cli")
        assert m1 != m2
        assert not reports.scheduled_sent(conn, "2026-11-25")
        run = reports.claim_scheduled(conn, "2026-11-25", now=3.0, holder="sched")
        assert run is not None
        kinds = sorted(r["kind"] for r in reports.runs(conn, "2026-11-25"))
    assert kinds == ["manual", "manual", "scheduled"]


def test_stale_claim_taken_over_but_enqueued_never(db):
    with db.transaction() as conn:
        run = reports.claim_scheduled(conn, "2026-11-25", now=1000.0, holder="dead")
        assert reports.claim_scheduled(conn, "2026-11-25", now=1100.0, holder="b") is None
        assert reports.claim_scheduled(conn, "2026-11-25", now=1700.0, holder="b") == run
        reports.mark_enqueued(conn, run, now=1701.0, notification_id=7)
        assert reports.claim_scheduled(conn, "2026-11-25", now=99999.0, holder="c") is None


def test_failed_render_frees_the_slot_a_few_times(db):
    with db.transaction() as conn:
        for n in range(3):
            run = reports.claim_scheduled(conn, "2026-11-25", now=float(n), holder="w")
            assert run is not None
            reports.mark_failed(conn, run, now=float(n), error="boom")
            assert not reports.scheduled_sent(conn, "2026-11-25")
        # three failures: give up for the day instead of retrying every minute forever
        assert reports.claim_scheduled(conn, "2026-11-25", now=10.0, holder="w") is None


def _hist(conn, day: str, score: float, pnl: float | None, n: int = 0) -> None:
    reports.save_history(
        conn, report_date=day, run_id=None, kind="scheduled", now=float(n), window_start=0, window_end=1,
        score=score, grade="Good", components={"performance": 30.0, "trading": None},
        hosts={"h": {"cpu_avg": 0.1}}, alert_counts={"critical": 1}, pnl=pnl,
    )


def test_history_trend_and_retention(db):
    with db.transaction() as conn:
        for day in range(1, 11):
            _hist(conn, f"2026-11-{day:02d}", 80.0 + day, day * 10.0, n=day)
        _hist(conn, "2026-11-10", 50.0, -5.0, n=99)  # a later manual report of the same date wins
        t = reports.trend(conn, "2026-11-04", "2026-11-10")
        assert [p["report_date"] for p in t] == [f"2026-11-{d:02d}" for d in range(4, 11)]
        assert t[-1]["score"] == 50.0 and t[-1]["pnl"] == -5.0
        assert t[0]["components"] == {"performance": 30.0, "trading": None}
        assert reports.prune_history(conn, "2026-11-05") == 4
        assert reports.trend(conn, "2026-01-01", "2026-12-31")[0]["report_date"] == "2026-11-05"


def test_db_created_at_is_first_migration(db):
    conn = db.connection()
    created = reports.db_created_at(conn)
    assert created is not None and created > 1.7e9
