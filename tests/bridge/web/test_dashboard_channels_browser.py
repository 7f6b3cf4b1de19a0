"""The dashboard's Channels section in real Chromium: listed with last delivery, "Send test" works,
recent notifications name their channel, no secret on the page; screenshots at 1280 and 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.bridge import alert, bridge_process, config_data, webhook
from tests.support.dashboard import chromium
from tests.support.procs import free_port
from tests.support.receiver import receiver

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SECRET = "Br0wserSecretToken77"


def test_channels_listed_tested_and_shown_at_desktop_and_phone_width(tmp_path: Path, artifacts: Path) -> None:
    with receiver() as rx:
        port = free_port()
        data = config_data(tmp_path, bridge={"external_url": f"http://127.0.0.1:{port}"})
        data["channels"] = [
            {"name": "phone", "url": f"json://bot:{SECRET}@127.0.0.1:{rx.port}/phone"},
            {"name": "trading-desk", "url": rx.url("desk"), "severities": ["warning", "critical"],
             "categories": ["trading"], "send_resolved": False, "daily_report": True},
        ]
        with bridge_process(tmp_path, data, port=port) as b, chromium() as browser:
            status, _ = b.request("POST", "/api/monitoring/webhook", webhook(alert(mountpoint="/data")))
            assert status == 200
            rx.wait_for(1, "/phone")
            errors: list[str] = []
            for width, name in ((1280, "desktop"), (390, "phone")):
                ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB",
                                          timezone_id="UTC")
                page: Any = ctx.new_page()
                page.set_default_timeout(15_000)
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.goto(b.url + "/")
                section = page.locator(".channels-section")
                assert section.locator("tr[data-channel]").count() == 2
                row = section.locator('tr[data-channel="phone"]')
                assert "sent" in row.inner_text() and "firing" in row.inner_text()
                page.locator('button.channel-test[data-channel="trading-desk"]').click()
                expect(page.locator("#channel-result")).to_contain_text("delivered to trading-desk")
                last = section.locator('tr[data-channel="trading-desk"] td[data-label="Last"]')
                expect(last).to_contain_text("test")
                assert "phone" in page.locator(".notifications-section").inner_text()
                assert SECRET not in page.content()
                page.screenshot(path=str(artifacts / f"dashboard-channels-{name}.png"), full_page=True,
                                animations="disabled")
                ctx.close()
            assert errors == []
            # (at 09:00 UTC the daily report's summary goes there too: daily_report is on)
            assert sum("TEST" in m["title"] for m in rx.received("/desk")) == 2
