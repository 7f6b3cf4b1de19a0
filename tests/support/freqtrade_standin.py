"""freqtrade's own REST API (its FastAPI routers, auth, response models and error handler, from
the freqtrade package in the test extra) serving a bot whose trading engine is a stub.

`ApiServer.configure_app` builds the same app a running bot serves; only the bot behind it is
replaced: the RPC object the endpoints call answers from `BotState`, with values built and
validated by freqtrade's published response models (`freqtrade.rpc.api_server.api_schemas`), and
FastAPI validates every answer again against the endpoint's `response_model` on the way out. So a
moved route, a changed auth scheme, or a field added, renamed or retyped in a new freqtrade
breaks our test, not our users' dashboards. /show_config is built by freqtrade's own
`RPC._rpc_show_config` from a freqtrade config dict; /count raises freqtrade's RPCException while
the bot is stopped, as its RPC does, and freqtrade's handler turns it into a 502.

Running freqtrade's trading loop itself would need an exchange emulation with markets, tickers,
candles and fees: more than these tests need to pin the API contract.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MethodType, SimpleNamespace
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from freqtrade.enums import RunMode, State
from freqtrade.rpc.api_server import api_schemas as ft
from freqtrade.rpc.api_server import deps
from freqtrade.rpc.api_server.webserver import ApiServer, FTJSONResponse
from freqtrade.rpc.rpc import RPCException


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
    """What the stub RPC returns per endpoint, as freqtrade's model instances (validated on
    construction; /ping and /show_config are freqtrade's own code)."""
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
        "health": ft.Health(last_process=datetime.fromtimestamp(bot.last_process_ts, UTC),
                            last_process_ts=bot.last_process_ts,
                            bot_start=datetime.fromtimestamp(bot.bot_start_ts, UTC),
                            bot_start_ts=bot.bot_start_ts,
                            bot_startup=datetime.fromtimestamp(bot.bot_start_ts, UTC),
                            bot_startup_ts=bot.bot_start_ts),
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


def freqtrade_config(bot: BotState) -> dict[str, Any]:
    """The parts of a freqtrade config (config.json) its API reads."""
    return {
        "dry_run": True, "stake_currency": "USDT", "stake_amount": "unlimited",
        "max_open_trades": bot.max_open, "minimal_roi": {"0": 0.04}, "timeframe": "5m",
        "exchange": {"name": "binance"},
        "strategy": "SampleStrategy", "runmode": RunMode.DRY_RUN, "bot_name": "freqtrade",
        "api_server": {"enabled": True, "listen_ip_address": "127.0.0.1", "listen_port": 0,
                       "username": bot.username, "password": bot.password,
                       "jwt_secret_key": "test-only-secret", "CORS_origins": []},
    }


class StubRPC:
    """What freqtrade's endpoints call on `freqtrade.rpc.rpc.RPC`, answering from a BotState."""

    def __init__(self, bot: BotState):
        self.bot = bot
        self._freqtrade = SimpleNamespace(state=State[bot.state.upper()],
                                          strategy=SimpleNamespace(version=lambda: None))

    def _answer(self, endpoint: str) -> Any:
        answer = answers(self.bot)[endpoint]
        return [a.model_dump() for a in answer] if isinstance(answer, list) else answer.model_dump()

    def health(self) -> Any:
        return self._answer("health")

    def _rpc_trade_statistics(self, stake_currency: str, fiat_display_currency: str | None) -> Any:
        return self._answer("profit")

    def _rpc_balance(self, stake_currency: str, fiat_display_currency: str) -> Any:
        return self._answer("balance")

    def _rpc_count(self) -> Any:
        if self._freqtrade.state == State.STOPPED:
            raise RPCException("trader is not running")  # as freqtrade's RPC._rpc_count
        return self._answer("count")

    def _rpc_trade_status(self, trade_ids: list[int] | None = None) -> Any:
        return self._answer("status")

    def _rpc_timeunit_profit(self, timescale: int, stake_currency: str, fiat_display_currency: str,
                             timeunit: str = "days") -> Any:
        return self._answer("daily")


def freqtrade_app(bot: BotState, requests: list[str]) -> FastAPI:
    """freqtrade's API app for one bot: its routers and handlers, our RPC stub behind them."""
    app = FastAPI(default_response_class=FTJSONResponse)
    config, rpc = freqtrade_config(bot), StubRPC(bot)
    # configure_app only needs its instance for the RPCException handler: a stand-in instance,
    # since ApiServer itself is a process-wide singleton and we serve several bots at once
    holder = SimpleNamespace()
    holder.handle_rpc_exception = MethodType(ApiServer.handle_rpc_exception, holder)
    ApiServer.configure_app(holder, app, config)  # type: ignore[arg-type]
    app.dependency_overrides.update({
        deps.get_rpc: lambda: rpc, deps.get_rpc_optional: lambda: rpc,
        deps.get_config: lambda: config, deps.get_api_config: lambda: config["api_server"],
    })

    @app.middleware("http")
    async def record(request: Request, call_next: Callable[[Request], Any]) -> Any:
        endpoint = request.url.path.removeprefix("/api/v1/")
        requests.append(endpoint)
        if bot.before is not None:
            await asyncio.to_thread(bot.before, endpoint)  # may block on purpose (timeout tests)
        return await call_next(request)

    return app


class FreqtradeStandIn:
    """freqtrade's API app for `bot`, served by uvicorn (as freqtrade serves it) on 127.0.0.1."""

    def __init__(self, bot: BotState):
        self.bot = bot
        self.requests: list[str] = []
        self.url = ""

    @contextmanager
    def serve(self) -> Iterator[FreqtradeStandIn]:
        app = freqtrade_app(self.bot, self.requests)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                               lifespan="off", access_log=False))
        thread = threading.Thread(target=server.run, name="freqtrade-api", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("freqtrade's API app did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(10)
