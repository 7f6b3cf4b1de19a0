"""The trading cards' exporter fallback against the real demo bot: with no Prometheus, the
bridge scrapes the bot's /metrics twice and applies the quantities' raw formulas."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from alert_bridge.sources import trading
from tests.support.procs import free_port, running
from tradewatch.config import Thresholds

pytestmark = pytest.mark.integration


def test_cards_from_the_bots_own_metrics(tmp_path: Path) -> None:
    listen = f"127.0.0.1:{free_port()}"
    args = [sys.executable, "-m", "exporter.demo_bot", "--listen", listen, "--seed", "3", "--tick", "0.05"]
    with running(args, tmp_path / "bot.log", ready_url=f"http://{listen}/metrics"):
        data = trading.collect("", [f"http://{listen}/metrics", "http://127.0.0.1:1/metrics"], Thresholds(),
                               now=1_800_000_000.0)
    assert data["source"] == "exporter"
    assert set(data["errors"]) == {"http://127.0.0.1:1/metrics"}  # one target down: the rest served
    (bot,) = data["bots"]
    assert (bot["name"], bot["instance"], bot["bot"]) == (listen, listen, None)
    assert bot["equity"]["current"] is not None and len(bot["equity"]["points"]) == 1
    assert bot["realized_pnl"]["today"] is None  # no history without Prometheus
    assert bot["orders_per_minute"]["submitted"] > 0  # two scrapes, a second apart, at 20 ticks/s
    assert bot["heartbeat"]["timestamp"] > 0 and bot["heartbeat"]["level"] in ("ok", "critical")


def test_no_source_is_a_lookup_error() -> None:
    with pytest.raises(LookupError) as exc:
        trading.collect("", ["http://127.0.0.1:1/metrics"], Thresholds(), timeout=0.5)
    assert "http://127.0.0.1:1/metrics" in exc.value.args[0]


def test_levels_follow_the_rules_comparison() -> None:
    levels = Thresholds().order_rejection_percent  # warning 10, critical 25
    assert trading.level(0.10, levels, 0.01) == "ok"  # rules fire above, not at
    assert trading.level(0.11, levels, 0.01) == "warning"
    assert trading.level(0.3, levels, 0.01) == "critical"
    assert trading.level(None, levels) is None
