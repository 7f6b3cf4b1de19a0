"""Trading: what the bot earns, what it does, how fast the exchange answers, and if it is alive.

The series are the `trading_*` ones the bot publishes through `exporter.trading`; the ratios the
alert rules use (API p95 and error ratio, order rejection ratio) come from the recording rules,
so a red panel here means the same as an alert there.
"""

from __future__ import annotations

from typing import Any

from dashboards.grafana import (
    SEVERITY_COLOURS,
    Row,
    override_colour,
    query_variable,
    rising,
    selector,
    stat,
    steps,
    target,
    targets,
    timeseries,
)
from dashboards.grafana import (
    dashboard as make_dashboard,
)
from tradewatch import metric_names as m
from tradewatch.config import Config

UID = "tradewatch-trading"
SEL = selector(instance="=~$instance")
PCT = 0.01
MS = 0.001


def _money(cfg: Config) -> Row:
    t = cfg.thresholds
    # P&L over the range: each drawdown level's colour below minus its value, yellow for a
    # smaller loss, green for a gain
    items = sorted(t.drawdown.items(), key=lambda sv: -sv[1])  # largest drop (most severe) first
    colours = [SEVERITY_COLOURS[s] for s, _ in items]
    drops = [(-v, c) for (_, v), c in zip(items, [*colours[1:], "yellow"], strict=True)]
    pnl_steps = steps(colours[0], *drops, (0, "green"))
    return Row("Money", [
        stat("Realized P&L", [target(f"sum({m.TRADING_REALIZED_PNL}{SEL})", instant=True)], "none",
             thresholds=steps("orange", (0, "green")), decimals=2, w=6,
             description="Cumulative realized profit and loss, in the account currency."),
        stat("P&L over the time range", [target(
            f"sum(delta({m.TRADING_REALIZED_PNL}{SEL}[$__range]))", instant=True)], "none",
            thresholds=pnl_steps, decimals=2, w=6,
            description="Change of realized P&L over the selected range; red at a drop of "
                        "thresholds.drawdown (the drawdown alert's level)."),
        stat("Equity", [target(f"sum({m.TRADING_EQUITY}{SEL})", instant=True)], "none", decimals=2,
             w=6, description="Account equity, in the account currency."),
        stat("Open positions", [target(f"sum({m.TRADING_OPEN_POSITIONS}{SEL})", instant=True)],
             "short", decimals=0, w=6),
        timeseries("Realized P&L over time", targets(
            (f"{m.TRADING_REALIZED_PNL}{SEL}", "{{instance}}"),
        ), "none", w=8),
        timeseries("Equity over time", targets((f"{m.TRADING_EQUITY}{SEL}", "{{instance}}")), "none", w=8),
        timeseries("Open positions over time", targets(
            (f"{m.TRADING_OPEN_POSITIONS}{SEL}", "{{instance}}"),
        ), "short", min_=0, w=8),
    ])


def _orders(cfg: Config) -> Row:
    t = cfg.thresholds
    latency = f"rate({m.TRADING_ORDER_LATENCY}_bucket{SEL}[$__rate_interval])"
    return Row("Orders", [
        timeseries("Orders by status", targets(
            (f"sum by (status) (rate({m.TRADING_ORDERS}{SEL}[$__rate_interval]))", "{{status}}"),
        ), "ops", min_=0, w=8,
            overrides=[override_colour("filled", "green"), override_colour("rejected", "red"),
                       override_colour("cancelled", "orange"), override_colour("submitted", "blue")],
            description="Orders per second by status (submitted, filled, cancelled, rejected)."),
        timeseries("Order rejection ratio", targets(
            (f"{m.REC_ORDER_REJECTION_RATIO}{SEL}", "{{instance}}"),
        ), "percentunit", min_=0, thresholds=rising(t.order_rejection_percent, PCT), w=8,
            description="Rejected / submitted orders over 15 minutes (recording rule "
                        f"{m.REC_ORDER_REJECTION_RATIO}); lines at thresholds.order_rejection_percent."),
        timeseries("Order latency", targets(
            (f"histogram_quantile(0.50, sum by (le) ({latency}))", "p50"),
            (f"histogram_quantile(0.95, sum by (le) ({latency}))", "p95"),
            (f"histogram_quantile(0.99, sum by (le) ({latency}))", "p99"),
        ), "s", min_=0, fill=0, w=8,
            description="Submit-to-acknowledge latency percentiles from the "
                        f"{m.TRADING_ORDER_LATENCY} histogram."),
    ])


def _exchange(cfg: Config) -> Row:
    t = cfg.thresholds
    return Row("Exchange API", [
        timeseries("Exchange API latency p95", targets(
            (f"{m.REC_API_P95}{SEL}", "{{instance}} p95 (5m)"),
        ), "s", min_=0, thresholds=rising(t.api_response_time_ms, MS), w=8,
            description=f"Recording rule {m.REC_API_P95}; lines at thresholds.api_response_time_ms."),
        timeseries("Exchange API error ratio", targets(
            # the rule has no series until a first error code exists: show 0 while requests flow
            (f"{m.REC_API_ERROR_RATIO}{SEL} or on (job, instance) "
             f"0 * sum by (job, instance) (rate({m.TRADING_EXCHANGE_REQUESTS}{SEL}[5m]))", "{{instance}}"),
        ), "percentunit", min_=0, thresholds=rising(t.error_rate_percent, PCT), w=8,
            description="Failed / all exchange requests over 5 minutes (recording rule "
                        f"{m.REC_API_ERROR_RATIO}; 0 while requests flow and none failed); "
                        "line at thresholds.error_rate_percent."),
        timeseries("Exchange requests by code", targets(
            (f"sum by (code) (rate({m.TRADING_EXCHANGE_REQUESTS}{SEL}[$__rate_interval]))", "{{code}}"),
        ), "reqps", min_=0, stack=True, w=8),
    ])


def _liveness(cfg: Config) -> Row:
    stale = rising(cfg.thresholds.trading_heartbeat_stale_seconds)
    return Row("Liveness", [
        stat("Heartbeat age", [target(f"time() - max({m.TRADING_HEARTBEAT}{SEL})", instant=True)],
             "s", thresholds=stale, graph=False, w=6,
             description="Seconds since the bot's last heartbeat; red at "
                         "thresholds.trading_heartbeat_stale_seconds."),
        stat("Last trade", [target(f"time() - max({m.TRADING_LAST_TRADE}{SEL})", instant=True)],
             "s", graph=False, w=6, description="Seconds since the bot's last trade."),
        timeseries("Heartbeat age over time", targets(
            (f"time() - {m.TRADING_HEARTBEAT}{SEL}", "{{instance}}"),
        ), "s", min_=0, thresholds=stale, w=12),
    ])


def build(cfg: Config) -> dict[str, Any]:
    return make_dashboard(
        UID, "TradeWatch / Trading",
        description="The trading bot: P&L, equity, positions, orders, order latency, exchange-API "
                    "latency and errors, heartbeat.",
        tags=["tradewatch", "trading"],
        rows=[_money(cfg), _orders(cfg), _exchange(cfg), _liveness(cfg)],
        variables=[
            query_variable("instance", "Bot", f"label_values({m.TRADING_HEARTBEAT}, instance)",
                           multi=True, include_all=True),
        ],
        refresh=f"{cfg.dashboard.refresh_seconds}s",
    )
