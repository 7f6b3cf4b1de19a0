"""Instrumentation a trading bot imports to publish the `trading_*` metrics.

    from exporter.trading import TradingMetrics, instrument_ccxt
    m = TradingMetrics()
    m.start_http_server(9185)              # Prometheus scrapes the bot (job "trading-bot")
    m.order_submitted()
    m.order_filled(latency_seconds=0.042)  # counts the fill, observes latency, stamps the last trade
    with m.exchange_request() as r:        # times the call; r.code = HTTP status
        r.code = 200
    m.set_pnl(realized=125.5, equity=10_125.5)
    m.heartbeat()                          # call once per main-loop turn
    exchange = instrument_ccxt(ccxt.binance(), m)  # every REST call and order of a ccxt exchange

Metrics live in the instance's own `CollectorRegistry` (pass `registry=prometheus_client.REGISTRY`
to share the process-wide one with the bot's other metrics). Everything is thread-safe, as
prometheus_client's metrics are. A bot that cannot open a port writes the same metrics
atomically for the exporter's textfile collector instead (`write_textfile`, or
`start_textfile_writer` to do it periodically).

The "last value" gauges (P&L, equity, positions, heartbeat, last trade) are exported only once
the bot has set them: a bot that never reported equity exports no equity, rather than a
made-up 0 that would read as a total loss.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, write_to_textfile
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from tradewatch import metric_names as names

ORDER_STATUSES = ("submitted", "filled", "cancelled", "rejected")
# Submission to acknowledgement/fill: milliseconds on a colocated bot, seconds on a slow venue.
ORDER_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Exchange REST calls; 1 s and 3 s are the default API response-time warning/critical thresholds,
# so they are bucket bounds and the p95 rule is exact there.
REQUEST_DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
E = TypeVar("E")
NO_RESPONSE = "0"  # the `code` of a request that got no HTTP response (connection error, timeout)

_GAUGES = {
    names.TRADING_REALIZED_PNL: "Realized profit and loss since the bot started, in account currency.",
    names.TRADING_EQUITY: "Account equity (balance plus unrealized P&L), in account currency.",
    names.TRADING_OPEN_POSITIONS: "Number of open positions.",
    names.TRADING_LAST_TRADE: "Unix time of the last fill.",
    names.TRADING_HEARTBEAT: "Unix time of the bot's last main-loop heartbeat.",
    names.TRADING_START_TIME: "Unix time the bot's metrics started (its process start): a restart moves it.",
}


class _LatestValues:
    """Gauges that exist only once set (see the module docstring)."""

    def __init__(self) -> None:
        self._values: dict[str, float] = {}
        self._lock = threading.Lock()

    def set(self, name: str, value: float) -> None:
        with self._lock:
            self._values[name] = float(value)

    def get(self, name: str) -> float | None:
        with self._lock:
            return self._values.get(name)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            values = dict(self._values)
        for name, help_text in _GAUGES.items():
            family = GaugeMetricFamily(name, help_text)
            if name in values:
                family.add_metric([], values[name])
            yield family


@dataclass
class ExchangeRequest:
    """Set `code` inside `with m.exchange_request() as r:`; left unset it counts as no response."""

    code: int | str | None = None


@dataclass
class MetricsServer:
    """The bot's own /metrics endpoint."""

    server: object
    thread: threading.Thread
    port: int

    def close(self) -> None:
        self.server.shutdown()  # type: ignore[attr-defined]
        self.server.server_close()  # type: ignore[attr-defined]
        self.thread.join(5)


class TextfileWriter:
    """Rewrites a .prom file every `interval` seconds until stopped (then once more)."""

    def __init__(self, metrics: TradingMetrics, path: Path, interval: float):
        self._metrics, self._path, self._interval = metrics, path, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trading-textfile", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._metrics.write_textfile(self._path)
            if self._stop.wait(self._interval):
                self._metrics.write_textfile(self._path)
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


class TradingMetrics:
    """The `trading_*` families of tradewatch/metric_names.py, with methods named for bot events."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        order_latency_buckets: Sequence[float] = ORDER_LATENCY_BUCKETS,
        request_duration_buckets: Sequence[float] = REQUEST_DURATION_BUCKETS,
    ):
        self.registry = registry if registry is not None else CollectorRegistry()
        self._latest = _LatestValues()
        # lets the drawdown rule tell a realized P&L reset by a restart from a loss
        self._latest.set(names.TRADING_START_TIME, time.time())
        self.registry.register(self._latest)
        self.orders = Counter(
            names.TRADING_ORDERS, "Orders by status (submitted, filled, cancelled, rejected).",
            ["status"], registry=self.registry,
        )
        for status in ORDER_STATUSES:  # every status exists from the start, so rates work at once
            self.orders.labels(status)
        self.order_latency = Histogram(
            names.TRADING_ORDER_LATENCY,
            "Time from order submission to the exchange's answer (fill, acknowledgement or rejection), "
            "in seconds.",
            buckets=tuple(order_latency_buckets), registry=self.registry,
        )
        # `exchange` and `endpoint` are empty (absent in Prometheus) unless the caller names them,
        # as the ccxt instrumentation (exporter.trading_ccxt) does.
        self.exchange_requests = Counter(
            names.TRADING_EXCHANGE_REQUESTS,
            f"Exchange API requests by exchange, endpoint and HTTP status code ({NO_RESPONSE}: no response).",
            ["exchange", "endpoint", "code"], registry=self.registry,
        )
        self.exchange_duration = Histogram(
            names.TRADING_EXCHANGE_DURATION, "Exchange API request duration, in seconds.",
            ["exchange", "endpoint"], buckets=tuple(request_duration_buckets), registry=self.registry,
        )
        self.exchange_errors = Counter(
            names.TRADING_EXCHANGE_ERRORS,
            "Exchange API errors by the client library's error class (ccxt: RateLimitExceeded, "
            "RequestTimeout, InsufficientFunds...).",
            ["exchange", "endpoint", "error"], registry=self.registry,
        )

    # --- orders ---------------------------------------------------------------------------
    def order_submitted(self, count: int = 1) -> None:
        self.orders.labels("submitted").inc(count)

    def order_filled(self, latency_seconds: float | None = None, *, timestamp: float | None = None) -> None:
        """A fill: counted, its latency observed (when given), and the last-trade time stamped."""
        self.orders.labels("filled").inc()
        if latency_seconds is not None:
            self.order_latency.observe(latency_seconds)
        self.trade(timestamp)

    def order_cancelled(self) -> None:
        self.orders.labels("cancelled").inc()

    def order_rejected(self, latency_seconds: float | None = None) -> None:
        self.orders.labels("rejected").inc()
        if latency_seconds is not None:
            self.order_latency.observe(latency_seconds)

    def trade(self, timestamp: float | None = None) -> None:
        self._latest.set(names.TRADING_LAST_TRADE, time.time() if timestamp is None else timestamp)

    # --- account ----------------------------------------------------------------------------
    def set_pnl(self, realized: float | None = None, equity: float | None = None) -> None:
        if realized is not None:
            self._latest.set(names.TRADING_REALIZED_PNL, realized)
        if equity is not None:
            self._latest.set(names.TRADING_EQUITY, equity)

    def set_open_positions(self, count: int) -> None:
        self._latest.set(names.TRADING_OPEN_POSITIONS, count)

    def heartbeat(self, timestamp: float | None = None) -> None:
        """Call once per main-loop turn; the stale-heartbeat alert watches this."""
        self._latest.set(names.TRADING_HEARTBEAT, time.time() if timestamp is None else timestamp)

    # --- exchange API ---------------------------------------------------------------------
    def record_exchange_request(self, code: int | str | None, duration_seconds: float, *,
                                exchange: str = "", endpoint: str = "") -> None:
        """One REST call; `endpoint` must be bounded (a method name or path template, not a URL)."""
        self.exchange_requests.labels(exchange, endpoint, NO_RESPONSE if code is None else str(code)).inc()
        self.exchange_duration.labels(exchange, endpoint).observe(duration_seconds)

    def record_exchange_error(self, error: str, *, exchange: str = "", endpoint: str = "") -> None:
        """An API error by class name (`RateLimitExceeded`): a bounded set, never a message."""
        self.exchange_errors.labels(exchange, endpoint, error).inc()

    @contextlib.contextmanager
    def exchange_request(self) -> Iterator[ExchangeRequest]:
        """Times the block; records `r.code` (or no response, when the block raised before setting it)."""
        request = ExchangeRequest()
        start = time.perf_counter()
        try:
            yield request
        finally:
            self.record_exchange_request(request.code, time.perf_counter() - start)

    # --- publishing -------------------------------------------------------------------------
    def start_http_server(self, port: int, addr: str = "127.0.0.1") -> MetricsServer:
        """Serve /metrics from a background thread (port 0 picks a free one: see `.port`).

        The default address is loopback; use addr="0.0.0.0" when Prometheus scrapes from
        another host.
        """
        from prometheus_client import start_http_server

        server, thread = start_http_server(port, addr=addr, registry=self.registry)
        return MetricsServer(server, thread, server.server_port)

    def write_textfile(self, path: str | os.PathLike[str]) -> None:
        """Write the metrics atomically (temp file + rename) for the exporter's textfile collector."""
        path = os.fspath(path)
        if not path.endswith(".prom"):
            raise ValueError(f"the textfile collector reads only *.prom files (got {path})")
        write_to_textfile(path, self.registry)

    def start_textfile_writer(self, path: str | os.PathLike[str], interval: float = 15.0) -> TextfileWriter:
        """Rewrite `path` every `interval` seconds in a background thread; `.stop()` ends it."""
        if not os.fspath(path).endswith(".prom"):
            raise ValueError(f"the textfile collector reads only *.prom files (got {path})")
        return TextfileWriter(self, Path(path), interval)

    def exposition(self) -> bytes:
        """The current metrics in the Prometheus text format."""
        return generate_latest(self.registry)


def instrument_ccxt(exchange: E, metrics: TradingMetrics) -> E:
    """Count and time every REST call, error and order of a ccxt exchange object (sync or
    `ccxt.async_support`) in `metrics`, with no change to the bot's code; returns the exchange.
    See exporter/trading_ccxt.py for where it hooks in."""
    from exporter.trading_ccxt import instrument

    return instrument(exchange, metrics)
