"""The daily report of issue 14's first hour, rendered by the real renderer and looked at in Chromium
at 1280 and 390 px: filesystems at 94-100 %, two emergencies and a dead bot.

Must hold (issue 14.6, 14.18, 14.19): the disk row names its mount; every firing critical or
emergency alert has a recommendation with its evidence; the grade is capped while an emergency
fires; no disk-fill forecast from a few minutes of data; the footer links the bridge's
/help/score page, not a repository path. Screenshots: tests/artifacts/report-first-hour-*.png.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from alert_bridge.reports import data, health_inputs, render
from alert_bridge.store.database import Database
from tests.support.dashboard import chromium
from tests.support.report import CannedPrometheus, add_alert, series
from tradewatch.config import parse_config

pytestmark = [pytest.mark.browser, pytest.mark.integration]

NOW = datetime(2026, 12, 5, 6, 40, tzinfo=UTC)
T = NOW.timestamp()
HOST, BOT = "127.0.0.1:9184", "127.0.0.1:9185"
MOUNTS = {"/": 0.70, "/tmp/tw-a": 0.94, "/tmp/tw-b": 0.98, "/tmp/tw-c": 1.0}


def _fs(mount: str) -> dict[str, str]:
    return {"instance": HOST, "job": "node", "mountpoint": mount, "device": "tmpfs", "fstype": "tmpfs"}


def first_hour_prometheus() -> CannedPrometheus:
    """20 minutes of data in a 24 h window, as 20 minutes after `run-stack.sh --demo`."""
    step = health_inputs.step_for(86400)
    start = T - 4 * step
    pts = 5

    def host(values: list[float], instance: str = HOST) -> list[dict[str, Any]]:
        return [series(instance, start, values, step)]

    return CannedPrometheus(
        ranges={
            "node_cpu_utilisation": host([0.04] * pts), "node_memory_utilisation": host([0.52] * pts),
            "node_filesystem_usage": host([0.70, 0.80, 0.94, 0.98, 1.0]),
            "network_receive": host([190_400.0] * pts),
            "trading_realized_pnl": host([0.78, 3.1, 7.4, 12.06, 12.06], BOT),
            "trading_heartbeat_timestamp_seconds": host([3, 4, 5, 200, 400], BOT),
            "max by (instance) (up)": host([1.0] * pts) + host([1.0] * pts, BOT),
        },
        instants={
            "timestamp(up)": [{"metric": {"instance": i}, "value": [T, str(T - 5)]} for i in (HOST, BOT)],
            "time() - max by (instance) (trading_heartbeat": [{"metric": {"instance": BOT},
                                                                "value": [T, "400"]}],
            # every filesystem is younger than an hour: no forecast, however steep the trend
            " unless (": [{"metric": _fs(m), "value": [T, "1"]} for m in MOUNTS],
            "1 - node_filesystem_avail_bytes": [{"metric": _fs(m), "value": [T, str(u)]}
                                                for m, u in MOUNTS.items()],
        },
    )


def first_hour_alerts(conn: Any) -> None:
    def fs_alert(mount: str, severity: str, pct: int, n: int) -> None:
        limit = "emergency above 97%" if severity == "emergency" else "critical above 90%"
        add_alert(conn, alertname="HostFilesystemFull", severity=severity, instance=HOST, starts=T - 600 + n,
                  labels={"mountpoint": mount, "device": "tmpfs"}, n=n,
                  summary=f"Filesystem {mount} nearly full on {HOST}",
                  description=f"Filesystem {mount} (tmpfs) on {HOST} is {pct}% full ({limit}). "
                              "Dashboard: http://localhost:8080/")
    fs_alert("/tmp/tw-a", "critical", 94, 1)
    fs_alert("/tmp/tw-b", "critical", 98, 2)  # inhibited by its emergency: one recommendation
    fs_alert("/tmp/tw-b", "emergency", 98, 3)
    fs_alert("/tmp/tw-c", "emergency", 100, 4)
    add_alert(conn, alertname="TradingHeartbeatStale", severity="critical", instance=BOT, starts=T - 240,
              labels={"job": "trading-bot"}, summary=f"Trading bot heartbeat stale on {BOT}",
              description=f"The bot on {BOT} last reported a heartbeat 6m 40s ago (critical above 2m).")
    add_alert(conn, alertname="TargetDown", severity="critical", instance=BOT, starts=T - 120,
              labels={"job": "trading-bot"}, summary=f"{BOT} is down")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[data.ReportData, str]:
    tmp = tmp_path_factory.mktemp("report")
    db = Database(tmp / "tw.db")
    db.migrate()
    try:
        first_hour_alerts(db.connection())
        bridge = {"prometheus_url": "http://127.0.0.1:1", "database": str(tmp / "tw.db"),
                  "external_url": "https://tw.example.net"}
        email = {"to": ["ops@example.com"], "from_email": "tw@example.com"}
        config = parse_config({"bridge": bridge, "email": email}, env={})
        d = data.build(config, conn=db.connection(), now=NOW, api=first_hour_prometheus())
    finally:
        db.close()
    return d, render.render_html(d, inline_images=True)


def test_every_urgent_condition_has_a_recommendation_and_the_grade_is_capped(report) -> None:
    d, html = report
    assert d.score.grade == "Poor" and d.score.cap is not None and d.score.cap.severity == "emergency"
    firing = [r for r in d.recommendations if r.kind == "firing_alert"]
    assert [r.subject for r in firing[:2]] == [f"/tmp/tw-b on {HOST}", f"/tmp/tw-c on {HOST}"]
    assert {r.subject for r in firing} == {f"/tmp/tw-a on {HOST}", f"/tmp/tw-b on {HOST}",
                                           f"/tmp/tw-c on {HOST}", BOT}
    assert sum(r.figures["alertname"] == "HostFilesystemFull" for r in firing) == 3  # not 4: inhibited
    bot = {r.figures["alertname"] for r in firing if r.subject == BOT}
    assert bot == {"TradingHeartbeatStale", "TargetDown"}
    assert not [r for r in d.recommendations if r.kind == "disk_fill"]  # 20 minutes of data: no forecast
    assert any(n.startswith(f"no disk-fill forecast for /, /tmp/tw-a, /tmp/tw-b, /tmp/tw-c on {HOST}: less "
                            "than 1h of history") for n in d.notes)
    assert "Disk (fullest: /tmp/tw-c)" in html and "Capped: emergency alert(s) firing" in html
    recommendations = html.split("Recommendations</h2>")[1].split("Alerts in the window")[0]
    assert "100% full (emergency above 97%)" in recommendations and "Dashboard: http" not in recommendations
    assert 'href="https://tw.example.net/help/score"' in html and "docs/report.md" not in html
    text = render.render_text(d)
    assert "How the score and the recommendations work: https://tw.example.net/help/score" in text


def test_report_in_chromium_at_1280_and_390(report, artifacts: Path, tmp_path: Path) -> None:
    _, html = report
    page_file = tmp_path / "report.html"
    page_file.write_text(html)
    with chromium() as browser:
        for width, name in ((1280, "desktop"), (390, "phone")):
            context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB",
                                          timezone_id="UTC")
            page = context.new_page()
            page.goto(page_file.as_uri())
            page.screenshot(path=str(artifacts / f"report-first-hour-{name}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, f"the report scrolls sideways at {width}px by {overflow}px"
            assert page.get_by_text("Capped: emergency alert(s) firing").is_visible()
            page.screenshot(path=str(artifacts / f"report-first-hour-{name}.png"), full_page=True)
            context.close()
