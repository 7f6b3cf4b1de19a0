"""exporter/trading_ccxt.py: real ccxt (sync and async_support) against a local Binance emulation.

Every REST call counted and timed by exchange, endpoint (unified method or path template) and
code; ccxt's error classes counted; create_order / cancel_order feeding the order counters.
"""

from __future__ import annotations

import asyncio

import ccxt
import ccxt.async_support as ccxt_async
import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.trading import TradingMetrics, instrument_ccxt
from exporter.trading_ccxt import camel_case, path_template
from tests.support.binance_emulator import INSUFFICIENT, TOO_MANY, BinanceEmulator, point
from tests.support.exporter_probes import families
from tests.support.procs import free_port

TIMEOUT_MS = 400


def samples(m: TradingMetrics, name: str) -> dict[tuple, float]:
    """{(label, value) pairs: value} of one family, empty labels dropped as Prometheus drops them."""
    fam = families(text_string_to_metric_families(m.exposition().decode())).get(name)
    out: dict[tuple, float] = {}
    for s in fam.samples if fam else []:
        if s.name.endswith(("_created", "_bucket", "_sum")):
            continue
        out[tuple(sorted((k, v) for k, v in s.labels.items() if v))] = s.value
    return out


def requests(m: TradingMetrics) -> dict[tuple[str, str], float]:
    return {(dict(k)["endpoint"], dict(k)["code"]): v
            for k, v in samples(m, "trading_exchange_requests").items()}


def errors(m: TradingMetrics) -> dict[tuple[str, str], float]:
    fam = samples(m, "trading_exchange_errors")
    return {(dict(k)["endpoint"], dict(k)["error"]): v for k, v in fam.items()}


def orders(m: TradingMetrics) -> dict[str, float]:
    return {dict(k)["status"]: v for k, v in samples(m, "trading_orders").items()}


def durations(m: TradingMetrics) -> dict[str, float]:
    fam = samples(m, "trading_exchange_request_duration_seconds")
    return {dict(k)["endpoint"]: v for k, v in fam.items()}


def test_names_are_bounded():
    assert camel_case("fetch_ohlcv") == "fetchOHLCV" and camel_case("create_order") == "createOrder"
    assert path_template("DELETE", ["private"], "order/{id}") == "DELETE private/order/{id}"


@pytest.mark.integration
def test_sync_binance_calls_errors_and_orders():
    m = TradingMetrics()
    with BinanceEmulator().serve() as emu:
        ex = point(ccxt.binance({"apiKey": "key", "secret": "secret", "timeout": TIMEOUT_MS}), emu.url)
        assert instrument_ccxt(ex, m) is ex
        assert instrument_ccxt(ex, m) is ex  # idempotent: nothing counted twice
        with pytest.raises(ValueError):
            instrument_ccxt(ex, TradingMetrics())

        ex.fetch_time()
        assert ex.fetch_ticker("BTC/USDT")["last"] == 64000.0  # loads markets first
        assert ex.createOrder("BTC/USDT", "market", "buy", 0.01)["status"] == "closed"  # camelCase alias
        ex.cancel_order("28", "BTC/USDT")
        emu.fail_next("POST", "/private/order", 400, INSUFFICIENT)
        with pytest.raises(ccxt.InsufficientFunds):
            ex.create_order("BTC/USDT", "market", "buy", 0.01)
        emu.fail_next("GET", "/public/ticker/24hr", 429, TOO_MANY)
        with pytest.raises(ccxt.DDoSProtection):  # Binance's 429: a RateLimitExceeded sibling
            ex.fetch_ticker("BTC/USDT")
        emu.fail_next("GET", "/public/ticker/24hr", 503, {"msg": "Service Unavailable"})
        with pytest.raises(ccxt.ExchangeNotAvailable):
            ex.fetch_ticker("BTC/USDT")
        emu.stall_next("GET", "/public/time")
        with pytest.raises(ccxt.RequestTimeout):
            ex.fetch_time()
        ex.publicGetTicker24hr({"symbol": "BTCUSDT"})  # an implicit API call: its path template

    assert requests(m) == {
        ("fetch_time", "200"): 1, ("fetch_time", "0"): 1,
        ("fetch_markets", "200"): 1,
        ("fetch_ticker", "200"): 1, ("fetch_ticker", "429"): 1, ("fetch_ticker", "503"): 1,
        ("create_order", "200"): 1, ("create_order", "400"): 1,
        ("cancel_order", "200"): 1,
        ("GET public/ticker/24hr", "200"): 1,
    }
    assert errors(m) == {
        ("create_order", "InsufficientFunds"): 1, ("fetch_ticker", "DDoSProtection"): 1,
        ("fetch_ticker", "ExchangeNotAvailable"): 1, ("fetch_time", "RequestTimeout"): 1,
    }
    assert orders(m) == {"submitted": 2, "filled": 1, "cancelled": 1, "rejected": 1}
    assert samples(m, "trading_order_latency_seconds")[()] == 2  # the fill and the rejection
    assert durations(m)["fetch_time"] == 2  # the timed-out attempt is timed too
    assert all(v for v in samples(m, "trading_last_trade_timestamp_seconds").values())
    assert not [e for e, _ in requests(m) if "BTCUSDT" in e or "?" in e]  # no symbols, no query strings


@pytest.mark.integration
def test_async_binance_concurrent_tasks_keep_their_labels():
    m = TradingMetrics()

    async def run(url: str, emu: BinanceEmulator) -> None:
        ex = instrument_ccxt(point(ccxt_async.binance({"apiKey": "k", "secret": "s", "timeout": TIMEOUT_MS}),
                                   url), m)
        try:
            await ex.load_markets()
            emu.fail_next("POST", "/private/order", 429, TOO_MANY)
            results = await asyncio.gather(
                ex.fetch_ticker("BTC/USDT"), ex.fetch_time(),
                ex.create_order("BTC/USDT", "market", "buy", 0.01),
                ex.create_order("BTC/USDT", "market", "buy", 0.01), ex.cancel_order("28", "BTC/USDT"),
                return_exceptions=True,
            )
            assert sum(isinstance(r, ccxt.DDoSProtection) for r in results) == 1, results
            emu.stall_next("GET", "/public/time")
            with pytest.raises(ccxt.RequestTimeout):
                await ex.fetchTime()
        finally:
            await ex.close()

    with BinanceEmulator().serve() as emu:
        asyncio.run(run(emu.url, emu))

    assert requests(m) == {
        ("fetch_markets", "200"): 1, ("fetch_ticker", "200"): 1, ("fetch_time", "200"): 1,
        ("fetch_time", "0"): 1, ("create_order", "200"): 1, ("create_order", "429"): 1,
        ("cancel_order", "200"): 1,
    }
    assert errors(m) == {("create_order", "DDoSProtection"): 1, ("fetch_time", "RequestTimeout"): 1}
    # a rate-limited order was answered "no": rejected, not left unknown
    assert orders(m) == {"submitted": 2, "filled": 1, "cancelled": 1, "rejected": 1}


@pytest.mark.integration
def test_refused_connection_and_rejected_key_are_counted_by_class():
    m = TradingMetrics()
    gone = point(ccxt.binance({"timeout": TIMEOUT_MS}), f"http://127.0.0.1:{free_port()}")
    instrument_ccxt(gone, m)
    with pytest.raises(ccxt.NetworkError):
        gone.fetch_time()
    with BinanceEmulator().serve() as emu:
        ex = instrument_ccxt(point(ccxt.binance({"apiKey": "k", "secret": "s", "timeout": TIMEOUT_MS}),
                                   emu.url), m)
        ex.load_markets()
        emu.fail_next("DELETE", "/private/order", 401, {"code": -2015, "msg": "Invalid API-key, IP, or "
                                                         "permissions for action."})
        with pytest.raises(ccxt.AuthenticationError):
            ex.cancel_order("28", "BTC/USDT")
    assert requests(m)[("fetch_time", "0")] == 1
    assert requests(m)[("cancel_order", "401")] == 1
    assert errors(m) == {("fetch_time", "NetworkError"): 1, ("cancel_order", "AuthenticationError"): 1}
    assert orders(m) == {"submitted": 0, "filled": 0, "cancelled": 0, "rejected": 0}  # a failed cancel
