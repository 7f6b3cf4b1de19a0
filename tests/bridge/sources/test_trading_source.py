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


# --- bots seen before and gone now (issue 14: a frozen bot read "No trading bot found") ----------

def _card(instance: str, bot: str = "", job: str = "trading-bot") -> dict:
    return trading._empty((job, instance, bot))


def test_the_bridge_remembers_the_bots_it_saw_and_forgets_them_after_a_week() -> None:
    seen = trading.remember({}, [_card("b:9185"), _card("h:9184", "ft1", "exporter")], now=1000.0)
    assert seen == {
        "trading-bot/b:9185/": {"job": "trading-bot", "instance": "b:9185", "bot": "",
                                "name": "trading-bot on b:9185", "last_seen": 1000.0},
        "exporter/h:9184/ft1": {"job": "exporter", "instance": "h:9184", "bot": "ft1", "name": "ft1",
                                "last_seen": 1000.0},
    }
    later = trading.remember(seen, [_card("h:9184", "ft1", "exporter")], now=2000.0)
    assert later["trading-bot/b:9185/"]["last_seen"] == 1000.0  # gone: kept, with when it was last seen
    assert later["exporter/h:9184/ft1"]["last_seen"] == 2000.0
    # the exporter fallback names the same bot without a job: one entry, not two
    fallback = trading.remember(later, [_card("b:9185", job="")], now=2500.0)
    assert sorted(fallback) == ["/b:9185/", "exporter/h:9184/ft1"]
    assert trading.remember(later, [], now=1000.0 + trading.FORGET_AFTER) == {
        "exporter/h:9184/ft1": later["exporter/h:9184/ft1"]}


def test_a_bot_seen_before_and_gone_is_down_since_it_was_last_seen() -> None:
    seen = trading.remember({}, [_card("b:9185"), _card("h:9184", "ft1", "exporter")], now=1000.0)
    present = [_card("h:9184", "ft1", "exporter")]
    # the bridge's memory alone: the bot exports nothing any more
    (card,) = trading.absent_cards(present, seen, {}, set())
    assert (card["name"], card["status"], card["down_since"]) == ("trading-bot on b:9185", "down", 1000.0)
    assert card["down_reason"] == "it exports no trading metrics any more"
    # Prometheus saw it later than the bridge did, and reports its target down: the later time and why
    (card,) = trading.absent_cards(present, seen, {("trading-bot", "b:9185", ""): 1300.0},
                                   {("trading-bot", "b:9185")})
    assert card["down_since"] == 1300.0 and "does not answer" in card["down_reason"]
    # present again: no down card
    assert trading.absent_cards([*present, _card("b:9185")], seen, {}, {("trading-bot", "b:9185")}) == []


def test_a_bot_target_down_is_a_bot_even_if_never_seen_and_nothing_is_not_found() -> None:
    (card,) = trading.absent_cards([], {}, {}, {("trading-bot", "b:9185")})
    assert (card["name"], card["status"], card["down_since"]) == ("trading-bot on b:9185", "down", None)
    # only in Prometheus's recent samples (the bridge restarted since): down since the last sample
    (card,) = trading.absent_cards([], {}, {("trading-bot", "b:9185", "main"): 1200.0}, set())
    assert (card["name"], card["down_since"]) == ("main", 1200.0)
    assert trading.absent_cards([], {}, {}, set()) == []  # never configured nor seen: "not found"
