"""Nobody needs Alertmanager's UI (Debian's has none; issue 14.4 and 14.7), in Chromium against a
real Alertmanager and bridge: while paused the dashboard lists the critical alert the silence
holds; it lists the silences (who, why, until when) and expires one; the alert history page
searches. Screenshots at 1280 and 390 px stay in tests/artifacts/ (dashboard-paused-*.png,
history-*.png); neither page is wider than the window.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.bridge import BridgeProcess, alert, bridge_process, config_data, webhook
from tests.support.dashboard import chromium_page
from tests.support.procs import free_port, wait_until
from tests.support.prom import Alertmanager, alertmanager

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WIDE = "() => document.documentElement.scrollWidth - window.innerWidth"


def _silence(am: Alertmanager, created_by: str, comment: str, **labels: str) -> str:
    now = datetime.now(UTC)
    matchers = [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in labels.items()]
    body = {"matchers": matchers,
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=3)).isoformat(),
            "createdBy": created_by, "comment": comment}
    req = urllib.request.Request(f"{am.url}/api/v2/silences", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(json.load(resp)["silenceID"])


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Alertmanager, BridgeProcess]]:
    tmp = tmp_path_factory.mktemp("silences")
    port = free_port()
    am_cfg = {"route": {"receiver": "bridge", "group_by": ["alertname", "instance"], "group_wait": "0s",
                        "group_interval": "1s", "repeat_interval": "1h"},
              "receivers": [{"name": "bridge", "webhook_configs": [
                  {"url": f"http://127.0.0.1:{port}/api/monitoring/webhook", "send_resolved": True}]}]}
    with alertmanager(tmp / "am", am_cfg) as am:
        data = config_data(tmp, bridge={"alertmanager_url": am.url}, dashboard={"refresh_seconds": 2})
        with bridge_process(tmp, data, port=port) as bridge:  # no token: loopback may act
            yield am, bridge


@pytest.fixture(scope="module")
def page(parts: tuple[Alertmanager, BridgeProcess]) -> Iterator[Any]:
    with chromium_page() as p:
        yield p


def test_paused_dashboard_shows_held_alerts_and_silences(
        page: Any, parts: tuple[Alertmanager, BridgeProcess], artifacts: Path) -> None:
    am, bridge = parts
    other = _silence(am, "alice", "database migration", instance="db-9:9184")
    status, body = bridge.request("POST", "/api/monitoring/stop",
                                  {"duration": "2h", "comment": "kernel upgrade"})
    assert status == 200, body
    pause_silence = body["paused"]["silence_id"]
    labels = {"alertname": "HostFilesystemFull", "instance": "10.0.0.5:9184", "nodename": "trader-1",
              "severity": "critical", "category": "system", "mountpoint": "/data"}
    am.post_alerts([{"labels": labels, "annotations": {"summary": "/data is 95% full"},
                     "startsAt": (datetime.now(UTC) - timedelta(minutes=2)).isoformat()}])
    wait_until(lambda: bridge.request("GET", "/api/monitoring/alerts")[1]["held"], 20,
               what="the alert the silence holds")
    # the pause's own silence cannot be expired alone: Resume ends it (with the summary)
    status, body = bridge.request("POST", f"/api/monitoring/silences/{pause_silence}/expire")
    assert status == 409 and "resume" in body["detail"]
    assert bridge.request("POST", "/api/monitoring/silences/no-such-silence/expire")[0] == 404

    page.goto(bridge.url + "/")
    row = page.locator("#alerts-body tr.held-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("HostFilesystemFull")
    expect(row).to_contain_text("trader-1")
    expect(row).to_contain_text("Held by the pause")
    expect(page.locator('[data-count="critical"]')).to_have_text("1")
    expect(page.locator("#urgent-text")).to_contain_text("1 held by the pause")
    items = page.locator("#silences-body li.silence")
    expect(items).to_have_count(2)
    mine = page.locator(f'li.silence[data-silence-id="{pause_silence}"]')
    expect(mine).to_contain_text("kernel upgrade")
    expect(mine).to_contain_text("The pause: Resume ends it")
    expect(mine.locator("button")).to_have_count(0)
    alice = page.locator(f'li.silence[data-silence-id="{other}"]')
    expect(alice).to_contain_text("database migration")
    expect(alice).to_contain_text("alice")
    expect(alice).to_contain_text('instance="db-9:9184"')
    page.screenshot(path=str(artifacts / "dashboard-paused-desktop.png"), full_page=True,
                    animations="disabled")
    assert page.evaluate(WIDE) <= 0
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "dashboard-paused-phone.png"), full_page=True, animations="disabled")
    assert page.evaluate(WIDE) <= 0
    # on a phone a silence is stacked (the action below its text), so the comment is not squeezed
    # into a narrow column beside the action
    text_bottom, action_top = page.evaluate("""() => {
        const [text, action] = document.querySelector('.silence').children;
        return [text.getBoundingClientRect().bottom, action.getBoundingClientRect().top]; }""")
    assert action_top >= text_bottom, (text_bottom, action_top)
    page.set_viewport_size({"width": 1280, "height": 900})

    alice.get_by_role("button", name="Expire").click()
    expect(page.locator("#silence-result")).to_have_text("Silence expired.")
    expect(items).to_have_count(1)
    states = {s["id"]: s["status"]["state"] for s in am.get("silences")}
    assert states[other] == "expired" and states[pause_silence] == "active"


def test_history_page_searches(page: Any, parts: tuple[Alertmanager, BridgeProcess], artifacts: Path) -> None:
    _, bridge = parts
    long_mount = "/tmp/pytest-of-root/orders-archive-replica-with-a-long-name"
    for a in (alert("HostFilesystemFull", severity="emergency", instance="10.0.0.5:9184",
                    nodename="trader-1", mountpoint=long_mount, starts_at="2026-12-04T06:00:00Z"),
              alert("TradingHeartbeatStale", instance="127.0.0.1:9185", starts_at="2026-12-04T07:00:00Z")):
        assert bridge.request("POST", "/api/monitoring/webhook", webhook(a))[0] == 200
    page.goto(bridge.url + "/history")
    expect(page.locator("table.history tbody tr")).to_have_count(2)  # the held one never reached the bridge
    page.get_by_label("Host or address contains").fill("trader")
    page.get_by_label("Severity").select_option("emergency")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"host=trader.*severity=emergency"))
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("trader-1")
    expect(rows).to_contain_text(long_mount)
    page.screenshot(path=str(artifacts / "history-desktop.png"), full_page=True, animations="disabled")
    assert page.evaluate(WIDE) <= 0
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "history-phone.png"), full_page=True, animations="disabled")
    assert page.evaluate(WIDE) <= 0
