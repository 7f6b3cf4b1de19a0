"""The dashboard's trading section in headless Chromium, with the demo bot scraped by a real
Prometheus: every number on a bot's card equals the PromQL result at the card's evaluation time
(`data-generated-at`), at 1280 px and 390 px, both as first painted by the server (JavaScript
off) and as redrawn by the refresh script; screenshots kept in tests/artifacts/.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from alert_bridge.sources.prometheus import PrometheusAPI
from alert_bridge.sources.trading import midnight
from tests.support.bridge import alert, webhook
from tests.support.dashboard import REPO, DashboardStack, chromium, dashboard_stack, page_in
from tests.support.procs import wait_until
from tradewatch import metric_names as mn
from tradewatch import trading_quantities as tq

pytestmark = [pytest.mark.browser, pytest.mark.integration]

expect.set_options(timeout=15_000)
JOB = 'job="trading-bot"'
# The bridge and this test ask Prometheus about the same instant; a scrape or rule evaluation
# stamped just before that instant but written just after the bridge asked is seen only by the
# test. A fresh page (a new instant) settles it; more attempts than that mean a real mismatch.
ATTEMPTS = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardStack]:
    # no periodic refresh while the test reads the page: the refresh on load is the JS path
    with dashboard_stack(tmp_path_factory.mktemp("trading"), refresh_seconds=3600, with_bot=True) as s:
        api = PrometheusAPI(s.prom.url)
        # wait for every quantity the card shows: orders of each kind, a rejection, the recording rules
        wanted = (f"{mn.REC_ORDER_REJECTION_RATIO}{{{JOB}}} > 0", f"{mn.REC_API_P95}{{{JOB}}}",
                  f"{mn.TRADING_LAST_TRADE}{{{JOB}}}")
        wait_until(lambda: all(api.query(q) for q in wanted), timeout=90, interval=1.0,
                   what="the demo bot's recording rules in Prometheus")
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_bot_alerts_on_its_card(stack: DashboardStack) -> None:
    """The bot's alert is on its card (and so on the screenshots below); another host's is not."""
    ours = alert("OrderRejectionHigh", severity="warning", instance=str(stack.bot_instance),
                 category="trading", job="trading-bot")
    other = alert("HostCpuHigh", severity="critical", instance="elsewhere:9184", fingerprint="other")
    status, body = stack.bridge.request("POST", "/api/monitoring/webhook", webhook(ours, other))
    assert status == 200, body
    status, body = stack.bridge.request("GET", "/api/monitoring/trading?window=5m")
    assert status == 200, body
    assert [(a["alertname"], a["severity"]) for a in body["bots"][0]["alerts"]] == [
        ("OrderRejectionHigh", "warning")]


# --- the page's formats (templates/dashboard/_macros.html and static/dashboard.js) -------------

def money(v: float | None, signed: bool = False) -> str:
    return "—" if v is None else (f"{v:+.2f}" if signed else f"{v:.2f}")


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def seconds(v: float | None) -> str:
    return "—" if v is None else (f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s")


def age(v: float | None) -> str:
    if v is None:
        return "—"
    s = math.floor(v)
    if s < 120:
        return f"{s} s ago"
    if s < 7200:
        return f"{s // 60} min {s % 60} s ago"
    return f"{s // 3600} h {(s % 3600) // 60} min ago"


def expected(api: PrometheusAPI, at: float) -> dict[str, str]:
    """Every figure of the demo bot's card, from PromQL evaluated at `at`."""
    def one(expr: str) -> float | None:
        got = api.query(f"({expr}) and on (job) up{{{JOB}}}", at)
        assert len(got) <= 1, got
        return float(got[0]["value"][1]) if got else None

    # today's realized P&L: now minus the day's first raw sample (the bot started today)
    since = at - midnight(at, "UTC")
    raw = api.query(f"{mn.TRADING_REALIZED_PNL}{{{JOB}}}[{math.floor(since)}s]", at)
    first = float(raw[0]["values"][0][1])
    pnl = one(tq.REALIZED_PNL.expr)
    assert pnl is not None
    out = {
        "pnl_today": money(pnl - first, True),
        "pnl_total": money(pnl, True),
        "equity": money(one(tq.EQUITY.expr)),
        "open_positions": f"{one(tq.OPEN_POSITIONS.expr):.0f}",
        "rejection_ratio": pct(one(tq.REJECTION_RATIO.rule_or_raw())),
        "api_p95": seconds(one(tq.API_P95.rule_or_raw())),
        "api_errors": pct(one(tq.API_ERROR_RATIO.rule_or_raw())),
        "heartbeat_age": age(one(f"time() - {tq.HEARTBEAT.expr}")),
        "last_trade_age": age(one(f"time() - {tq.LAST_TRADE.expr}")),
    }
    for s in api.query(f"({tq.ORDERS_PER_MINUTE.expr}) and on (job) up{{{JOB}}}", at):
        out["orders_" + s["metric"]["status"]] = f"{float(s['value'][1]):.2f}"
    return out


READ_CARD = """() => {
  const box = document.getElementById('bots');
  const card = box.querySelector('article.bot');
  const values = {};
  card.querySelectorAll('[data-q]').forEach(n => { values[n.dataset.q] = n.textContent.trim(); });
  return {at: parseFloat(box.dataset.generatedAt), name: card.querySelector('h3').textContent,
          values: values, overflow: document.documentElement.scrollWidth - innerWidth,
          cardOverflow: Array.from(card.querySelectorAll('*')).filter(
            n => n.getBoundingClientRect().right > card.getBoundingClientRect().right + 0.5).length};
}"""


def _check_page(browser: Any, stack: DashboardStack, width: int, js: bool, artifacts: Path) -> None:
    api = PrometheusAPI(stack.prom.url)
    with page_in(browser, width, js) as (page, errors):
        mismatch: dict[str, tuple[str, str]] = {}
        for _ in range(ATTEMPTS):
            page.goto(f"{stack.bridge.url}/?window=5m")
            expect(page.locator("#bots article.bot")).to_have_count(1)
            if js:  # the refresh script has redrawn the card (only it draws sparklines)
                expect(page.locator("#bots article.bot .spark-svg path.spark-line").first).to_be_attached()
            card = page.evaluate(READ_CARD)
            want = expected(api, card["at"])
            mismatch = {k: (card["values"].get(k, "<missing>"), v) for k, v in want.items()
                        if card["values"].get(k) != v}
            if not mismatch:
                break
        assert not mismatch, f"on screen vs PromQL at {card['at']}: {mismatch}"
        assert card["name"] == f"trading-bot on {stack.bot_instance}"
        assert card["overflow"] <= 0, f"the page scrolls sideways by {card['overflow']}px at {width}px"
        assert card["cardOverflow"] == 0, f"{card['cardOverflow']} element(s) run past the bot card's edge"
        name = f"dashboard-trading-{width}{'' if js else '-nojs'}.png"
        page.locator(".trading-section").screenshot(path=str(artifacts / name), animations="disabled")
        alerts = page.locator("#bots article.bot .bot-alerts li")
        expect(alerts).to_have_count(1)
        expect(alerts.first).to_contain_text("OrderRejectionHigh")
        assert errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_numbers_equal_promql_after_refresh(browser: Any, stack: DashboardStack, width: int,
                                            artifacts: Path) -> None:
    _check_page(browser, stack, width, True, artifacts)


@pytest.mark.parametrize("width", [1280, 390])
def test_numbers_equal_promql_first_paint(browser: Any, stack: DashboardStack, width: int,
                                          artifacts: Path) -> None:
    _check_page(browser, stack, width, False, artifacts)


def test_api_describes_the_bot(stack: DashboardStack) -> None:
    status, body = stack.bridge.request("GET", "/api/monitoring/trading?window=5m")
    assert status == 200, body
    (bot,) = body["bots"]
    assert body["source"] == "prometheus"
    assert (bot["job"], bot["instance"], bot["bot"]) == ("trading-bot", stack.bot_instance, None)
    assert bot["heartbeat"]["level"] == "ok"
    assert {"submitted", "filled"} <= set(bot["orders_per_minute"])
    assert len(bot["realized_pnl"]["points"]) >= 2 and len(bot["equity"]["points"]) >= 2


def test_screenshot_for_the_docs(artifacts: Path) -> None:
    if os.environ.get("TRADEWATCH_UPDATE_SCREENSHOT"):
        shutil.copyfile(artifacts / "dashboard-trading-1280.png",
                        REPO / "docs" / "img" / "dashboard-trading.png")
