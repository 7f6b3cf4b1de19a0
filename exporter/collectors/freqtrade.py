"""freqtrade bots from the config's `freqtrade` section: their REST API mapped to `trading_*{bot}`.

On every scrape each configured bot is polled concurrently (one thread per bot, exporter's probe
pool), all of a bot's requests together bounded by its `timeout`, over one keep-alive
connection: /api/v1/ping, /health, /show_config, /profit, /balance, /count, /status and
/daily?timescale=1. Credentials go as HTTP Basic, which freqtrade's API accepts on every
endpoint (its `http_basic_or_jwt_token` dependency), so there is no token to keep or refresh.

A bot that does not answer /ping gives `trading_bot_up{bot} 0` and fails the collector
(`tradewatch_scrape_collector_success{collector="freqtrade"} 0`), after the other bots' series
are served; so does a bot that refuses the configured credentials (its /ping, public in
freqtrade, still answers: up 1, no other series). An endpoint that answers an error (freqtrade
answers /count with 502 while the bot is stopped) costs only the series read from it. Nothing
but the bot's name (and its state) goes in labels.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from exporter.families import FamilySpec, gauge
from exporter.metric import Metric
from exporter.probe_pool import ProbeJob, ProbePool, ProbeResult
from tradewatch import metric_names as names

if TYPE_CHECKING:  # the strict config (pydantic) is loaded only when a config file is used
    from tradewatch.config import Config, FreqtradeBot

log = logging.getLogger("exporter.freqtrade")

API = "/api/v1"
ENDPOINTS = ("health", "show_config", "profit", "balance", "count", "status", "daily?timescale=1")
STATES = ("running", "paused", "stopped", "reload_config")  # freqtrade.enums.State, lower-cased
MAX_BODY_BYTES = 8 << 20  # /status with many open trades is the largest answer
USER_AGENT = "tradewatch-exporter-freqtrade"

B = ("bot",)
UP = gauge(names.TRADING_BOT_UP, "1 if the freqtrade bot's REST API answered /ping in time, 0 otherwise.", B)
PNL = gauge(names.TRADING_REALIZED_PNL, "Realized profit of closed trades, stake currency (freqtrade "
            "/profit profit_closed_coin: all-time, kept across restarts).", B)
EQUITY = gauge(names.TRADING_EQUITY, "Account value in stake currency (freqtrade /balance total).", B)
POSITIONS = gauge(names.TRADING_OPEN_POSITIONS, "Open trades (freqtrade /count current).", B)
LAST_TRADE = gauge(names.TRADING_LAST_TRADE, "Unix time of the latest trade (freqtrade /profit).", B)
HEARTBEAT = gauge(names.TRADING_HEARTBEAT, "Unix time of freqtrade's last process loop (/health).", B)
START = gauge(names.TRADING_START_TIME, "Unix time the freqtrade process started (/health bot_start_ts).", B)
STATE = gauge(names.FREQTRADE_STATE, "1 for the bot's current state (/show_config state), 0 for the others.",
              ("bot", "state"))
OPEN_TRADES = gauge(names.FREQTRADE_OPEN_TRADES, "Open trades (/count current).", B)
MAX_OPEN = gauge(names.FREQTRADE_MAX_OPEN_TRADES, "max_open_trades of the bot's config (/count max).", B)
OPEN_PROFIT = gauge(names.FREQTRADE_OPEN_PROFIT, "Unrealized profit of the open trades, stake currency "
                    "(sum of /status profit_abs).", B)
PROCESS_AGE = gauge(names.FREQTRADE_LAST_PROCESS_AGE, "Seconds since freqtrade's last process loop "
                    "(/health).", B)
CLOSED_RATIO = gauge(names.FREQTRADE_CLOSED_PROFIT_RATIO, "Profit of closed trades as a ratio of the stake "
                     "(/profit profit_closed_ratio).", B)
CLOSED = gauge(names.FREQTRADE_CLOSED_TRADES, "Closed trades (/profit closed_trade_count).", B)
WINS = gauge(names.FREQTRADE_WINNING_TRADES, "Closed trades with a profit (/profit winning_trades).", B)
LOSSES = gauge(names.FREQTRADE_LOSING_TRADES, "Closed trades with a loss (/profit losing_trades).", B)
TODAY_PROFIT = gauge(names.FREQTRADE_TODAY_PROFIT, "Profit of trades closed today (UTC), stake currency "
                     "(/daily).", B)
TODAY_TRADES = gauge(names.FREQTRADE_TODAY_TRADES, "Trades closed today (UTC) (/daily).", B)


class _Deadline(Exception):
    pass


class _Failed(Exception):
    """One endpoint did not give a usable answer; the message says why, for the log."""


class _Refused(_Failed):
    pass


@dataclass
class Answers:
    """What one bot answered in one scrape: endpoint name -> parsed JSON."""

    up: bool
    data: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    refused: bool = False  # answered 401/403: wrong username or password in the config


class _Client:
    """GETs over one connection, every socket operation bounded by the bot's deadline."""

    def __init__(self, bot: FreqtradeBot, deadline: float):
        import http.client  # here, not at import: it loads ssl and email, for configured bots only

        self.deadline = deadline
        url = urllib.parse.urlsplit(bot.url)
        self.prefix = url.path.rstrip("/") + API
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if bot.username or bot.password:
            creds = f"{bot.username}:{bot.password}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(creds).decode()
        host, port = url.hostname or "", url.port
        self.conn: http.client.HTTPConnection
        if url.scheme == "https":
            import ssl

            ctx = ssl.create_default_context()
            if not bot.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self.conn = http.client.HTTPSConnection(host, port, timeout=self._remaining(), context=ctx)
        else:
            self.conn = http.client.HTTPConnection(host, port, timeout=self._remaining())
        self._errors: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException, ValueError)

    def _remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Deadline
        return left

    def get(self, endpoint: str) -> Any:
        try:
            self.conn.timeout = self._remaining()
            self.conn.request("GET", f"{self.prefix}/{endpoint}", headers=self.headers)
            if self.conn.sock is not None:
                self.conn.sock.settimeout(self._remaining())
            resp = self.conn.getresponse()
            body = b""
            while len(body) <= MAX_BODY_BYTES:
                if self.conn.sock is not None:
                    self.conn.sock.settimeout(self._remaining())
                chunk = resp.read(65536)  # read(n), not read1: it marks the answer done at its end
                if not chunk:
                    break
                body += chunk
            if len(body) > MAX_BODY_BYTES:
                self.conn.close()
                raise _Failed(f"answer larger than {MAX_BODY_BYTES} bytes")
        except (_Deadline, TimeoutError):
            self.conn.close()
            raise _Failed("timed out") from None
        except self._errors as exc:
            self.conn.close()
            raise _Failed(f"{type(exc).__name__}: {exc}") from None
        if resp.status in (401, 403):
            raise _Refused(f"HTTP {resp.status}: check the bot's username and password")
        if resp.status != 200:
            raise _Failed(f"HTTP {resp.status}: {body[:200].decode('utf-8', 'replace')}")
        try:
            return json.loads(body)
        except ValueError:
            raise _Failed("the answer is not JSON") from None

    def close(self) -> None:
        self.conn.close()


def poll(bot: FreqtradeBot, deadline: float) -> ProbeResult:
    """/ping, then every endpoint in turn until the deadline; the bot is up when /ping answered."""
    start = time.monotonic()
    try:
        client = _Client(bot, deadline)
    except (_Deadline, ValueError) as exc:
        return ProbeResult(False, time.monotonic() - start, f"bad URL or no time left: {exc}",
                           detail=Answers(False))
    try:
        try:
            pong = client.get("ping")
        except _Failed as exc:
            return ProbeResult(False, time.monotonic() - start, f"/ping: {exc}", detail=Answers(False))
        if not isinstance(pong, dict) or pong.get("status") != "pong":
            return ProbeResult(False, time.monotonic() - start, f"/ping answered {str(pong)[:100]!r}",
                               detail=Answers(False))
        answers = Answers(True)
        for endpoint in ENDPOINTS:
            key = endpoint.split("?")[0]
            try:
                answers.data[key] = client.get(endpoint)
            except _Failed as exc:
                answers.failures[key] = str(exc)
                answers.refused = answers.refused or isinstance(exc, _Refused)
        return ProbeResult(True, time.monotonic() - start, detail=answers)
    finally:
        client.close()


# --------------------------------------------------------------------------- mapping (pure)

def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def samples(answers: Answers, now: float) -> list[tuple[FamilySpec, tuple[str, ...], float]]:
    """The (family, extra label values, value) a bot's answers give; label `bot` is added later.

    A field missing from an answer (older freqtrade, endpoint failed) skips its sample only.
    """
    out: list[tuple[FamilySpec, tuple[str, ...], float]] = [(UP, (), 1.0 if answers.up else 0.0)]
    d = answers.data

    def put(spec: FamilySpec, value: Any, scale: float = 1.0, labels: tuple[str, ...] = ()) -> None:
        v = _number(value)
        if v is not None:
            out.append((spec, labels, v * scale))

    health = d.get("health") if isinstance(d.get("health"), dict) else {}
    put(HEARTBEAT, health.get("last_process_ts"))
    if _number(health.get("last_process_ts")) is not None:
        out.append((PROCESS_AGE, (), max(0.0, now - float(health["last_process_ts"]))))
    put(START, health.get("bot_start_ts"))
    config = d.get("show_config") if isinstance(d.get("show_config"), dict) else {}
    state = config.get("state")
    if isinstance(state, str):
        for s in dict.fromkeys((*STATES, state.lower())):
            out.append((STATE, (s,), 1.0 if s == state.lower() else 0.0))
    profit = d.get("profit") if isinstance(d.get("profit"), dict) else {}
    put(PNL, profit.get("profit_closed_coin"))
    put(CLOSED_RATIO, profit.get("profit_closed_ratio"))
    put(CLOSED, profit.get("closed_trade_count"))
    put(WINS, profit.get("winning_trades"))
    put(LOSSES, profit.get("losing_trades"))
    if (_number(profit.get("latest_trade_timestamp")) or 0) > 0:
        put(LAST_TRADE, profit["latest_trade_timestamp"], 1 / 1000)  # freqtrade's timestamps are ms
    balance = d.get("balance") if isinstance(d.get("balance"), dict) else {}
    put(EQUITY, balance.get("total"))
    count = d.get("count") if isinstance(d.get("count"), dict) else {}
    put(POSITIONS, count.get("current"))
    put(OPEN_TRADES, count.get("current"))
    put(MAX_OPEN, count.get("max"))
    status = d.get("status")
    if isinstance(status, list):
        out.append((OPEN_PROFIT, (), sum(_number(t.get("profit_abs")) or 0.0
                                         for t in status if isinstance(t, dict))))
    daily = d.get("daily") if isinstance(d.get("daily"), dict) else {}
    today = datetime.fromtimestamp(now, UTC).date().isoformat()
    rows = [r for r in daily.get("data") or [] if isinstance(r, dict) and r.get("date") == today]
    if isinstance(daily.get("data"), list):
        put(TODAY_PROFIT, rows[0].get("abs_profit") if rows else 0.0)
        put(TODAY_TRADES, rows[0].get("trade_count") if rows else 0)
    return out


def families(results: dict[str, Answers], now: float) -> list[Metric]:
    built: dict[str, Metric] = {}
    for bot, answers in results.items():
        for spec, labels, value in samples(answers, now):
            family = built.get(spec.name)
            if family is None:
                family = built[spec.name] = spec.new()
            spec.add(family, (bot, *labels), value)
    return list(built.values())


class CollectorFailed(Exception):
    """Some bots did not answer: the collector's success is 0 (their series are served)."""


class FreqtradeCollector:
    name = "freqtrade"

    def __init__(self, bots: list[FreqtradeBot]):
        self.bots = bots
        self.timeout = max(b.timeout for b in bots) + 1.0
        self._pool = ProbePool("freqtrade", len(bots), log)
        self._endpoint_failures: dict[str, dict[str, str]] = {}

    def collect(self) -> Iterator[Metric]:
        jobs = [ProbeJob(b.name, b.timeout, partial(poll, b)) for b in self.bots]
        results = self._pool.run(jobs)
        answers = {name: r.detail if isinstance(r.detail, Answers) else Answers(False)
                   for name, r in results.items()}
        for name, a in answers.items():
            self._log_endpoints(name, a)
        yield from families(answers, time.time())
        down = sorted(name for name, a in answers.items() if not a.up)
        refused = sorted(name for name, a in answers.items() if a.refused)
        if down or refused:
            problems = [f"not answering: {', '.join(down)}"] * bool(down)
            problems += [f"refusing the configured credentials: {', '.join(refused)}"] * bool(refused)
            raise CollectorFailed("freqtrade bots " + "; ".join(problems))

    def _log_endpoints(self, bot: str, answers: Answers) -> None:
        """An endpoint's failure is logged when it starts or its reason changes, not every scrape."""
        if not answers.up:
            return
        before = self._endpoint_failures.get(bot, {})
        for endpoint, reason in answers.failures.items():
            if before.get(endpoint) != reason:
                log.warning("freqtrade bot %r: /api/v1/%s failed: %s", bot, endpoint, reason)
        self._endpoint_failures[bot] = dict(answers.failures)

    def close(self) -> None:
        self._pool.close()


def build(config: Config) -> FreqtradeCollector | None:
    return FreqtradeCollector(list(config.freqtrade)) if config.freqtrade else None
