"""The daily report end to end: real Prometheus scraping the real exporter (and the demo bot),
the report built from it, sent through the real outbox sender to aiosmtpd, once per day."""

from __future__ import annotations

import email
import email.policy
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from alert_bridge.notify.sender import OutboxSender
from alert_bridge.reports import data as report_data
from alert_bridge.reports import render, send
from alert_bridge.store import reports as store
from alert_bridge.store.database import Database
from tests.support.procs import binary, free_port, running, wait_until
from tests.support.prom import prometheus
from tests.support.report import add_alert
from tests.support.smtp import smtp_server
from tradewatch.config import parse_config

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
WINDOW = 15  # seconds of real data the report covers


def _rule_files() -> list[str]:
    return sorted(str(p) for p in (REPO / "prometheus" / "rules").glob("*.yml"))


@pytest.fixture
def stack(tmp_path):
    exp_port, bot_port = free_port(), free_port()
    exporter_args = [binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{exp_port}"]
    bot_args = [sys.executable, "-m", "exporter.demo_bot", "--listen", f"127.0.0.1:{bot_port}",
                "--seed", "7", "--reject-ratio", "0.05"]
    prom_cfg = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": _rule_files(),
        "scrape_configs": [
            {"job_name": "tradewatch-exporter", "static_configs": [{"targets": [f"127.0.0.1:{exp_port}"]}]},
            {"job_name": "trading-bot", "static_configs": [{"targets": [f"127.0.0.1:{bot_port}"]}]},
        ],
    }
    exp_url, bot_url = f"http://127.0.0.1:{exp_port}/metrics", f"http://127.0.0.1:{bot_port}/metrics"
    with running(exporter_args, tmp_path / "exporter.log", ready_url=exp_url), \
            running(bot_args, tmp_path / "bot.log", ready_url=bot_url), \
            prometheus(tmp_path / "prom", prom_cfg) as prom:
        yield prom, f"127.0.0.1:{exp_port}", f"127.0.0.1:{bot_port}"


def test_report_from_real_prometheus_sent_once(tmp_path, stack):
    prom, exporter_instance, bot_instance = stack

    def enough_data():
        got = prom.query(f'count_over_time(up{{instance="{exporter_instance}"}}[{WINDOW}s])')
        return got and float(got[0]["value"][1]) >= WINDOW - 2

    wait_until(enough_data, timeout=WINDOW + 20, interval=0.5, what=f"{WINDOW}s of scrapes")

    with smtp_server() as smtp:
        now = datetime.now(UTC)
        if now.strftime("%H:%M:%S") >= "23:59:50":  # the sends below must fall on the same day
            time.sleep(12)
            now = datetime.now(UTC)
        config = parse_config({
            "bridge": {"prometheus_url": prom.url, "database": str(tmp_path / "tw.db")},
            # the send time is the start of this minute: due now
            "intervals": {"daily_report": now.strftime("%H:%M")},
            "report": {"window": f"{WINDOW}s"},
            "email": {"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none",
                      "from_email": "tw@example.com", "to": ["ops@example.com"]},
        }, env={})
        db = Database(config.bridge.database)
        try:
            db.migrate()
            with db.transaction() as conn:
                # an install older than today's send time (a brand-new one would wait for tomorrow)
                conn.execute("UPDATE schema_migrations SET applied_at = applied_at - 86400")
                add_alert(conn, alertname="HostCpuHigh", severity="warning", instance=exporter_instance,
                          starts=time.time() - 10, ends=time.time() - 4, summary="CPU <busy> & hot")

            # 1. the report has real numbers for this host
            d = report_data.build(config, conn=db.connection(), now=datetime.now(UTC))
            assert d.collected.prometheus_ok, d.gaps
            if _rule_files():  # the recording rules answered: no fallback to raw node_* series
                assert not [n for n in d.notes if n.split(":")[0] in ("cpu", "memory", "disk")], d.notes
            host = next(h for h in d.hosts if h["instance"] == exporter_instance)
            rows = {r["key"]: r for r in host["rows"]}
            for key in ("cpu", "memory", "disk", "network"):
                assert rows[key]["raw"] is not None, (key, d.gaps)
            vm = psutil.virtual_memory()
            assert rows["memory"]["raw"]["current"] == pytest.approx(1 - vm.available / vm.total, abs=0.1)
            assert 0.0 <= rows["cpu"]["raw"]["avg"] <= 1.0
            assert d.score.components["performance"].points is not None
            assert d.score.components["integrity"].points is not None
            assert d.score.components["trading"].points is not None  # the demo bot's metrics
            assert d.pnl is not None
            bot = d.score.hosts[bot_instance]
            assert bot.components["trading"].points is not None
            assert bot.components["performance"].points is None  # no host metrics from the bot
            assert d.alert_counts["warning"] == 1

            # 2. the scheduled send goes out through the real sender, charts resolvable by Content-ID
            first = send.scheduled_tick(config, db, now=time.time(), started_at=time.time() - 3600)
            assert first is not None and first.status == "queued", first
            sender = OutboxSender(config, db)
            assert sender.run_once() == 1
            (msg,) = smtp.mailbox.wait_for(1)
            parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
            assert parsed["X-TradeWatch-Kind"] == "report"
            assert parsed.get_content_type() == "multipart/alternative"
            html = parsed.get_body(("html",)).get_content()
            text = parsed.get_body(("plain",)).get_content()
            cids = set(re.findall(r'src="cid:([^"]+)"', html))
            images = {p["Content-ID"].strip("<>"): p.get_content() for p in parsed.walk()
                      if p.get_content_maintype() == "image"}
            assert len(cids) >= 4 and cids <= set(images), (cids, set(images))
            assert all(png.startswith(b"\x89PNG") and len(png) < 20000 for png in images.values())
            assert exporter_instance in html and exporter_instance in text
            assert "CPU &lt;busy&gt; &amp; hot" in html

            # 3. a second trigger the same day sends nothing
            assert send.scheduled_tick(config, db, now=time.time(), started_at=time.time() - 3600) is None
            assert sender.run_once() == 0
            with db.transaction() as conn:
                assert store.claim_scheduled(conn, first.report_date, now=time.time(), holder="x") is None
                kinds = [r["kind"] for r in store.runs(conn, first.report_date)]
            assert kinds == ["scheduled"]

            # 4. a manual send still goes out and does not use up anything
            manual = send.send_report(config, db, kind="manual", holder="test")
            assert manual.status == "queued"
            assert sender.run_once() == 1
            smtp.mailbox.wait_for(2)
            assert len(smtp.mailbox.messages) == 2
            with db.transaction() as conn:
                assert [p["report_date"] for p in store.trend(conn, "2000-01-01", "2999-01-01")] \
                    == [first.report_date]
            assert render.subject(d).startswith("[TradeWatch] Daily report")
        finally:
            db.close()


def test_bridge_workers_send_the_scheduled_report_once(tmp_path):
    """The job hooked into the bridge's workers sends today's report by itself, and a restarted
    bridge the same day does not send it again (Prometheus is down here: the report says so)."""
    from alert_bridge.jobs.schedule import build_jobs
    from alert_bridge.jobs.workers import Workers
    from alert_bridge.web.app import create_app

    with smtp_server() as smtp:
        now = datetime.now(UTC)
        if now.strftime("%H:%M:%S") >= "23:59:40":
            time.sleep(22)
            now = datetime.now(UTC)
        config = parse_config({
            "bridge": {"prometheus_url": f"http://127.0.0.1:{free_port()}",
                       "database": str(tmp_path / "tw.db")},
            "intervals": {"daily_report": now.strftime("%H:%M")},
            "email": {"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none",
                      "from_email": "tw@example.com", "to": ["ops@example.com"]},
        }, env={})
        db = Database(config.bridge.database)
        db.migrate()
        with db.transaction() as conn:
            conn.execute("UPDATE schema_migrations SET applied_at = applied_at - 86400")
        app = create_app(config, start_workers=True, db=db)
        state = app.extensions["tradewatch"]
        try:
            (msg,) = smtp.mailbox.wait_for(1, timeout=30)
            assert msg["X-TradeWatch-Kind"] == "report"
            body = msg.get_body(("plain",)).get_content()
            assert "could not be queried" in body
        finally:
            state.workers.stop()
        # a restarted bridge (new workers, same database) runs the job again: nothing is sent
        again = Workers(config, db, build_jobs(config), sender=state.sender)
        job = next(j for j in again.jobs if j.name == "daily_report")
        assert again.run_job(job, time.time()) == 0
        assert state.sender.run_once() == 0
        assert len(smtp.mailbox.messages) == 1
        runs = store.runs(db.connection())
        # "catch_up" when this test process started after the send time (the start of this minute)
        assert len(runs) == 1 and runs[0]["kind"] in ("scheduled", "catch_up")
        db.close()
