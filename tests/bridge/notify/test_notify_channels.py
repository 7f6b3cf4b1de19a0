"""Push channels through the outbox, in process: real Apprise to a real JSON receiver on loopback."""

from __future__ import annotations

import pytest

from alert_bridge.alerts import ingest as ingest_mod
from alert_bridge.alerts.payload import WebhookPayload
from alert_bridge.notify.sender import OutboxSender
from alert_bridge.store import outbox
from alert_bridge.store.database import Database
from tests.support.bridge import Clock, alert, config_data, webhook
from tradewatch.config import parse_config

pytestmark = pytest.mark.integration

TOKEN = "s3cr3tTokenValue42"


def setup(tmp_path, channels):
    config = parse_config({**config_data(tmp_path), "channels": channels}, env={})
    db = Database(config.bridge.database)
    db.migrate()
    return config, db


def post(db, config, clock, *alerts):
    payload = WebhookPayload.model_validate(webhook(*alerts))
    return ingest_mod.ingest(db, config, payload, b"{}", now=clock(), key="k" * 32)


def rows(db):
    return sorted(outbox.recent(db.connection(), 500), key=lambda r: r["id"])


def test_firing_and_resolved_reach_matching_channels_once(tmp_path, rx):
    config, db = setup(tmp_path, [
        {"name": "crit", "url": rx.url("crit")},
        {"name": "warn", "url": rx.url("warn"), "severities": ["warning"]},
        {"name": "noresolve", "url": rx.url("noresolve"), "send_resolved": False},
    ])
    clock = Clock()
    sender = OutboxSender(config, db, clock=clock)
    post(db, config, clock, alert(device="sda", mountpoint="/data"))
    post(db, config, clock, alert(device="sda", mountpoint="/data"))  # Alertmanager's repeat
    post(db, config, clock, alert("ApiSlow", severity="warning"))
    sender.run_once()
    assert [r["channel"] for r in rows(db)] == [None, "crit", "noresolve", "warn"]
    (crit,) = rx.received("/crit")
    assert crit["title"].startswith("\U0001f534 CRITICAL: HighCpuUsage /data on web-1:9184")
    assert crit["type"] == "failure" and "Acknowledge" in crit["message"]
    assert [m["title"] for m in rx.received("/warn")] == ["\U0001f7e0 WARNING: ApiSlow on web-1:9184"]
    clock.advance(600)
    post(db, config, clock, alert(status="resolved", device="sda", mountpoint="/data"))
    post(db, config, clock, alert("ApiSlow", severity="warning", status="resolved"))
    sender.run_once()
    titles = [m["title"].split(":")[0] for m in rx.received("/crit")]
    assert titles == ["\U0001f534 CRITICAL", "\u2705 RESOLVED"]
    assert "resolved after 20m" in rx.received("/crit")[1]["message"]
    assert len(rx.received("/noresolve")) == 1 and len(rx.received("/warn")) == 2
    assert {r["status"] for r in rows(db)} == {"sent"}


def test_a_service_that_is_down_is_retried_with_backoff_and_delivered_once(tmp_path, rx):
    config, db = setup(tmp_path, [{"name": "phone", "url": rx.url("phone")}])
    clock = Clock()
    sender = OutboxSender(config, db, clock=clock, rng=lambda: 0.5)
    rx.status = 503
    post(db, config, clock, alert())
    sender.run_once()
    phone = next(r for r in rows(db) if r["channel"] == "phone")
    assert phone["status"] == "pending" and phone["attempts"] == 1 and "error=503" in phone["last_error"]
    sender.run_once()  # not due yet: backoff
    assert outbox.get(db.connection(), phone["id"])["attempts"] == 1
    rx.status = 200
    clock.advance(6)
    sender.run_once()
    assert outbox.get(db.connection(), phone["id"])["status"] == "sent"
    assert len(rx.received("/phone")) == 1


def test_a_permanent_answer_fails_at_once_without_the_token_in_the_error(tmp_path, rx):
    config, db = setup(tmp_path, [{"name": "phone", "url": f"json://bot:{TOKEN}@127.0.0.1:{rx.port}/phone"}])
    clock = Clock()
    rx.status = 401
    post(db, config, clock, alert())
    OutboxSender(config, db, clock=clock).run_once()
    phone = next(r for r in rows(db) if r["channel"] == "phone")
    assert phone["status"] == "failed" and "error=401" in phone["last_error"]
    assert TOKEN not in phone["last_error"]


def test_a_channel_removed_from_the_config_fails_its_rows(tmp_path, rx):
    config, db = setup(tmp_path, [{"name": "phone", "url": rx.url("phone")}])
    clock = Clock()
    post(db, config, clock, alert())
    OutboxSender(config.model_copy(update={"channels": []}), db, clock=clock).run_once()
    phone = next(r for r in rows(db) if r["channel"] == "phone")
    assert phone["status"] == "failed" and "not in the config" in phone["last_error"]


def test_the_daily_report_summary_goes_only_to_channels_that_ask(tmp_path, rx):
    from alert_bridge.reports import send

    config, db = setup(tmp_path, [{"name": "phone", "url": rx.url("phone")},
                                  {"name": "desk", "url": rx.url("desk"), "daily_report": True}])
    config = config.model_copy(update={"bridge": config.bridge.model_copy(update={"prometheus_url": ""})})
    clock = Clock()
    result = send.send_report(config, db, kind="manual", now=clock(), holder="test")
    assert result.status == "queued"
    OutboxSender(config, db, clock=clock).run_once()
    (summary,) = rx.received("/desk")
    assert "TradeWatch daily report" in summary["title"] and "Health score" in summary["message"]
    assert rx.received("/phone") == []


def test_watchdog_and_pause_summary_reach_the_channels_that_take_them(tmp_path, rx):
    from alert_bridge.alerts import pause, watchdog
    from alert_bridge.jobs.context import JobContext
    from alert_bridge.store import jobs

    config, db = setup(tmp_path, [{"name": "urgent", "url": rx.url("urgent")},
                                  {"name": "trading", "url": rx.url("trading"), "categories": ["trading"]},
                                  {"name": "warn", "url": rx.url("warn"), "severities": ["warning"]}])
    clock = Clock()
    with db.transaction() as conn:
        jobs.set_state(conn, ingest_mod.WATCHDOG_STATE, repr(clock() - 3600))
    assert watchdog.run(JobContext(config, db, "k" * 32, clock(), None)) == 1
    pause.start(config, db, now=clock(), seconds=3600, comment="deploy", include_emergencies=False,
                created_by="test")
    post(db, config, clock, alert("ApiDown", category="system"))
    clock.advance(60)
    resumed = pause.finish(config, db, now=clock(), expired_only=False)
    assert resumed.held == 1
    OutboxSender(config, db, clock=clock).run_once()
    assert [m["title"].split(":")[0] for m in rx.received("/urgent")] == [
        "\U0001f6a8 PIPELINE BROKEN", "\U0001f4cb SUMMARY"]
    assert [m["title"].split(":")[0] for m in rx.received("/trading")] == ["\U0001f6a8 PIPELINE BROKEN"]
    assert rx.received("/warn") == []


def test_a_hanging_service_costs_one_attempt_per_back_off_not_one_per_row(tmp_path, rx):
    """The service accepts connections and never answers: the first row times out, the other rows
    of that channel are deferred untried, and the email and the other channel go out meanwhile."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(50)
        hang = f"json://127.0.0.1:{silent.getsockname()[1]}/x?cto=1&rto=1"
        config, db = setup(tmp_path, [{"name": "hang", "url": hang}, {"name": "ok", "url": rx.url("ok")}])
        clock = Clock()
        for i in range(5):
            post(db, config, clock, alert(f"Down{i}"))
        OutboxSender(config, db, clock=clock).run_once()
        by = {}
        for r in rows(db):
            by.setdefault(r["channel"] or "email", []).append(r)
        assert {r["status"] for r in by["email"]} == {"sent"} and len(rx.received("/ok")) == 5
        tried = [r for r in by["hang"] if r["attempts"] == 1]
        assert len(tried) == 1 and all(r["status"] == "pending" for r in by["hang"])
        assert all("cooling down" in r["last_error"] for r in by["hang"] if r["attempts"] == 0)
