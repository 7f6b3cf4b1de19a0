"""A local stand-in for the Binance spot REST endpoints ccxt calls, for the ccxt instrumentation tests.

Point a ccxt binance object at it with `point(exchange, base_url)` (ccxt's URL overrides). Each
route answers from `BinanceEmulator.routes`; `fail_next(path, status, body)` makes the next call
of a path answer an error, and `stall_next(path)` makes it hang until the client gives up (the
handler waits on an event that `close()` sets, so no thread outlives the test).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.local_server import reply_json, serve

SYMBOL = {
    "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
    "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8,
    "orderTypes": ["LIMIT", "MARKET"], "icebergAllowed": True, "ocoAllowed": True,
    "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
    "permissions": ["SPOT"], "permissionSets": [["SPOT"]],
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000.00", "tickSize": "0.01"},
        {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000.0", "stepSize": "0.00001"},
    ],
}
INSUFFICIENT = {"code": -2010, "msg": "Account has insufficient balance for requested action."}
TOO_MANY = {"code": -1003, "msg": "Too many requests; current limit is 1200 request weight per 1 MINUTE."}


def _order(status: str, order_id: int = 28) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {
        "symbol": "BTCUSDT", "orderId": order_id, "orderListId": -1, "clientOrderId": "tw-test",
        "transactTime": now, "price": "0.00", "origQty": "0.01000", "executedQty": "0.01000",
        "cummulativeQuoteQty": "640.00", "status": status, "timeInForce": "GTC", "type": "MARKET",
        "side": "BUY", "fills": [],
    }


class BinanceEmulator:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Any] = {
            ("GET", "/public/time"): lambda: {"serverTime": int(time.time() * 1000)},
            ("GET", "/public/exchangeInfo"): lambda: {
                "timezone": "UTC", "serverTime": int(time.time() * 1000), "rateLimits": [],
                "exchangeFilters": [], "symbols": [SYMBOL]},
            ("GET", "/public/ticker/24hr"): lambda: {
                "symbol": "BTCUSDT", "priceChange": "10.0", "priceChangePercent": "0.02",
                "weightedAvgPrice": "64000.0", "lastPrice": "64000.00", "bidPrice": "63999.00",
                "askPrice": "64001.00", "openPrice": "63990.00", "highPrice": "64500.00",
                "lowPrice": "63000.00", "volume": "100.0", "quoteVolume": "6400000.0",
                "openTime": 0, "closeTime": int(time.time() * 1000), "count": 1000},
            ("POST", "/private/order"): lambda: _order("FILLED"),
            ("DELETE", "/private/order"): lambda: _order("CANCELED"),
        }
        self.calls: list[tuple[str, str]] = []
        self._failures: dict[tuple[str, str], deque[tuple[int, Any]]] = defaultdict(deque)
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.url = ""

    def fail_next(self, method: str, path: str, status: int, body: Any) -> None:
        with self._lock:
            self._failures[(method, path)].append((status, body))

    def stall_next(self, method: str, path: str) -> None:
        self.fail_next(method, path, 0, None)

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        key = (h.command, h.path.split("?")[0])
        with self._lock:
            self.calls.append(key)
            failure = self._failures[key].popleft() if self._failures[key] else None
        if failure is not None and failure[0] == 0:
            self._release.wait(10)  # the client times out first; close() lets the thread go
            return
        if failure is not None:
            status, body = failure
        elif key in self.routes:
            status, body = 200, self.routes[key]()
        else:
            status, body = 404, {"code": -1, "msg": f"no route {key}"}
        reply_json(h, status, body)

    @contextmanager
    def serve(self) -> Iterator[BinanceEmulator]:
        with serve(self._answer, on_close=self._release.set) as url:
            self.url = url
            yield self


def point(exchange: Any, base_url: str) -> Any:
    """Every API family of the exchange at `base_url/<family>`; spot markets only, no currencies
    call (it is private and not what these tests are about)."""
    exchange.urls["api"] = {key: f"{base_url}/{key}" for key in exchange.urls["api"]}
    exchange.options["fetchMarkets"] = {"types": ["spot"]}
    exchange.options["fetchCurrencies"] = False
    exchange.options["fetchMargins"] = False
    return exchange
