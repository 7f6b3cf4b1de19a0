"""The one-click acknowledge page and /help/score in Chromium at 1280 and 390 px, served by a real
`tradewatch-bridge` process (issue 14.17 and 14.18).

Must hold: both pages load the dashboard's stylesheet under its Content-Security-Policy (no
console errors, so no CSP violation), give times in words ("2026-12-05 06:24 UTC, 12 min ago",
never an ISO timestamp), do not scroll sideways on a phone, and are in the OpenAPI document.
Screenshots: tests/artifacts/ack-*.png and help-score-*.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.bridge import BridgeProcess, alert, bridge_process, config_data, notifications, webhook
from tests.support.dashboard import chromium
from tests.support.procs import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WIDTHS = ((1280, "desktop"), (390, "phone"))
DASHBOARD_BACKGROUND = "rgb(244, 246, 249)"  # --bg in dashboard.css
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BridgeProcess]:
    tmp = tmp_path_factory.mktemp("ack")
    with bridge_process(tmp, config_data(tmp)) as b:
        yield b


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _ack_path(bridge: BridgeProcess) -> str:
    # 11 min 40 s ago: the page rounds to "12 min ago" for the next 50 s, time enough under load
    started = time.time() - 12 * 60 + 20
    starts_at = datetime.fromtimestamp(started, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    full = alert("HostFilesystemFull", severity="emergency", starts_at=starts_at, instance="127.0.0.1:9184",
                 mountpoint="/tmp/tw-b", device="tmpfs")
    status, _ = bridge.request("POST", "/api/monitoring/webhook", webhook(full))
    assert status == 200
    rows = wait_until(lambda: [n for n in notifications(bridge.db_path) if n["context"].get("ack_url")],
                      timeout=30, what="the emergency notification with its acknowledge link")
    return "/ack/" + rows[0]["context"]["ack_url"].rsplit("/ack/", 1)[1]


def _open(browser: Any, url: str, width: int) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 844}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    return context, page, errors


def _looks_like_the_dashboard(page: Any, width: int) -> None:
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == DASHBOARD_BACKGROUND
    overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, f"the page scrolls sideways at {width}px by {overflow}px"


def test_acknowledge_page_at_1280_and_390(bridge: BridgeProcess, browser: Any, artifacts: Path) -> None:
    path = _ack_path(bridge)
    for width, name in WIDTHS:
        context, page, errors = _open(browser, bridge.url + path, width)
        try:
            body = page.locator("main").inner_text()
            assert "HostFilesystemFull" in body and "/tmp/tw-b" in body and "Emergency" in body
            assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC, 1[23] min ago", body), body
            assert not ISO.search(body), body
            _looks_like_the_dashboard(page, width)
            page.screenshot(path=str(artifacts / f"ack-{name}.png"), full_page=True)
            assert errors == []
        finally:
            context.close()
    context, page, errors = _open(browser, bridge.url + path, 390)
    try:
        page.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_role("status")).to_contain_text("Acknowledged")
        expect(page.get_by_role("status")).to_contain_text("UTC, just now")
        _looks_like_the_dashboard(page, 390)
        page.screenshot(path=str(artifacts / "ack-done-phone.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
    _, listing = bridge.request("GET", "/api/monitoring/alerts")
    assert listing["alerts"][0]["acked_at"] is not None


def test_help_score_page_at_1280_and_390(bridge: BridgeProcess, browser: Any, artifacts: Path) -> None:
    for width, name in WIDTHS:
        context, page, errors = _open(browser, bridge.url + "/help/score", width)
        try:
            body = page.locator("main").inner_text()
            assert "at most 59.9 (Poor)" in body and "at least 1h of history" in body
            _looks_like_the_dashboard(page, width)
            page.screenshot(path=str(artifacts / f"help-score-{name}.png"), full_page=True)
            assert errors == []
        finally:
            context.close()


def test_both_pages_are_in_the_api_document(bridge: BridgeProcess) -> None:
    _, doc = bridge.request("GET", "/api/openapi.json")
    assert {"get", "post"} <= set(doc["paths"]["/ack/{token}"])
    assert "get" in doc["paths"]["/help/score"]
