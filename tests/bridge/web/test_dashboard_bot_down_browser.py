"""The demo bot frozen with SIGSTOP (issue 14: the trading panel then said "No trading bot found"):
its scrape fails, its series go stale, and the panel says the bot is down since it was last seen,
by name, at 1280 px and 390 px, as first painted by the server and as redrawn by the refresh
script; screenshots kept in tests/artifacts/. A real Prometheus scrapes a real demo bot.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.dashboard import DashboardStack, chromium, dashboard_stack, page_in
from tests.support.procs import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]

expect.set_options(timeout=15_000)


def _bots(stack: DashboardStack) -> list[dict[str, Any]]:
    status, body = stack.bridge.request("GET", "/api/monitoring/trading?window=5m")
    assert status == 200, body
    return body["bots"]


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DashboardStack, dict[str, Any]]]:
    with dashboard_stack(tmp_path_factory.mktemp("bot-down"), refresh_seconds=3600, with_bot=True) as s:
        assert s.bot is not None
        # the dashboard has shown the bot once (the bridge remembers it from then on)
        wait_until(lambda: [b for b in _bots(s) if b["status"] == "up"], timeout=90, interval=1.0,
                   what="the demo bot's card")
        os.kill(s.bot.popen.pid, signal.SIGSTOP)
        try:
            (card,) = wait_until(lambda: [b for b in _bots(s) if b["status"] == "down"] or None, timeout=60,
                                 interval=0.5, what="the frozen bot marked down")
            yield s, card
        finally:
            os.kill(s.bot.popen.pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_the_api_says_the_frozen_bot_is_down_since_it_was_last_seen(
        frozen: tuple[DashboardStack, dict[str, Any]]) -> None:
    stack, card = frozen
    assert (card["name"], card["job"], card["instance"]) == (
        f"trading-bot on {stack.bot_instance}", "trading-bot", stack.bot_instance)
    assert card["down_since"] is not None and "does not answer" in card["down_reason"]
    assert len(_bots(stack)) == 1  # the same bot, not a second one


@pytest.mark.parametrize("js", [True, False], ids=["refreshed", "first-paint"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_panel_says_down_since_not_not_found(browser: Any, frozen: tuple[DashboardStack, dict[str, Any]],
                                                 width: int, js: bool, artifacts: Any) -> None:
    stack, card = frozen
    with page_in(browser, width, js) as (page, errors):
        page.goto(f"{stack.bridge.url}/?window=5m")
        down = page.locator('#bots article.bot[data-status="down"]')
        expect(down).to_have_count(1)
        if js:  # the refresh script redrew the section: its time is localised (HH:MM)
            expect(down.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d$"))
        expect(down.locator("h3")).to_have_text(card["name"])
        expect(down.locator(".bot-down-text")).to_contain_text("Down since")
        expect(down.locator(".bot-down-text")).to_contain_text("does not answer")
        expect(page.locator("#bots")).not_to_contain_text("No trading bot found")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
        name = f"dashboard-bot-down-{width}{'' if js else '-nojs'}.png"
        page.locator(".trading-section").screenshot(path=str(artifacts / name), animations="disabled")
        assert errors == []
