"""The daily report's per-bot table: P&L of the day (the report window) and of the week, trades,
win rate where the source gives it, rejections, exchange-API errors and rate limits, heartbeat
gaps. Bots are named as on the dashboard (alert_bridge.sources.trading).

Every figure is a change or an increase over the window, from Prometheus; P&L counts from the
bot's first sample when it started inside the window (window_change). Rates of counters use
`increase()`, which extrapolates to the window's edges as Prometheus does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alert_bridge.sources.prometheus import PrometheusAPI
from alert_bridge.sources.trading import Key, bot_key, bot_name, window_change
from tradewatch import metric_names as mn
from tradewatch import trading_quantities as tq

WEEK = 7 * 86400.0
POINTS = 288  # steps of the window's range queries (as health_inputs.step_for)
# freqtrade's closed-trade counts (exporter/collectors/freqtrade.py): the win rate's source
WINNING = mn.FREQTRADE_WINNING_TRADES
LOSING = mn.FREQTRADE_LOSING_TRADES
# ccxt's error classes (exporter.trading ccxt instrumentation) that mean "slow down"
RATE_LIMIT_ERRORS = 'error=~"RateLimitExceeded|DDoSProtection"'
EXCHANGE_ERRORS = mn.TRADING_EXCHANGE_ERRORS


@dataclass
class BotDay:
    key: Key
    name: str
    instance: str
    pnl_day: float | None = None
    pnl_week: float | None = None
    trades: float | None = None  # filled orders
    win_rate: float | None = None  # 0..1, closed trades won, where the source counts them
    closed_trades: float | None = None
    submitted: float | None = None
    rejected: float | None = None
    api_requests: float | None = None
    api_errors: float | None = None  # requests whose code is not 2xx/3xx
    rate_limited: float | None = None
    heartbeat_gaps: int | None = None  # stretches with the heartbeat older than the threshold
    longest_gap_seconds: float | None = None

    @property
    def rejection_ratio(self) -> float | None:
        if not self.submitted or self.rejected is None:
            return None
        return self.rejected / self.submitted


def _dur(seconds: float) -> str:
    return f"{max(1, math.ceil(seconds))}s"


def _increase(api: PrometheusAPI, selector: str, window: float, end: float) -> dict[Key, float]:
    expr = f"sum by ({tq.BY_BOT}) (increase({selector}[{_dur(window)}]))"
    return {bot_key(s["metric"]): float(s["value"][1]) for s in api.query(expr, end)
            if math.isfinite(float(s["value"][1]))}


def heartbeat_gaps(points: list[list[float]], stale: float, step: float) -> tuple[int, float]:
    """(stretches of consecutive steps whose heartbeat age is above `stale`, the longest one's
    age at its end): a gap lasts from the last beat to the first beat after it."""
    gaps, longest, inside, worst = 0, 0.0, False, 0.0
    for _, age in points:
        if age > stale:
            if not inside:
                gaps, inside, worst = gaps + 1, True, 0.0
            worst = max(worst, age)
            longest = max(longest, worst)
        else:
            inside = False
    return gaps, longest


def collect(api: PrometheusAPI, start: float, end: float, stale_seconds: float) -> list[BotDay]:
    """One row per bot seen in [start, end]; raises PrometheusUnavailable as the API does."""
    window = end - start
    step = max(1.0, round(window / POINTS))
    day = window_change(api, mn.TRADING_REALIZED_PNL, tq.BY_BOT, bot_key, start, end, step)
    week = window_change(api, mn.TRADING_REALIZED_PNL, tq.BY_BOT, bot_key, end - max(WEEK, window), end,
                         max(step, round(max(WEEK, window) / POINTS)))
    seen = f'group by ({tq.BY_BOT}) (last_over_time({{__name__=~"trading_.+"}}[{_dur(window)}]))'
    present = api.query(seen, end)
    keys = {bot_key(s["metric"]) for s in present} | set(day)
    rows = {k: BotDay(k, bot_name(*k), k[1]) for k in keys}

    def put(field: str, values: dict[Key, Any], fn: Callable[[Any], Any] = lambda v: v) -> None:
        for k, v in values.items():
            if k in rows:
                setattr(rows[k], field, fn(v))

    put("pnl_day", day, lambda c: c["change"])
    put("pnl_week", week, lambda c: c["change"])
    put("trades", _increase(api, f'{mn.TRADING_ORDERS}{{status="filled"}}', window, end))
    put("submitted", _increase(api, f'{mn.TRADING_ORDERS}{{status="submitted"}}', window, end))
    put("rejected", _increase(api, f'{mn.TRADING_ORDERS}{{status="rejected"}}', window, end))
    put("api_requests", _increase(api, mn.TRADING_EXCHANGE_REQUESTS, window, end))
    put("api_errors", _increase(api, f"{mn.TRADING_EXCHANGE_REQUESTS}{{{tq.API_ERROR_CODES}}}", window, end))
    # ccxt's error classes where the bot has them, else HTTP 429 (ccxt counts a 429 as both)
    limited = _increase(api, f'{mn.TRADING_EXCHANGE_REQUESTS}{{code="429"}}', window, end)
    limited.update(_increase(api, f"{EXCHANGE_ERRORS}{{{RATE_LIMIT_ERRORS}}}", window, end))
    put("rate_limited", limited)
    won = window_change(api, WINNING, tq.BY_BOT, bot_key, start, end, step)
    lost = window_change(api, LOSING, tq.BY_BOT, bot_key, start, end, step)
    for k in set(won) & set(lost):
        closed = won[k]["change"] + lost[k]["change"]
        if k in rows:
            rows[k].closed_trades = closed
            rows[k].win_rate = won[k]["change"] / closed if closed > 0 else None
    # as TradingHeartbeatStale: a bot that vanished keeps its last beat for an hour, so its gap shows
    ages = api.query_range(
        f"time() - max by ({tq.BY_BOT}) (max_over_time({mn.TRADING_HEARTBEAT}[1h]))", start, end, step)
    for s in ages:
        k = bot_key(s["metric"])
        if k in rows:
            pts = [[float(t), float(v)] for t, v in s["values"]]
            rows[k].heartbeat_gaps, rows[k].longest_gap_seconds = heartbeat_gaps(pts, stale_seconds, step)
    return [rows[k] for k in sorted(rows)]
