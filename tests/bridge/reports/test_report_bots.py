"""The daily report per bot, from known samples in a real Prometheus (backfilled blocks): P&L of
the day and the week, trades, win rate where the source counts closed trades, rejections, API
errors and rate limits, heartbeat gaps; and the P&L change of a bot younger than the window
(issue 14.6). The rendered report is looked at in Chromium at 1280 and 390 px."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from alert_bridge.reports import bots, render
from alert_bridge.reports import data as report_data
from alert_bridge.sources.prometheus import PrometheusAPI
from tests.support.backfill import Series, backfilled
from tests.support.dashboard import chromium
from tests.support.prom import Prometheus
from tradewatch import metric_names as mn
from tradewatch.config import parse_config

pytestmark = pytest.mark.integration

STEP = 15
OFFSET = 7


def _counter(times: list[int], per_step: float) -> list[float]:
    return [round(i * per_step, 3) for i in range(len(times))]


def _targets(last: int) -> dict[str, Series]:
    late = list(range(last - 150, last + 1, STEP))  # issue 14.6: a bot started 150 s ago
    steady = list(range(last - 3600, last + 1, STEP))
    frozen_from, frozen_to = last - 900, last - 600  # its heartbeat stood still for 5 minutes
    beat = [float(frozen_from if frozen_from <= t < frozen_to else t) for t in steady]
    return {
        "late:9185": {
            (mn.TRADING_REALIZED_PNL, ()): [(t, round(0.78 + (12.06 - 0.78) * i / (len(late) - 1), 2))
                                            for i, t in enumerate(late)],
            (mn.TRADING_ORDERS, (("status", "submitted"),)): list(zip(late, _counter(late, 2), strict=True)),
            (mn.TRADING_ORDERS, (("status", "filled"),)): list(zip(late, _counter(late, 1.5), strict=True)),
            (mn.TRADING_ORDERS, (("status", "rejected"),)): list(zip(late, _counter(late, 0.5), strict=True)),
            (mn.TRADING_HEARTBEAT, ()): [(t, float(t)) for t in late],
        },
        "ft:9184": {
            (mn.TRADING_REALIZED_PNL, (("bot", "main"),)): [(t, 100 + i / 4) for i, t in enumerate(steady)],
            (bots.WINNING, (("bot", "main"),)): [(t, 40.0 + i // 40) for i, t in enumerate(steady)],
            (bots.LOSING, (("bot", "main"),)): [(t, 10.0 + i // 120) for i, t in enumerate(steady)],
            (mn.TRADING_EXCHANGE_REQUESTS, (("bot", "main"), ("code", "200"))):
                list(zip(steady, _counter(steady, 10), strict=True)),
            (mn.TRADING_EXCHANGE_REQUESTS, (("bot", "main"), ("code", "429"))):
                list(zip(steady, _counter(steady, 0.25), strict=True)),
            (mn.TRADING_HEARTBEAT, (("bot", "main"),)): list(zip(steady, beat, strict=True)),
        },
    }


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, int]]:
    last = int(time.time()) // 3600 * 3600 - 3600
    with backfilled(tmp_path_factory.mktemp("report-bots"), _targets(last), "trading-bot",
                    f"count({mn.TRADING_REALIZED_PNL})", last + OFFSET) as prom:
        yield prom, last + OFFSET


def test_per_bot_figures(backfill: Any) -> None:
    prom, at = backfill
    rows = {b.name: b for b in bots.collect(PrometheusAPI(prom.url), at - 3600, at, 120)}
    assert set(rows) == {"main", "trading-bot on late:9185"}
    late, main = rows["trading-bot on late:9185"], rows["main"]
    assert late.pnl_day == pytest.approx(11.28) and late.pnl_week == pytest.approx(11.28)
    assert late.rejected is not None and late.submitted is not None
    assert late.rejected / late.submitted == pytest.approx(0.25, rel=0.01)
    assert late.win_rate is None and late.heartbeat_gaps == 0
    # 240 steps of 0.25 in the hour; the week counts from the first sample (also in this hour)
    assert main.pnl_day == pytest.approx(0.25 * 240, abs=0.3)
    assert main.win_rate == pytest.approx(6 / 8, abs=0.1)  # 6 wins, 2 losses in the hour
    assert main.rate_limited == pytest.approx(60, rel=0.1)  # 0.25 per 15 s
    assert main.api_errors == pytest.approx(main.rate_limited)
    assert main.heartbeat_gaps == 1 and 180 <= (main.longest_gap_seconds or 0) <= 330


def test_report_shows_bots_and_the_right_pnl_change(backfill: Any, artifacts: Path) -> None:
    prom, at = backfill
    config = parse_config({"bridge": {"prometheus_url": prom.url}, "report": {"window": "1h"}}, env={})
    d = report_data.build(config, conn=None, now=datetime.fromtimestamp(at, UTC), with_charts=True)
    assert d.pnl == pytest.approx(11.28 + 60, abs=0.3)  # both bots' change, the young one from 0.78
    late = d.score.hosts["late:9185"].components["trading"]
    assert "realized P&L change +11.28" in "; ".join(p.detail for p in late.parts)
    text, page = render.render_text(d), render.render_html(d, inline_images=True)
    assert "BOT trading-bot on late:9185" in text and "Realized P&L: +11.28 (last 1h)" in text
    assert "BOT main (ft:9184)" in text and "win rate (closed trades): 75% of 8" in text
    assert "Heartbeat gaps: 1 (longest" in text
    (artifacts / "report-bots.html").write_text(page)
    with chromium() as browser:
        for width in (1280, 390):
            ctx = browser.new_context(viewport={"width": width, "height": 900})
            p = ctx.new_page()
            p.goto((artifacts / "report-bots.html").as_uri())
            overflow = p.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, f"the report scrolls sideways by {overflow}px at {width}px"
            p.screenshot(path=str(artifacts / f"report-bots-{width}.png"), full_page=True)
            ctx.close()
