"""The dead-man's switch: email once when the always-firing Watchdog alert stops arriving.

Choice: the bridge only alarms after it has seen the Watchdog at least once (a fresh install
without Prometheus wired up yet is not an outage), and once per outage: the outage is named by
the last-seen time, which is the notification's dedup key, so restarts do not repeat it and the
next outage (after the Watchdog came back) is a new email.
"""

from __future__ import annotations

import logging

from alert_bridge.alerts.board import heartbeat
from alert_bridge.alerts.ingest import WATCHDOG_STATE
from alert_bridge.jobs.context import JobContext
from alert_bridge.notify import fanout
from alert_bridge.notify.context import dashboard_url, iso_time
from alert_bridge.store import jobs, outbox

log = logging.getLogger("alert_bridge.alerts.watchdog")


def run(ctx: JobContext) -> int:
    timeout = ctx.config.bridge.watchdog_timeout
    with ctx.db.transaction() as conn:
        raw = jobs.get_state(conn, WATCHDOG_STATE)
        if raw is None:
            return 0
        last = float(raw)
        if heartbeat(last, ctx.now, timeout, ctx.started).healthy:
            return 0
        context = {"last_seen": iso_time(last), "timeout_seconds": timeout,
                   "dashboard_url": dashboard_url(ctx.config)}
        nid = outbox.enqueue(
            conn,
            "watchdog",
            ctx.config.email.to,
            context,
            dedup_key=f"watchdog:{raw}",
            now=ctx.now,
        )
        sent = fanout.enqueue_channels(conn, ctx.config, "watchdog", context, dedup_key=f"watchdog:{raw}",
                                       now=ctx.now)
    if nid is not None or sent:
        log.warning(
            "Watchdog not seen since %s (timeout %.0fs): pipeline broken email queued",
            iso_time(last),
            timeout,
        )
        return 1
    return 0
