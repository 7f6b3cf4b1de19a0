"""Background jobs (emergency repeat, watchdog, pause expiry, retention) and the leader lease."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from alert_bridge.jobs.schedule import Job, build_jobs
from alert_bridge.jobs.workers import LEASE_NAME, Workers
from alert_bridge.store import jobs as jobs_sql
from alert_bridge.store.database import Database
from tests.support.bridge import alert, alert_rows, make_config, notifications, webhook

HOOK = "/api/monitoring/webhook"


def job(config, name: str) -> Job:
    return next(j for j in build_jobs(config) if j.name == name)


def kinds(app) -> list[str]:
    return [n["kind"] for n in notifications(app.extensions["tradewatch"].db.path)]


def test_one_function_lists_every_background_job(config):
    assert [(j.name, j.interval) for j in build_jobs(config)] == [
        ("emergency_repeat", 30.0), ("watchdog", 30.0), ("pause_expiry", 1.0), ("retention", 3600.0),
        ("wal_checkpoint", 2.0), ("daily_report", 60.0),
    ]


def test_the_worker_process_imports_no_web_app() -> None:
    """The child process runs the jobs without Flask: what it imports to build them is all it needs."""
    code = ("import sys\n"
            "from alert_bridge.jobs import process, schedule, workers\n"
            "from alert_bridge.notify import sender\n"
            "from alert_bridge.store import database\n"
            "print(sorted(m for m in sys.modules if m == 'flask' or m.startswith('alert_bridge.web.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "['alert_bridge.web.signing']"


def test_emergency_repeats_every_n_minutes_until_acked(app, client, clock, config, workers):
    repeat = job(config, "emergency_repeat")
    client.post(HOOK, json=webhook(alert("DiskFull", severity="emergency")))
    assert kinds(app) == ["firing"]
    clock.advance(14 * 60)
    assert workers.run_job(repeat, clock.now) == 0  # not due before 15 minutes
    clock.advance(60)
    assert workers.run_job(repeat, clock.now) == 1
    assert workers.run_job(repeat, clock.now) == 0  # once per period
    clock.advance(15 * 60)
    assert workers.run_job(repeat, clock.now) == 1
    notes = notifications(app.extensions["tradewatch"].db.path)
    assert [n["kind"] for n in notes] == ["firing", "emergency_repeat", "emergency_repeat"]
    assert [n["context"]["repeat"] for n in notes] == [0, 1, 2]
    assert notes[-1]["recipients"] == ["ops@example.com", "boss@example.com"]
    alert_id = notes[0]["alert_id"]
    client.post(f"/api/monitoring/alerts/{alert_id}/ack")
    clock.advance(60 * 60)
    assert workers.run_job(repeat, clock.now) == 0
    assert len(kinds(app)) == 3


def test_emergency_stops_repeating_when_resolved(app, client, clock, config, workers):
    client.post(HOOK, json=webhook(alert("DiskFull", severity="emergency")))
    client.post(HOOK, json=webhook(alert("DiskFull", severity="emergency", status="resolved")))
    clock.advance(3600)
    assert workers.run_job(job(config, "emergency_repeat"), clock.now) == 0
    assert kinds(app) == ["firing", "resolved"]


def test_emergency_held_by_a_pause_is_sent_after_it(app, client, clock, config, workers):
    client.post("/api/monitoring/stop", json={"duration": "10m", "include_emergencies": True})
    client.post(HOOK, json=webhook(alert("DiskFull", severity="emergency")))
    assert workers.run_job(job(config, "emergency_repeat"), clock.now) == 0
    clock.advance(11 * 60)
    assert workers.run_job(job(config, "pause_expiry"), clock.now) == 1  # summary of the held alert
    assert workers.run_job(job(config, "emergency_repeat"), clock.now) == 1
    assert kinds(app) == ["pause_summary", "emergency_repeat"]


def test_pause_expiry_ends_the_pause_and_summarises(app, client, clock, config, workers):
    client.post("/api/monitoring/stop", json={"duration": "5m", "comment": "deploy"})
    client.post(HOOK, json=webhook(alert("A"), alert("B")))
    clock.advance(4 * 60)
    assert workers.run_job(job(config, "pause_expiry"), clock.now) == 0
    assert client.get("/api/monitoring/alerts").json["paused"] is not None
    clock.advance(2 * 60)
    assert workers.run_job(job(config, "pause_expiry"), clock.now) == 1
    assert client.get("/api/monitoring/alerts").json["paused"] is None
    [summary] = notifications(app.extensions["tradewatch"].db.path)
    assert summary["kind"] == "pause_summary" and len(summary["context"]["held"]) == 2
    # after the pause, critical alerts email at once again
    client.post(HOOK, json=webhook(alert("C")))
    assert kinds(app) == ["pause_summary", "firing"]


def test_watchdog_emails_once_per_outage_after_first_seen(client, clock, config, workers):
    assert config.bridge.watchdog_timeout == 300  # the default, 5m
    dog = job(config, "watchdog")
    clock.advance(3600)
    assert workers.run_job(dog, clock.now) == 0  # never seen: no alarm (documented choice)
    client.post(HOOK, json=webhook(alert("Watchdog", severity="info")))
    clock.advance(4 * 60)
    assert workers.run_job(dog, clock.now) == 0
    clock.advance(2 * 60)
    assert workers.run_job(dog, clock.now) == 1
    clock.advance(30 * 60)
    assert workers.run_job(dog, clock.now) == 0  # same outage
    [note] = notifications(config.bridge.database)
    assert note["kind"] == "watchdog" and note["context"]["timeout_seconds"] == 300
    assert note["context"]["last_seen"].endswith("Z")
    # back, then gone again: a second outage, a second email
    client.post(HOOK, json=webhook(alert("Watchdog", severity="info", starts_at="2026-11-26T00:00:00Z")))
    clock.advance(6 * 60)
    assert workers.run_job(dog, clock.now) == 1


def test_watchdog_does_not_call_a_restart_an_outage(client, clock, config, app):
    """The whole stack stopped for an hour: the bridge restarts with an hour-old heartbeat and
    gives Prometheus and Alertmanager `bridge.watchdog_timeout` to send the next one before it
    emails "pipeline broken"."""
    client.post(HOOK, json=webhook(alert("Watchdog", severity="info")))
    clock.advance(3600)  # stopped
    state = app.extensions["tradewatch"]
    restarted = Workers(state.config, state.db, build_jobs(state.config), clock=clock)
    dog = job(config, "watchdog")
    assert restarted.run_job(dog, clock.now) == 0
    clock.advance(4 * 60)
    assert restarted.run_job(dog, clock.now) == 0
    assert notifications(config.bridge.database) == []
    clock.advance(2 * 60)  # still no Watchdog, the timeout after the start passed: that is an outage
    assert restarted.run_job(dog, clock.now) == 1


@pytest.mark.parametrize("config", [{"retention": {"alerts_days": 2}}], indirect=True)
def test_retention_deletes_old_resolved_alerts_only(client, clock, config, workers):
    client.post(HOOK, json=webhook(alert("Old", status="resolved"), alert("StillFiring")))
    clock.advance(86400)
    client.post(HOOK, json=webhook(alert("Recent", status="resolved")))
    clock.advance(1.5 * 86400)
    assert workers.run_job(job(config, "retention"), clock.now) == 1
    assert sorted(r["alertname"] for r in alert_rows(config.bridge.database)) == ["Recent", "StillFiring"]


def test_lease_is_held_by_one_process_and_taken_over_after_expiry(db):
    with db.transaction() as conn:
        assert jobs_sql.acquire_lease(conn, LEASE_NAME, "a", 100.0, 15)
        assert not jobs_sql.acquire_lease(conn, LEASE_NAME, "b", 110.0, 15)
        assert jobs_sql.acquire_lease(conn, LEASE_NAME, "a", 110.0, 15)  # renew
        assert not jobs_sql.acquire_lease(conn, LEASE_NAME, "b", 124.0, 15)
        assert jobs_sql.acquire_lease(conn, LEASE_NAME, "b", 125.0, 15)  # a's lease expired
        assert jobs_sql.lease_holder(conn, LEASE_NAME, 126.0) == "b"


def test_two_worker_sets_run_each_job_once(tmp_path):
    """Two 'processes' (Workers on separate connections) share a database: only one runs jobs."""
    cfg = make_config(tmp_path, bridge={"worker_lease": "1s"})
    runs: list[str] = []
    lock = threading.Lock()

    def count(ctx):
        with lock:
            runs.append(threading.current_thread().name)
        return 0

    dbs = [Database(cfg.bridge.database), Database(cfg.bridge.database)]
    dbs[0].migrate()
    sets = [Workers(cfg, db, [Job("count", 0.05, count)], tick=0.02) for db in dbs]
    for w in sets:
        w.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(runs) < 10:
            time.sleep(0.02)
        leaders = [w for w in sets if w.leading]
        assert len(leaders) == 1
        leader, follower = leaders[0], next(w for w in sets if w is not leaders[0])
        # the leader stops (its lease is released): the other takes over
        leader.stop()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not follower.leading:
            time.sleep(0.02)
        assert follower.leading
    finally:
        for w in sets:
            w.stop()
        for db in dbs:
            db.close()
    assert len(runs) >= 10
