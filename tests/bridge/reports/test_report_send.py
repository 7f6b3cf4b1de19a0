"""The scheduler job against a real database: brand-new install, catch-up, once a day, manual."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from alert_bridge.reports import send
from alert_bridge.store import reports as store
from alert_bridge.store.database import Database


def at(*a: int) -> float:
    return datetime(*a, tzinfo=UTC).timestamp()


def backdate(db: Database, when: float) -> None:
    with db.transaction() as conn:
        conn.execute("UPDATE schema_migrations SET applied_at = ?", (when,))


def test_brand_new_install_sends_no_catch_up(config, db):
    backdate(db, at(2026, 7, 1, 10))  # created after 09:00 BST (08:00 UTC) that day
    assert send.scheduled_tick(config, db, now=at(2026, 7, 1, 10, 1), started_at=at(2026, 7, 1, 10)) is None
    # the next day it sends at 09:00 London time (08:00 UTC in summer), not before
    assert send.scheduled_tick(config, db, now=at(2026, 7, 2, 7, 59), started_at=at(2026, 7, 1, 10)) is None
    r = send.scheduled_tick(config, db, now=at(2026, 7, 2, 8, 0), started_at=at(2026, 7, 1, 10))
    assert r is not None and r.status == "queued" and r.kind == "scheduled" and r.report_date == "2026-07-02"


def test_catch_up_once_after_downtime_then_nothing(config, db):
    backdate(db, at(2026, 1, 1))
    started = at(2026, 7, 2, 13)  # the bridge was down at 08:00 UTC and came back at 13:00
    r = send.scheduled_tick(config, db, now=started + 1, started_at=started)
    assert r is not None and r.kind == "catch_up" and r.status == "queued"
    assert send.scheduled_tick(config, db, now=started + 61, started_at=started) is None
    # a restart later the same day does not send again either
    assert send.scheduled_tick(config, db, now=started + 3600, started_at=started + 3500) is None
    runs = store.runs(db.connection(), "2026-07-02")
    assert [r["kind"] for r in runs] == ["catch_up"]


def test_manual_send_leaves_the_day_to_the_schedule(config, db):
    backdate(db, at(2026, 1, 1))
    m = send.send_report(config, db, kind="manual", now=at(2026, 7, 2, 7), holder="cli")
    assert m.status == "queued" and m.kind == "manual"
    r = send.scheduled_tick(config, db, now=at(2026, 7, 2, 8, 0, 30), started_at=at(2026, 7, 1))
    assert r is not None and r.kind == "scheduled"


def test_history_written_and_pruned(config, db):
    backdate(db, at(2025, 1, 1))
    with db.transaction() as conn:
        store.save_history(conn, report_date="2026-01-01", run_id=None, kind="scheduled", now=1.0,
                           window_start=0, window_end=1, score=50.0, grade="Poor", components={},
                           hosts={}, alert_counts={}, pnl=None)
    r = send.send_report(config, db, kind="manual", now=at(2026, 7, 2, 7), holder="t")
    assert r.status == "queued"
    dates = [h["report_date"] for h in store.history(db.connection())]
    assert dates == ["2026-07-02"]  # 2026-01-01 is older than retention.trading_days (90)


def test_a_failing_render_frees_the_slot(config, db, monkeypatch):
    backdate(db, at(2026, 1, 1))

    def boom(*a, **k):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(send.report_data, "build", boom)
    now = at(2026, 7, 2, 8, 1)
    r = send.scheduled_tick(config, db, now=now, started_at=at(2026, 7, 1))
    assert r is not None and r.status == "failed" and "template exploded" in r.detail
    assert not store.scheduled_sent(db.connection(), "2026-07-02")
    monkeypatch.undo()
    r = send.scheduled_tick(config, db, now=now + 60, started_at=at(2026, 7, 1))
    assert r is not None and r.status == "queued"


def test_health_state_refresh(config, db):
    state = send.refresh_health_state(config, db, now=time.time(), force=True)
    assert state["score"]["components"]["alerts"]["points"] == 25.0
    again = send.refresh_health_state(config, db, now=state["at"] + 10)
    assert again == state  # cached for HEALTH_REFRESH_SECONDS
    assert timedelta(seconds=send.HEALTH_REFRESH_SECONDS) == timedelta(minutes=5)
