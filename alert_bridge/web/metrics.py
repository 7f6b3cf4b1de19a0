"""The bridge's own Prometheus metrics, in a private registry (names in tradewatch.metric_names).

Counters of this process's requests are kept in memory; everything durable (outbox depth, email
totals, pause, watchdog, the last health score) is read from the database at scrape time, so
every web worker reports the same deployment-wide values. `BridgeMetrics` lists every collector.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from alert_bridge.reports import send
from alert_bridge.store import jobs, outbox, pauses, telemetry
from alert_bridge.store.database import Database
from tradewatch import metric_names as mn

log = logging.getLogger("alert_bridge.web.metrics")

WEBHOOK_RESULTS = ("accepted", "duplicate", "invalid", "unavailable", "unauthorized", "too_large")


class _StoreCollector(Collector):
    def __init__(self, db: Database, clock: Callable[[], float], channels: Sequence[str] = ()):
        self.db, self.clock, self.channels = db, clock, list(channels)

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        try:
            conn = self.db.connection()
            stats = outbox.stats(conn, now)
            retries = telemetry.email_retries(conn)
            paused = pauses.active(conn, now) is not None
            totals = outbox.totals_by_channel(conn)
            backlog = outbox.backlog_by_channel(conn)
            watchdog = jobs.get_state(conn, "watchdog_last_seen")
        except Exception as exc:  # a scrape must not fail because the store is busy
            log.warning("metrics: store not readable: %s", exc)
            return
        emails = CounterMetricFamily(mn.BRIDGE_EMAILS, "Email deliveries by result", labels=["result"])
        emails.add_metric(["sent"], stats["sent"])
        emails.add_metric(["failed"], stats["failed"])
        emails.add_metric(["retried"], retries)
        yield emails
        yield GaugeMetricFamily(mn.BRIDGE_OUTBOX_DEPTH, "Emails waiting in the outbox", value=stats["depth"])
        yield GaugeMetricFamily(
            mn.BRIDGE_OUTBOX_OLDEST_AGE,
            "Age of the oldest waiting email, seconds",
            value=stats["oldest_pending_age"],
        )
        if stats["last_sent_at"] is not None:
            yield GaugeMetricFamily(
                mn.BRIDGE_LAST_SEND,
                "Unix time of the last successful email send",
                value=stats["last_sent_at"],
            )
        delivered = CounterMetricFamily(mn.NOTIFICATIONS, "Finished deliveries by destination (email or "
                                        "a channel's name), notification kind and result",
                                        labels=["channel", "kind", "result"])
        for channel, kind, result, count in totals:
            delivered.add_metric([channel, kind, result], count)
        yield delivered
        waiting = GaugeMetricFamily(mn.BRIDGE_OUTBOX_BACKLOG, "Notifications waiting in the outbox, per "
                                    "destination (email or a channel's name)", labels=["channel"])
        for channel in ["email", *self.channels]:
            waiting.add_metric([channel], backlog.get(channel, 0))
        yield waiting
        yield GaugeMetricFamily(
            mn.BRIDGE_NOTIFICATIONS_PAUSED, "1 while notifications are paused", value=int(paused)
        )
        if watchdog is not None:
            yield GaugeMetricFamily(
                mn.BRIDGE_WATCHDOG_LAST_SEEN,
                "Unix time the Watchdog alert was last received",
                value=float(watchdog),
            )


class HealthScoreCollector(Collector):
    """Exports the last computed score (refreshed by the report job every few minutes).

    Values are 0-100: the overall score, and each component as a percentage of its maximum, so
    they share one axis in Grafana. A component without data is absent, never 0.
    """

    def __init__(self, db: Database, max_age: float = 3 * send.HEALTH_REFRESH_SECONDS):
        self.db, self.max_age = db, max_age

    def collect(self) -> Iterator[Metric]:
        try:
            state = send.load_health_state(self.db)
        except Exception:  # a busy store must not fail the scrape
            return
        if not state or time.time() - float(state.get("at", 0)) > self.max_age:
            return
        yield health_gauge(state["score"])


def health_gauge(score: dict[str, Any]) -> GaugeMetricFamily:
    g = GaugeMetricFamily(mn.HEALTH_SCORE, "TradeWatch health score 0-100 (components: % of their maximum)",
                          labels=["component"])
    if score.get("score") is not None:
        g.add_metric(["overall"], float(score["score"]))
    for name, comp in (score.get("components") or {}).items():
        if comp.get("points") is not None and comp.get("max"):
            g.add_metric([name], round(100.0 * comp["points"] / comp["max"], 2))
    return g


class BridgeMetrics:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time, channels: Sequence[str] = ()):
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhooks = Counter(
            mn.BRIDGE_WEBHOOKS.removesuffix("_total"),
            "Webhook requests by result",
            ["result"],
            registry=self.registry,
        )
        for result in WEBHOOK_RESULTS:
            self.webhooks.labels(result)
        self.alerts = Counter(
            mn.BRIDGE_ALERTS.removesuffix("_total"),
            "New alert states received, by severity and status",
            ["severity", "status"],
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(db, clock, channels))
        self.registry.register(HealthScoreCollector(db))
