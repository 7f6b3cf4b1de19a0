"""The periodic job that deletes alerts (and their history) older than retention.alerts_days."""

from __future__ import annotations

import logging

from alert_bridge.jobs.context import JobContext
from alert_bridge.store import alerts, jobs

log = logging.getLogger("alert_bridge.jobs.retention")


def run(ctx: JobContext) -> int:
    cutoff = ctx.now - ctx.config.retention.alerts_days * 86400
    with ctx.db.transaction() as conn:
        deleted = alerts.delete_older_than(conn, cutoff)
        jobs.prune_runs(conn, cutoff)
    if deleted:
        log.info(
            "retention: deleted %d alert(s) older than %d days", deleted, ctx.config.retention.alerts_days
        )
    return deleted
