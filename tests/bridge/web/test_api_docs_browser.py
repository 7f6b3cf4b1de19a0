"""/api/docs in headless Chromium against a real bridge: Swagger UI from the bridge itself (no
request leaves 127.0.0.1), every operation listed, no console error (a CSP refusal is one), and
readable at 1280 and 390 px (screenshots in the artifacts folder)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.bridge import TOKEN, BridgeProcess, bridge_process, config_data
from tests.support.dashboard import chromium

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BridgeProcess]:
    tmp = tmp_path_factory.mktemp("api-docs")
    with bridge_process(tmp, config_data(tmp, bridge={"api_token": TOKEN})) as b:
        yield b


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _operations(bridge: BridgeProcess) -> int:
    with urllib.request.urlopen(f"{bridge.url}/api/openapi.json", timeout=10) as resp:
        return sum(len(ops) for ops in json.load(resp)["paths"].values())


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
def test_api_docs_page_renders_every_operation_locally(browser, bridge, artifacts: Path, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    requested: list[str] = []
    page.on("console", lambda msg: errors.append(f"{msg.text} {msg.location.get('url')}")
            if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: requested.append(req.url))
    try:
        resp = page.goto(f"{bridge.url}/api/docs")
        assert resp is not None and resp.status == 200
        assert "script-src 'self'" in resp.headers["content-security-policy"]
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("TradeWatch alert bridge")
        expect(page.locator(".opblock")).to_have_count(_operations(bridge), timeout=15_000)
        page.screenshot(path=str(artifacts / f"api-docs-{width}-top.png"), full_page=False)
        # open one operation: its parameters and responses render from the document
        page.locator(".opblock-summary", has_text="/api/monitoring/stop").first.click()
        expect(page.locator(".opblock.is-open .responses-table")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
        page.screenshot(path=str(artifacts / f"api-docs-{width}.png"), full_page=False)
        page.locator(".opblock.is-open .responses-table").first.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / f"api-docs-{width}-responses.png"), full_page=False)
    finally:
        context.close()
    assert errors == []
    assert requested and all(u.startswith(bridge.url) or u.startswith("data:") for u in requested), requested
