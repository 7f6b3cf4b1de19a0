"""DEMO ONLY - synthetic data. A fake trading bot that publishes made-up `trading_*` metrics.

It trades nothing and talks to no exchange: prices are random walks, fills, rejections and
exchange errors are dice rolls. It exists so the demo stack, the dashboards and the tests have
a `trading-bot` target whose values look like a real bot's, through the same
`exporter.trading.TradingMetrics` a real bot uses. Every log line says "demo: synthetic data".

    python -m exporter.demo_bot --listen 127.0.0.1:9185 [--seed N]

Options make it misbehave on purpose for tests and demos: `--stop-heartbeat-after S` (the
loop keeps running but stops heart-beating, as a wedged bot would), `--reject-ratio R`,
`--exchange-error-ratio E`.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

from exporter.trading import TradingMetrics

LABEL = "demo: synthetic data"
log = logging.getLogger("exporter.demo_bot")

SYMBOLS = {"BTCUSDT": 64_000.0, "ETHUSDT": 3_100.0, "SOLUSDT": 145.0}
NOTIONAL = 1_000.0  # account currency per position


@dataclass
class Position:
    qty: float  # negative: short
    entry: float


@dataclass
class Market:
    """Random-walk prices and the bot's book; all numbers are made up."""

    rng: random.Random
    equity_start: float
    prices: dict[str, float] = field(default_factory=lambda: dict(SYMBOLS))
    positions: dict[str, Position] = field(default_factory=dict)
    realized: float = 0.0

    def step(self) -> None:
        for sym, price in self.prices.items():
            # ~0.05 % volatility per tick with a slight upward drift
            self.prices[sym] = price * math.exp(self.rng.gauss(0.00002, 0.0005))

    def fill(self, sym: str) -> None:
        """Open a position on a flat symbol, close it otherwise (realizing its P&L)."""
        price = self.prices[sym]
        pos = self.positions.pop(sym, None)
        if pos is None:
            side = 1 if self.rng.random() < 0.55 else -1
            self.positions[sym] = Position(side * NOTIONAL / price, price)
        else:
            self.realized += (price - pos.entry) * pos.qty

    def equity(self) -> float:
        unrealized = sum((self.prices[s] - p.entry) * p.qty for s, p in self.positions.items())
        return self.equity_start + self.realized + unrealized


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


class DemoBot:
    def __init__(self, metrics: TradingMetrics, rng: random.Random, *, reject_ratio: float,
                 exchange_error_ratio: float, stop_heartbeat_after: float | None, equity: float):
        self.m, self.rng = metrics, rng
        self.market = Market(rng, equity)
        self.reject_ratio = reject_ratio
        self.exchange_error_ratio = exchange_error_ratio
        self.stop_heartbeat_after = stop_heartbeat_after
        self.started = time.monotonic()
        self.orders = 0

    def exchange_call(self) -> int:
        """One simulated REST call: mostly 200, sometimes rate-limited or a server error."""
        duration = lognormal(self.rng, 0.12, 0.6)
        code = 200
        if self.rng.random() < self.exchange_error_ratio:
            code = self.rng.choice([429, 429, 500, 502, 503])
            duration = lognormal(self.rng, 0.4, 0.8)
        self.m.record_exchange_request(code, duration)
        return code

    def tick(self) -> None:
        self.market.step()
        if self.rng.random() < 0.3:
            self.exchange_call()  # market data / account polling
        if self.rng.random() < 0.4:
            sym = self.rng.choice(list(self.market.prices))
            self.m.order_submitted()
            self.orders += 1
            latency = lognormal(self.rng, 0.045, 0.7)
            if self.exchange_call() != 200 or self.rng.random() < self.reject_ratio:
                self.m.order_rejected(latency_seconds=latency)
            elif self.rng.random() < 0.05:
                self.m.order_cancelled()
            else:
                self.market.fill(sym)
                self.m.order_filled(latency_seconds=latency)
        self.m.set_pnl(realized=round(self.market.realized, 2), equity=round(self.market.equity(), 2))
        self.m.set_open_positions(len(self.market.positions))

    def heartbeat_due(self) -> bool:
        if self.stop_heartbeat_after is None:
            return True
        return time.monotonic() - self.started < self.stop_heartbeat_after

    def run(self, stop: threading.Event, tick: float) -> None:
        next_beat = 0.0
        next_report = time.monotonic() + 30
        beating = True
        while not stop.is_set():
            self.tick()
            now = time.monotonic()
            if now >= next_beat:
                if self.heartbeat_due():
                    self.m.heartbeat()
                elif beating:
                    log.warning("heartbeat stopped on purpose (--stop-heartbeat-after %s)",
                                self.stop_heartbeat_after)
                    beating = False
                next_beat = now + 1.0
            if now >= next_report:
                log.info("orders=%d realized_pnl=%.2f equity=%.2f open_positions=%d", self.orders,
                         self.market.realized, self.market.equity(), len(self.market.positions))
                next_report = now + 30
            stop.wait(tick)


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"must be HOST:PORT (got {value!r})")
    return host.strip("[]"), int(port)


def ratio(value: str) -> float:
    try:
        r = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 <= r <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {value})")
    return r


def positive(value: str) -> float:
    try:
        v = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0 (got {value})")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m exporter.demo_bot",
        description=f"DEMO BOT ({LABEL}): a fake trading bot that trades nothing and publishes made-up "
        "trading_* metrics on /metrics through exporter.trading, for the demo stack and tests.",
    )
    p.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 9185), metavar="HOST:PORT",
                   help="where to serve /metrics (default 127.0.0.1:9185)")
    p.add_argument("--seed", type=int, default=None, help="random seed, for repeatable synthetic runs")
    p.add_argument("--tick", type=positive, default=0.25, metavar="SECONDS",
                   help="simulated loop period (default 0.25)")
    p.add_argument("--reject-ratio", type=ratio, default=0.02, metavar="R",
                   help="share of orders the fake exchange rejects (default 0.02)")
    p.add_argument("--exchange-error-ratio", type=ratio, default=0.03, metavar="R",
                   help="share of fake exchange calls answered 429/5xx (default 0.03)")
    p.add_argument("--stop-heartbeat-after", type=positive, default=None, metavar="SECONDS",
                   help="stop heart-beating after this long while still serving, like a wedged bot")
    p.add_argument("--equity", type=positive, default=10_000.0, help="starting fake equity (default 10000)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s %(levelname)s {LABEL}: %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    metrics = TradingMetrics()
    host, port = args.listen
    try:
        server = metrics.start_http_server(port, addr=host)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc.strerror or exc)
        return 2
    log.info("serving made-up trading metrics on http://%s:%d/metrics (seed %s)",
             host, server.port, args.seed)
    bot = DemoBot(metrics, random.Random(args.seed), reject_ratio=args.reject_ratio,
                  exchange_error_ratio=args.exchange_error_ratio,
                  stop_heartbeat_after=args.stop_heartbeat_after, equity=args.equity)
    try:
        bot.run(stop, args.tick)
    finally:
        server.close()
    log.info("stopped after %d orders", bot.orders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
