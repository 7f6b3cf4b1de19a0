"""A local stand-in for a freqtrade bot's REST API whose every answer is built and validated with
freqtrade's own published response models (`freqtrade.rpc.api_server.api_schemas`, from the
freqtrade package in the test extra).

So when a new freqtrade adds a required field, renames or retypes one, building these answers
fails (or the field we read is no longer in the dump) and our test breaks, not our users'
dashboards. Routes and auth follow freqtrade's api_server: /api/v1/ping is public, the rest
accept HTTP Basic (api_auth.http_basic_or_jwt_token); /count answers 502 with {"error": ...}
while the bot is not running, as freqtrade's RPCException handler does.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from freqtrade.rpc.api_server import api_schemas as ft

from tests.support.local_server import reply_json, serve


@dataclass
class BotState:
    """The numbers the stand-in reports; tests compare the exporter's series with these."""

    username: str = "freq"
    password: str = "ft-pass-7Qx"
    state: str = "running"
    closed_profit: float = 123.45
    closed_ratio: float = 0.0123
    closed_trades: int = 42
    wins: int = 30
    losses: int = 12
    latest_trade_ms: int = 1_764_900_000_000
    total: float = 10_123.45
    open_count: int = 2
    max_open: int = 3
    open_profits: tuple[float, ...] = (12.5, -2.25)
    last_process_ts: int = field(default_factory=lambda: int(time.time()) - 3)
    bot_start_ts: int = 1_764_800_000
    today_profit: float = 7.5
    today_trades: int = 4
    # hooks for tests: called with the endpoint before answering (may block)
    before: Callable[[str], None] | None = None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _trade(i: int, profit: float) -> ft.OpenTradeSchema:
    now = time.time()
    return ft.OpenTradeSchema(
        trade_id=i, pair="BTC/USDT", base_currency="BTC", quote_currency="USDT", is_open=True,
        is_short=False, exchange="binance", amount=0.01, amount_requested=0.01, stake_amount=640.0,
        strategy="SampleStrategy", timeframe=5, open_date=_iso(now - 600),
        open_timestamp=int(now - 600) * 1000,
        open_fill_date=_iso(now - 600), open_fill_timestamp=int(now - 600) * 1000, open_rate=64000.0,
        open_trade_value=640.64, realized_profit=0.0, nr_of_successful_entries=1, nr_of_successful_exits=0,
        has_open_orders=False, orders=[], current_rate=64000.0 + profit * 100, total_profit_abs=profit,
        profit_abs=profit, profit_ratio=profit / 640.0, profit_pct=round(profit / 6.4, 2),
    )


def answers(bot: BotState) -> dict[str, ft.BaseModel | list[ft.BaseModel]]:
    """Every endpoint's answer as freqtrade's model instance (validated on construction)."""
    now = time.time()
    today = datetime.now(UTC).date()
    profit = dict.fromkeys(
        [k for k, f in ft.Profit.model_fields.items() if f.is_required() and f.annotation is float], 0.0)
    profit.update(
        profit_closed_coin=bot.closed_profit, profit_closed_ratio=bot.closed_ratio,
        trade_count=bot.closed_trades + bot.open_count, closed_trade_count=bot.closed_trades,
        first_trade_date=_iso(bot.bot_start_ts), first_trade_humanized="a month ago",
        first_trade_timestamp=bot.bot_start_ts * 1000, latest_trade_date=_iso(bot.latest_trade_ms / 1000),
        latest_trade_humanized="an hour ago", latest_trade_timestamp=bot.latest_trade_ms,
        avg_duration="1:02:03", best_pair="BTC/USDT", winning_trades=bot.wins, losing_trades=bot.losses,
        max_drawdown_start=_iso(now), max_drawdown_start_timestamp=int(now * 1000),
        max_drawdown_end=_iso(now),
        max_drawdown_end_timestamp=int(now * 1000), current_drawdown_start=_iso(now),
        current_drawdown_start_timestamp=int(now * 1000), bot_start_timestamp=bot.bot_start_ts * 1000,
        bot_start_date=_iso(bot.bot_start_ts),
    )
    usdt = ft.Balance(currency="USDT", free=9000.0, balance=bot.total, used=bot.total - 9000.0,
                      est_stake=bot.total, stake="USDT", side="long", is_position=False, position=0.0,
                      is_bot_managed=True)
    return {
        "ping": ft.Ping(status="pong"),
        "health": ft.Health(last_process=datetime.fromtimestamp(bot.last_process_ts, UTC),
                            last_process_ts=bot.last_process_ts,
                            bot_start=datetime.fromtimestamp(bot.bot_start_ts, UTC),
                            bot_start_ts=bot.bot_start_ts,
                            bot_startup=datetime.fromtimestamp(bot.bot_start_ts, UTC),
                            bot_startup_ts=bot.bot_start_ts),
        "show_config": ft.ShowConfig(
            version="2026.9", api_version=2.43, dry_run=True, trading_mode="spot", margin_mode="",
            short_allowed=False, stake_currency="USDT", stake_amount="unlimited", stake_currency_decimals=3,
            max_open_trades=bot.max_open, minimal_roi={"0": 0.04}, stoploss_on_exchange=False,
            timeframe="5m", timeframe_ms=300_000, timeframe_min=5, exchange="binance", demo_trading=False,
            force_entry_enable=False, exit_pricing={}, entry_pricing={}, bot_name="freqtrade",
            state=bot.state, runmode="dry_run", position_adjustment_enable=False,
            max_entry_position_adjustment=-1),
        "profit": ft.Profit(**profit),
        "balance": ft.Balances(
            currencies=[usdt], total=bot.total, total_bot=bot.total, symbol="USD", value=bot.total,
            value_bot=bot.total, stake="USDT", note="Simulated balances", starting_capital=10_000.0,
            starting_capital_ratio=0.0123, starting_capital_pct=1.23, starting_capital_fiat=10_000.0,
            starting_capital_fiat_ratio=0.0123, starting_capital_fiat_pct=1.23),
        "count": ft.Count(current=bot.open_count, max=bot.max_open, total_stake=640.0 * bot.open_count),
        "status": [_trade(i + 1, p) for i, p in enumerate(bot.open_profits)],
        "daily": ft.DailyWeeklyMonthly(
            data=[ft.DailyWeeklyMonthlyRecord(date=today, abs_profit=bot.today_profit, rel_profit=0.00075,
                                              starting_balance=10_000.0, fiat_value=bot.today_profit,
                                              trade_count=bot.today_trades)],
            fiat_display_currency="USD", stake_currency="USDT"),
    }


def _dump(answer: Any, endpoint: str) -> Any:
    if isinstance(answer, list):
        return [a.model_dump(mode="json") for a in answer]
    # /show_config is declared with response_model_exclude_unset=True in freqtrade's api_v1
    return answer.model_dump(mode="json", exclude_unset=endpoint == "show_config")


class FreqtradeStandIn:
    def __init__(self, bot: BotState):
        self.bot = bot
        self.requests: list[str] = []
        self.url = ""

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        endpoint = path.removeprefix("/api/v1/")
        self.requests.append(endpoint)
        if self.bot.before is not None:
            self.bot.before(endpoint)
        status, body = self._route(endpoint, h.headers.get("Authorization", ""), path)
        reply_json(h, status, body)

    def _route(self, endpoint: str, auth: str, path: str) -> tuple[int, Any]:
        table = answers(self.bot)
        if not path.startswith("/api/v1/") or endpoint not in table:
            return 404, {"detail": "Not Found"}
        if endpoint != "ping":
            creds = base64.b64encode(f"{self.bot.username}:{self.bot.password}".encode()).decode()
            if auth != f"Basic {creds}":
                return 401, {"detail": "Unauthorized"}
        if endpoint == "count" and self.bot.state != "running":
            return 502, {"error": "Error querying /api/v1/count: trader is not running"}
        return 200, _dump(table[endpoint], endpoint)

    @contextmanager
    def serve(self) -> Iterator[FreqtradeStandIn]:
        with serve(self._answer) as url:
            self.url = url
            yield self
