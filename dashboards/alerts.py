"""Alerts and health: what is firing, whether the bridge delivers it, and the health score.

The firing counts come from Prometheus's own `ALERTS` series; everything about delivery comes
from the bridge's `/metrics` (webhooks, emails, outbox, watchdog), so a broken hop between
Prometheus, Alertmanager, the bridge and SMTP shows up as a disagreement between the two halves.
"""

from __future__ import annotations

from typing import Any

from dashboards.grafana import (
    SEVERITY_COLOURS,
    Row,
    override_colour,
    rising,
    selector,
    stat,
    steps,
    table,
    target,
    targets,
    timeseries,
    value_map,
)
from dashboards.grafana import (
    dashboard as make_dashboard,
)
from tradewatch import metric_names as m
from tradewatch.config import Config
from tradewatch.vocabulary import SEVERITIES

UID = "tradewatch-alerts"

# Grades of the daily report's health score (issue 5): Poor < 60 <= Fair < 75 <= Good < 90.
GRADES = steps("red", (60, "orange"), (75, "yellow"), (90, "green"))
FIRING = 'ALERTS{alertstate="firing"}'


def _firing() -> Row:
    counts = [
        stat(severity.capitalize(), [target(
            f"count(ALERTS{selector(alertstate='=firing', severity=f'={severity}')}) or vector(0)",
            instant=True)], "short",
            thresholds=steps("green", (1, SEVERITY_COLOURS[severity])), graph=False, w=6, h=4,
            description=f"Alerts firing now with severity={severity} (Prometheus ALERTS series).")
        for severity in SEVERITIES
    ]
    return Row("Firing now", [
        *counts,
        table("Firing alerts", [target(FIRING, instant=True, table=True)], h=7,
              description="Every alert Prometheus holds as firing, with its labels."),
        timeseries("Firing alerts by severity", targets(
            (f"count by (severity) ({FIRING})", "{{severity}}"),
        ), "short", min_=0, stack=True, w=12,
            overrides=[override_colour(s, SEVERITY_COLOURS[s]) for s in SEVERITIES]),
        timeseries("Alerts received by the bridge", targets(
            (f"sum by (severity, status) (increase({m.BRIDGE_ALERTS}[$__rate_interval]))",
             "{{severity}} {{status}}"),
        ), "short", min_=0, w=12,
            description="Alert notifications the bridge received from Alertmanager per interval "
                        f"({m.BRIDGE_ALERTS}), by severity and firing/resolved."),
    ])


def _health() -> Row:
    return Row("Health score", [
        stat("Health score (now)", [target(f'{m.HEALTH_SCORE}{{component="overall"}}', instant=True)],
             "none", thresholds=GRADES, decimals=0, w=6, h=8,
             description="0-100; Excellent >= 90, Good >= 75, Fair >= 60, Poor below."),
        timeseries("Health score by component", targets(
            (m.HEALTH_SCORE, "{{component}}"),
        ), "none", min_=0, max_=100, thresholds=GRADES, w=18, h=8,
            description="Overall score and its components (performance, alerts, trading, "
                        "integrity) as percentages of their maximum, as the bridge exports them; a "
                        "component without data is absent. Dashed lines: the grade boundaries."),
    ])


def _delivery(cfg: Config) -> Row:
    t = cfg.thresholds
    return Row("Bridge delivery", [
        stat("Notifications", [target(f"max({m.BRIDGE_NOTIFICATIONS_PAUSED})", instant=True)], "none",
             mappings=value_map({"0": ("Active", "green"), "1": ("Paused", "orange")}),
             thresholds=steps("green", (1, "orange")), graph=False, w=4,
             description="Paused while the operator has stopped notifications (maintenance)."),
        stat("Watchdog last seen", [target(
            f"time() - max({m.BRIDGE_WATCHDOG_LAST_SEEN})", instant=True)], "s",
            thresholds=steps("green", (cfg.bridge.watchdog_timeout, "red")), graph=False, w=4,
            description="Seconds since the always-firing Watchdog alert last reached the bridge; "
                        "red after bridge.watchdog_timeout: the alert pipeline is broken."),
        stat("Last email sent", [target(f"time() - max({m.BRIDGE_LAST_SEND})", instant=True)], "s",
             graph=False, w=4, description="Seconds since the last successful SMTP delivery."),
        stat("Emails failed (15m)", [target(
            f'sum(increase({m.BRIDGE_EMAILS}{{result="failed"}}[15m])) or vector(0)', instant=True)],
            "short", thresholds=rising(t.email_failure_count), decimals=0, graph=False, w=4,
            description="Deliveries given up in the last 15 minutes; colours at "
                        "thresholds.email_failure_count."),
        stat("Outbox depth", [target(f"max({m.BRIDGE_OUTBOX_DEPTH})", instant=True)], "short",
             thresholds=rising(t.outbox_backlog), decimals=0, w=4,
             description="Emails waiting to be sent; colours at thresholds.outbox_backlog."),
        stat("Oldest queued email", [target(f"max({m.BRIDGE_OUTBOX_OLDEST_AGE})", instant=True)], "s",
             w=4, description="Age of the oldest email still waiting in the outbox."),
        timeseries("Email delivery", targets(
            (f"sum by (result) (rate({m.BRIDGE_EMAILS}[$__rate_interval]))", "{{result}}"),
        ), "ops", min_=0, w=8,
            overrides=[override_colour("sent", "green"), override_colour("retried", "orange"),
                       override_colour("failed", "red")],
            description="Emails per second by result: sent, retried (transient failure) and "
                        "failed (permanent)."),
        timeseries("Outbox", targets(
            (f"max({m.BRIDGE_OUTBOX_DEPTH})", "depth"),
        ), "short", min_=0, thresholds=rising(t.outbox_backlog), w=8),
        timeseries("Oldest queued email age", targets(
            (f"max({m.BRIDGE_OUTBOX_OLDEST_AGE})", "oldest"),
        ), "s", min_=0, w=8),
        timeseries("Webhooks by result", targets(
            (f"sum by (result) (rate({m.BRIDGE_WEBHOOKS}[$__rate_interval]))", "{{result}}"),
        ), "reqps", min_=0, w=12,
            overrides=[override_colour("accepted", "green"), override_colour("duplicate", "blue")],
            description="Alertmanager webhooks per second: accepted, duplicate (HA peers, repeats) "
                        "and the refused ones (invalid, unauthorized, too_large, unavailable)."),
        timeseries("Watchdog age", targets(
            (f"time() - max({m.BRIDGE_WATCHDOG_LAST_SEEN})", "since last Watchdog"),
        ), "s", min_=0, thresholds=steps("green", (cfg.bridge.watchdog_timeout, "red")), w=12),
    ])


def build(cfg: Config) -> dict[str, Any]:
    return make_dashboard(
        UID, "TradeWatch / Alerts and health",
        description="Firing alerts by severity, the health score, and whether the alert bridge "
                    "receives and delivers notifications (webhooks, emails, outbox, watchdog).",
        tags=["tradewatch", "alerts"],
        rows=[_firing(), _health(), _delivery(cfg)],
        variables=[],
        refresh=f"{cfg.dashboard.refresh_seconds}s",
        time_from="now-24h",
    )
