"""Every derived trading quantity, defined once: its PromQL next to the same formula over raw
samples of one bot's `/metrics` (as tradewatch.quantities does for hosts).

The recording rules (`tradewatch rules`), the dashboard's trading cards and the daily report
read these definitions. One bot is one (job, instance, bot) series set: `bot` names a bot where
one target serves several (freqtrade integration, or set by the bot) and is absent otherwise,
so `sum by (job, instance, bot)` gives one series per bot either way.

`raw` formulas take two scrapes of one target (before, after, seconds between; gauges read only
`after`) and return [(labels beyond job/instance, value)], the labels being `bot` and the
breakdown label (`status`, `exchange`) where the quantity has one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tradewatch import metric_names as mn
from tradewatch.quantities import RawFormula, Samples, Values

BOT = "bot"
BY_BOT = "job, instance, bot"
RATE_WINDOW = "5m"  # exchange-API rates and orders per minute
REJECTION_WINDOW = "15m"  # as the OrderRejectionHigh rule: orders are rarer than API calls
API_ERROR_CODES = 'code!~"[23].."'  # anything but 2xx/3xx: errors, 429s, 0 = no response
P95 = 0.95

Key = tuple[tuple[str, str], ...]


def _key(labels: dict[str, str], keep: tuple[str, ...]) -> Key:
    return tuple((k, labels[k]) for k in keep if labels.get(k))


def _grouped(samples: Samples, name: str, keep: tuple[str, ...],
             match: Callable[[dict[str, str]], bool] = lambda _: True) -> dict[Key, float]:
    """Sum of the series of `name` by the labels in `keep` (an absent label groups as absent)."""
    out: dict[Key, float] = {}
    for labels, value in samples.get(name, []):
        if match(labels):
            k = _key(labels, keep)
            out[k] = out.get(k, 0.0) + value
    return out


def _increase(before: Samples, after: Samples, name: str, keep: tuple[str, ...],
              match: Callable[[dict[str, str]], bool] = lambda _: True) -> dict[Key, float]:
    """Counter increase per group over the series present in both scrapes (a reset counts from 0)."""
    def each(samples: Samples) -> dict[tuple[Key, Key], float]:
        return {(_key(lb, keep), tuple(sorted(lb.items()))): v
                for lb, v in samples.get(name, []) if match(lb)}

    old, new = each(before), each(after)
    out: dict[Key, float] = {}
    for k in old.keys() & new.keys():
        inc = new[k] - old[k] if new[k] >= old[k] else new[k]
        out[k[0]] = out.get(k[0], 0.0) + inc
    return out


def _values(d: dict[Key, float]) -> Values:
    return sorted(((dict(k), v) for k, v in d.items()), key=lambda x: sorted(x[0].items()))


def _gauge(name: str) -> RawFormula:
    return lambda before, after, seconds: _values(_grouped(after, name, (BOT,)))


def _latest(name: str) -> RawFormula:
    def formula(before: Samples, after: Samples, seconds: float) -> Values:
        out: dict[Key, float] = {}
        for labels, value in after.get(name, []):
            k = _key(labels, (BOT,))
            out[k] = max(out.get(k, value), value)
        return _values(out)
    return formula


def orders_per_minute(before: Samples, after: Samples, seconds: float) -> Values:
    if seconds <= 0:
        return []
    inc = _increase(before, after, mn.TRADING_ORDERS, (BOT, "status"))
    return _values({k: 60 * v / seconds for k, v in inc.items()})


def _status(name: str) -> Callable[[dict[str, str]], bool]:
    return lambda lb: lb.get("status") == name


def rejection_ratio(before: Samples, after: Samples, seconds: float) -> Values:
    rejected = _increase(before, after, mn.TRADING_ORDERS, (BOT,), _status("rejected"))
    submitted = _increase(before, after, mn.TRADING_ORDERS, (BOT,), _status("submitted"))
    return _values({k: rejected.get(k, 0.0) / n for k, n in submitted.items() if n > 0})


def _is_error(labels: dict[str, str]) -> bool:
    return labels.get("code", "")[:1] not in ("2", "3")


def _error_ratio(keep: tuple[str, ...]) -> RawFormula:
    def formula(before: Samples, after: Samples, seconds: float) -> Values:
        total = _increase(before, after, mn.TRADING_EXCHANGE_REQUESTS, keep)
        errors = _increase(before, after, mn.TRADING_EXCHANGE_REQUESTS, keep, _is_error)
        return _values({k: errors.get(k, 0.0) / n for k, n in total.items() if n > 0})
    return formula


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus's histogram_quantile over (le, cumulative count) pairs: linear interpolation
    inside the bucket, the lower bound of the +Inf bucket when the rank falls there."""
    buckets = sorted(buckets)
    if len(buckets) < 2 or not math.isinf(buckets[-1][0]):
        return None
    total = buckets[-1][1]
    if total <= 0:
        return None
    rank = q * total
    lower_le, lower_count = 0.0, 0.0
    for i, (le, count) in enumerate(buckets):
        if count >= rank:
            if math.isinf(le):
                return buckets[i - 1][0]
            if i == 0 and le <= 0:
                return le
            start = lower_le if i else 0.0
            return start + (le - start) * (rank - lower_count) / ((count - lower_count) or 1)
        lower_le, lower_count = le, count
    return buckets[-2][0]


def _p95(keep: tuple[str, ...]) -> RawFormula:
    def formula(before: Samples, after: Samples, seconds: float) -> Values:
        inc = _increase(before, after, mn.TRADING_EXCHANGE_DURATION + "_bucket", (*keep, "le"))
        per: dict[Key, list[tuple[float, float]]] = {}
        for k, v in inc.items():
            labels = dict(k)
            le = float(labels.pop("le"))
            per.setdefault(_key(labels, keep), []).append((le, v))
        out = {k: q for k, b in per.items() if (q := histogram_quantile(P95, b)) is not None}
        return _values(out)
    return formula


@dataclass(frozen=True)
class TradingQuantity:
    key: str  # short name (API fields, dashboard rows)
    expr: str  # PromQL over raw trading_* series, one series per bot (and breakdown label)
    raw: RawFormula  # the same formula over two scrapes of the bot's /metrics
    words: str  # what it means, for people
    record: str = ""  # the recording rule that stores it, when there is one

    def rule_or_raw(self) -> str:
        """The recorded series, or the definition where the rule has not run (yet)."""
        return f"{self.record} or ({self.expr})" if self.record else self.expr


def _rate(metric: str, matchers: str = "", window: str = RATE_WINDOW) -> str:
    return f"rate({metric}{{{matchers}}}[{window}])" if matchers else f"rate({metric}[{window}])"


def _api_p95(by: str) -> str:
    return f"histogram_quantile({P95}, sum by ({by}, le) ({_rate(mn.TRADING_EXCHANGE_DURATION + '_bucket')}))"


def _api_errors(by: str) -> str:
    # `or 0 * total`: a healthy bot with no error code yet has a ratio of 0, not no data.
    total = f"sum by ({by}) ({_rate(mn.TRADING_EXCHANGE_REQUESTS)})"
    return (f"(sum by ({by}) ({_rate(mn.TRADING_EXCHANGE_REQUESTS, API_ERROR_CODES)}) or 0 * {total}) "
            f"/ ({total} > 0)")


_REJECTED = _rate(mn.TRADING_ORDERS, 'status="rejected"', REJECTION_WINDOW)
_SUBMITTED = _rate(mn.TRADING_ORDERS, 'status="submitted"', REJECTION_WINDOW)

REALIZED_PNL = TradingQuantity(
    "realized_pnl", f"sum by ({BY_BOT}) ({mn.TRADING_REALIZED_PNL})", _gauge(mn.TRADING_REALIZED_PNL),
    "realized P&L since the bot started counting, account currency",
)
EQUITY = TradingQuantity(
    "equity", f"sum by ({BY_BOT}) ({mn.TRADING_EQUITY})", _gauge(mn.TRADING_EQUITY),
    "account equity (balance plus open positions at market), account currency",
)
OPEN_POSITIONS = TradingQuantity(
    "open_positions", f"sum by ({BY_BOT}) ({mn.TRADING_OPEN_POSITIONS})", _gauge(mn.TRADING_OPEN_POSITIONS),
    "open positions",
)
ORDERS_PER_MINUTE = TradingQuantity(
    "orders_per_minute", f"60 * sum by ({BY_BOT}, status) ({_rate(mn.TRADING_ORDERS)})", orders_per_minute,
    f"orders per minute by status, over {RATE_WINDOW}",
)
REJECTION_RATIO = TradingQuantity(
    "rejection_ratio", f"sum by ({BY_BOT}) ({_REJECTED}) / (sum by ({BY_BOT}) ({_SUBMITTED}) > 0)",
    rejection_ratio, f"rejected orders per submitted order over {REJECTION_WINDOW} (0..1)",
    mn.REC_ORDER_REJECTION_RATIO,
)
API_P95 = TradingQuantity(
    "api_p95_seconds", _api_p95(BY_BOT), _p95((BOT,)),
    f"95th percentile of exchange-API request duration over {RATE_WINDOW}, seconds", mn.REC_API_P95,
)
API_ERROR_RATIO = TradingQuantity(
    "api_error_ratio", _api_errors(BY_BOT), _error_ratio((BOT,)),
    "share of exchange-API requests whose code is not 2xx/3xx (errors, timeouts, 429s)",
    mn.REC_API_ERROR_RATIO,
)
API_P95_BY_EXCHANGE = TradingQuantity(
    "api_p95_seconds_by_exchange", _api_p95(f"{BY_BOT}, exchange"), _p95((BOT, "exchange")),
    f"API_P95 per `exchange` label, over {RATE_WINDOW}",
)
API_ERROR_RATIO_BY_EXCHANGE = TradingQuantity(
    "api_error_ratio_by_exchange", _api_errors(f"{BY_BOT}, exchange"), _error_ratio((BOT, "exchange")),
    "API_ERROR_RATIO per `exchange` label",
)
HEARTBEAT = TradingQuantity(
    "heartbeat_timestamp", f"max by ({BY_BOT}) ({mn.TRADING_HEARTBEAT})", _latest(mn.TRADING_HEARTBEAT),
    "unix time of the bot's last heartbeat (its age is now minus this)",
)
LAST_TRADE = TradingQuantity(
    "last_trade_timestamp", f"max by ({BY_BOT}) ({mn.TRADING_LAST_TRADE})", _latest(mn.TRADING_LAST_TRADE),
    "unix time of the bot's last trade",
)

# what one dashboard card shows, one value per bot (and breakdown label)
CARD_QUANTITIES = (REALIZED_PNL, EQUITY, OPEN_POSITIONS, ORDERS_PER_MINUTE, REJECTION_RATIO, API_P95,
                   API_ERROR_RATIO, API_P95_BY_EXCHANGE, API_ERROR_RATIO_BY_EXCHANGE, HEARTBEAT, LAST_TRADE)
# a target is a bot when it exports any of these
PRESENCE = f"group by ({BY_BOT}) ({{__name__=~\"trading_.+\"}})"
# the scrape job of the bots' own /metrics in the rendered prometheus.yml
TRADING_BOT_JOB = "trading-bot"
# bot targets Prometheus cannot scrape now: ours, or an operator's job named for trading or a bot
DOWN_TARGETS = f'up{{job=~"{TRADING_BOT_JOB}|.*(trading|bot).*"}} == 0'


def last_seen(lookback: str, step: str) -> str:
    """When each bot last exported trading_* within `lookback` (sample time, `step` resolution):
    `timestamp()` of a selector is the sample's time; over a subquery, the latest one before a
    failed scrape's stale marker ended the series. (`timestamp(last_over_time())` would give the
    evaluation time instead.)"""
    return f"max by ({BY_BOT}) (max_over_time(timestamp({{__name__=~\"trading_.+\"}})[{lookback}:{step}]))"
