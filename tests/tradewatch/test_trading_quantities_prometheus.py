"""Each trading quantity's PromQL and its raw-sample formula agree on the same data, in a real
Prometheus (backfilled blocks, as test_quantities_prometheus.py does for hosts); and a window's
P&L change counts from the first sample when the bot started inside the window (issue 14.6).

Target "multi" serves two bots (`bot` label) on two exchanges; target "solo" has neither label,
as a hand-instrumented bot; target "late" began 150 s before the query time with a realized P&L
of 0.78, and reached 12.06.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from alert_bridge.sources.prometheus import PrometheusAPI
from alert_bridge.sources.trading import bot_key, window_change
from tests.support.backfill import Series, backfilled, window
from tests.support.prom import Prometheus
from tradewatch import metric_names as mn
from tradewatch import trading_quantities as tq

pytestmark = pytest.mark.integration

STEP = 15
OFFSET = 7  # query between scrapes, so no sample sits on the window's edge
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
WINDOWS = {tq.REJECTION_RATIO.key: 900}  # the others: 5m


def _bot_series(rng: random.Random, start: int, end: int, bot: str | None,
                exchanges: tuple[str | None, ...]) -> Series:
    out: Series = {}
    times = list(range(start, end + 1, STEP))
    base = {"bot": bot} if bot else {}

    def add(name: str, labels: dict[str, str], values: list[float]) -> None:
        out[(name, tuple(sorted({**base, **labels}.items())))] = list(zip(times, values, strict=True))

    def counter(first: float, mean: float) -> list[float]:
        values, v = [], first
        for _ in times:
            values.append(float(round(v)))
            v += round(rng.uniform(0, 2) * mean)
        return values

    def walk(first: float, spread: float) -> list[float]:
        values, v = [], first
        for _ in times:
            values.append(round(v, 2))
            v += rng.uniform(-spread, spread)
        return values

    add(mn.TRADING_REALIZED_PNL, {}, walk(rng.uniform(-50, 50), 3))
    add(mn.TRADING_EQUITY, {}, walk(10_000, 20))
    add(mn.TRADING_OPEN_POSITIONS, {}, [float(rng.randint(0, 4)) for _ in times])
    for status, mean in (("submitted", 6), ("filled", 5), ("cancelled", 0.3), ("rejected", 0.8)):
        add(mn.TRADING_ORDERS, {"status": status}, counter(100 * mean, mean))
    for exchange in exchanges:
        ex = {"exchange": exchange} if exchange else {}
        for code, mean in (("200", 20), ("429", 0.6), ("500", 0.3), ("0", 0.1)):
            add(mn.TRADING_EXCHANGE_REQUESTS, {**ex, "code": code}, counter(1000 * mean, mean))
        cumulative = [0.0] * len(times)
        for le, mean in zip(BUCKETS, (3, 8, 6, 2, 0.8, 0.3, 0.1), strict=True):
            cumulative = [c + v for c, v in zip(cumulative, counter(500 * mean, mean), strict=True)]
            add(mn.TRADING_EXCHANGE_DURATION + "_bucket", {**ex, "le": le}, cumulative)
    add(mn.TRADING_HEARTBEAT, {}, [t - rng.uniform(0, 5) for t in times])
    add(mn.TRADING_LAST_TRADE, {}, [t - rng.uniform(0, 60) for t in times])
    return out


def _merge(*parts: Series) -> Series:
    out: Series = {}
    for p in parts:
        out.update(p)
    return out


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, dict[str, Series], int]]:
    last = int(time.time()) // 3600 * 3600 - 3600  # an hour ago: inside retention, before the head
    rng = random.Random(5)
    start = last - 20 * 60
    late = list(range(last - 150, last + 1, STEP))
    targets = {
        "multi:9184": _merge(_bot_series(rng, start, last, "alpha", ("binance", "kraken")),
                             _bot_series(rng, start, last, "beta", ("binance",))),
        "solo:9185": _bot_series(rng, start, last, None, (None,)),
        "late:9186": {(mn.TRADING_REALIZED_PNL, ()): [
            (t, 0.78 + round((12.06 - 0.78) * i / (len(late) - 1), 2)) for i, t in enumerate(late)]},
    }
    with backfilled(tmp_path_factory.mktemp("trading"), targets, "trading-bot",
                    f"count({mn.TRADING_ORDERS})", last + OFFSET) as prom:
        yield prom, targets, last + OFFSET


def _key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _query(prom: Prometheus, expr: str, at: int, instance: str) -> dict[str, float]:
    out = {}
    for r in prom.api("query", query=expr, time=at)["result"]:
        labels = {k: v for k, v in r["metric"].items() if k not in ("job", "__name__", "instance")}
        if r["metric"].get("instance") == instance:
            out[_key(labels)] = float(r["value"][1])
    return out


@pytest.mark.parametrize("instance", ["multi:9184", "solo:9185"])
@pytest.mark.parametrize("q", tq.CARD_QUANTITIES, ids=lambda q: q.key)
def test_promql_and_raw_formula_agree(backfill: Any, q: tq.TradingQuantity, instance: str) -> None:
    prom, targets, at = backfill
    got = _query(prom, q.expr, at, instance)
    want = {_key(lb): v for lb, v in q.raw(*window(targets[instance], at, WINDOWS.get(q.key, 300)))}
    if "exchange" in q.key and instance == "solo:9185":  # no exchange label: only the bot's total
        assert set(want) == set(got) == {""}
    assert want, f"the test data gives {q.key} nothing"
    assert set(got) == set(want), q.key
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-9, abs=1e-9), (q.key, k)


def test_rule_or_raw_is_the_definition_without_rules(backfill: Any) -> None:
    prom, _, at = backfill
    for q in (tq.REJECTION_RATIO, tq.API_P95, tq.API_ERROR_RATIO):
        assert _query(prom, q.rule_or_raw(), at, "multi:9184") == _query(prom, q.expr, at, "multi:9184")


def test_histogram_quantile_matches_prometheus_edge_cases() -> None:
    assert tq.histogram_quantile(0.95, [(0.1, 0.0), (float("inf"), 0.0)]) is None
    assert tq.histogram_quantile(0.5, [(0.1, 10.0), (float("inf"), 10.0)]) == pytest.approx(0.05)
    assert tq.histogram_quantile(0.95, [(0.1, 1.0), (float("inf"), 10.0)]) == 0.1  # in +Inf: its lower bound


def test_pnl_change_counts_from_the_first_sample_of_a_bot_younger_than_the_window(backfill: Any) -> None:
    """Issue 14.6: the report said "+0.00" while trading_realized_pnl went from 0.78 to 12.06."""
    prom, _, at = backfill
    api = PrometheusAPI(prom.url)
    changes = window_change(api, mn.TRADING_REALIZED_PNL, tq.BY_BOT, bot_key, at - 86400, at, 720)
    late = changes[("trading-bot", "late:9186", "")]
    assert (late["first"], late["last"]) == pytest.approx((0.78, 12.06))
    assert late["change"] == pytest.approx(11.28)


def test_pnl_change_counts_from_the_window_start_for_an_older_bot(backfill: Any) -> None:
    prom, targets, at = backfill
    start = at - 300
    api = PrometheusAPI(prom.url)
    changes = window_change(api, mn.TRADING_REALIZED_PNL, tq.BY_BOT, bot_key, start, at, 30)
    points = targets["solo:9185"][(mn.TRADING_REALIZED_PNL, ())]
    before = [v for t, v in points if t <= start][-1]
    now = [v for t, v in points if t <= at][-1]
    assert changes[("trading-bot", "solo:9185", "")]["change"] == pytest.approx(now - before)


def test_cards_per_bot_label_with_rows_per_exchange(backfill: Any) -> None:
    """A target serving two bots gives two cards named by `bot`; API figures per `exchange`."""
    from alert_bridge.sources.trading import from_prometheus
    from alert_bridge.web.models import TradingBots
    from tradewatch.config import Thresholds

    prom, _, at = backfill
    api = PrometheusAPI(prom.url)
    cards = from_prometheus(api, Thresholds(), now=float(at), window=600, timezone="UTC")
    by_name = {c["name"]: c for c in cards.values()}
    assert set(by_name) == {"alpha", "beta", "trading-bot on solo:9185", "trading-bot on late:9186"}
    alpha = by_name["alpha"]
    assert [x["exchange"] for x in alpha["api"]["exchanges"]] == ["binance", "kraken"]
    assert by_name["trading-bot on solo:9185"]["api"]["exchanges"] == []
    want = _query(prom, tq.API_ERROR_RATIO_BY_EXCHANGE.expr, at, "multi:9184")
    got = {f"bot=alpha,exchange={x['exchange']}": x["error_ratio"]["value"]
           for x in alpha["api"]["exchanges"]}
    assert got == {k: v for k, v in want.items() if k.startswith("bot=alpha,")}
    assert alpha["api"]["error_ratio"]["level"] in ("ok", "critical")  # error_rate_percent: critical 5
    TradingBots.model_validate({"source": "prometheus", "window_seconds": 600, "generated_at": None,
                                "generated_at_epoch": at, "bots": list(cards.values()), "errors": {}})
